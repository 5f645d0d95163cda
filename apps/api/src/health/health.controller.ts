import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '@tally/auth';
import { JobsService } from '@tally/jobs';

/**
 * Readiness: 200 when PostgreSQL answers and (with REDIS_URL) Redis answers; 503 otherwise, with
 * which check failed. Load balancers and docker-compose healthchecks use it.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly jobs: JobsService,
  ) {}

  @Public()
  @Get()
  @HttpCode(200)
  async health(@Res({ passthrough: true }) res: Response) {
    const started = Date.now();
    const [database, redis] = await Promise.all([
      this.ds.query('SELECT 1').then(
        () => ({ status: 'up', latencyMs: Date.now() - started }),
        (err: Error) => ({ status: 'down', error: err.message }),
      ),
      this.jobs.redisHealth(),
    ]);
    const ok = database.status === 'up' && redis.status !== 'down';
    if (!ok) res.status(503);
    return { status: ok ? 'ok' : 'error', checks: { database, redis: { ...redis, mode: this.jobs.mode } } };
  }
}
