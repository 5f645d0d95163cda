import { Injectable, Logger } from '@nestjs/common';
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
export class SweepsService {
  private readonly log = new Logger('Sweeps');

  constructor(
    private readonly expireLeases: ExpireLeasesUseCase,
    private readonly autoApprove: AutoApproveUseCase,
    private readonly completeCampaigns: CompleteCampaignsUseCase,
  ) {}

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
