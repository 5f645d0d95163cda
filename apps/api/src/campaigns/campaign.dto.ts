import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { AGGREGATION_METHODS, CAMPAIGN_STATUSES, IMPORT_FORMATS, LIMITS, MODEL_LABEL_MODES, TASK_TYPES } from '@tally/campaigns';
import type { AggregationMethod, CampaignStatus, ModelLabelMode, TaskType } from '@tally/campaigns';
import { PageQuery } from '../admin/admin-users.controller';

const toLower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value);
const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
/** Largest reward per assignment (minor units): keeps escrow arithmetic far from 2^53. */
export const MAX_REWARD_MINOR = 10_000_000;

/** Put to work by the quality issue; stored as given. */
export class QualificationDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 1, description: 'lowest global reliability a worker needs' })
  @IsOptional() @IsNumber() @Min(0) @Max(1)
  minReliability?: number;

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional() @IsInt() @Min(0) @Max(1_000_000)
  minApprovedCount?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1 })
  @IsOptional() @IsNumber() @Min(0) @Max(1)
  minApprovalRate?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1000, description: 'gold items in the qualification test; 0 = no test' })
  @IsOptional() @IsInt() @Min(0) @Max(1000)
  qualificationTestSize?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'wait before a failed test may be retried' })
  @IsOptional() @IsInt() @Min(0) @Max(365 * 86_400)
  qualificationRetryDelaySeconds?: number;

  @ApiPropertyOptional({ type: [String], description: 'names of qualifications a worker must hold' })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ArrayUnique() @IsString({ each: true }) @Length(1, 100, { each: true })
  requiredQualifications?: string[];
}

/**
 * A new campaign. Field-by-field rules live here; cross-field rules (labels required unless the
 * type is text, redundancyMin ≤ redundancyMax, deadline ahead) are checked by the domain, since an
 * edit can change one side of a pair.
 */
export class CreateCampaignDto {
  @ApiProperty({ example: 'Sentiment of product reviews' })
  @IsString() @Length(1, 200)
  name: string;

  @ApiProperty({ enum: TASK_TYPES })
  @IsIn(TASK_TYPES)
  taskType: TaskType;

  @ApiPropertyOptional({
    type: [String],
    example: ['positive', 'negative', 'neutral'],
    description: 'label set (single/multi-label), box classes (boxes) or entity types (spans); required and distinct for every type except text',
  })
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.labels.max) @ArrayUnique({ message: 'labels must be distinct' })
  @IsString({ each: true }) @Length(1, LIMITS.labels.length, { each: true })
  labels?: string[];

  @ApiPropertyOptional({ description: 'shown to workers (Markdown)', default: '' })
  @IsOptional() @IsString() @Length(0, 20_000)
  instructions?: string;

  @ApiProperty({ description: 'reward per approved assignment, integer minor units (cents)', example: 5 })
  @IsInt() @Min(0) @Max(MAX_REWARD_MINOR)
  rewardMinor: number;

  @ApiProperty({ description: 'ISO 4217 code; stored lower-case', example: 'usd' })
  @Transform(toLower) @IsString() @Matches(/^[a-z]{3}$/, { message: 'currency must be a 3-letter ISO 4217 code' })
  currency: string;

  @ApiPropertyOptional({ minimum: LIMITS.redundancy.min, maximum: LIMITS.redundancy.max, default: 3, description: 'answers each item gets at first' })
  @IsOptional() @IsInt() @Min(LIMITS.redundancy.min) @Max(LIMITS.redundancy.max)
  redundancyMin?: number;

  @ApiPropertyOptional({ minimum: LIMITS.redundancy.min, maximum: LIMITS.redundancy.max, description: 'most answers an item may get (dynamic overlap); default max(5, redundancyMin)' })
  @IsOptional() @IsInt() @Min(LIMITS.redundancy.min) @Max(LIMITS.redundancy.max)
  redundancyMax?: number;

  @ApiPropertyOptional({ minimum: 0, exclusiveMinimum: true, maximum: 1, default: 0.95, description: 'an item completes when its consensus confidence reaches this' })
  @IsOptional() @IsNumber() @IsPositive() @Max(1)
  confidenceTarget?: number;

  @ApiPropertyOptional({ minimum: LIMITS.leaseSeconds.min, maximum: LIMITS.leaseSeconds.max, default: 600, description: 'how long a claimed task is held for a worker' })
  @IsOptional() @IsInt() @Min(LIMITS.leaseSeconds.min) @Max(LIMITS.leaseSeconds.max)
  leaseSeconds?: number;

  @ApiPropertyOptional({ format: 'date-time', nullable: true, description: 'no claims after this; must be in the future' })
  @IsOptional() @IsISO8601({ strict: true })
  deadline?: string | null;

  @ApiPropertyOptional({ minimum: 0, maximum: LIMITS.autoApproveSeconds.max, default: 259200, description: 'unreviewed answers are approved after this' })
  @IsOptional() @IsInt() @Min(LIMITS.autoApproveSeconds.min) @Max(LIMITS.autoApproveSeconds.max)
  autoApproveSeconds?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: LIMITS.maxTextLength.max, default: 2000, description: 'longest free-text answer (task type text)' })
  @IsOptional() @IsInt() @Min(LIMITS.maxTextLength.min) @Max(LIMITS.maxTextLength.max)
  maxTextLength?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, default: 0, description: 'share of gold items mixed into a worker’s tasks' })
  @IsOptional() @IsNumber() @Min(0) @Max(1)
  goldRate?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, default: 0.8, description: 'gold accuracy a worker must keep' })
  @IsOptional() @IsNumber() @Min(0) @Max(1)
  goldPassMark?: number;

  @ApiPropertyOptional({ type: QualificationDto })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => QualificationDto)
  qualification?: QualificationDto;

  @ApiPropertyOptional({ enum: AGGREGATION_METHODS, default: 'mv' })
  @IsOptional() @IsIn(AGGREGATION_METHODS)
  aggregationMethod?: AggregationMethod;

  @ApiPropertyOptional({
    enum: MODEL_LABEL_MODES,
    default: 'off',
    description: 'items\' model pre-labels: off = unused; suggest = shown to the worker in the claim; annotator = the model is one more annotator in consensus (never paid, never a human answer)',
  })
  @IsOptional() @IsIn(MODEL_LABEL_MODES, { message: `modelLabels must be one of: ${MODEL_LABEL_MODES.join(', ')}` })
  modelLabels?: ModelLabelMode;
}

/** Any subset of the fields; only while the campaign is a draft. `deadline: null` removes it. */
export class UpdateCampaignDto extends PartialType(CreateCampaignDto) {}

export class CampaignListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: CAMPAIGN_STATUSES })
  @IsOptional() @IsIn(CAMPAIGN_STATUSES)
  status?: CampaignStatus;
}

export class AdminCampaignQuery extends CampaignListQuery {
  @ApiPropertyOptional({ description: 'part of the campaign name' })
  @IsOptional() @IsString() @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  ownerId?: string;

  @ApiPropertyOptional({ description: 'part of the owner’s email' })
  @IsOptional() @IsString() @Length(1, 200)
  owner?: string;
}

export class TaskListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['open', 'complete'] })
  @IsOptional() @IsIn(['open', 'complete'])
  status?: 'open' | 'complete';
}

export class ImportQuery {
  @ApiPropertyOptional({ enum: [...IMPORT_FORMATS, 'ndjson'], description: 'overrides the Content-Type' })
  @IsOptional() @Transform(toLower) @IsIn([...IMPORT_FORMATS, 'ndjson'])
  format?: string;

  @ApiPropertyOptional({ default: false, description: 'reject the whole file (422, nothing imported) if any row is bad' })
  @IsOptional() @Transform(toBool) @IsBoolean()
  strict?: boolean;
}
