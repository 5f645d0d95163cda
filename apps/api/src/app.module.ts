import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { AuditModule } from '@tally/audit';
import { AuthModule } from '@tally/auth';
import { CampaignsModule } from '@tally/campaigns';
import { ConfigModule, TallyConfig } from '@tally/config';
import { dataSourceOptions } from '@tally/database';
import { PaymentsModule } from '@tally/payments';
import { WorkModule } from '@tally/work';
import { AdminUsersController } from './admin/admin-users.controller';
import { AuthController } from './auth/auth.controller';
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
              const id = (req.headers['x-request-id'] as string) || randomUUID();
              res.setHeader('x-request-id', id);
              return id;
            },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            autoLogging: { ignore: (req) => req.url === '/health' },
          },
        }),
        TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl), autoLoadEntities: true }),
        AuditModule,
        AuthModule,
        PaymentsModule,
        CampaignsModule,
        WorkModule.forRoot(),
      ],
      controllers: [HealthController, AuthController, AdminUsersController, CampaignsController, CampaignItemsController, AdminCampaignsController, WorkController, ReviewController, AdminAssignmentsController, FundingController, MyMoneyController, AdminLedgerController],
      providers: [{ provide: APP_FILTER, useClass: GlobalExceptionFilter }],
    };
  }
}
