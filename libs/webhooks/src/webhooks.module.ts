import { Inject, Injectable, Logger, Module, OnModuleInit, Optional } from '@nestjs/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { JobRegistry } from '@tally/jobs';
import { DeliveryRunResult, WebhookDeliveryService } from './webhook-delivery.service';
import { WebhooksService } from './webhooks.service';
import { WorkerNotificationsService } from './worker-notifications.service';

/** The job name: sends due deliveries every SWEEP_INTERVAL_MS (or when run with JobsService.runNow). */
export const WEBHOOK_DELIVERIES_JOB = 'webhook-deliveries';

/**
 * The 'webhook-deliveries' background job (libs/jobs), defined the way PayoutsJob is: where it runs
 * (this process with RUN_BACKGROUND, or apps/worker through BullMQ) is decided there. deliverDue is
 * idempotent and safe in parallel (SKIP LOCKED claims with a lease).
 */
@Injectable()
export class WebhookDeliveriesJob implements OnModuleInit {
  private readonly log = new Logger('WebhookDeliveriesJob');

  constructor(
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    private readonly deliveries: WebhookDeliveryService,
    @Optional() @Inject(JobRegistry) private readonly jobs: JobRegistry | null,
  ) {}

  onModuleInit(): void {
    this.jobs?.define({ name: WEBHOOK_DELIVERIES_JOB, everyMs: this.config.sweepIntervalMs, run: () => this.runOnce() });
  }

  async runOnce(): Promise<DeliveryRunResult> {
    // Drain what is due now in batches (bounded, so one tick cannot run for ever).
    const total: DeliveryRunResult = { delivered: 0, retrying: 0, failed: 0, cancelled: 0 };
    for (let i = 0; i < 10; i++) {
      const r = await this.deliveries.deliverDue(100);
      for (const k of Object.keys(total) as (keyof DeliveryRunResult)[]) total[k] += r[k];
      if (r.delivered + r.retrying + r.failed + r.cancelled < 100) break;
    }
    return total;
  }
}

const PROVIDERS = [WebhooksService, WebhookDeliveryService, WebhookDeliveriesJob, WorkerNotificationsService];

/**
 * Requester webhooks (endpoints, the outbox, signed deliveries with retries) and worker
 * notifications. Needs TypeORM, config and (for the job) the global JobsModule.
 */
@Module({ providers: PROVIDERS, exports: PROVIDERS })
export class WebhooksModule {}
