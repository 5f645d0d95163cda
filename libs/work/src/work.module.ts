import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CampaignEntity, TaskEntity } from '@tally/campaigns';
import { BackgroundService, FORCE_BACKGROUND } from './background.service';
import { AssignmentEntity } from './entities/assignment.entity';
import { SweepsService } from './sweeps.service';
import { AutoApproveUseCase } from './use-cases/auto-approve.use-case';
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
];

/**
 * Claims, answers, review and the sweeps. Needs TypeORM and the global AuditModule and config.
 * `forRoot({ forceBackground: true })` is apps/worker's: the loop runs whatever RUN_BACKGROUND says.
 */
@Module({})
export class WorkModule {
  static forRoot(opts: { forceBackground?: boolean } = {}): DynamicModule {
    return {
      module: WorkModule,
      imports: [TypeOrmModule.forFeature([AssignmentEntity, TaskEntity, CampaignEntity])],
      providers: [...USE_CASES, SweepsService, BackgroundService, { provide: FORCE_BACKGROUND, useValue: !!opts.forceBackground }],
      exports: [...USE_CASES, SweepsService, BackgroundService],
    };
  }
}
