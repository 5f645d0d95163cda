import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { JobRegistry } from '@tally/jobs';
import { payoutsTotal } from '@tally/metrics';
import { PayoutRunResult, PayoutsService } from './payouts.service';
import { StripeGateway } from './stripe.gateway';

/**
 * The 'payouts' background job (libs/jobs): every SWEEP_INTERVAL_MS, PayoutsService.runPayouts —
 * start payouts for onboarded workers above PAYOUT_MINIMUM_MINOR and send every pending one. It
 * does nothing without Stripe keys (the embedded default pays nobody out; payables just grow).
 * Defined here, not in libs/work's sweeps, so the work loop never depends on Stripe: a slow or
 * unreachable Stripe delays only this job. runPayouts is idempotent and safe in parallel.
 */
@Injectable()
export class PayoutsJob implements OnModuleInit {
  private readonly log = new Logger('PayoutsJob');

  constructor(
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    private readonly payouts: PayoutsService,
    private readonly stripe: StripeGateway,
    @Optional() @Inject(JobRegistry) private readonly jobs: JobRegistry | null,
  ) {}

  onModuleInit(): void {
    this.jobs?.define({ name: 'payouts', everyMs: this.config.sweepIntervalMs, run: (data: { userIds?: string[] } | undefined) => this.runOnce(data ?? {}) });
  }

  /** One pass (optionally for some workers only); null when Stripe is not configured. */
  async runOnce(opts: { userIds?: string[] } = {}): Promise<PayoutRunResult | null> {
    if (!this.stripe.configured) return null;
    const result = await this.payouts.runPayouts(opts.userIds ? { userIds: opts.userIds } : {});
    for (const status of ['started', 'paid', 'failed', 'stillPending'] as const) if (result[status]) payoutsTotal.inc({ status }, result[status]);
    if (result.started || result.paid || result.failed || result.stillPending) this.log.log(`payouts ${JSON.stringify(result)}`);
    return result;
  }
}
