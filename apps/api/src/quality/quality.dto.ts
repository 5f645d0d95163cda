import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, IsUUID, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { RESULT_FORMATS, ResultFormat } from '@tally/quality';
import { PageQuery } from '../admin/admin-users.controller';

const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
const ACTIONS = ['flag', 'block', 'off'];

/** A patch of a campaign's automatic quality rules; every field optional (see QualityRules for defaults). */
export class QualityRulesDto {
  @ApiPropertyOptional({ description: 'after each answer: complete at the confidence target, else one more answer up to redundancyMax, else complete flagged low-confidence' })
  @IsOptional() @IsBoolean()
  dynamicOverlap?: boolean;

  @ApiPropertyOptional({ nullable: true, description: 'claims after which a gold item retires (null: redundancyMax)' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(1_000_000)
  goldMaxExposures?: number | null;

  @ApiPropertyOptional({ description: 'gold answers before the pass-mark rule judges a worker' })
  @IsOptional() @IsInt() @Min(1) @Max(1000)
  minGoldAnswers?: number;

  @ApiPropertyOptional({ enum: ACTIONS })
  @IsOptional() @IsIn(ACTIONS)
  goldAction?: 'flag' | 'block' | 'off';

  @ApiPropertyOptional({
    nullable: true,
    description:
      'adaptive gold: the gold rate for a worker proven on gold (at least minGoldAnswers gold answers, Wilson 95% lower bound of their gold accuracy ≥ the pass mark); null: off',
  })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsNumber() @Min(0) @Max(1)
  goldRateProven?: number | null;

  @ApiPropertyOptional({ enum: ['rate', 'upper-bound'], description: 'under the pass mark: the observed rate, or its Wilson 99% upper bound' })
  @IsOptional() @IsIn(['rate', 'upper-bound'])
  goldStatistic?: 'rate' | 'upper-bound';

  @ApiPropertyOptional({ description: 'an answer faster than this share of the campaign median time is fast' })
  @IsOptional() @IsNumber() @Min(0.01) @Max(1)
  fastFactor?: number;

  @ApiPropertyOptional()
  @IsOptional() @IsInt() @Min(1) @Max(1000)
  fastMinCount?: number;

  @ApiPropertyOptional()
  @IsOptional() @IsInt() @Min(2) @Max(100_000)
  fastMinSample?: number;

  @ApiPropertyOptional({ enum: ACTIONS })
  @IsOptional() @IsIn(ACTIONS)
  fastAction?: 'flag' | 'block' | 'off';

  @ApiPropertyOptional({ enum: ['manual', 'consensus'], description: 'consensus: approve answers that agree with the completed task at once, leave the others to the requester' })
  @IsOptional() @IsIn(['manual', 'consensus'])
  reviewPolicy?: 'manual' | 'consensus';

  @ApiPropertyOptional({ nullable: true, description: 'tasks per worker per 24 hours (null: no cap)' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(1) @Max(1_000_000)
  dailyCap?: number | null;

  @ApiPropertyOptional()
  @IsOptional() @IsNumber() @Min(0.01) @Max(1)
  collusionMargin?: number;

  @ApiPropertyOptional()
  @IsOptional() @IsInt() @Min(2) @Max(100_000)
  collusionMinShared?: number;

  @ApiPropertyOptional({ enum: ACTIONS, description: 'single-label: a worker whose Dawid-Skene accuracy (99% upper bound over their answers) is under the pass mark → this (default off)' })
  @IsOptional() @IsIn(ACTIONS)
  skillAction?: 'flag' | 'block' | 'off';

  @ApiPropertyOptional({ description: 'answers a worker needs before the Dawid-Skene accuracy rule judges them (default 20)' })
  @IsOptional() @IsInt() @Min(5) @Max(100_000)
  skillMinAnswers?: number;
}

export class ResultsQueryDto {
  @ApiPropertyOptional({ enum: RESULT_FORMATS, default: 'jsonl' })
  @IsOptional() @IsIn(RESULT_FORMATS as unknown as string[])
  format?: ResultFormat;

  @ApiPropertyOptional({ description: 'include each task\'s counted answers under worker pseudonyms', default: false })
  @IsOptional() @Transform(toBool) @IsBoolean()
  raw?: boolean;
}

export class LogQueryDto extends PageQuery {}

export class AdminLogQueryDto extends PageQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID()
  campaignId?: string;
}

export class FlagsQueryDto extends PageQuery {
  @ApiPropertyOptional({ description: 'only unresolved flags' })
  @IsOptional() @Transform(toBool) @IsBoolean()
  open?: boolean;
}

export class AdminFlagsQueryDto extends FlagsQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID()
  campaignId?: string;
}

export class ReasonDto {
  @ApiProperty() @IsString() @Length(3, 1000, { message: 'reason must have 3 to 1000 characters' })
  reason: string;
}

export class CampaignBlockDto extends ReasonDto {
  @ApiProperty() @IsUUID()
  workerId: string;
}

export class CreateQualificationDto {
  @ApiProperty({ example: 'medical-annotator', description: 'lower-case letters, digits, ".", "_", "-"; unique' })
  @IsString() @Matches(/^[a-z0-9][a-z0-9._-]{1,63}$/, { message: 'name must be 2-64 characters: lower-case letters, digits, ".", "_" or "-"' })
  name: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 2000)
  description?: string;
}

/** Who: an admin may give workerId; a requester gives a campaign of theirs and the pseudonym seen there. */
export class GrantDto {
  @ApiPropertyOptional({ description: 'admins only' }) @IsOptional() @IsUUID()
  workerId?: string;

  @ApiPropertyOptional() @IsOptional() @IsUUID()
  campaignId?: string;

  @ApiPropertyOptional({ example: 'W-1a2b3c4d5e' }) @IsOptional() @IsString() @Length(3, 40)
  pseudonym?: string;
}

export class SampleQueryDto {
  @ApiPropertyOptional({ enum: ['lowest-confidence', 'random'], default: 'lowest-confidence' })
  @IsOptional() @IsIn(['lowest-confidence', 'random'])
  order?: 'lowest-confidence' | 'random';

  @ApiPropertyOptional({ default: 20, maximum: 500 })
  @IsOptional() @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value)) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

export class WorkersQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional() @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}
