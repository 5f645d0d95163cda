import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LedgerModule } from '@tally/ledger';
import { CampaignItemsService } from './campaign-items.service';
import { CampaignsService } from './campaigns.service';
import { CampaignEntity } from './entities/campaign.entity';
import { ItemImportEntity } from './entities/item-import.entity';
import { TaskEntity } from './entities/task.entity';
import { ImportItemsUseCase } from './use-cases/import-items.use-case';

@Module({
  imports: [TypeOrmModule.forFeature([CampaignEntity, TaskEntity, ItemImportEntity]), LedgerModule],
  providers: [CampaignsService, CampaignItemsService, ImportItemsUseCase],
  exports: [CampaignsService, CampaignItemsService, ImportItemsUseCase],
})
export class CampaignsModule {}
