import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { addQueueDepthSource } from '@tally/metrics';
import { JobRegistry } from './job-registry';
import { JOBS_OPTIONS, JOBS_QUEUE, JobsModuleOptions } from './jobs.types';

/**
 * The BullMQ worker of this process (registered only where jobs run: apps/worker, and the API
 * when RUN_BACKGROUND). Any number of processes take jobs from the one queue; each job is held by
 * one worker at a time (BullMQ's lock), and a worker killed mid-job has it re-run elsewhere once
 * the lock lapses — hence every job is idempotent.
 */
@Processor(JOBS_QUEUE, { autorun: false })
export class JobsProcessor extends WorkerHost {
  private readonly log = new Logger('JobsWorker');

  constructor(
    private readonly registry: JobRegistry,
    @Inject(JOBS_OPTIONS) private readonly options: JobsModuleOptions,
  ) {
    super();
  }

  /** Starts taking jobs; called once every module has defined its jobs. */
  start(): void {
    this.worker.concurrency = this.options.concurrency ?? 4;
    this.worker.on('failed', (job, err) => this.log.warn(`job ${job?.name} ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}`));
    this.worker.on('error', (err) => this.log.error(`worker error: ${err.message}`));
    void this.worker.run().catch((err) => this.log.error(`worker stopped: ${err?.message ?? err}`));
  }

  async process(job: Job): Promise<unknown> {
    await this.registry.ready;
    return this.registry.run(job.name, job.data);
  }
}

/**
 * Creates one job scheduler per repeatable job. upsertJobScheduler is idempotent: every process
 * that runs jobs calls it at boot and there is still ONE schedule (one job per tick).
 */
@Injectable()
export class JobScheduler implements OnApplicationShutdown {
  private readonly log = new Logger('JobScheduler');
  private removeSource?: () => void;

  constructor(
    @InjectQueue(JOBS_QUEUE) private readonly queue: Queue,
    private readonly registry: JobRegistry,
    @Inject(JOBS_OPTIONS) private readonly options: JobsModuleOptions,
  ) {}

  async start(): Promise<void> {
    this.removeSource = addQueueDepthSource(async () => {
      const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'completed');
      return Object.entries(counts).map(([state, value]) => ({ labels: { queue: JOBS_QUEUE, state }, value }));
    });
    if (!this.options.process) return;
    const jobs = this.registry.repeatable();
    for (const job of jobs) {
      await this.queue.upsertJobScheduler(
        `every:${job.name}`,
        { every: job.everyMs },
        { name: job.name, data: {}, opts: { removeOnComplete: 200, removeOnFail: 500, attempts: 1 } },
      );
    }
    if (jobs.length) this.log.log(`job schedulers: ${jobs.map((j) => `${j.name}/${j.everyMs}ms`).join(', ')}`);
  }

  onApplicationShutdown(): void {
    this.removeSource?.();
  }
}
