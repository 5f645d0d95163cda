import type { CampaignEntity, CampaignStatus, QualificationRequirements, TaskType } from './entities/campaign.entity';
import { CampaignErrors } from './campaigns.errors';
import { needsLabels } from './task-types';

/** Methods the consensus library knows (the `tally aggregate --method` names). */
export const AGGREGATION_METHODS = ['mv', 'wmv', 'ds', 'one-coin-ds', 'glad', 'mace', 'wawa', 'bayes-ds', 'auto'] as const;
export type AggregationMethod = (typeof AGGREGATION_METHODS)[number];

/**
 * What a campaign does with items' model pre-labels: `off` keeps them unused; `suggest` shows
 * them to the worker in the claim; `annotator` counts the model as one more annotator in the
 * task's consensus (its confusion matrix learnt by Dawid-Skene) — never paid, never a human answer.
 */
export const MODEL_LABEL_MODES = ['off', 'suggest', 'annotator'] as const;
export type ModelLabelMode = (typeof MODEL_LABEL_MODES)[number];

export const LIMITS = {
  redundancy: { min: 1, max: 50 },
  leaseSeconds: { min: 30, max: 86_400 },
  autoApproveSeconds: { min: 0, max: 30 * 86_400 },
  maxTextLength: { min: 1, max: 100_000 },
  labels: { max: 500, length: 100 },
} as const;

/** Everything a requester sets on a campaign; the use-case input for create and (merged) for edit. */
export interface CampaignSettings {
  name: string;
  taskType: TaskType;
  labels: string[];
  instructions: string;
  rewardMinor: number;
  currency: string;
  redundancyMin: number;
  redundancyMax: number;
  confidenceTarget: number;
  leaseSeconds: number;
  deadline: Date | null;
  autoApproveSeconds: number;
  maxTextLength: number;
  goldRate: number;
  goldPassMark: number;
  qualification: QualificationRequirements;
  aggregationMethod: AggregationMethod;
  modelLabels: ModelLabelMode;
}

export type NewCampaignInput = Pick<CampaignSettings, 'name' | 'taskType' | 'rewardMinor' | 'currency'> & Partial<CampaignSettings>;
export type CampaignPatch = Partial<CampaignSettings>;

/** Defaults for what a requester leaves out. */
export function withDefaults(input: NewCampaignInput): CampaignSettings {
  const redundancyMin = input.redundancyMin ?? 3;
  return {
    labels: [],
    instructions: '',
    redundancyMin,
    redundancyMax: input.redundancyMax ?? Math.max(redundancyMin, 5),
    confidenceTarget: 0.95,
    leaseSeconds: 600,
    deadline: null,
    autoApproveSeconds: 3 * 86_400,
    maxTextLength: 2000,
    goldRate: 0,
    goldPassMark: 0.8,
    qualification: {},
    aggregationMethod: 'mv',
    modelLabels: 'off',
    ...stripUndefined(input),
  } as CampaignSettings;
}

/** The settings a stored campaign has now (the base an edit is merged onto). */
export function settingsOf(c: CampaignEntity): CampaignSettings {
  return {
    name: c.name,
    taskType: c.taskType,
    labels: c.labels,
    instructions: c.instructions,
    rewardMinor: c.rewardMinor,
    currency: c.currency,
    redundancyMin: c.redundancyMin,
    redundancyMax: c.redundancyMax,
    confidenceTarget: c.confidenceTarget,
    leaseSeconds: c.leaseSeconds,
    deadline: c.deadline,
    autoApproveSeconds: c.autoApproveSeconds,
    maxTextLength: c.maxTextLength,
    goldRate: c.goldRate,
    goldPassMark: c.goldPassMark,
    qualification: c.qualification,
    aggregationMethod: c.aggregationMethod as AggregationMethod,
    modelLabels: c.modelLabels,
  };
}

/**
 * Cross-field rules. The request DTOs check each field on its own; these run on the merged
 * settings, because an edit may change one side of a pair (redundancyMax below the stored min).
 */
export function checkSettings(s: CampaignSettings, now: Date): void {
  const fail = CampaignErrors.invalid;
  if (!needsLabels(s.taskType) && s.labels.length) throw fail('labels', 'a text campaign has no label set');
  if (needsLabels(s.taskType) && !s.labels.length) throw fail('labels', `is required for a ${s.taskType} campaign (the label set, box classes or entity types)`);
  if (new Set(s.labels).size !== s.labels.length) throw fail('labels', 'must be distinct');
  if (s.redundancyMin > s.redundancyMax) throw fail('redundancyMax', `must be at least redundancyMin (${s.redundancyMin})`);
  if (s.deadline && s.deadline.getTime() <= now.getTime()) throw fail('deadline', 'must be in the future');
}

/** Lifecycle: which statuses each action may start from. Completion is set by the work side. */
export const TRANSITIONS = {
  publish: { from: ['draft'], to: 'published' },
  pause: { from: ['published'], to: 'paused' },
  resume: { from: ['paused'], to: 'published' },
  cancel: { from: ['draft', 'published', 'paused'], to: 'cancelled' },
} as const satisfies Record<string, { from: readonly CampaignStatus[]; to: CampaignStatus }>;
export type CampaignAction = keyof typeof TRANSITIONS;

/** Items may be added while a campaign can still be worked; never to a finished one. */
export const IMPORTABLE_STATUSES: readonly CampaignStatus[] = ['draft', 'published', 'paused'];

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
