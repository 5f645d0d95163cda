import { Inject, Injectable, Logger, Module, OnModuleInit, Optional } from '@nestjs/common';
import { JobRegistry } from '@tally/jobs';
import { CampaignsModule } from '@tally/campaigns';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { LedgerModule } from '@tally/ledger';
import { PaymentsModule } from '@tally/payments';
import { WorkModule } from '@tally/work';
import { MturkAccessKeysService } from './access-keys.service';
import { MturkRequesterService } from './mturk-requester.service';
import { MturkWorkersService } from './mturk-workers.service';
import { MturkFramesService } from './mturk-frames.service';
import { MturkNotificationsService } from './mturk-notifications.service';
import { WebhooksModule } from '@tally/webhooks';

/**
 * HIT expiry as the background job 'mturk-hit-expiry' (libs/jobs), every SWEEP_INTERVAL_MS: where
 * it runs (this process with RUN_BACKGROUND, or apps/worker through BullMQ) is decided there.
 * expireDue is idempotent and safe in parallel.
 */
@Injectable()
export class MturkExpirySweep implements OnModuleInit {
  private readonly log = new Logger('MturkExpirySweep');

  constructor(
    private readonly requester: MturkRequesterService,
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    @Optional() @Inject(JobRegistry) private readonly jobs: JobRegistry | null,
  ) {}

  onModuleInit(): void {
    this.jobs?.define({ name: 'mturk-hit-expiry', everyMs: this.config.sweepIntervalMs, run: () => this.tick() });
  }

  /** One pass: the number of HITs whose expiry was applied. */
  async tick(): Promise<number> {
    const n = await this.requester.expireDue();
    if (n) this.log.log(`expired ${n} MTurk HIT(s)`);
    return n;
  }
}

/**
 * The MTurk requester API compatibility layer (keys, SigV4, operations). Needs TypeORM, config,
 * audit and the global QualityModule (qualifications, blocks).
 */
@Module({
  imports: [CampaignsModule, WorkModule.forRoot(), PaymentsModule, LedgerModule, WebhooksModule],
  providers: [MturkAccessKeysService, MturkRequesterService, MturkWorkersService, MturkFramesService, MturkExpirySweep, MturkNotificationsService],
  exports: [MturkAccessKeysService, MturkRequesterService, MturkWorkersService, MturkFramesService, MturkExpirySweep],
})
export class MturkModule {}
