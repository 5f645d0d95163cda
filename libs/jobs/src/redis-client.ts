import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import IORedis, { Redis } from 'ioredis';
import { JOBS_OPTIONS, JobsModuleOptions, redisOptions } from './jobs.types';

/**
 * One plain ioredis connection per process for what is not a queue: /health and the shared rate
 * limits (failed-login counts). Fails fast (no offline queue, one retry) so a Redis outage answers
 * a 503 instead of hanging requests. `client` is undefined without REDIS_URL.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  readonly client?: Redis;

  constructor(@Inject(JOBS_OPTIONS) options: JobsModuleOptions) {
    if (options.redisUrl) {
      this.client = new IORedis({ ...redisOptions(options.redisUrl), maxRetriesPerRequest: 1, enableOfflineQueue: true, connectionName: 'tally' });
      this.client.on('error', () => undefined); // reported by health checks, not as unhandled errors
    }
  }

  /** Key prefix shared by every Tally key in this Redis (REDIS_PREFIX). */
  async health(timeoutMs = 1000): Promise<{ status: 'up' | 'down' | 'disabled'; latencyMs?: number; error?: string }> {
    if (!this.client) return { status: 'disabled' };
    const started = Date.now();
    try {
      await Promise.race([
        this.client.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref?.()),
      ]);
      return { status: 'up', latencyMs: Date.now() - started };
    } catch (err) {
      return { status: 'down', error: (err as Error).message };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client || this.client.status === 'end') return;
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client?.disconnect());
    else this.client.disconnect(); // never connected (Redis down): stop reconnecting
  }
}
