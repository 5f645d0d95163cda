/** The one BullMQ queue every background job goes through (isolated per deployment by REDIS_PREFIX). */
export const JOBS_QUEUE = 'tally-jobs';
export const JOBS_OPTIONS = Symbol('JOBS_OPTIONS');

/**
 * A background job. Every job MUST be idempotent: with Redis a job can run twice (a worker killed
 * mid-job is re-run after its lock expires), and several processes run jobs at once.
 */
export interface JobDefinition<D = any> {
  /** Unique name, also the BullMQ job name ('sweep', 'payouts', ...). */
  name: string;
  /**
   * Run every this many ms. With Redis this is ONE job scheduler however many workers there are
   * (each tick is one job, taken by one worker); in-process it is a timer. Absent or 0: only when
   * enqueued with JobsService.enqueue.
   */
  everyMs?: number;
  run(data: D): Promise<unknown>;
}

export interface JobsModuleOptions {
  /** REDIS_URL: jobs go through BullMQ. Without it they run in this process. */
  redisUrl?: string;
  /** Key prefix in Redis (REDIS_PREFIX, default 'tally'): several deployments or tests can share a Redis. */
  prefix?: string;
  /** Whether THIS process runs jobs (apps/worker always; the API when RUN_BACKGROUND). */
  process: boolean;
  /** Jobs run at once by this process (BullMQ worker concurrency, default 4). */
  concurrency?: number;
}

export interface EnqueueOptions {
  /** Deduplicates: a job with the same id that is still waiting, active or kept is not added again. */
  jobId?: string;
  delayMs?: number;
  /** Tries before the job is left failed (default 5, exponential backoff from 1 s). */
  attempts?: number;
}

/** ioredis options for a redis:// or rediss:// URL (BullMQ needs maxRetriesPerRequest: null). */
export function redisOptions(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}
