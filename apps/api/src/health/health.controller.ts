import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '@tally/auth';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** 200 when PostgreSQL answers, 503 otherwise. */
  @Public()
  @Get()
  @HttpCode(200)
  async health(@Res({ passthrough: true }) res: Response) {
    const started = Date.now();
    try {
      await this.ds.query('SELECT 1');
      return { status: 'ok', checks: { database: { status: 'up', latencyMs: Date.now() - started } } };
    } catch (err) {
      res.status(503);
      return { status: 'error', checks: { database: { status: 'down', error: (err as Error).message } } };
    }
  }
}
