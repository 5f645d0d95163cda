import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '@tally/audit';
import type { QualificationRequirements, TaskConsensus, TaskType } from '@tally/campaigns';
import { inTransaction } from '@tally/database';
import { ModuleRef } from '@nestjs/core';
import { ClaimGate, completeTaskIfDone, QualityHooks, releaseRejectedSlot, StoredAnswer, WorkMoney, workSql as sql } from '@tally/work';
import { answersMatch, PROVEN_Z, RULE_Z, wilson } from './grading';
import { consensusAsAnswer } from './consensus-answer';
import { ReliabilityService } from './reliability.service';
import { recordWebhookEvent } from '@tally/webhooks';
import { QualityRules, rulesOf } from './rules';

/** Reason shown to a worker on a failed gold (never the expected answer). */
export const GOLD_FAILED_REASON = 'Judged wrong by a quality check';
export const DEFAULT_TEST_RETRY_SECONDS = 86_400;
const MEDIAN_TTL_MS = 30_000;

/** StoredAnswer (libs/work) with its JSON columns typed. */
interface SubmittedRow extends Omit<StoredAnswer, 'task_type' | 'quality_rules' | 'qualification'> {
  task_type: TaskType;
  quality_rules: Partial<QualityRules>;
  qualification: QualificationRequirements;
}

/**
 * The quality loop on the hot paths (QUALITY_HOOKS for libs/work) and the rule actions:
 * grading gold, the qualification test, the fast-answer and gold pass-mark rules, blocking a
 * worker from a campaign (their answers excluded, affected tasks reopened) and flags.
 * Every action a rule takes is written to quality_rule_log with its reason, and audited.
 */
@Injectable()
export class QualityControlService implements QualityHooks {
  private readonly logger = new Logger('Quality');
  private readonly medians = new Map<string, { n: number; median_ms: number | null; at: number; uses: number }>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly modules: ModuleRef,
  ) {}

  // ------------------------------------------------------------------ claim

  /** Starts (or restarts after the retry delay) the qualification test; while it runs, only gold is handed out. */
  async beforeClaim(workerId: string, campaignId: string): Promise<ClaimGate> {
    const { rows } = await sql<{ size: number | null; status: string | null; retry_due: boolean | null }>(
      this.ds.manager,
      `SELECT (c.qualification->>'qualificationTestSize')::int AS size, qt.status, (qt.retry_at <= now()) AS retry_due
         FROM campaigns c LEFT JOIN qualification_tests qt ON qt.campaign_id = c.id AND qt.worker_id = $2
        WHERE c.id = $1`,
      [campaignId, workerId],
    );
    const r = rows[0];
    if (!r || !r.size || r.size <= 0) return { goldOnly: false };
    if (r.status === 'passed') return { goldOnly: false };
    if (r.status === null) {
      await sql(this.ds.manager, `INSERT INTO qualification_tests (campaign_id, worker_id, status) VALUES ($1, $2, 'in_progress') ON CONFLICT DO NOTHING`, [
        campaignId,
        workerId,
      ]);
    } else if (r.status === 'failed' && r.retry_due) {
      await sql(
        this.ds.manager,
        `UPDATE qualification_tests SET status = 'in_progress', attempt = attempt + 1, answered = 0, correct = 0, retry_at = NULL, started_at = now()
          WHERE campaign_id = $1 AND worker_id = $2 AND status = 'failed'`,
        [campaignId, workerId],
      );
    }
    return { goldOnly: true };
  }

  /**
   * Proven on gold (adaptive gold, rule goldRateProven): at least minGoldAnswers graded gold
   * answers in this campaign and the Wilson 95% lower bound of their accuracy at or above the
   * campaign's pass mark — a good worker is very likely good, though not "beyond reasonable
   * doubt" (99%, what the blocking rules need): being wrong here only costs a few checks.
   */
  async provenOnGold(workerId: string, campaignId: string): Promise<boolean> {
    const { rows } = await sql<{ pass_mark: number; rules: Partial<QualityRules> | null }>(
      this.ds.manager,
      `SELECT gold_pass_mark AS pass_mark, quality_rules AS rules FROM campaigns WHERE id = $1`,
      [campaignId],
    );
    if (!rows[0]) return false;
    const { n, ok } = await this.goldRecord(campaignId, workerId);
    return n >= rulesOf(rows[0].rules).minGoldAnswers && wilson(ok, n, PROVEN_Z).low >= Number(rows[0].pass_mark);
  }

  /** A worker's graded gold answers in a campaign and how many were right. */
  private async goldRecord(campaignId: string, workerId: string): Promise<{ n: number; ok: number }> {
    const { rows } = await sql<{ n: number; ok: number }>(
      this.ds.manager,
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE gold_correct)::int AS ok FROM assignments
        WHERE campaign_id = $1 AND worker_id = $2 AND gold_correct IS NOT NULL`,
      [campaignId, workerId],
    );
    return rows[0];
  }

  // ------------------------------------------------------------------ submit

  /**
   * Never fails the submit that calls it (the answer is stored by then): a failure is logged and
   * the quality job grades any gold answer left ungraded (`gradePending`).
   */
  async afterSubmit(assignmentId: string, stored?: StoredAnswer): Promise<void> {
    try {
      await this.check(assignmentId, stored);
    } catch (err) {
      this.logger.error(`quality check of assignment ${assignmentId} failed: ${(err as Error).message}`, (err as Error).stack);
    }
  }

  /** Gold answers whose grading did not happen (a failure after the submit): grade them now. */
  async gradePending(batch = 200): Promise<number> {
    const { rows } = await sql<{ id: string }>(
      this.ds.manager,
      `SELECT a.id FROM assignments a JOIN tasks t ON t.id = a.task_id
        WHERE t.status = 'gold' AND a.status = 'submitted' AND a.gold_correct IS NULL AND a.submitted_at < now() - interval '1 minute'
        LIMIT ${batch}`,
    );
    for (const r of rows) await this.afterSubmit(r.id);
    return rows.length;
  }

  /** `stored`: the submit's own view of the answer it just stored (SubmitAnswerUseCase); else read here. */
  private async check(assignmentId: string, stored?: StoredAnswer): Promise<void> {
    const s = stored ? (stored as SubmittedRow) : await this.submitted(assignmentId);
    if (!s) return;
    const rules = rulesOf(s.quality_rules);
    if (s.task_status === 'gold') await this.gradeGold(s, rules);
    if (rules.fastAction !== 'off') await this.fastAnswerRule(s, rules);
    if (rules.reviewPolicy === 'consensus' && s.task_status === 'complete') await this.applyReviewPolicy(s.task_id);
  }

  private async submitted(assignmentId: string): Promise<SubmittedRow | undefined> {
    const { rows } = await sql<SubmittedRow>(
      this.ds.manager,
      `SELECT a.id AS assignment_id, a.task_id, a.campaign_id, a.worker_id, t.status AS task_status, t.gold, a.answer,
              c.task_type, c.gold_pass_mark, c.quality_rules, c.qualification,
              (extract(epoch FROM (a.submitted_at - a.claimed_at)) * 1000)::int AS elapsed_ms
         FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN campaigns c ON c.id = a.campaign_id
        WHERE a.id = $1 AND a.status = 'submitted'`,
      [assignmentId],
    );
    return rows[0];
  }

  /**
   * The `consensus` review policy on one completed task, in one transaction: answers agreeing
   * with the consensus are approved and paid (WorkMoney), the others — and all answers of a
   * low-confidence task — are left to the requester (auto-approval switched off). Audited with
   * the reason the worker sees. Only answers still pending (auto_approve_at set) are decided.
   */
  async applyReviewPolicy(taskId: string): Promise<{ approved: number; leftToRequester: number }> {
    return inTransaction(this.ds, async (em) => {
      const { rows } = await sql<{ id: string; worker_id: string; campaign_id: string; answer: unknown; consensus: TaskConsensus | null; low_confidence: boolean; task_type: TaskType }>(
        em,
        `SELECT a.id, a.worker_id, a.campaign_id, a.answer, t.consensus, t.low_confidence, c.task_type
           FROM tasks t JOIN assignments a ON a.task_id = t.id JOIN campaigns c ON c.id = t.campaign_id
          WHERE t.id = $1 AND t.status = 'complete' AND a.status = 'submitted' AND a.auto_approve_at IS NOT NULL AND a.excluded_at IS NULL
          ORDER BY a.id FOR UPDATE OF a`,
        [taskId],
      );
      const agree = rows.filter((r) => !r.low_confidence && answersMatch(r.task_type, r.answer, consensusAsAnswer(r.task_type, r.consensus)));
      const others = rows.filter((r) => !agree.includes(r));
      if (agree.length) {
        await sql(em, `UPDATE assignments SET status = 'approved', reviewed_at = now(), reviewed_by = NULL WHERE id = ANY($1::uuid[]) AND status = 'submitted'`, [agree.map((r) => r.id)]);
        await this.modules.get(WorkMoney, { strict: false }).payApprovals(em, agree.map((r) => ({ id: r.id, workerId: r.worker_id, campaignId: r.campaign_id })));
      }
      if (others.length) await sql(em, `UPDATE assignments SET auto_approve_at = NULL WHERE id = ANY($1::uuid[])`, [others.map((r) => r.id)]);
      for (const r of rows) {
        const approved = agree.includes(r);
        await this.audit.record(
          {
            actorId: null,
            action: approved ? 'assignment.auto_approved' : 'assignment.left_for_review',
            objectType: 'assignment',
            objectId: r.id,
            reason: approved ? 'agrees with the consensus' : r.low_confidence ? 'the task ended with low confidence' : 'disagrees with the consensus',
            data: { taskId, campaignId: r.campaign_id, workerId: r.worker_id, policy: 'consensus' },
          },
          em,
        );
      }
      return { approved: agree.length, leftToRequester: others.length };
    });
  }

  /** The review policy for completed tasks it has not seen yet (e.g. completed by a sweep or a rejection's refill). */
  async applyPendingReviewPolicies(batch = 200): Promise<number> {
    const { rows } = await sql<{ task_id: string }>(
      this.ds.manager,
      `SELECT DISTINCT a.task_id FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN campaigns c ON c.id = a.campaign_id
        WHERE c.quality_rules->>'reviewPolicy' = 'consensus' AND t.status = 'complete' AND a.status = 'submitted'
          AND a.auto_approve_at IS NOT NULL AND a.excluded_at IS NULL
        LIMIT ${batch}`,
    );
    for (const r of rows) await this.applyReviewPolicy(r.task_id);
    return rows.length;
  }

  private async gradeGold(s: SubmittedRow, rules: QualityRules): Promise<void> {
    const ok = answersMatch(s.task_type, s.answer, s.gold);
    // A failed gold is not auto-approved: the quality sweep rejects it with a reason when its
    // auto-approval time comes (same timing as any answer); a passed one is approved as usual.
    await sql(this.ds.manager, `UPDATE assignments SET gold_correct = $2, auto_approve_at = CASE WHEN $2 THEN auto_approve_at ELSE NULL END WHERE id = $1`, [
      s.assignment_id,
      ok,
    ]);
    const size = Number(s.qualification?.qualificationTestSize ?? 0);
    let testPending = false;
    if (size > 0) {
      const { rows } = await sql<{ answered: number; correct: number }>(
        this.ds.manager,
        `UPDATE qualification_tests SET answered = answered + 1, correct = correct + $3
          WHERE campaign_id = $1 AND worker_id = $2 AND status = 'in_progress' RETURNING answered, correct`,
        [s.campaign_id, s.worker_id, ok ? 1 : 0],
      );
      const t = rows[0];
      if (t && t.answered >= size) {
        const passed = t.correct / t.answered >= s.gold_pass_mark;
        const delay = Number(s.qualification.qualificationRetryDelaySeconds ?? DEFAULT_TEST_RETRY_SECONDS);
        await inTransaction(this.ds, async (em) => {
          await sql(
            em,
            `UPDATE qualification_tests SET status = $3, retry_at = CASE WHEN $3 = 'failed' THEN now() + make_interval(secs => $4) END
              WHERE campaign_id = $1 AND worker_id = $2 AND status = 'in_progress'`,
            [s.campaign_id, s.worker_id, passed ? 'passed' : 'failed', delay],
          );
          await this.log(em, s.campaign_id, s.worker_id, 'qualification-test', passed ? 'pass' : 'fail',
            `qualification test: ${t.correct} of ${t.answered} right (pass mark ${s.gold_pass_mark})${passed ? '' : `; retry in ${delay} s`}`,
            { correct: t.correct, answered: t.answered });
        });
      }
      const { rows: st } = await sql<{ status: string }>(this.ds.manager, `SELECT status FROM qualification_tests WHERE campaign_id = $1 AND worker_id = $2`, [
        s.campaign_id,
        s.worker_id,
      ]);
      testPending = st[0]?.status !== 'passed';
    }
    if (rules.goldAction === 'off' || testPending) return;
    const { n, ok: right } = await this.goldRecord(s.campaign_id, s.worker_id);
    const upper = wilson(right, n, RULE_Z).high;
    const judged = rules.goldStatistic === 'upper-bound' ? upper : right / n;
    if (n < rules.minGoldAnswers || judged >= s.gold_pass_mark) return;
    const reason =
      rules.goldStatistic === 'upper-bound'
        ? `gold accuracy ${right}/${n}: even its 99% upper bound ${upper.toFixed(2)} is under the pass mark ${s.gold_pass_mark}`
        : `gold accuracy ${right}/${n} = ${(right / n).toFixed(2)} is under the pass mark ${s.gold_pass_mark} after ${n} gold answers`;
    if (rules.goldAction === 'block') await this.blockFromCampaign(s.campaign_id, s.worker_id, 'gold-accuracy', reason, null);
    else await this.flag(s.campaign_id, 'gold-accuracy', [s.worker_id], reason, { goldAnswers: n, goldCorrect: right });
  }

  /**
   * The campaign's median answer time over its last 500 answers, cached per campaign for
   * MEDIAN_TTL_MS (refreshed every 10 uses while the sample is under 500), so the rule does not
   * sort on every submit.
   */
  private async campaignMedian(campaignId: string): Promise<{ n: number; median_ms: number | null }> {
    const hit = this.medians.get(campaignId);
    const now = Date.now();
    if (hit && now - hit.at < MEDIAN_TTL_MS && (hit.n >= 500 || ++hit.uses < 10)) return hit;
    const { rows } = await sql<{ n: number; median_ms: number | null }>(
      this.ds.manager,
      `SELECT count(*)::int AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY x.ms) AS median_ms FROM (
         SELECT extract(epoch FROM (a.submitted_at - a.claimed_at)) * 1000 AS ms FROM assignments a
          WHERE a.campaign_id = $1 AND a.submitted_at IS NOT NULL AND a.excluded_at IS NULL
          ORDER BY a.submitted_at DESC LIMIT 500) x`,
      [campaignId],
    );
    const v = { ...rows[0], at: now, uses: 0 };
    if (this.medians.size > 10_000) this.medians.clear();
    this.medians.set(campaignId, v);
    return v;
  }

  /** Server-measured answer time (claim → submit) far below the campaign's median. */
  private async fastAnswerRule(s: SubmittedRow, rules: QualityRules): Promise<void> {
    const { n, median_ms } = await this.campaignMedian(s.campaign_id);
    if (n < rules.fastMinSample || median_ms === null) return;
    const limit = rules.fastFactor * median_ms;
    if (s.elapsed_ms >= limit) return;
    const { rows: f } = await sql<{ n: number }>(
      this.ds.manager,
      `SELECT count(*)::int AS n FROM assignments a WHERE a.campaign_id = $1 AND a.worker_id = $2 AND a.submitted_at IS NOT NULL
          AND extract(epoch FROM (a.submitted_at - a.claimed_at)) * 1000 < $3`,
      [s.campaign_id, s.worker_id, limit],
    );
    if (f[0].n < rules.fastMinCount) return;
    const reason = `${f[0].n} answers faster than ${Math.round(limit)} ms (${rules.fastFactor} × the campaign's median ${Math.round(median_ms)} ms)`;
    if (rules.fastAction === 'block') await this.blockFromCampaign(s.campaign_id, s.worker_id, 'fast-answers', reason, null);
    else await this.flag(s.campaign_id, 'fast-answers', [s.worker_id], reason, { fastAnswers: f[0].n, medianMs: median_ms });
  }

  // ------------------------------------------------------------------ actions

  /**
   * Blocks a worker from one campaign, in one transaction: their live claims end, their
   * unreviewed answers are rejected and their approved ones excluded from consensus (both free
   * the task's slot, and a completed task is reopened for another answer). Idempotent.
   */
  async blockFromCampaign(campaignId: string, workerId: string, rule: string, reason: string, actorId: string | null): Promise<boolean> {
    return inTransaction(this.ds, async (em) => {
      const ins = await sql(em, `INSERT INTO campaign_blocks (campaign_id, worker_id, reason, rule, blocked_by) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING RETURNING 1`, [
        campaignId,
        workerId,
        reason,
        rule,
        actorId,
      ]);
      if (!ins.rows.length) return false;
      const ended = await sql<{ task_id: string }>(
        em,
        `UPDATE assignments SET status = 'expired' WHERE campaign_id = $1 AND worker_id = $2 AND status = 'claimed' RETURNING task_id`,
        [campaignId, workerId],
      );
      for (const r of ended.rows) await sql(em, `UPDATE tasks SET taken = taken - 1 WHERE id = $1`, [r.task_id]);
      const rejected = await sql<{ id: string; task_id: string }>(
        em,
        `UPDATE assignments SET status = 'rejected', reject_reason = $3, reviewed_at = now(), excluded_at = now()
          WHERE campaign_id = $1 AND worker_id = $2 AND status = 'submitted' RETURNING id, task_id`,
        [campaignId, workerId, `Excluded by a quality rule: ${reason}`.slice(0, 1000)],
      );
      const excluded = await sql<{ id: string; task_id: string }>(
        em,
        `UPDATE assignments SET excluded_at = now() WHERE campaign_id = $1 AND worker_id = $2 AND status = 'approved' AND excluded_at IS NULL RETURNING id, task_id`,
        [campaignId, workerId],
      );
      let reopened = 0;
      const tasks = [...rejected.rows, ...excluded.rows].map((r) => r.task_id).sort();
      for (const taskId of tasks) if ((await releaseRejectedSlot(em, taskId)).reopened) reopened++;
      const redecided = await this.redecide(em, campaignId, [...new Set(tasks)]);
      const data = { expiredClaims: ended.rows.length, rejected: rejected.rows.length, excluded: excluded.rows.length, tasksReopened: reopened, tasksCompletedAgain: redecided };
      await this.log(em, campaignId, workerId, rule, 'block', reason, data);
      await this.audit.record({ actorId, action: 'quality.worker_blocked', objectType: 'campaign', objectId: campaignId, reason, data: { workerId, rule, ...data } }, em);
      // Outbox: the requester's worker.blocked webhook, in this transaction; the worker under the campaign's pseudonym.
      const worker = this.modules.get(ReliabilityService, { strict: false }).pseudonym(campaignId, workerId);
      await recordWebhookEvent(em, 'worker.blocked', campaignId, { worker, rule, reason, ...data });
      return true;
    });
  }

  /**
   * Dynamic overlap after answers were excluded: each affected task is decided again on the answers
   * that remain (with the current skills), instead of buying a replacement for every excluded
   * answer — an answer from a worker blocked as a spammer carried little or no evidence, so the
   * others often still reach the target. `needed` drops to the answers in hand (never under the
   * live claims, nor under redundancyMin), then completeTaskIfDone decides: complete again, or one
   * more answer, or low-confidence at the maximum. Fixed-redundancy campaigns keep the plain
   * refill. Returns how many tasks completed again. Runs in the caller's transaction.
   */
  private async redecide(em: EntityManager, campaignId: string, taskIds: string[]): Promise<number> {
    if (!taskIds.length) return 0;
    const { rows } = await sql<{ dynamic: boolean | null }>(em, `SELECT (quality_rules->>'dynamicOverlap')::boolean AS dynamic FROM campaigns WHERE id = $1`, [campaignId]);
    if (!rows[0]?.dynamic) return 0;
    const money = this.modules.get(WorkMoney, { strict: false });
    let completed = 0;
    for (const taskId of taskIds) {
      await sql(
        em,
        `UPDATE tasks t SET needed = GREATEST(t.taken, t.answers_count, c.redundancy_min)
           FROM campaigns c WHERE t.id = $1 AND c.id = t.campaign_id AND t.status = 'open'`,
        [taskId],
      );
      if (await completeTaskIfDone(em, taskId, money)) completed++;
    }
    return completed;
  }

  /** Lifts a campaign block (admin). Excluded answers stay excluded; the worker may claim again. */
  async unblock(campaignId: string, workerId: string, actorId: string, reason: string): Promise<boolean> {
    return inTransaction(this.ds, async (em) => {
      const del = await sql(em, `DELETE FROM campaign_blocks WHERE campaign_id = $1 AND worker_id = $2 RETURNING 1`, [campaignId, workerId]);
      if (!del.rows.length) return false;
      await this.log(em, campaignId, workerId, 'admin', 'unblock', reason, { actorId });
      await this.audit.record({ actorId, action: 'quality.worker_unblocked', objectType: 'campaign', objectId: campaignId, reason, data: { workerId } }, em);
      return true;
    });
  }

  /** Opens a flag for an admin (one open flag per campaign, kind and set of workers). */
  async flag(campaignId: string, kind: string, workerIds: string[], reason: string, data: Record<string, unknown> = {}): Promise<boolean> {
    return inTransaction(this.ds, async (em) => {
      const ins = await sql(
        em,
        `INSERT INTO quality_flags (campaign_id, kind, worker_ids, reason, data) VALUES ($1,$2,$3::uuid[],$4,$5)
         ON CONFLICT (campaign_id, kind, worker_ids) WHERE resolved_at IS NULL DO NOTHING RETURNING id`,
        [campaignId, kind, [...workerIds].sort(), reason, JSON.stringify({ rule: kind, ...data })],
      );
      if (!ins.rows.length) return false;
      for (const w of workerIds) await this.log(em, campaignId, w, kind, 'flag', reason, data);
      return true;
    });
  }

  async log(em: EntityManager, campaignId: string, workerId: string | null, rule: string, action: string, reason: string, data: Record<string, unknown> = {}): Promise<void> {
    await sql(em, `INSERT INTO quality_rule_log (campaign_id, worker_id, rule, action, reason, data) VALUES ($1,$2,$3,$4,$5,$6)`, [
      campaignId,
      workerId,
      rule,
      action,
      reason,
      JSON.stringify(data),
    ]);
  }

  /**
   * Rejects failed gold answers whose auto-approval time has come (they were held back from
   * auto-approval when graded), with a reason that says the answer was judged wrong — never what
   * was expected. Frees the gold item's slot. Returns how many were rejected.
   */
  async rejectFailedGold(batch = 500): Promise<number> {
    return inTransaction(this.ds, async (em) => {
      const { rows } = await sql<{ id: string; task_id: string; campaign_id: string; worker_id: string }>(
        em,
        `WITH due AS (
           SELECT a.id FROM assignments a JOIN campaigns c ON c.id = a.campaign_id
            WHERE a.status = 'submitted' AND a.gold_correct = false
              AND a.submitted_at + make_interval(secs => c.auto_approve_seconds) <= now()
            ORDER BY a.submitted_at LIMIT ${batch} FOR UPDATE OF a SKIP LOCKED)
         UPDATE assignments a SET status = 'rejected', reject_reason = $1, reviewed_at = now()
           FROM due WHERE a.id = due.id AND a.status = 'submitted'
         RETURNING a.id, a.task_id, a.campaign_id, a.worker_id`,
        [GOLD_FAILED_REASON],
      );
      for (const r of [...rows].sort((x, y) => x.task_id.localeCompare(y.task_id))) {
        await releaseRejectedSlot(em, r.task_id);
        await this.audit.record(
          { actorId: null, action: 'assignment.rejected', objectType: 'assignment', objectId: r.id, reason: GOLD_FAILED_REASON, data: { taskId: r.task_id, campaignId: r.campaign_id, workerId: r.worker_id, policy: 'gold' } },
          em,
        );
      }
      return rows.length;
    });
  }
}
