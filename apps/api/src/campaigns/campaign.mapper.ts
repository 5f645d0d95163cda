import type { Request } from 'express';
import { settingsOf } from '@tally/campaigns';
import type { Principal } from '@tally/auth';
import type {
  CampaignEntity,
  CampaignPatch,
  CampaignProgress,
  CampaignWithOwner,
  ImportItemsInput,
  ImportReport,
  ItemImportEntity,
  NewCampaignInput,
  QualificationRequirements,
  TaskEntity,
} from '@tally/campaigns';
import { MAX_REPORTED_ERRORS } from '@tally/campaigns';
import type { CampaignListQuery, CreateCampaignDto, ImportQuery, QualificationDto, UpdateCampaignDto } from './campaign.dto';
import type {
  AdminCampaignDetailDto,
  AdminCampaignDto,
  CampaignDto,
  CampaignProgressDto,
  ImportReportDto,
  TaskDto,
} from './campaign-response.dto';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
/** PATCH may send null for a field: only `deadline` means "remove"; for the rest null is "unchanged". */
const given = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

function toQualification(q: QualificationDto): QualificationRequirements {
  return {
    minReliability: q.minReliability,
    minApprovedCount: q.minApprovedCount,
    minApprovalRate: q.minApprovalRate,
    qualificationTestSize: q.qualificationTestSize,
    qualificationRetryDelaySeconds: q.qualificationRetryDelaySeconds,
    requiredQualifications: q.requiredQualifications,
  };
}

export function toCampaignPatch(dto: UpdateCampaignDto): CampaignPatch {
  return {
    name: given(dto.name),
    taskType: given(dto.taskType),
    labels: given(dto.labels),
    instructions: given(dto.instructions),
    rewardMinor: given(dto.rewardMinor),
    currency: given(dto.currency),
    redundancyMin: given(dto.redundancyMin),
    redundancyMax: given(dto.redundancyMax),
    confidenceTarget: given(dto.confidenceTarget),
    leaseSeconds: given(dto.leaseSeconds),
    deadline: dto.deadline === null ? null : dto.deadline === undefined ? undefined : new Date(dto.deadline),
    autoApproveSeconds: given(dto.autoApproveSeconds),
    maxTextLength: given(dto.maxTextLength),
    goldRate: given(dto.goldRate),
    goldPassMark: given(dto.goldPassMark),
    qualification: dto.qualification ? toQualification(dto.qualification) : undefined,
    aggregationMethod: given(dto.aggregationMethod),
    modelLabels: given(dto.modelLabels),
  };
}

export function toNewCampaign(dto: CreateCampaignDto): NewCampaignInput {
  return { ...toCampaignPatch(dto), name: dto.name, taskType: dto.taskType, rewardMinor: dto.rewardMinor, currency: dto.currency };
}

export function toCampaignDto(c: CampaignEntity): CampaignDto {
  return {
    id: c.id,
    ownerId: c.ownerId,
    ...settingsOf(c),
    deadline: iso(c.deadline),
    status: c.status,
    publishedAt: iso(c.publishedAt),
    completedAt: iso(c.completedAt),
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export function toAdminCampaignDto({ campaign, ownerEmail }: CampaignWithOwner): AdminCampaignDto {
  return { ...toCampaignDto(campaign), ownerEmail };
}

export function toAdminCampaignDetailDto(c: CampaignWithOwner, progress: CampaignProgress): AdminCampaignDetailDto {
  return { ...toAdminCampaignDto(c), progress: toProgressDto(progress) };
}

export function toProgressDto(p: CampaignProgress): CampaignProgressDto {
  return { ...p };
}

export function toTaskDto(t: TaskEntity): TaskDto {
  return {
    id: t.id,
    seq: Number(t.seq),
    payload: t.payload,
    gold: t.gold ?? null,
    prelabel: t.prelabel ?? null,
    prelabelModel: t.prelabelModel ?? null,
    prelabelConfidence: t.prelabelConfidence ?? null,
    needed: t.needed,
    taken: t.taken,
    answersCount: t.answersCount,
    status: t.status,
    consensus: t.consensus ?? null,
    completedAt: iso(t.completedAt),
    createdAt: t.createdAt.toISOString(),
  };
}

export function toImportReportDto(r: ImportReport): ImportReportDto {
  return {
    importId: r.importId,
    format: r.format,
    rows: r.rows,
    inserted: r.inserted,
    duplicates: r.duplicates,
    rejected: r.rejected,
    errors: r.errors,
    errorsTruncated: r.errorsTruncated,
    durationMs: r.durationMs,
    rowsPerSecond: r.rowsPerSecond,
  };
}

export function toStoredImportDto(i: ItemImportEntity): ImportReportDto {
  return {
    importId: i.id,
    format: i.format,
    rows: i.rows,
    inserted: i.inserted,
    duplicates: i.duplicates,
    rejected: i.rejected,
    errors: i.errors,
    // Only the capped list is stored; a full list means there may have been more.
    errorsTruncated: i.errors.length >= MAX_REPORTED_ERRORS,
    durationMs: i.durationMs,
    rowsPerSecond: Math.round((i.rows * 1000) / Math.max(1, i.durationMs)),
    createdAt: i.createdAt.toISOString(),
  };
}

export function toImportInput(me: Principal, campaignId: string, q: ImportQuery, req: Request): ImportItemsInput {
  const length = req.headers['content-length'];
  return {
    ownerId: me.id,
    campaignId,
    contentType: req.headers['content-type'],
    format: q.format,
    strict: q.strict ?? false,
    body: req,
    contentLength: length !== undefined ? Number(length) : undefined,
  };
}

export function toListFilter(q: CampaignListQuery) {
  return { status: q.status, limit: q.limit, offset: q.offset };
}
