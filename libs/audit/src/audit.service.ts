import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { clampPage, Page } from '@tally/common';
import { AuditEventEntity } from './audit-event.entity';

export interface AuditRecord {
  actorId: string | null;
  action: string;
  objectType: string;
  objectId: string;
  reason?: string | null;
  data?: Record<string, unknown>;
}

@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Records an event; pass the transaction's manager so the event commits with its change. */
  async record(rec: AuditRecord, em: EntityManager = this.ds.manager): Promise<void> {
    await em.insert(AuditEventEntity, {
      actorId: rec.actorId,
      action: rec.action,
      objectType: rec.objectType,
      objectId: rec.objectId,
      reason: rec.reason ?? null,
      data: (rec.data ?? {}) as object,
    });
  }

  async list(filter: { objectType?: string; objectId?: string; limit?: number; offset?: number }): Promise<Page<AuditEventEntity>> {
    const { limit, offset } = clampPage(filter.limit, filter.offset);
    const where: Record<string, string> = {};
    if (filter.objectType) where.objectType = filter.objectType;
    if (filter.objectId) where.objectId = filter.objectId;
    const [items, total] = await this.ds.getRepository(AuditEventEntity).findAndCount({
      where,
      order: { id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }
}
