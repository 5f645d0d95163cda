import { Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { CampaignsModule } from '@tally/campaigns';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { LedgerModule } from '@tally/ledger';
import { PaymentsModule } from '@tally/payments';
import { WorkModule } from '@tally/work';
import { MturkAccessKeysService } from './access-keys.service';
import { MturkRequesterService } from './mturk-requester.service';
import { MturkWorkersService } from './mturk-workers.service';
import { MturkFramesService } from './mturk-frames.service';

/** Applies HIT expiry in the background (with the other sweeps: RUN_BACKGROUND, SWEEP_INTERVAL_MS). */
@Injectable()
export class MturkExpirySweep implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('MturkExpirySweep');
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly requester: MturkRequesterService,
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.runBackground || !this.config.sweepIntervalMs) return;
    this.timer = setInterval(() => void this.tick(), this.config.sweepIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      return await this.requester.expireDue();
    } catch (err) {
      this.log.warn(`HIT expiry sweep failed: ${(err as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}

/**
 * The MTurk requester API compatibility layer (keys, SigV4, operations). Needs TypeORM, config,
 * audit and the global QualityModule (qualifications, blocks).
 */
@Module({
  imports: [CampaignsModule, WorkModule.forRoot(), PaymentsModule, LedgerModule],
  providers: [MturkAccessKeysService, MturkRequesterService, MturkWorkersService, MturkFramesService, MturkExpirySweep],
  exports: [MturkAccessKeysService, MturkRequesterService, MturkWorkersService, MturkFramesService, MturkExpirySweep],
})
export class MturkModule {}
