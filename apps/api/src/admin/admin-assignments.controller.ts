import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { Roles } from '@tally/auth';
import { ASSIGNMENT_STATUSES, AssignmentStatus, SearchAssignmentsUseCase } from '@tally/work';
import { toAnswerDto } from '../review/review.dto';
import { PageQuery } from './admin-users.controller';

export class AssignmentSearchQuery extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() campaignId?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() workerId?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() taskId?: string;
  @ApiPropertyOptional({ enum: ASSIGNMENT_STATUSES }) @IsOptional() @IsIn(ASSIGNMENT_STATUSES) status?: AssignmentStatus;
}

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/assignments')
export class AdminAssignmentsController {
  constructor(private readonly search: SearchAssignmentsUseCase) {}

  @Get()
  async list(@Query() q: AssignmentSearchQuery) {
    const page = await this.search.execute({ campaignId: q.campaignId, workerId: q.workerId, taskId: q.taskId, status: q.status, limit: q.limit, offset: q.offset });
    return { ...page, items: page.items.map(toAnswerDto) };
  }
}
