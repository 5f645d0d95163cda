import { invalidField } from '@tally/common';

export type RuleAction = 'flag' | 'block' | 'off';

/**
 * A campaign's automatic quality rules (campaigns.quality_rules), each with a documented default.
 * Every action a rule takes is written to the rule log with its reason.
 */
export interface QualityRules {
  /** Dynamic overlap: after each answer decide complete / one more / low-confidence (default false: fixed redundancyMin). */
  dynamicOverlap: boolean;
  /** Claims after which a gold item retires (default: the campaign's redundancyMax, which is what publish reserved for it). */
  goldMaxExposures: number | null;
  /** Gold answers a worker must have before the pass-mark rule judges them (default 5). */
  minGoldAnswers: number;
  /** Gold accuracy under the campaign's pass mark after minGoldAnswers → this (default block). */
  goldAction: RuleAction;
  /**
   * Adaptive gold (default null: off, every worker sees gold at the campaign's gold rate): the
   * gold rate for a worker proven on gold in this campaign — at least minGoldAnswers gold answers
   * and the Wilson 95% lower bound of their gold accuracy at or above the pass mark (see
   * `provenOnGold`). Gold is paid work that labels nothing, so a worker already shown to be good
   * gets fewer checks; a rate above 0 keeps checking for drift, and a failed gold can take the
   * worker back under the bound, to the full rate. Only lowers the rate (a value above the
   * campaign's gold rate changes nothing).
   */
  goldRateProven: number | null;
  /**
   * What "under the pass mark" means: `rate` (default) the observed share of right gold answers;
   * `upper-bound` the Wilson 99% upper bound — only workers who are under it beyond reasonable
   * doubt, so an honest worker's bad streak is not punished (slower to catch a spammer).
   */
  goldStatistic: 'rate' | 'upper-bound';
  /** An answer is "fast" when it took less than this share of the campaign's median time (default 0.25). */
  fastFactor: number;
  /** Fast answers before the fast-answer rule acts (default 3). */
  fastMinCount: number;
  /** Answers the campaign must have before its median time means anything (default 20). */
  fastMinSample: number;
  /** What the fast-answer rule does (default flag). */
  fastAction: RuleAction;
  /**
   * Review policy (default manual: the requester reviews, the rest is auto-approved after the
   * delay). `consensus`: when a task completes, answers that agree with its consensus (IoU ≥ 0.5
   * for boxes) are approved (and paid) at once; disagreeing answers and every answer of a
   * low-confidence task are left to the requester (no auto-approval); failed gold is rejected.
   */
  reviewPolicy: 'manual' | 'consensus';
  /** Tasks a worker may take from the campaign in 24 hours (default null: no cap). */
  dailyCap: number | null;
  /** Flag a pair whose agreement exceeds what their skills explain by more than this (default 0.3). */
  collusionMargin: number;
  /** Shared tasks a pair needs before the collusion check looks at it (default 8). */
  collusionMinShared: number;
  /**
   * Single-label campaigns: after the campaign-wide Dawid-Skene job, a worker whose estimated
   * accuracy is under the pass mark beyond reasonable doubt (the Wilson 99% upper bound, counting
   * their answers as the sample) after skillMinAnswers answers → this (default off). It judges
   * every answer, not only gold (which is a fraction of them), so it catches random answerers and
   * copying rings sooner; gold clamps the estimate so a majority of spammers cannot pass as right.
   */
  skillAction: RuleAction;
  /** Answers (real and gold) a worker needs before the Dawid-Skene accuracy rule judges them (default 20). */
  skillMinAnswers: number;
}

export const DEFAULT_RULES: QualityRules = {
  dynamicOverlap: false,
  goldMaxExposures: null,
  minGoldAnswers: 5,
  goldAction: 'block',
  goldRateProven: null,
  goldStatistic: 'rate',
  fastFactor: 0.25,
  fastMinCount: 3,
  fastMinSample: 20,
  fastAction: 'flag',
  reviewPolicy: 'manual',
  dailyCap: null,
  collusionMargin: 0.3,
  collusionMinShared: 8,
  skillAction: 'off',
  skillMinAnswers: 20,
};

const ACTIONS: RuleAction[] = ['flag', 'block', 'off'];

/** The stored rules with defaults filled in. */
export function rulesOf(stored: Partial<QualityRules> | null | undefined): QualityRules {
  return { ...DEFAULT_RULES, ...(stored ?? {}) };
}

/** Checks a patch field by field (400 naming the field) and returns the merged rules. */
export function mergeRules(current: Partial<QualityRules> | null | undefined, patch: Record<string, unknown>): QualityRules {
  const out: Record<string, unknown> = { ...rulesOf(current) };
  const int = (k: string, min: number, max: number, nullable = false) => {
    const v = patch[k];
    if (v === undefined) return;
    if (v === null && nullable) return void (out[k] = null);
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw invalidField(k, `must be an integer from ${min} to ${max}${nullable ? ' or null' : ''}`);
    out[k] = v;
  };
  const frac = (k: string) => {
    const v = patch[k];
    if (v === undefined) return;
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw invalidField(k, 'must be a number in (0, 1]');
    out[k] = v;
  };
  const action = (k: string) => {
    const v = patch[k];
    if (v === undefined) return;
    if (!ACTIONS.includes(v as RuleAction)) throw invalidField(k, `must be one of ${ACTIONS.join(', ')}`);
    out[k] = v;
  };
  for (const k of Object.keys(patch)) if (!(k in DEFAULT_RULES)) throw invalidField(k, 'is not a quality rule');
  if (patch.dynamicOverlap !== undefined) {
    if (typeof patch.dynamicOverlap !== 'boolean') throw invalidField('dynamicOverlap', 'must be a boolean');
    out.dynamicOverlap = patch.dynamicOverlap;
  }
  int('goldMaxExposures', 1, 1_000_000, true);
  if (patch.goldRateProven !== undefined) {
    const v = patch.goldRateProven;
    if (v !== null && (typeof v !== 'number' || !(v >= 0 && v <= 1))) throw invalidField('goldRateProven', 'must be a number from 0 to 1, or null');
    out.goldRateProven = v;
  }
  int('minGoldAnswers', 1, 1000);
  action('goldAction');
  frac('fastFactor');
  int('fastMinCount', 1, 1000);
  int('fastMinSample', 2, 100_000);
  action('fastAction');
  int('dailyCap', 1, 1_000_000, true);
  if (patch.goldStatistic !== undefined) {
    if (patch.goldStatistic !== 'rate' && patch.goldStatistic !== 'upper-bound') throw invalidField('goldStatistic', 'must be rate or upper-bound');
    out.goldStatistic = patch.goldStatistic;
  }
  if (patch.reviewPolicy !== undefined) {
    if (patch.reviewPolicy !== 'manual' && patch.reviewPolicy !== 'consensus') throw invalidField('reviewPolicy', 'must be manual or consensus');
    out.reviewPolicy = patch.reviewPolicy;
  }
  frac('collusionMargin');
  int('collusionMinShared', 2, 100_000);
  action('skillAction');
  int('skillMinAnswers', 5, 100_000);
  return out as unknown as QualityRules;
}
