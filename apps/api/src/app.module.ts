import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { stdSerializers } from 'pino';
import { randomUUID } from 'node:crypto';
import { AuditModule } from '@tally/audit';
import { AuthModule } from '@tally/auth';
import { CampaignsModule } from '@tally/campaigns';
import { ConfigModule, TallyConfig } from '@tally/config';
import { dataSourceOptions } from '@tally/database';
import { PaymentsModule } from '@tally/payments';
import { WorkModule } from '@tally/work';
import { QualityModule } from '@tally/quality';
import { AdminQualityController } from './quality/admin-quality.controller';
import { MyReliabilityController } from './quality/my-reliability.controller';
import { QualificationsController } from './quality/qualifications.controller';
import { QualityController } from './quality/quality.controller';
import { JobsModule } from '@tally/jobs';
import { DbPoolMetrics } from '@tally/metrics';
import { MetricsController } from './metrics/metrics.controller';
import { AdminUsersController } from './admin/admin-users.controller';
import { AuthController } from './auth/auth.controller';
import { LoginThrottle } from './auth/login-throttle';
import { AdminCampaignsController } from './campaigns/admin-campaigns.controller';
import { CampaignItemsController } from './campaigns/campaign-items.controller';
import { CampaignsController } from './campaigns/campaigns.controller';
import { GlobalExceptionFilter } from './common/exception.filter';
import { HealthController } from './health/health.controller';
import { AdminLedgerController } from './money/admin-ledger.controller';
import { FundingController } from './money/funding.controller';
import { MyMoneyController } from './money/my-money.controller';
import { AdminAssignmentsController } from './admin/admin-assignments.controller';
import { ReviewController } from './review/review.controller';
import { WorkController } from './work/work.controller';
import { MturkModule } from '@tally/mturk';
import { WebhooksModule } from '@tally/webhooks';
import { WebhooksController } from './webhooks/webhooks.controller';
import { MyNotificationsController } from './webhooks/my-notifications.controller';
import { ImageLinks, ImageProxyController } from './media/image-proxy';
import { MturkController } from './mturk/mturk.controller';
import { MturkKeysController } from './mturk/mturk-keys.controller';
import { MturkWorkerController } from './mturk/mturk-worker.controller';
import { CampaignInsightsService } from './insights/campaign-insights.service';
import { AdminAgreementController, AdminWorkerQualityController, CampaignInsightsController, PaymentOptionsController } from './insights/insights.controller';

export interface AppOptions {
  config: TallyConfig;
  /** The PostgreSQL to use: DATABASE_URL, or the embedded server's URL. */
  databaseUrl: string;
}

@Module({})
export class AppModule {
  static forRoot({ config, databaseUrl }: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            genReqId: (req, res) => {
              // A caller's (proxy's) id is kept when it is a sane token, so one id follows a request across services.
              const given = req.headers['x-request-id'];
              const id = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
              res.setHeader('x-request-id', id);
              return id;
            },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
            // One line per request with what an operator needs (request id, route, status, time,
            // user); not every header: serialising them all was a measurable share of a claim's CPU.
            // The serializers read the raw request / response (wrapSerializers: false): wrapped, each
            // request first got pino's full copy (every header, res.getHeaders()) only to be cut down.
            wrapSerializers: false,
            serializers: {
              req: (req: { id: string; method: string; originalUrl?: string; url: string; socket?: { remoteAddress?: string } }) => ({
                id: req.id,
                method: req.method,
                url: req.originalUrl || req.url,
                ip: req.socket?.remoteAddress,
              }),
              // (null until the headers went out, e.g. a client that went away: as pino's own serializer says)
              res: (res: { statusCode: number; headersSent?: boolean }) => ({ statusCode: res.headersSent ? res.statusCode : null }),
              err: stdSerializers.err, // what pino-http wraps in by default
            },
            // The caller's id on the completion line. (Not `customProps`: it built two extra child
            // loggers per request, one before authentication, when there is no user yet.)
            customSuccessObject: (req, _res, line) => ({ ...line, userId: (req as { user?: { id?: string } }).user?.id }),
            customErrorObject: (req, _res, _err, line) => ({ ...line, userId: (req as { user?: { id?: string } }).user?.id }),
            customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
          },
        }),
        TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl, { extra: { max: config.dbPoolMax } }), autoLoadEntities: true }),
        AuditModule,
        AuthModule,
        PaymentsModule,
        CampaignsModule,
        // Background jobs: BullMQ with REDIS_URL, else in this process; run here when RUN_BACKGROUND.
        JobsModule.forRoot({ redisUrl: config.redisUrl, prefix: config.redisPrefix, process: config.runBackground, concurrency: config.jobConcurrency }),
        WorkModule.forRoot(),
        MturkModule, // MTurk requester API compatibility (POST /api/mturk, docs/mturk.md)
        QualityModule,
        WebhooksModule, // requester webhooks (outbox + 'webhook-deliveries' job) and worker notifications
      ],
      // WorkController first: Express tries routes in registration order, one path match per route,
      // so the hot claim/submit routes are found after ~4 routes instead of ~40 (no other
      // controller has a path under /api/work, so the order changes no match).
      controllers: [WorkController, HealthController, MetricsController, AuthController, AdminUsersController, CampaignsController, CampaignItemsController, AdminCampaignsController, ReviewController, AdminAssignmentsController, FundingController, MyMoneyController, AdminLedgerController, CampaignInsightsController, AdminAgreementController, AdminWorkerQualityController, PaymentOptionsController, QualityController, MyReliabilityController, QualificationsController, AdminQualityController, MturkController, MturkKeysController, MturkWorkerController, WebhooksController, MyNotificationsController, ImageProxyController],
      providers: [{ provide: APP_FILTER, useClass: GlobalExceptionFilter }, DbPoolMetrics, CampaignInsightsService, ImageLinks, LoginThrottle],
    };
  }
}
