import { getQueueToken } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { JobsProcessor, JobScheduler } from './bullmq-runner';
import { JobRegistry } from './job-registry';
import { EnqueueOptions, JOBS_OPTIONS, JOBS_QUEUE, JobsModuleOptions } from './jobs.types';
import { LocalJobRunner } from './local-runner';
import { RedisConnection } from './redis-client';

/**
 * The one entry point for background work: `enqueue` a job (BullMQ with REDIS_URL, else run in
 * this process) or `runNow` (here, awaited: admin triggers, tests). Starts the runners once the
 * application has bootstrapped, i.e. once every module has defined its jobs.
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Jobs');

  constructor(
    readonly registry: JobRegistry,
    @Inject(JOBS_OPTIONS) private readonly options: JobsModuleOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  get mode(): 'bullmq' | 'in-process' {
    return this.options.redisUrl ? 'bullmq' : 'in-process';
  }

  /** Whether this process runs jobs (a worker, or the API with RUN_BACKGROUND). */
  get processing(): boolean {
    return this.options.process;
  }

  /** The BullMQ queue (Redis mode only). */
  get queue(): Queue | undefined {
    return this.options.redisUrl ? this.moduleRef.get<Queue>(getQueueToken(JOBS_QUEUE), { strict: false }) : undefined;
  }

  private get local(): LocalJobRunner | undefined {
    return this.options.redisUrl ? undefined : this.moduleRef.get(LocalJobRunner, { strict: false });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.registry.setReady();
    if (this.options.redisUrl) {
      await this.moduleRef.get(JobScheduler, { strict: false }).start();
      if (this.options.process) this.moduleRef.get(JobsProcessor, { strict: false }).start();
    } else {
      this.local!.start();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.local?.stop();
  }

  /** Adds a job. With Redis any worker takes it (deduplicated by jobId); else it runs here in the background. */
  async enqueue(name: string, data: unknown = {}, opts: EnqueueOptions = {}): Promise<void> {
    if (!this.registry.get(name)) throw new Error(`unknown background job "${name}"`);
    const queue = this.queue;
    if (queue) {
      await queue.add(name, data, {
        jobId: opts.jobId,
        delay: opts.delayMs,
        attempts: opts.attempts ?? 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 7 * 86400 },
      });
      return;
    }
    const run = () => void this.local!.runDetached(name, data, opts.jobId);
    if (opts.delayMs) setTimeout(run, opts.delayMs).unref?.();
    else run();
  }

  /** Redis reachability for /health: 'disabled' without REDIS_URL. */
  redisHealth(timeoutMs = 1000) {
    return this.moduleRef.get(RedisConnection, { strict: false }).health(timeoutMs);
  }

  /** Runs a job in this process now and returns its result (errors propagate). */
  runNow<T = unknown>(name: string, data: unknown = {}): Promise<T> {
    return this.registry.run(name, data) as Promise<T>;
  }
}

