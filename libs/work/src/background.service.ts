import { Injectable } from '@nestjs/common';
import { JobsService, LocalJobRunner } from '@tally/jobs';
import { ModuleRef } from '@nestjs/core';

/**
 * Kept for callers of the former in-process loop. Background work now goes through libs/jobs:
 * the sweeps are the 'sweep' job (SweepsService registers it), run by BullMQ workers when
 * REDIS_URL is set and by LocalJobRunner in this process otherwise.
 */
@Injectable()
export class BackgroundService {
  constructor(
    private readonly jobs: JobsService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Whether the in-process timers run here (false with Redis: workers take the scheduled jobs). */
  get active(): boolean {
    if (this.jobs.mode !== 'in-process') return false;
    return this.moduleRef.get(LocalJobRunner, { strict: false }).active;
  }

  /** One sweep pass in this process, now. */
  async tick(): Promise<void> {
    await this.jobs.runNow('sweep');
  }
}
