import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AGGREGATION_METHODS, CAMPAIGN_STATUSES, IMPORT_FORMATS, TASK_TYPES } from '@tally/campaigns';
import { QualificationDto } from './campaign.dto';

export class CampaignDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) ownerId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: TASK_TYPES }) taskType: string;
  @ApiProperty({ type: [String] }) labels: string[];
  @ApiProperty() instructions: string;
  @ApiProperty({ description: 'integer minor units of currency' }) rewardMinor: number;
  @ApiProperty({ example: 'usd' }) currency: string;
  @ApiProperty() redundancyMin: number;
  @ApiProperty() redundancyMax: number;
  @ApiProperty() confidenceTarget: number;
  @ApiProperty() leaseSeconds: number;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) deadline: string | null;
  @ApiProperty() autoApproveSeconds: number;
  @ApiProperty() maxTextLength: number;
  @ApiProperty() goldRate: number;
  @ApiProperty() goldPassMark: number;
  @ApiProperty({ type: QualificationDto }) qualification: QualificationDto;
  @ApiProperty({ enum: AGGREGATION_METHODS }) aggregationMethod: string;
  @ApiProperty({ enum: ['off', 'suggest', 'annotator'], description: 'what model pre-labels are used for' }) modelLabels: string;
  @ApiProperty({ enum: CAMPAIGN_STATUSES }) status: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) publishedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) completedAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class CampaignPageDto {
  @ApiProperty({ type: [CampaignDto] }) items: CampaignDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class CampaignProgressDto {
  @ApiProperty() tasks: number;
  @ApiProperty() tasksComplete: number;
  @ApiProperty({ description: 'submitted + approved + rejected assignments' }) answersSubmitted: number;
  @ApiProperty() answersApproved: number;
  @ApiProperty() answersRejected: number;
  @ApiProperty({ description: 'claimed assignments whose lease has not run out' }) liveAssignments: number;
  @ApiProperty({ description: 'approved answers × reward, minor units' }) spendMinor: number;
  @ApiProperty() currency: string;
  @ApiProperty({ description: 'tasks complete, percent (one decimal)' }) percentComplete: number;
}

export class AdminCampaignDto extends CampaignDto {
  @ApiProperty() ownerEmail: string;
}

export class AdminCampaignPageDto {
  @ApiProperty({ type: [AdminCampaignDto] }) items: AdminCampaignDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class AdminCampaignDetailDto extends AdminCampaignDto {
  @ApiProperty({ type: CampaignProgressDto }) progress: CampaignProgressDto;
}

export class TaskDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'import order' }) seq: number;
  @ApiProperty({ type: Object, description: 'the item as workers see it' }) payload: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'same-origin link that serves payload.imageUrl through Tally (GET /api/images/...)' }) imageSrc?: string;
  @ApiPropertyOptional({ nullable: true, description: 'hidden gold answer (owner only)' }) gold: unknown;
  @ApiPropertyOptional({ nullable: true, description: 'model pre-label' }) prelabel: unknown;
  @ApiPropertyOptional({ nullable: true, description: 'the model that gave the pre-label' }) prelabelModel: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'the model\'s confidence in its pre-label (0..1)' }) prelabelConfidence: number | null;
  @ApiProperty({ description: 'answers the task needs now' }) needed: number;
  @ApiProperty({ description: 'live + submitted/approved assignments' }) taken: number;
  @ApiProperty() answersCount: number;
  @ApiProperty({ enum: ['open', 'complete'] }) status: string;
  @ApiPropertyOptional({ nullable: true, description: '{label, confidence, method, agreement, answers}' }) consensus: unknown;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) completedAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class TaskPageDto {
  @ApiProperty({ type: [TaskDto] }) items: TaskDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class ImportRowErrorDto {
  @ApiProperty({ description: 'line of the file where the row starts (CSV: the header is line 1)' }) line: number;
  @ApiPropertyOptional({ example: 'payload.text' }) field?: string;
  @ApiProperty() problem: string;
}

/**
 * The report of one import. Rule: good rows are imported and bad rows reported here by line, in
 * one transaction (all good rows or none); with ?strict=true any bad row rejects the whole file
 * (422 carrying this report as `report`, inserted 0). rows = inserted + duplicates + rejected.
 */
export class ImportReportDto {
  @ApiProperty({ format: 'uuid' }) importId: string;
  @ApiProperty({ enum: IMPORT_FORMATS }) format: string;
  @ApiProperty({ description: 'data rows read' }) rows: number;
  @ApiProperty() inserted: number;
  @ApiProperty({ description: 'exact duplicates (same payload) skipped, within the file or already in the campaign' }) duplicates: number;
  @ApiProperty({ description: 'bad rows, not imported' }) rejected: number;
  @ApiProperty({ type: [ImportRowErrorDto], description: 'at most 1000 problems' }) errors: ImportRowErrorDto[];
  @ApiProperty() errorsTruncated: boolean;
  @ApiProperty() durationMs: number;
  @ApiProperty() rowsPerSecond: number;
  @ApiPropertyOptional({ format: 'date-time' }) createdAt?: string;
}

export class ImportPageDto {
  @ApiProperty({ type: [ImportReportDto] }) items: ImportReportDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
