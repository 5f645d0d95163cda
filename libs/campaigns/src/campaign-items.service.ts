import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { clampPage, Page } from '@tally/common';
import { CampaignsService, requireOwner } from './campaigns.service';
import { ItemImportEntity } from './entities/item-import.entity';
import { TaskEntity, TaskStatus } from './entities/task.entity';

export interface TaskListFilter {
  status?: TaskStatus;
  limit?: number;
  offset?: number;
}

/** A campaign's items and import reports, as its owner sees them (gold and pre-labels included). */
@Injectable()
export class CampaignItemsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly campaigns: CampaignsService,
  ) {}

  async listTasks(ownerId: string, campaignId: string, f: TaskListFilter): Promise<Page<TaskEntity>> {
    requireOwner(ownerId);
    await this.campaigns.findOwned(ownerId, campaignId);
    const { limit, offset } = clampPage(f.limit, f.offset);
    const [items, total] = await this.ds.getRepository(TaskEntity).findAndCount({
      where: { campaignId, ...(f.status ? { status: f.status } : {}) },
      order: { seq: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }

  async listImports(ownerId: string, campaignId: string, p: { limit?: number; offset?: number }): Promise<Page<ItemImportEntity>> {
    requireOwner(ownerId);
    await this.campaigns.findOwned(ownerId, campaignId);
    const { limit, offset } = clampPage(p.limit, p.offset);
    const [items, total] = await this.ds.getRepository(ItemImportEntity).findAndCount({
      where: { campaignId },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }
}
