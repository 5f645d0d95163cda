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
  /** After an answer was stored: grade gold, update the qualification test, run the campaign's rules. */
  afterSubmit(assignmentId: string): Promise<void>;
}
