import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsIn, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { ASSIGNMENT_STATUSES, AssignmentEntity, AssignmentStatus, ClaimedTask, MyAssignmentDetail, OpenCampaign } from '@tally/work';
import { PageQuery } from '../admin/admin-users.controller';

export class SubmitAnswerDto {
  @ApiProperty({
    description: 'The answer, shaped by the task type: {label} | {labels:[...]} | {boxes:[{x,y,w,h,label}]} | {spans:[{start,end,label}]} | {text}',
    example: { label: 'cat' },
  })
  @IsDefined({ message: 'is required' })
  answer: unknown;

  @ApiPropertyOptional({ description: 'time the worker spent, in milliseconds' })
  @IsOptional() @IsInt() @Min(0) @Max(86_400_000)
  durationMs?: number;
}

export class MyAssignmentsQueryDto extends PageQuery {
  @ApiPropertyOptional({ enum: ASSIGNMENT_STATUSES })
  @IsOptional() @IsIn(ASSIGNMENT_STATUSES)
  status?: AssignmentStatus;

  @ApiPropertyOptional()
  @IsOptional() @IsUUID()
  campaignId?: string;
}

export class OpenCampaignDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['single-label', 'multi-label', 'boxes', 'spans', 'text'] }) taskType: string;
  @ApiProperty({ type: [String] }) labels: string[];
  @ApiProperty() instructions: string;
  @ApiProperty({ description: 'reward per approved assignment, integer minor units' }) rewardMinor: number;
  @ApiProperty({ example: 'usd' }) currency: string;
  @ApiProperty() leaseSeconds: number;
  @ApiProperty({ nullable: true, type: String }) deadline: string | null;
  @ApiProperty() tasksTotal: number;
  @ApiProperty() tasksComplete: number;
  @ApiProperty() openSlots: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'what a worker needs to claim: minReliability, minApprovedCount, minApprovalRate, ...' })
  qualification: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: Number, description: 'median seconds workers took on recent answers; null before any' })
  estimatedSeconds: number | null;
}

/** A model's pre-label offered to the worker (campaign modelLabels = suggest). */
export class ModelSuggestionDto {
  @ApiProperty({ description: 'the model\'s answer, in the task type\'s answer shape' }) answer: unknown;
  @ApiProperty({ nullable: true, type: String }) model: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'the model\'s own confidence, 0..1' }) confidence: number | null;
}

export class ClaimDto {
  @ApiProperty() assignmentId: string;
  @ApiProperty() taskId: string;
  @ApiProperty() campaignId: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the item: {text} | {imageUrl,width,height} | ...' }) payload: Record<string, unknown>;
  @ApiProperty() taskType: string;
  @ApiProperty({ type: [String] }) labels: string[];
  @ApiProperty() instructions: string;
  @ApiProperty() leaseExpiresAt: string;
  @ApiProperty({ description: 'true when this is the live claim the worker already held on the campaign' }) resumed: boolean;
  @ApiPropertyOptional({ description: 'same-origin link that serves payload.imageUrl through Tally (GET /api/images/...)' }) imageSrc?: string;
  @ApiPropertyOptional({ type: ModelSuggestionDto, description: 'a model\'s pre-label, when the campaign shows them as suggestions' }) suggestion?: ModelSuggestionDto;
}

/** A worker's view of their own assignment: their answer and its review, nobody else's. */
export class WorkerAssignmentDto {
  @ApiProperty() id: string;
  @ApiProperty() campaignId: string;
  @ApiProperty() taskId: string;
  @ApiProperty({ enum: ASSIGNMENT_STATUSES }) status: AssignmentStatus;
  @ApiProperty({ nullable: true }) answer: unknown;
  @ApiProperty({ nullable: true, type: Number }) durationMs: number | null;
  @ApiProperty() claimedAt: string;
  @ApiProperty() leaseExpiresAt: string;
  @ApiProperty({ nullable: true, type: String }) submittedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) reviewedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) rejectReason: string | null;
}

export class WorkerAssignmentDetailDto extends WorkerAssignmentDto {
  @ApiProperty({ type: 'object', additionalProperties: true }) payload: Record<string, unknown>;
  @ApiProperty() taskType: string;
  @ApiProperty({ type: [String] }) labels: string[];
  @ApiProperty() instructions: string;
  @ApiProperty() campaignName: string;
  @ApiPropertyOptional({ description: 'same-origin link that serves payload.imageUrl through Tally (GET /api/images/...)' }) imageSrc?: string;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toOpenCampaignDto(c: OpenCampaign): OpenCampaignDto {
  return {
    id: c.id,
    name: c.name,
    taskType: c.taskType,
    labels: c.labels,
    instructions: c.instructions,
    rewardMinor: c.rewardMinor,
    currency: c.currency,
    leaseSeconds: c.leaseSeconds,
    deadline: iso(c.deadline),
    tasksTotal: c.tasksTotal,
    tasksComplete: c.tasksComplete,
    openSlots: c.openSlots,
    qualification: { ...c.qualification },
    estimatedSeconds: c.estimatedSeconds,
  };
}

export function toClaimDto(c: ClaimedTask): ClaimDto {
  return {
    assignmentId: c.assignmentId,
    taskId: c.taskId,
    campaignId: c.campaignId,
    payload: c.payload,
    taskType: c.taskType,
    labels: c.labels,
    instructions: c.instructions,
    leaseExpiresAt: iso(c.leaseExpiresAt)!,
    resumed: c.resumed,
    ...(c.suggestion ? { suggestion: { answer: c.suggestion.answer, model: c.suggestion.model, confidence: c.suggestion.confidence } } : {}),
  };
}

export function toWorkerAssignmentDto(a: AssignmentEntity): WorkerAssignmentDto {
  return {
    id: a.id,
    campaignId: a.campaignId,
    taskId: a.taskId,
    status: a.status,
    answer: a.answer ?? null,
    durationMs: a.durationMs,
    claimedAt: iso(a.claimedAt)!,
    leaseExpiresAt: iso(a.leaseExpiresAt)!,
    submittedAt: iso(a.submittedAt),
    reviewedAt: iso(a.reviewedAt),
    rejectReason: a.rejectReason,
  };
}

export function toWorkerAssignmentDetailDto(d: MyAssignmentDetail): WorkerAssignmentDetailDto {
  return {
    ...toWorkerAssignmentDto(d.assignment),
    payload: d.payload,
    taskType: d.taskType,
    labels: d.labels,
    instructions: d.instructions,
    campaignName: d.campaignName,
  };
}
