import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Principal, Roles } from '@tally/auth';
import { ReviewAssignmentsUseCase } from '@tally/work';
import { AnswerDto, AnswersQueryDto, ApproveQueryDto, BulkReviewDto, BulkReviewResultDto, RejectDto, toAnswerDto, toBulkReviewResultDto } from './review.dto';
import { ParseIdPipe } from '../common/validation';

/** The requester's review of their own campaigns' answers; anyone else's campaign is a 404. */
@ApiTags('review')
@ApiBearerAuth()
@Roles('requester')
@Controller()
export class ReviewController {
  constructor(private readonly review: ReviewAssignmentsUseCase) {}

  @Get('campaigns/:id/answers')
  async answers(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: AnswersQueryDto) {
    const page = await this.review.listAnswers({ ownerId: me.id, campaignId: id, status: q.status, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toAnswerDto) };
  }

  @Post('assignments/:id/approve')
  @HttpCode(200)
  @ApiOkResponse({ type: AnswerDto, description: 'pays the worker (reward from escrow, fee to the platform) once, in the same transaction' })
  async approve(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Query() q: ApproveQueryDto): Promise<AnswerDto> {
    return toAnswerDto(await this.review.approve(me.id, id, { overrideRejection: q.overrideRejection === true }));
  }

  @Post('assignments/:id/reject')
  @HttpCode(200)
  @ApiOkResponse({ type: AnswerDto })
  async reject(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: RejectDto): Promise<AnswerDto> {
    return toAnswerDto(await this.review.reject(me.id, id, dto.reason));
  }

  @Post('campaigns/:id/assignments/review')
  @HttpCode(200)
  @ApiOkResponse({ type: BulkReviewResultDto })
  async bulk(@CurrentUser() me: Principal, @Param('id', ParseIdPipe) id: string, @Body() dto: BulkReviewDto): Promise<BulkReviewResultDto> {
    const result = await this.review.bulk({ reviewerId: me.id, campaignId: id, assignmentIds: dto.assignmentIds, decision: dto.decision, reason: dto.reason });
    return toBulkReviewResultDto(result);
  }
}
