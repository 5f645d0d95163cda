export {
  metricsRegistry,
  httpDuration,
  claimsTotal,
  submissionsTotal,
  payoutsTotal,
  payoutsAmountMinor,
  jobsTotal,
  jobDuration,
  queueDepth,
  dbPool,
  addQueueDepthSource,
  addDbPoolSource,
} from './metrics';
export { startMetricsServer, metricsAuthorized } from './metrics-server';
export { httpMetricsMiddleware } from './http-metrics';
export { DbPoolMetrics } from './db-pool-metrics';
