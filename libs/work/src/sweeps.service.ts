import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { JobRegistry } from '@tally/jobs';
import { AutoApproveUseCase } from './use-cases/auto-approve.use-case';
import { CompleteCampaignsUseCase } from './use-cases/complete-campaigns.use-case';
import { ExpireLeasesUseCase } from './use-cases/expire-leases.use-case';

export interface SweepReport {
  expired: number;
  autoApproved: number;
  campaignsCompleted: number;
  ms: number;
}

/**
 * One pass of every background sweep, in a fixed order: free expired leases, auto-approve due
 * answers, complete finished campaigns. The API's in-process loop and apps/worker both call this;
 * every sweep is idempotent and safe to run in several processes at once.
 */
@Injectable()
export class SweepsService implements OnModuleInit {
  private readonly log = new Logger('Sweeps');

  constructor(
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    @Optional() @Inject(JobRegistry) private readonly jobs: JobRegistry | undefined,
    private readonly expireLeases: ExpireLeasesUseCase,
    private readonly autoApprove: AutoApproveUseCase,
    private readonly completeCampaigns: CompleteCampaignsUseCase,
  ) {}

  /**
   * The 'sweep' background job (libs/jobs): every SWEEP_INTERVAL_MS, one BullMQ job per tick with
   * REDIS_URL (one schedule however many workers), else an in-process timer.
   */
  onModuleInit(): void {
    this.jobs?.define({ name: 'sweep', everyMs: this.config.sweepIntervalMs, run: () => this.runOnce() });
  }

  async runOnce(): Promise<SweepReport> {
    const started = Date.now();
    const expired = await this.expireLeases.execute();
    const autoApproved = await this.autoApprove.execute();
    const campaignsCompleted = (await this.completeCampaigns.execute()).length;
    const report = { expired, autoApproved, campaignsCompleted, ms: Date.now() - started };
    if (expired || autoApproved || campaignsCompleted) this.log.log(`sweep ${JSON.stringify(report)}`);
    return report;
  }
}
