import type { EmbeddedPostgres } from '../libs/database/src';

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as { __tallyEmbeddedPg?: EmbeddedPostgres }).__tallyEmbeddedPg;
  await pg?.stop();
}
