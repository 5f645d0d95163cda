import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { addDbPoolSource } from './metrics';

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Exposes the TypeORM pg pool (total / idle / waiting) as tally_db_pool_connections. */
@Injectable()
export class DbPoolMetrics implements OnModuleInit, OnApplicationShutdown {
  private remove?: () => void;

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  onModuleInit(): void {
    this.remove = addDbPoolSource(() => {
      const pool = (this.ds.driver as unknown as { master?: PgPool }).master;
      if (!pool) return [];
      return [
        { labels: { pool: 'main', state: 'total' }, value: pool.totalCount },
        { labels: { pool: 'main', state: 'idle' }, value: pool.idleCount },
        { labels: { pool: 'main', state: 'waiting' }, value: pool.waitingCount },
      ];
    });
  }

  onApplicationShutdown(): void {
    this.remove?.();
  }
}
