import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@tally/audit';
import { ConfigModule, TallyConfig } from '@tally/config';
import { dataSourceOptions } from '@tally/database';
import { WorkModule } from '@tally/work';

/**
 * apps/worker: the background sweeps (lease expiry, auto-approval, task and campaign completion)
 * without HTTP, over the same libs and the same database setup as apps/api. The loop runs
 * whatever RUN_BACKGROUND says (that setting is about the API process).
 */
@Module({})
export class WorkerModule {
  static forRoot(config: TallyConfig, databaseUrl: string): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl, { extra: { max: 4 } }), autoLoadEntities: true }),
        AuditModule,
        WorkModule.forRoot({ forceBackground: true }),
      ],
    };
  }
}
