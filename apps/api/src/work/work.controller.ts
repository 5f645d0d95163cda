import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { claimsTotal, submissionsTotal } from '@tally/metrics';
import {
  ClaimTaskUseCase,
  ListMyAssignmentsUseCase,
  ListOpenCampaignsUseCase,
  ReturnTaskUseCase,
  SubmitAnswerUseCase,
} from '@tally/work';
import { PageQuery } from '../admin/admin-users.controller';
import { ImageLinks } from '../media/image-proxy';
import {
  ClaimDto,
  MyAssignmentsQueryDto,
  SubmitAnswerDto,
  toClaimDto,
  toOpenCampaignDto,
  toWorkerAssignmentDetailDto,
  toWorkerAssignmentDto,
  WorkerAssignmentDetailDto,
  WorkerAssignmentDto,
} from './work.dto';
import { ParseIdPipe } from '../common/validation';

/** The worker's side of the marketplace: find work, claim, answer, return, look back. */
@ApiTags('work')
@ApiBearerAuth()
@Roles('worker')
@Controller('work')
export class WorkController {
  constructor(
    private readonly openCampaigns: ListOpenCampaignsUseCase,
    private readonly claimTask: ClaimTaskUseCase,
    private readonly submitAnswer: SubmitAnswerUseCase,
    private readonly returnTask: ReturnTaskUseCase,
    private readonly myAssignments: ListMyAssignmentsUseCase,
    private readonly images: ImageLinks,
  ) {}

  @Get('campaigns')
  async campaigns(@CurrentUser() me: Principal, @Query() q: PageQuery) {
    const page = await this.openCampaigns.execute({ workerId: me.id, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toOpenCampaignDto) };
  }

  @Post('campaigns/:id/claim')
  @HttpCode(200)
  @ApiOkResponse({ type: ClaimDto })
  @ApiConflictResponse({ description: 'NO_TASK_AVAILABLE (nothing left for you now) or CAMPAIGN_NOT_OPEN' })
  async claim(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<ClaimDto> {
    try {
      const claimed = await this.claimTask.execute({ workerId: me.id, campaignId: id });
      claimsTotal.inc({ outcome: claimed.resumed ? 'resumed' : 'claimed' });
      return { ...toClaimDto(claimed), imageSrc: this.images.src(claimed.payload) };
    } catch (err) {
      claimsTotal.inc({ outcome: (err as { code?: string }).code === 'NO_TASK_AVAILABLE' ? 'none' : 'refused' });
      throw err;
    }
  }

  @Post('assignments/:id/submit')
  @HttpCode(200)
  @ApiOkResponse({ type: WorkerAssignmentDto, description: 'the stored assignment; a retried submit returns the same body' })
  async submit(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: SubmitAnswerDto): Promise<WorkerAssignmentDto> {
    const { assignment, stored } = await this.submitAnswer.execute({ workerId: me.id, assignmentId: id, answer: dto.answer, durationMs: dto.durationMs }).catch((err) => {
      submissionsTotal.inc({ outcome: 'refused' });
      throw err;
    });
    submissionsTotal.inc({ outcome: stored ? 'stored' : 'retry' });
    return toWorkerAssignmentDto(assignment);
  }

  @Post('assignments/:id/return')
  @HttpCode(200)
  @ApiOkResponse({ type: WorkerAssignmentDto })
  async giveBack(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<WorkerAssignmentDto> {
    return toWorkerAssignmentDto(await this.returnTask.execute({ workerId: me.id, assignmentId: id }));
  }

  @Get('assignments')
  async list(@CurrentUser() me: Principal, @Query() q: MyAssignmentsQueryDto) {
    const page = await this.myAssignments.list({ workerId: me.id, status: q.status, campaignId: q.campaignId, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toWorkerAssignmentDto) };
  }

  @Get('assignments/:id')
  @ApiOkResponse({ type: WorkerAssignmentDetailDto })
  async get(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string): Promise<WorkerAssignmentDetailDto> {
    const detail = await this.myAssignments.get(me.id, id);
    return { ...toWorkerAssignmentDetailDto(detail), imageSrc: this.images.src(detail.payload) };
  }
}
