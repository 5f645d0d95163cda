/**
 * Where quality control (libs/quality) plugs into the claim and submit paths without libs/work
 * depending on it: QualityModule provides QUALITY_HOOKS globally; without it (a bare WorkModule)
 * claims get no gold and submits are not graded.
 */
export const QUALITY_HOOKS = Symbol('QUALITY_HOOKS');

export interface ClaimGate {
  /** Only gold (control) items may be handed out: the worker is taking the qualification test. */
  goldOnly: boolean;
}

export interface QualityHooks {
  /** Before a new task is chosen (not for a resumed claim). May throw a DomainError (403). */
  beforeClaim(workerId: string, campaignId: string): Promise<ClaimGate>;
  /**
   * Adaptive gold: whether the worker has proven themselves on this campaign's gold (the claim
   * then uses the campaign's `goldRateProven` instead of its gold rate). Asked only when a claim
   * was about to hand out gold and the campaign has that rule.
   */
  provenOnGold(workerId: string, campaignId: string): Promise<boolean>;
  /**
   * After an answer was stored: grade gold, update the qualification test, run the campaign's rules.
   * `stored`: what the submit already read and wrote (saves the hook reading it back); without it
   * the hook reads the assignment itself.
   */
  afterSubmit(assignmentId: string, stored?: StoredAnswer): Promise<void>;
}

/** A just-stored answer with its task and campaign, as the quality check reads it (column names). */
export interface StoredAnswer {
  assignment_id: string;
  task_id: string;
  campaign_id: string;
  worker_id: string;
  /** After this submit: 'gold', 'complete' when this answer completed the task (or it already was), else 'open'. */
  task_status: string;
  /** The gold answer (gold tasks only); never leaves the server. */
  gold: unknown;
  answer: unknown;
  task_type: string;
  gold_pass_mark: number;
  quality_rules: Record<string, unknown> | null;
  qualification: Record<string, unknown> | null;
  /** Milliseconds from claim to submit, as the database clock saw them. */
  elapsed_ms: number;
}
