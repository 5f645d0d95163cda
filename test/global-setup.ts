import { runMigrations, startEmbeddedPostgres } from '../libs/database/src';

/**
 * Gives the e2e tests a PostgreSQL with the migrations applied: DATABASE_URL if set (CI sets it
 * to a fresh database on the real server), otherwise an embedded PGlite in memory, so `npm test`
 * passes on a machine with nothing installed. The embedded server is started either way and its
 * URL published as TALLY_EMBEDDED_URL, so the fresh-machine path (`npm start`) is tested in CI too.
 * Worker processes inherit process.env.
 */
export default async function globalSetup(): Promise<void> {
  const pg = await startEmbeddedPostgres(undefined, 100);
  (globalThis as { __tallyEmbeddedPg?: unknown }).__tallyEmbeddedPg = pg;
  process.env.TALLY_EMBEDDED_URL = pg.url;
  if (!process.env.DATABASE_URL) {
    process.env.DATABASE_URL = pg.url;
    process.env.TALLY_TEST_EMBEDDED = '1';
  }
  await runMigrations(process.env.DATABASE_URL);
}
