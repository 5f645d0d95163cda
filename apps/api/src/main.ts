import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { describeConfig, loadConfig } from '@tally/config';
import { runMigrations, startEmbeddedPostgres } from '@tally/database';
import { startMetricsServer } from '@tally/metrics';
import { createApp } from './bootstrap';
import { ensureConfiguredAdmin } from './first-admin';

async function main() {
  const config = loadConfig();
  const log = new Logger('Tally');
  let databaseUrl = config.databaseUrl;
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(`${config.dataDir}/pg`);
    databaseUrl = embedded.url;
    log.log(`Embedded PostgreSQL (PGlite) in ${config.dataDir}/pg`);
  }
  const applied = await runMigrations(databaseUrl);
  if (applied.length) log.log(`Migrations applied: ${applied.join(', ')}`);
  const app = await createApp(config, databaseUrl);
  await ensureConfiguredAdmin(app, config);
  app.enableShutdownHooks();
  await app.listen(config.port, '0.0.0.0');
  // METRICS_PORT: /metrics on its own port (kept off the public one); GET /metrics on the API port then answers 404.
  const metrics = config.metricsPort > 0 ? await startMetricsServer(config.metricsPort, { token: config.metricsToken }) : undefined;
  log.log(`configuration ${JSON.stringify(describeConfig(config))}`);
  // eslint-disable-next-line no-console
  console.log(`\n  Tally is running on http://localhost:${config.port}  (API docs: http://localhost:${config.port}/api/docs)\n`);
  const stop = async () => {
    metrics?.close();
    await app.close();
    await embedded?.stop();
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
