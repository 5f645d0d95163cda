export { JobsModule } from './jobs.module';
export { JobRegistry } from './job-registry';
export { JobsService } from './jobs.service';
export { LocalJobRunner } from './local-runner';
export { JOBS_QUEUE, redisOptions } from './jobs.types';
export type { JobDefinition, JobsModuleOptions, EnqueueOptions } from './jobs.types';
export { RedisConnection } from './redis-client';
export { RedisAttemptCounter } from './redis-attempt-counter';
