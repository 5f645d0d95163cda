import { Inject, Injectable, Logger } from '@nestjs/common';
import { JobRegistry } from './job-registry';
import { JOBS_OPTIONS, JobsModuleOptions } from './jobs.types';

/**
 * Without Redis: the same jobs in this process. Each repeatable job has its own timer and never
 * overlaps itself (a slow run delays the next instead of stacking up); enqueued jobs run right
 * away in the background, deduplicated by jobId while one is in flight. Shutdown waits for runs
 * in flight so the pool is not closed under them.
 */
@Injectable()
export class LocalJobRunner {
  private readonly log = new Logger('Jobs');
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly registry: JobRegistry,
    @Inject(JOBS_OPTIONS) private readonly options: JobsModuleOptions,
  ) {}

  start(): void {
    if (!this.options.process || this.timers.length) return;
    this.stopped = false;
    for (const job of this.registry.repeatable()) {
      const timer = setInterval(() => void this.tick(job.name), job.everyMs);
      timer.unref?.();
      this.timers.push(timer);
    }
    const jobs = this.registry.repeatable().map((j) => `${j.name}/${j.everyMs}ms`);
    if (jobs.length) this.log.log(`in-process background jobs: ${jobs.join(', ')}`);
  }

  get active(): boolean {
    return this.timers.length > 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    await Promise.allSettled([...this.running.values()]);
  }

  /** One run of a repeatable job unless one is in flight; errors are logged and the loop goes on. */
  async tick(name: string): Promise<void> {
    await this.runDetached(name, undefined, `every:${name}`);
  }

  /** Runs a job in the background (deduplicated by key while in flight); resolves when it is done. */
  runDetached(name: string, data: unknown, key = `${name}:${Math.random()}`): Promise<unknown> {
    if (this.stopped) return Promise.resolve();
    const inFlight = this.running.get(key);
    if (inFlight) return inFlight;
    const p = this.registry
      .run(name, data)
      .catch((err) => this.log.error(`job ${name} failed: ${err?.message ?? err}`, err?.stack))
      .finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }
}
