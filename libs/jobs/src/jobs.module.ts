import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module, Provider } from '@nestjs/common';
import { JobsProcessor, JobScheduler } from './bullmq-runner';
import { JobRegistry } from './job-registry';
import { JobsService } from './jobs.service';
import { JOBS_OPTIONS, JOBS_QUEUE, JobsModuleOptions, redisOptions } from './jobs.types';
import { LocalJobRunner } from './local-runner';
import { RedisConnection } from './redis-client';

/**
 * Background jobs, global: any module injects JobRegistry (to define its jobs) and JobsService
 * (to enqueue). With `redisUrl` they go through one BullMQ queue (@nestjs/bullmq) that any number of
 * processes work on; without it the same jobs run in this process.
 */
@Global()
@Module({})
export class JobsModule {
  static forRoot(options: JobsModuleOptions): DynamicModule {
    const providers: Provider[] = [{ provide: JOBS_OPTIONS, useValue: options }, JobRegistry, JobsService, RedisConnection];
    const imports: DynamicModule[] = [];
    if (options.redisUrl) {
      imports.push(
        BullModule.forRoot({ connection: redisOptions(options.redisUrl), prefix: options.prefix || 'tally' }),
        BullModule.registerQueue({ name: JOBS_QUEUE }),
      );
      providers.push(JobScheduler);
      if (options.process) providers.push(JobsProcessor);
    } else {
      providers.push(LocalJobRunner);
    }
    return { module: JobsModule, imports, providers, exports: [JobRegistry, JobsService, RedisConnection, ...(options.redisUrl ? [BullModule] : [])] };
  }
}
