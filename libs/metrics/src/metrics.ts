import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Tally's Prometheus metrics: ONE registry per process, served by GET /metrics (apps/api) or on a
 * separate port (METRICS_PORT, apps/worker). Libraries record into the named metrics below;
 * values that live elsewhere (queue depth, DB pool) are read at scrape time from registered sources.
 */
export const metricsRegistry = new Registry();
metricsRegistry.setDefaultLabels({ service: process.env.TALLY_SERVICE_NAME || 'tally' });
collectDefaultMetrics({ register: metricsRegistry, prefix: 'tally_' });

export const httpDuration = new Histogram({
  name: 'tally_http_request_duration_seconds',
  help: 'HTTP request latency by method, route pattern and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const claimsTotal = new Counter({
  name: 'tally_claims_total',
  help: 'Claim attempts by outcome (claimed, resumed, none, refused)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const submissionsTotal = new Counter({
  name: 'tally_submissions_total',
  help: 'Answer submissions by outcome (stored, retry, refused)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const payoutsTotal = new Counter({
  name: 'tally_payouts_total',
  help: 'Payout attempts by resulting status (paid, failed, pending, started)',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});

export const payoutsAmountMinor = new Counter({
  name: 'tally_payouts_paid_minor_total',
  help: 'Amount paid out, in minor units, by currency',
  labelNames: ['currency'] as const,
  registers: [metricsRegistry],
});

export const jobsTotal = new Counter({
  name: 'tally_jobs_total',
  help: 'Background jobs run in this process by name and outcome (completed, failed)',
  labelNames: ['job', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const jobDuration = new Histogram({
  name: 'tally_job_duration_seconds',
  help: 'Background job run time by name',
  labelNames: ['job'] as const,
  buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
  registers: [metricsRegistry],
});

type Sample = { labels: Record<string, string>; value: number };
const queueSources = new Set<() => Promise<Sample[]>>();
const poolSources = new Set<() => Sample[]>();

/** Adds a source of queue depth samples (labels: queue, state); returns a function removing it. */
export function addQueueDepthSource(source: () => Promise<Sample[]>): () => void {
  queueSources.add(source);
  return () => queueSources.delete(source);
}

/** Adds a source of DB pool samples (labels: pool, state = total|idle|waiting); returns a remover. */
export function addDbPoolSource(source: () => Sample[]): () => void {
  poolSources.add(source);
  return () => poolSources.delete(source);
}

export const queueDepth = new Gauge({
  name: 'tally_queue_jobs',
  help: 'Jobs in the background queue by state (waiting, active, delayed, failed, prioritized)',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
  async collect() {
    this.reset();
    for (const source of queueSources) {
      try {
        for (const s of await source()) this.set(s.labels, s.value);
      } catch {
        // a queue that cannot be read right now is left out of this scrape
      }
    }
  },
});

export const dbPool = new Gauge({
  name: 'tally_db_pool_connections',
  help: 'PostgreSQL pool connections by state (total, idle, waiting clients)',
  labelNames: ['pool', 'state'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    for (const source of poolSources) for (const s of source()) this.set(s.labels, s.value);
  },
});
