import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { describeConfig, loadConfig } from '@tally/config';
import { runMigrations } from '@tally/database';
import { SweepsService } from '@tally/work';
import { WorkerModule } from './worker.module';

/**
 * The standalone background process: `npm run start:worker` (after `npm run build`).
 * It needs DATABASE_URL: the embedded PGlite lives inside the API process and cannot be shared,
 * so a zero-setup install runs its sweeps in the API instead (RUN_BACKGROUND, on by default).
 */
async function main() {
  const config = loadConfig();
  const log = new Logger('TallyWorker');
  if (!config.databaseUrl) {
    throw new Error('apps/worker needs DATABASE_URL (a PostgreSQL server). Without one, the API runs the background sweeps itself.');
  }
  if (config.sweepIntervalMs <= 0) throw new Error('SWEEP_INTERVAL_MS must be > 0 for apps/worker');
  const applied = await runMigrations(config.databaseUrl);
  if (applied.length) log.log(`Migrations applied: ${applied.join(', ')}`);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, config.databaseUrl), { bufferLogs: false });
  app.enableShutdownHooks();
  log.log(`configuration ${JSON.stringify(describeConfig(config))}`);
  // A first pass right away, so a restart does not wait one interval to catch up.
  const first = await app.get(SweepsService).runOnce();
  log.log(`sweeps every ${config.sweepIntervalMs} ms (first pass: ${JSON.stringify(first)})`);
  const stop = async () => {
    await app.close(); // stops the loop after the pass in flight
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  // eslint-disable-next-line no-console
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
