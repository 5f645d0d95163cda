import { Injectable } from '@nestjs/common';
import { jobDuration, jobsTotal } from '@tally/metrics';
import { JobDefinition } from './jobs.types';

/**
 * The pluggable list of background jobs. Modules define their jobs in onModuleInit
 * (`registry.define({ name, everyMs, run })`); the runners (BullMQ or in-process) start after
 * every module has initialised, so the list is complete by then.
 */
@Injectable()
export class JobRegistry {
  private readonly jobs = new Map<string, JobDefinition>();
  private markReady!: () => void;
  /** Resolves once the application has bootstrapped (every job defined). */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  define<D>(job: JobDefinition<D>): void {
    if (!/^[a-z][a-z0-9-]*$/.test(job.name)) throw new Error(`job name "${job.name}" must be lower-case kebab-case`);
    if (this.jobs.has(job.name)) throw new Error(`background job "${job.name}" is defined twice`);
    this.jobs.set(job.name, job as JobDefinition);
  }

  get(name: string): JobDefinition | undefined {
    return this.jobs.get(name);
  }

  all(): JobDefinition[] {
    return [...this.jobs.values()];
  }

  repeatable(): (JobDefinition & { everyMs: number })[] {
    return this.all().filter((j): j is JobDefinition & { everyMs: number } => !!j.everyMs && j.everyMs > 0);
  }

  /** @internal called by JobsService when the application has bootstrapped. */
  setReady(): void {
    this.markReady();
  }

  /** Runs one job here and now, recording metrics; throws what the job throws. */
  async run(name: string, data: unknown): Promise<unknown> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`unknown background job "${name}"`);
    const end = jobDuration.startTimer({ job: name });
    try {
      const result = await job.run(data);
      jobsTotal.inc({ job: name, outcome: 'completed' });
      return result;
    } catch (err) {
      jobsTotal.inc({ job: name, outcome: 'failed' });
      throw err;
    } finally {
      end();
    }
  }
}
