/**
 * Bulk-import benchmark: `npm run bench:import [-- --rows N]`.
 *
 * Starts the real app (createApp, as production) on DATABASE_URL if set, else on a fresh
 * in-memory embedded PGlite; signs up a requester over HTTP, creates two single-label campaigns
 * and uploads N rows (default 100,000) as JSONL to one and as CSV to the other, streamed over a
 * real socket. Prints the server's report and the client-side wall time for each.
 * Use a fresh database (the benchmark only adds rows; nothing it does is cleaned up).
 */
import { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '@tally/config';
import { EmbeddedPostgres, runMigrations, startEmbeddedPostgres } from '@tally/database';
import { createApp } from '../apps/api/src/bootstrap';

const argRows = process.argv.indexOf('--rows');
const ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 100_000;
const LABELS = ['positive', 'negative', 'neutral'];

function* jsonlRows(n: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = { text: `Review #${i}: the product arrived ${i % 7} days late but works as described.`, sourceId: `r-${i}` };
    if (i % 10 === 0) row.gold = { label: LABELS[i % 3] };
    if (i % 4 === 0) row.prelabel = { label: LABELS[(i + 1) % 3] };
    yield JSON.stringify(row) + '\n';
  }
}

function* csvRows(n: number): Generator<string> {
  yield 'text,sourceId,gold,prelabel\n';
  for (let i = 0; i < n; i++) {
    yield `"Review #${i}: the product arrived ${i % 7} days late, but works as described.",r-${i},${i % 10 === 0 ? LABELS[i % 3] : ''},${i % 4 === 0 ? LABELS[(i + 1) % 3] : ''}\n`;
  }
}

/** A request body streamed in ~64 KB chunks, as a real client would send a large file. */
function stream(lines: Generator<string>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    pull(ctrl) {
      // next() by hand: breaking out of a for-of would close the generator after the first chunk
      let buf = '';
      for (let r = lines.next(); !r.done; r = lines.next()) {
        buf += r.value;
        if (buf.length > 65_536) break;
      }
      if (buf) ctrl.enqueue(enc.encode(buf));
      else ctrl.close();
    },
  });
}

async function main(): Promise<void> {
  let embedded: EmbeddedPostgres | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(undefined, 20);
    databaseUrl = embedded.url;
  }
  await runMigrations(databaseUrl);
  const config = loadConfig({ DATABASE_URL: databaseUrl, JWT_SECRET: randomUUID() + randomUUID(), RUN_BACKGROUND: 'false', LOG_LEVEL: 'silent', DATA_DIR: '/tmp/tally-bench' });
  const app: INestApplication = await createApp(config, databaseUrl, { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const call = async (path: string, init: RequestInit & { duplex?: 'half' } = {}) => {
    const res = await fetch(base + path, init);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a script reading our own JSON
    const body = (await res.json()) as any;
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
    return body;
  };
  const signup = await call('/api/auth/signup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `bench-${randomUUID()}@bench.tally`, password: 'correct horse battery', displayName: 'bench', roles: ['requester'] }),
  });
  const auth = { authorization: `Bearer ${signup.accessToken}` };
  const [{ version }] = await app.get(DataSource).query('SELECT version()');
  const engine = `${embedded ? 'embedded PGlite' : 'DATABASE_URL'} — ${String(version).split(' on ')[0]}`;
  console.log(`import benchmark: ${ROWS.toLocaleString('en')} rows per format on ${engine}, node ${process.version}`);

  for (const [format, contentType, rows] of [
    ['jsonl', 'application/x-ndjson', jsonlRows],
    ['csv', 'text/csv', csvRows],
  ] as const) {
    const campaign = await call('/api/campaigns', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `bench ${format}`, taskType: 'single-label', labels: LABELS, rewardMinor: 5, currency: 'usd' }),
    });
    const t0 = performance.now();
    const report = await call(`/api/campaigns/${campaign.id}/items`, {
      method: 'POST',
      headers: { ...auth, 'content-type': contentType },
      body: stream(rows(ROWS)),
      duplex: 'half',
    });
    const wall = (performance.now() - t0) / 1000;
    console.log(
      `${format.padEnd(5)} rows=${report.rows} inserted=${report.inserted} duplicates=${report.duplicates} rejected=${report.rejected} ` +
        `server=${report.durationMs} ms (${report.rowsPerSecond.toLocaleString('en')} rows/s) wall=${wall.toFixed(2)} s (${Math.round(ROWS / wall).toLocaleString('en')} rows/s)`,
    );
    if (report.inserted !== ROWS) throw new Error(`expected ${ROWS} inserted rows`);
  }
  await app.close();
  await embedded?.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
