import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { ASSIGNMENT_STATUSES, AssignmentEntity, AssignmentStatus, BulkReviewResult, REASON_MAX, REASON_MIN } from '@tally/work';
import { PageQuery } from '../admin/admin-users.controller';

export const MAX_BULK_REVIEW = 1000;

export class AnswersQueryDto extends PageQuery {
  @ApiPropertyOptional({ enum: ASSIGNMENT_STATUSES, description: 'default: submitted, approved and rejected' })
  @IsOptional() @IsIn(ASSIGNMENT_STATUSES)
  status?: AssignmentStatus;
}

export class ApproveQueryDto {
  @ApiPropertyOptional({ description: 'also approve (and pay) an answer that was rejected: a reversed rejection', default: false })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  overrideRejection?: boolean;
}

export class RejectDto {
  @ApiProperty({ minLength: REASON_MIN, maxLength: REASON_MAX, description: 'shown to the worker' })
  @IsString() @Length(REASON_MIN, REASON_MAX, { message: `reason must have ${REASON_MIN} to ${REASON_MAX} characters` })
  reason: string;
}

export class BulkReviewDto {
  @ApiProperty({ type: [String], maxItems: MAX_BULK_REVIEW })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_BULK_REVIEW) @IsUUID('all', { each: true, message: 'each id must be a UUID' })
  assignmentIds: string[];

  @ApiProperty({ enum: ['approve', 'reject'] })
  @IsIn(['approve', 'reject'])
  decision: 'approve' | 'reject';

  @ApiPropertyOptional({ description: `required to reject (${REASON_MIN}..${REASON_MAX} characters)` })
  @IsOptional() @IsString() @Length(REASON_MIN, REASON_MAX, { message: `reason must have ${REASON_MIN} to ${REASON_MAX} characters` })
  reason?: string;
}

/** An answer as the campaign's requester sees it. */
export class AnswerDto {
  @ApiProperty() id: string;
  @ApiProperty() taskId: string;
  @ApiProperty() campaignId: string;
  @ApiProperty() workerId: string;
  @ApiProperty({ enum: ASSIGNMENT_STATUSES }) status: AssignmentStatus;
  @ApiProperty({ nullable: true }) answer: unknown;
  @ApiProperty({ nullable: true, type: Number }) durationMs: number | null;
  @ApiProperty() claimedAt: string;
  @ApiProperty({ nullable: true, type: String }) submittedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) autoApproveAt: string | null;
  @ApiProperty({ nullable: true, type: String }) reviewedAt: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'null for an automatic approval' }) reviewedBy: string | null;
  @ApiProperty({ nullable: true, type: String }) rejectReason: string | null;
}

export class BulkReviewResultDto {
  @ApiProperty({ description: 'one entry per id sent: approved | rejected | not_found | not_submitted' })
  results: { assignmentId: string; outcome: string; status?: string }[];
  @ApiProperty() approved: number;
  @ApiProperty() rejected: number;
  @ApiProperty() skipped: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toAnswerDto(a: AssignmentEntity): AnswerDto {
  return {
    id: a.id,
    taskId: a.taskId,
    campaignId: a.campaignId,
    workerId: a.workerId,
    status: a.status,
    answer: a.answer ?? null,
    durationMs: a.durationMs,
    claimedAt: iso(a.claimedAt)!,
    submittedAt: iso(a.submittedAt),
    autoApproveAt: iso(a.autoApproveAt),
    reviewedAt: iso(a.reviewedAt),
    reviewedBy: a.reviewedBy,
    rejectReason: a.rejectReason,
  };
}

export function toBulkReviewResultDto(r: BulkReviewResult): BulkReviewResultDto {
  return { results: r.results.map((x) => ({ ...x })), approved: r.approved, rejected: r.rejected, skipped: r.skipped };
}
