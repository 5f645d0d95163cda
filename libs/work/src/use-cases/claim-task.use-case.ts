import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { TaskType } from '@tally/campaigns';
import { isUniqueViolation } from '@tally/database';
import { requireId } from '../assignment-row';
import { QUALITY_HOOKS, QualityHooks } from '../quality-hooks';
import { sql } from '../sql';
import { WorkErrors } from '../work.errors';

export interface ClaimTaskInput {
  workerId: string;
  campaignId: string;
}

/** A model's pre-label shown to the worker (campaign setting modelLabels = 'suggest'). */
export interface ModelSuggestion {
  answer: unknown;
  model: string | null;
  confidence: number | null;
}

/**
 * What a worker needs to do the task. Never the gold answer; the model's pre-label only as a
 * `suggestion` when the campaign's modelLabels is 'suggest' (never in 'annotator' mode, where the
 * workers' answers must stay independent of the model's).
 */
export interface ClaimedTask {
  assignmentId: string;
  taskId: string;
  campaignId: string;
  payload: Record<string, unknown>;
  taskType: TaskType;
  labels: string[];
  instructions: string;
  leaseExpiresAt: Date;
  /** True when the worker already held a live claim on this campaign and got it back. */
  resumed: boolean;
  suggestion?: ModelSuggestion;
}

interface Context {
  owner_id: string;
  status: string;
  past_deadline: boolean;
  lease_seconds: number;
  task_type: TaskType;
  labels: string[];
  instructions: string;
  blocked: boolean;
  blocked_reason: string | null;
  last_id: string | null;
  last_task_id: string | null;
  last_live: boolean | null;
  last_lease: Date | null;
  last_seq: string | null;
  last_payload: Record<string, unknown> | null;
  refusal: string | null;
  gold_rate: number;
  /** quality_rules.goldRateProven (null: off). */
  gold_rate_proven: number | null;
  gold_max: number;
  test_size: number;
  model_labels: string;
}

/** The context, and the task the same statement claimed when it could (see contextAndClaim). */
interface ContextAndClaim extends Context {
  assignmentId: string | null;
  taskId: string | null;
  leaseExpiresAt: Date | null;
  claimedPayload: Record<string, unknown> | null;
  /** The statement already scanned after the hint (and found nothing it could lock). */
  scanned: boolean;
}

/** Campaign, caller and the caller's latest assignment in this campaign ($1 campaign, $2 worker). */
const CONTEXT_SQL = `SELECT c.owner_id, c.status, (c.deadline IS NOT NULL AND c.deadline <= now()) AS past_deadline,
              c.lease_seconds, c.task_type, c.labels, c.instructions,
              (u.blocked_at IS NOT NULL) AS blocked, u.blocked_reason,
              la.id AS last_id, la.task_id AS last_task_id, la.lease_expires_at AS last_lease,
              (la.status = 'claimed' AND la.lease_expires_at > now()) AS last_live,
              lt.seq AS last_seq, lt.payload AS last_payload,
              tally_claim_refusal(c.id, $2) AS refusal, c.gold_rate, (c.quality_rules->>'goldRateProven')::float8 AS gold_rate_proven,
              coalesce((c.quality_rules->>'goldMaxExposures')::int, c.redundancy_max) AS gold_max,
              coalesce((c.qualification->>'qualificationTestSize')::int, 0) AS test_size, c.model_labels
         FROM campaigns c
         LEFT JOIN users u ON u.id = $2
         LEFT JOIN LATERAL (
           SELECT a.id, a.task_id, a.status, a.lease_expires_at FROM assignments a
            WHERE a.worker_id = $2 AND a.campaign_id = c.id
            ORDER BY a.created_at DESC LIMIT 1) la ON true
         LEFT JOIN tasks lt ON lt.id = la.task_id
        WHERE c.id = $1`;

/**
 * Claims the next task of a campaign for a worker; the server chooses.
 *
 * Why it is fast (see STACK-NOTES "the database's own ceiling"): the obvious query scans the
 * campaign's open tasks from the first one and tests "not already done by me" on each, so as a
 * worker progresses every claim re-walks everything they already did, and every claimer fights
 * over the same first rows. Here:
 *  1. One read gets the campaign, the caller's block status and their latest assignment in this
 *     campaign. A live claim is handed back (idempotent claim: a retried or double-clicked claim
 *     never takes a second slot).
 *  2. The scan starts after the `seq` of that latest assignment: tasks are handed out in seq
 *     order, so what lies before it is mostly done by this worker or full. Only when nothing is
 *     left after it does a second scan start from the beginning (slots freed by expiry, returns,
 *     rejections) — so the hint speeds things up but never hides a task.
 *  3. Pick + increment + insert is ONE statement (CTEs), so it is one round trip and its own
 *     transaction: `FOR UPDATE SKIP LOCKED` lets concurrent claimers pass each other, the
 *     conditional `taken < needed` (rechecked under the row lock, backed by a CHECK constraint)
 *     forbids over-assignment, and UNIQUE(task_id, worker_id) forbids a duplicate.
 *  4. In the common case (every check passes, no live claim to hand back, no gold or
 *     qualification test in the campaign) 1 and 3 are the SAME statement (contextAndClaim): one
 *     round trip per claim. Anything else (an error to report, a resumed claim, gold, nothing left
 *     after the hint, a parallel claim of the same task) continues exactly as the two-step path.
 */
@Injectable()
export class ClaimTaskUseCase {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Optional() @Inject(QUALITY_HOOKS) private readonly quality?: QualityHooks,
  ) {}

  async execute(input: ClaimTaskInput): Promise<ClaimedTask> {
    let modelLabels = 'off';
    const claimed = await this.claimNext(input, (m) => (modelLabels = m));
    return modelLabels === 'suggest' ? { ...claimed, ...(await this.suggestion(claimed.taskId)) } : claimed;
  }

  /** The task's pre-label as a suggestion; nothing when it has none. */
  private async suggestion(taskId: string): Promise<{ suggestion?: ModelSuggestion }> {
    const { rows } = await sql<{ prelabel: unknown; prelabel_model: string | null; prelabel_confidence: number | null }>(
      this.ds.manager,
      `SELECT prelabel, prelabel_model, prelabel_confidence FROM tasks WHERE id = $1`,
      [taskId],
    );
    const r = rows[0];
    if (!r || r.prelabel === null || r.prelabel === undefined) return {};
    return { suggestion: { answer: r.prelabel, model: r.prelabel_model, confidence: r.prelabel_confidence } };
  }

  private async claimNext(input: ClaimTaskInput, campaignModelLabels: (mode: string) => void): Promise<ClaimedTask> {
    const workerId = requireId(input.workerId, 'workerId');
    const campaignId = requireId(input.campaignId, 'campaignId');
    const ctx = await this.contextAndClaim(workerId, campaignId);
    if (!ctx) throw WorkErrors.campaignNotFound();
    if (ctx.blocked) throw WorkErrors.workerBlocked(ctx.blocked_reason);
    if (ctx.owner_id === workerId) throw WorkErrors.ownCampaign();
    if (ctx.status !== 'published') throw WorkErrors.campaignNotOpen(ctx.status);
    if (ctx.past_deadline) throw WorkErrors.campaignNotOpen(ctx.status, 'The campaign is past its deadline');
    if (ctx.refusal) throw WorkErrors.notQualified(ctx.refusal);
    campaignModelLabels(ctx.model_labels);

    const base = { campaignId, taskType: ctx.task_type, labels: ctx.labels, instructions: ctx.instructions };
    if (ctx.last_live && ctx.last_id) {
      return { ...base, assignmentId: ctx.last_id, taskId: ctx.last_task_id!, payload: ctx.last_payload!, leaseExpiresAt: ctx.last_lease!, resumed: true };
    }
    if (ctx.assignmentId) {
      // Claimed by the context statement itself (only when every check above passed).
      return { ...base, assignmentId: ctx.assignmentId, taskId: ctx.taskId!, payload: ctx.claimedPayload!, leaseExpiresAt: ctx.leaseExpiresAt!, resumed: false };
    }

    // Hidden gold: a qualification test hands out only gold; otherwise a gold item replaces the
    // next real task with probability gold_rate (same response, same endpoints, uuid ids).
    // (Only campaigns with a qualification test need the hook's extra round trip.)
    const gate = this.quality && ctx.test_size > 0 ? await this.quality.beforeClaim(workerId, campaignId) : { goldOnly: false };
    if (gate.goldOnly) {
      const gold = await this.claimGold(workerId, campaignId, ctx.lease_seconds, ctx.gold_max);
      if (!gold) throw WorkErrors.noTestItems();
      return { ...base, ...gold, resumed: false };
    }
    // Gold only while real work is left for this worker: never gold for its own sake (it is paid).
    // Adaptive gold: of the claims drawn for gold, a worker proven on gold keeps only the share
    // goldRateProven / gold_rate (so their rate is goldRateProven); asked only on such a draw.
    if (this.quality && ctx.gold_rate > 0 && Math.random() < ctx.gold_rate && (await this.anyCandidate(workerId, campaignId))) {
      const lower = ctx.gold_rate_proven !== null && ctx.gold_rate_proven < ctx.gold_rate;
      const skip = lower && Math.random() >= ctx.gold_rate_proven! / ctx.gold_rate && (await this.quality.provenOnGold(workerId, campaignId));
      const gold = skip ? null : await this.claimGold(workerId, campaignId, ctx.lease_seconds, ctx.gold_max);
      if (gold) return { ...base, ...gold, resumed: false };
    }

    const hint = ctx.last_seq ?? '0';
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        // (The context statement's own scan after the hint just found nothing: not again at once.)
        const claimed =
          (attempt === 0 && ctx.scanned ? null : await this.claimAfter(workerId, campaignId, hint, ctx.lease_seconds)) ??
          (hint !== '0' ? await this.claimAfter(workerId, campaignId, '0', ctx.lease_seconds) : null);
        if (claimed) return { ...base, ...claimed, resumed: false };
        // SKIP LOCKED passes over tasks other claimers hold this instant; when those were the
        // only candidates, look again (without locking) before telling the worker nothing is left.
        if (!(await this.anyCandidate(workerId, campaignId))) break;
      } catch (err) {
        // This worker claimed the same task in a parallel request: try again.
        if (!isUniqueViolation(err, 'uq_assignments_task_worker')) throw err;
      }
    }
    throw WorkErrors.noTaskAvailable();
  }

  private async anyCandidate(workerId: string, campaignId: string): Promise<boolean> {
    const { rows } = await sql(
      this.ds.manager,
      `SELECT 1 FROM tasks t
        WHERE t.campaign_id = $1 AND t.status = 'open' AND t.taken < t.needed
          AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.worker_id = $2)
        LIMIT 1`,
      [campaignId, workerId],
    );
    return rows.length > 0;
  }

  /** Campaign, caller and the caller's latest assignment in this campaign (CONTEXT_SQL), in one round trip. */
  private async context(workerId: string, campaignId: string): Promise<ContextAndClaim | undefined> {
    const { rows } = await sql<Context>(this.ds.manager, CONTEXT_SQL, [campaignId, workerId], 'claim_context');
    return rows[0] && { ...rows[0], assignmentId: null, taskId: null, leaseExpiresAt: null, claimedPayload: null, scanned: false };
  }

  /**
   * The context (CONTEXT_SQL) and, in the same statement, the claim of the next task after the
   * hint — only when the claim could not be refused, resumed or replaced by gold: the worker is
   * not blocked, not the owner, qualified, holds no live claim, and the campaign is published,
   * before its deadline, with neither gold nor a qualification test. The claim itself is exactly
   * claimAfter's (same CTEs, locks, conditions and asynchronous commit). A unique violation (this
   * worker claimed the same task in a parallel request) falls back to the plain context read.
   */
  private async contextAndClaim(workerId: string, campaignId: string): Promise<ContextAndClaim | undefined> {
    try {
      const { rows } = await sql<ContextAndClaim & { _async?: string }>(
        this.ds.manager,
        `WITH ctx AS (${CONTEXT_SQL}
       ), go AS (
         SELECT coalesce(ctx.last_seq, 0) AS after_seq, ctx.lease_seconds FROM ctx
          WHERE NOT ctx.blocked AND ctx.owner_id <> $2 AND ctx.status = 'published' AND NOT ctx.past_deadline
            AND ctx.refusal IS NULL AND ctx.last_live IS NOT TRUE AND NOT (ctx.gold_rate > 0) AND NOT (ctx.test_size > 0)
       ), pick AS (
         -- (the hint as a scalar: an index condition, evaluated once; NULL, so no rows, when go is empty)
         SELECT t.id FROM tasks t
          WHERE t.campaign_id = $1 AND t.status = 'open' AND t.seq > (SELECT go.after_seq FROM go) AND t.taken < t.needed
            AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.worker_id = $2)
          ORDER BY t.seq
          LIMIT 1
          FOR UPDATE OF t SKIP LOCKED
       ), bump AS (
         UPDATE tasks t SET taken = t.taken + 1
           FROM pick
          WHERE t.id = pick.id AND t.taken < t.needed AND t.status = 'open'
            AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.status = 'published')
          RETURNING t.id, t.payload
       ), ins AS (
         INSERT INTO assignments (task_id, campaign_id, worker_id, lease_expires_at)
         SELECT bump.id, $1, $2, now() + make_interval(secs => (SELECT go.lease_seconds FROM go)) FROM bump
         RETURNING id, task_id, lease_expires_at
       )
       SELECT ctx.*, ins.id AS "assignmentId", ins.task_id AS "taskId", ins.lease_expires_at AS "leaseExpiresAt", bump.payload AS "claimedPayload",
              EXISTS (SELECT 1 FROM go) AS scanned,
              -- asynchronous commit, as in claimAfter (a claim is a lease; nothing else is written here)
              set_config('synchronous_commit', 'off', true) AS _async
         FROM ctx LEFT JOIN ins ON true LEFT JOIN bump ON bump.id = ins.task_id`,
        [campaignId, workerId],
        'claim_context_next',
      );
      if (!rows[0]) return undefined;
      const { _async, ...row } = rows[0];
      return row;
    } catch (err) {
      if (!isUniqueViolation(err, 'uq_assignments_task_worker')) throw err;
      return this.context(workerId, campaignId);
    }
  }

  /**
   * Claims a random gold item this worker has not seen and that is under its exposure limit
   * (retired after `goldMaxExposures` claims). `taken` moves as for a real task, so lease expiry,
   * return and rejection release it the same way; `needed` follows it (it means nothing for gold).
   */
  private async claimGold(workerId: string, campaignId: string, leaseSeconds: number, maxExposures: number) {
    const { rows } = await sql<{ assignmentId: string; taskId: string; leaseExpiresAt: Date; payload: Record<string, unknown> }>(
      this.ds.manager,
      `WITH pick AS (
         SELECT t.id FROM tasks t
          WHERE t.campaign_id = $1 AND t.status = 'gold' AND t.exposures < $4
            AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.worker_id = $2)
          ORDER BY random()
          LIMIT 1
          FOR UPDATE SKIP LOCKED
       ), bump AS (
         UPDATE tasks t SET taken = t.taken + 1, needed = greatest(t.needed, t.taken + 1), exposures = t.exposures + 1
           FROM pick
          WHERE t.id = pick.id AND t.exposures < $4
            AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.status = 'published')
          RETURNING t.id, t.payload
       ), ins AS (
         INSERT INTO assignments (task_id, campaign_id, worker_id, lease_expires_at)
         SELECT bump.id, $1, $2, now() + make_interval(secs => $3) FROM bump
         RETURNING id, task_id, lease_expires_at
       )
       SELECT ins.id AS "assignmentId", ins.task_id AS "taskId", ins.lease_expires_at AS "leaseExpiresAt", bump.payload
         FROM ins JOIN bump ON bump.id = ins.task_id`,
      [campaignId, workerId, leaseSeconds, maxExposures],
    );
    return rows[0] ?? null;
  }

  /** The one-statement claim over tasks with seq > `afterSeq`; null when none is claimable there. */
  private async claimAfter(workerId: string, campaignId: string, afterSeq: string, leaseSeconds: number) {
    const { rows } = await sql<{ assignmentId: string; taskId: string; leaseExpiresAt: Date; payload: Record<string, unknown>; _async?: string }>(
      this.ds.manager,
      `WITH pick AS (
         SELECT t.id FROM tasks t
          WHERE t.campaign_id = $1 AND t.status = 'open' AND t.seq > $3 AND t.taken < t.needed
            AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.worker_id = $2)
          ORDER BY t.seq
          LIMIT 1
          FOR UPDATE SKIP LOCKED
       ), bump AS (
         UPDATE tasks t SET taken = t.taken + 1
           FROM pick
          WHERE t.id = pick.id AND t.taken < t.needed AND t.status = 'open'
            -- a pause or cancel committed before this statement began wins
            AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.status = 'published')
          RETURNING t.id, t.payload
       ), ins AS (
         INSERT INTO assignments (task_id, campaign_id, worker_id, lease_expires_at)
         SELECT bump.id, $1, $2, now() + make_interval(secs => $4) FROM bump
         RETURNING id, task_id, lease_expires_at
       )
       SELECT ins.id AS "assignmentId", ins.task_id AS "taskId", ins.lease_expires_at AS "leaseExpiresAt", bump.payload,
              -- Asynchronous commit for this statement's transaction only: a claim is a lease, not a
              -- promise, so it need not wait for the WAL flush (the slowest part of a claim on a
              -- disk with slow fsync). Were PostgreSQL itself to crash in the next ~0.6 s, the claim
              -- would vanish atomically (slot and assignment together) and the worker would claim
              -- again; submits, approvals and money keep synchronous commits.
              set_config('synchronous_commit', 'off', true) AS _async
         FROM ins JOIN bump ON bump.id = ins.task_id`,
      [campaignId, workerId, afterSeq, leaseSeconds],
      'claim_after',
    );
    if (!rows[0]) return null;
    const { _async, ...claimed } = rows[0];
    return claimed;
  }
}
