import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CampaignEntity, CampaignsModule, TaskEntity } from '@tally/campaigns';
import { LedgerModule } from '@tally/ledger';
import { BackgroundService } from './background.service';
import { AssignmentEntity } from './entities/assignment.entity';
import { WorkMoney } from './money/work-money';
import { SweepsService } from './sweeps.service';
import { AutoApproveUseCase } from './use-cases/auto-approve.use-case';
import { CancelCampaignUseCase } from './use-cases/cancel-campaign.use-case';
import { ClaimTaskUseCase } from './use-cases/claim-task.use-case';
import { CompleteCampaignsUseCase } from './use-cases/complete-campaigns.use-case';
import { ExpireLeasesUseCase } from './use-cases/expire-leases.use-case';
import { ListMyAssignmentsUseCase } from './use-cases/list-my-assignments.use-case';
import { ListOpenCampaignsUseCase } from './use-cases/list-open-campaigns.use-case';
import { ReturnTaskUseCase } from './use-cases/return-task.use-case';
import { ReviewAssignmentsUseCase } from './use-cases/review-assignments.use-case';
import { SearchAssignmentsUseCase } from './use-cases/search-assignments.use-case';
import { SubmitAnswerUseCase } from './use-cases/submit-answer.use-case';

const USE_CASES = [
  ClaimTaskUseCase,
  SubmitAnswerUseCase,
  ReturnTaskUseCase,
  ListMyAssignmentsUseCase,
  ListOpenCampaignsUseCase,
  ReviewAssignmentsUseCase,
  SearchAssignmentsUseCase,
  ExpireLeasesUseCase,
  AutoApproveUseCase,
  CompleteCampaignsUseCase,
  CancelCampaignUseCase,
];

/**
 * Claims, answers, review and the sweeps. Needs TypeORM, the global AuditModule, config and
 * JobsModule (libs/jobs: where and when the 'sweep' job runs is decided there, not here).
 */
@Module({})
export class WorkModule {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  static forRoot(_opts: { forceBackground?: boolean } = {}): DynamicModule {
    // One module object for every caller (the app, MturkModule, ...): NestJS keys dynamic modules by
    // reference, and a second instance would mean a second SweepsService defining the 'sweep' job.
    return (WorkModule.module ??= {
      module: WorkModule,
      // Money (WorkMoney over the ledger) moves in the transactions of approvals, task completion and cancellation.
      imports: [TypeOrmModule.forFeature([AssignmentEntity, TaskEntity, CampaignEntity]), CampaignsModule, LedgerModule],
      providers: [...USE_CASES, SweepsService, BackgroundService, WorkMoney],
      exports: [...USE_CASES, SweepsService, BackgroundService, WorkMoney],
    });
  }

  private static module?: DynamicModule;
}
