import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { DataSource } from 'typeorm';
import { describeConfig, loadConfig } from '@tally/config';
import { runMigrations } from '@tally/database';
import { JobsService } from '@tally/jobs';
import { startMetricsServer } from '@tally/metrics';
import { WorkerModule } from './worker.module';

/**
 * The standalone background process: `npm run start:worker` (after `npm run build`).
 * With REDIS_URL it is one of any number of BullMQ workers taking jobs from the shared queue
 * (the sweeps are job schedulers: one job per tick however many workers run). Without it, it
 * runs the same jobs on in-process timers. It needs DATABASE_URL: the embedded PGlite lives
 * inside the API process and cannot be shared, so a zero-setup install runs its jobs in the API.
 * METRICS_PORT > 0 serves GET /metrics and GET /health on that port.
 */
async function main() {
  const config = loadConfig();
  const log = new Logger('TallyWorker');
  if (!config.databaseUrl) {
    throw new Error('apps/worker needs DATABASE_URL (a PostgreSQL server). Without one, the API runs the background jobs itself.');
  }
  if (config.sweepIntervalMs <= 0) throw new Error('SWEEP_INTERVAL_MS must be > 0 for apps/worker');
  const applied = await runMigrations(config.databaseUrl);
  if (applied.length) log.log(`Migrations applied: ${applied.join(', ')}`);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, config.databaseUrl), { bufferLogs: true });
  app.useLogger(app.get(PinoLogger));
  app.enableShutdownHooks();
  const jobs = app.get(JobsService);
  log.log(`configuration ${JSON.stringify(describeConfig(config))}`);
  log.log(`background jobs (${jobs.mode}): ${jobs.registry.all().map((j) => j.name).join(', ')}`);
  // In-process mode: a first pass right away, so a restart does not wait one interval to catch up
  // (with Redis the job scheduler decides when the next sweep runs, whichever worker takes it).
  if (jobs.mode === 'in-process') await jobs.runNow('sweep').catch((err) => log.error(`first sweep failed: ${err.message}`));
  const metrics =
    config.metricsPort > 0
      ? await startMetricsServer(config.metricsPort, {
          token: config.metricsToken,
          health: async () => {
            const ds = app.get<DataSource>(getDataSourceToken());
            const started = Date.now();
            const database = await ds.query('SELECT 1').then(
              () => ({ status: 'up', latencyMs: Date.now() - started }),
              (err: Error) => ({ status: 'down', error: err.message }),
            );
            const redis = await jobs.redisHealth();
            const ok = database.status === 'up' && redis.status !== 'down';
            return { ok, body: { status: ok ? 'ok' : 'error', checks: { database, redis } } };
          },
        })
      : undefined;
  if (metrics) log.log(`metrics on :${config.metricsPort}/metrics`);
  const stop = async () => {
    metrics?.close();
    await app.close(); // stops taking jobs after those in flight
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
