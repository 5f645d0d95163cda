import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from '@tally/audit';
import { ConfigModule, TallyConfig } from '@tally/config';
import { dataSourceOptions } from '@tally/database';
import { JobsModule } from '@tally/jobs';
import { DbPoolMetrics } from '@tally/metrics';
import { PaymentsModule } from '@tally/payments';
import { WorkModule } from '@tally/work';
import { QualityModule } from '@tally/quality';
import { MturkModule } from '@tally/mturk';
import { WebhooksModule } from '@tally/webhooks';

/**
 * apps/worker: the background jobs (sweeps: lease expiry, auto-approval, task and campaign
 * completion; payouts; and whatever other modules define) without HTTP, over the same libs and database
 * setup as apps/api. It always runs jobs, whatever RUN_BACKGROUND says (that is about the API):
 * with REDIS_URL it is one of any number of BullMQ workers on the shared queue.
 */
@Module({})
export class WorkerModule {
  static forRoot(config: TallyConfig, databaseUrl: string): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        // Structured JSON logs (pino), as the API writes them; `service: worker` tells them apart.
        LoggerModule.forRoot({ pinoHttp: { level: config.logLevel, base: { service: 'tally-worker', pid: process.pid } } }),
        TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl, { extra: { max: 4 } }), autoLoadEntities: true }),
        AuditModule,
        JobsModule.forRoot({ redisUrl: config.redisUrl, prefix: config.redisPrefix, process: true, concurrency: config.jobConcurrency }),
        WorkModule.forRoot(),
        PaymentsModule, // defines the 'payouts' job (a no-op without Stripe keys)
        QualityModule, // defines the 'quality-reestimate' job (Dawid-Skene re-estimation, collusion check, due gold rejections)
        MturkModule, // defines the 'mturk-hit-expiry' job (HITs past their lifetime hand out no more work)
        WebhooksModule, // defines the 'webhook-deliveries' job (signed requester webhooks, retried with backoff)
      ],
      providers: [DbPoolMetrics],
    };
  }
}
