import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '@tally/audit';
import { clampPage, invalidField, Page } from '@tally/common';
import { inTransaction } from '@tally/database';
import { ASSIGNMENT_COLUMNS, requireId, toAssignment } from '../assignment-row';
import { AssignmentEntity, AssignmentStatus } from '../entities/assignment.entity';
import { sql } from '../sql';
import { WorkMoney } from '../money/work-money';
import { WorkErrors } from '../work.errors';
import { releaseRejectedSlot } from './complete-task';

export type ReviewDecision = 'approve' | 'reject';

export interface BulkReviewInput {
  reviewerId: string;
  campaignId: string;
  assignmentIds: string[];
  decision: ReviewDecision;
  reason?: string;
}

export type BulkOutcome = 'approved' | 'rejected' | 'not_found' | 'not_submitted';

export interface BulkReviewResult {
  results: { assignmentId: string; outcome: BulkOutcome; status?: AssignmentStatus }[];
  approved: number;
  rejected: number;
  skipped: number;
}

export interface AnswersQuery {
  ownerId: string;
  campaignId: string;
  status?: AssignmentStatus;
  limit?: number;
  offset?: number;
}

export interface ApproveOptions {
  /**
   * Also approve an assignment that was rejected (MTurk's OverrideRejection): the worker is paid
   * and the decision is audited as `assignment.rejection_reversed`. The task's counts are left
   * alone: the rejected answer's slot was freed and may already have been refilled.
   */
  overrideRejection?: boolean;
}

export const REASON_MIN = 3;
export const REASON_MAX = 1000;

/**
 * The requester's review of their campaign's answers. Only the campaign's owner may review (anyone
 * else gets a 404, as if it did not exist); only a submitted assignment can be reviewed (409).
 * Each decision is a conditional `UPDATE ... WHERE status = 'submitted'`, so a race with another
 * reviewer or the auto-approval sweep has exactly one winner. Rejection frees the slot: taken - 1,
 * answers_count - 1, and a complete task that now lacks answers is reopened (its consensus is
 * cleared and recomputed when the replacement answer completes it); its escrow stays for the
 * replacement. Approval pays the worker (escrow → payable + platform fee) in the same transaction
 * as the status change, once per assignment whatever the retries. Every decision is audited
 * in the transaction that makes it.
 */
@Injectable()
export class ReviewAssignmentsUseCase {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly money: WorkMoney,
  ) {}

  async listAnswers(q: AnswersQuery): Promise<Page<AssignmentEntity>> {
    const ownerId = requireId(q.ownerId, 'ownerId');
    await this.ownedCampaign(ownerId, q.campaignId);
    const { limit, offset } = clampPage(q.limit, q.offset);
    const params: unknown[] = [q.campaignId];
    const where = q.status
      ? `a.campaign_id = $1 AND a.status = $${params.push(q.status)}`
      : `a.campaign_id = $1 AND a.status IN ('submitted','approved','rejected')`;
    const [{ rows }, count] = await Promise.all([
      sql(this.ds.manager, `SELECT ${ASSIGNMENT_COLUMNS('a')} FROM assignments a WHERE ${where} ORDER BY a.submitted_at DESC NULLS LAST, a.id LIMIT ${limit} OFFSET ${offset}`, params),
      sql<{ n: number }>(this.ds.manager, `SELECT count(*)::int AS n FROM assignments a WHERE ${where}`, params),
    ]);
    return { items: rows.map(toAssignment), total: count.rows[0].n, limit, offset };
  }

  async approve(reviewerId: string, assignmentId: string, opts: ApproveOptions = {}): Promise<AssignmentEntity> {
    return this.decideOne(reviewerId, assignmentId, 'approve', null, !!opts.overrideRejection);
  }

  async reject(reviewerId: string, assignmentId: string, reason: string): Promise<AssignmentEntity> {
    return this.decideOne(reviewerId, assignmentId, 'reject', checkReason(reason));
  }

  /** All decisions in one transaction; ids that are unknown or not submitted are reported, not fatal. */
  async bulk(input: BulkReviewInput): Promise<BulkReviewResult> {
    const reviewerId = requireId(input.reviewerId, 'reviewerId');
    await this.ownedCampaign(reviewerId, input.campaignId);
    const reason = input.decision === 'reject' ? checkReason(input.reason) : null;
    const ids = [...new Set(input.assignmentIds)].sort(); // a stable lock order
    return inTransaction(this.ds, async (em) => {
      const decided = await this.decide(em, reviewerId, ids, input.decision, reason, input.campaignId);
      const byId = new Map(decided.map((a) => [a.id, a]));
      const others = ids.filter((id) => !byId.has(id));
      const { rows: existing } = others.length
        ? await sql<{ id: string; status: AssignmentStatus }>(em, `SELECT id, status FROM assignments WHERE id = ANY($1::uuid[]) AND campaign_id = $2`, [
            others,
            input.campaignId,
          ])
        : { rows: [] };
      const statusOf = new Map(existing.map((r) => [r.id, r.status]));
      const results = input.assignmentIds.map((assignmentId) => {
        const a = byId.get(assignmentId);
        if (a) return { assignmentId, outcome: a.status as BulkOutcome, status: a.status };
        const status = statusOf.get(assignmentId);
        return status ? { assignmentId, outcome: 'not_submitted' as const, status } : { assignmentId, outcome: 'not_found' as const };
      });
      const n = decided.length;
      return { results, approved: input.decision === 'approve' ? n : 0, rejected: input.decision === 'reject' ? n : 0, skipped: ids.length - n };
    });
  }

  private async decideOne(reviewerId: string, assignmentId: string, decision: ReviewDecision, reason: string | null = null, overrideRejection = false) {
    requireId(reviewerId, 'reviewerId');
    const [decided] = await inTransaction(this.ds, (em) => this.decide(em, reviewerId, [assignmentId], decision, reason, undefined, overrideRejection));
    if (decided) return decided;
    // Nothing changed: tell "not yours / unknown" (404) from "not in a reviewable state" (409).
    const { rows } = await sql<{ status: string }>(
      this.ds.manager,
      `SELECT a.status FROM assignments a JOIN campaigns c ON c.id = a.campaign_id WHERE a.id = $1 AND c.owner_id = $2`,
      [assignmentId, reviewerId],
    );
    if (!rows[0]) throw WorkErrors.assignmentNotFound();
    throw WorkErrors.notSubmitted(rows[0].status);
  }

  /** The conditional update, the slot release on rejection, and the audit events; returns what changed. */
  private async decide(
    em: EntityManager,
    reviewerId: string,
    ids: string[],
    decision: ReviewDecision,
    reason: string | null,
    campaignId?: string,
    overrideRejection = false,
  ): Promise<AssignmentEntity[]> {
    if (!ids.length) return [];
    const from = decision === 'approve' && overrideRejection ? ['submitted', 'rejected'] : ['submitted'];
    // The CTE locks the rows in id order and remembers the status each one had, so a reversed
    // rejection can be told from a first approval.
    const { rows } = await sql<Record<string, unknown> & { previousStatus: AssignmentStatus }>(
      em,
      `WITH prev AS (
         SELECT a.id, a.status FROM assignments a JOIN campaigns c ON c.id = a.campaign_id
          WHERE a.id = ANY($1::uuid[]) AND a.status = ANY($5::text[])
            AND c.owner_id = $2 ${campaignId ? 'AND a.campaign_id = $6' : ''}
          ORDER BY a.id
          FOR UPDATE OF a
       )
       UPDATE assignments a
          SET status = $3, reviewed_at = now(), reviewed_by = $2, reject_reason = $4
         FROM prev
        WHERE a.id = prev.id AND a.status = prev.status
        RETURNING ${ASSIGNMENT_COLUMNS('a')}, prev.status AS "previousStatus"`,
      [ids, reviewerId, decision === 'approve' ? 'approved' : 'rejected', reason, from, ...(campaignId ? [campaignId] : [])],
    );
    const previous = new Map(rows.map((r) => [r.id as string, r.previousStatus]));
    const decided = rows.map(toAssignment).sort((x, y) => x.taskId.localeCompare(y.taskId));
    if (decision === 'approve') await this.money.payApprovals(em, decided);
    for (const a of decided) {
      const reopened = decision === 'reject' ? (await releaseRejectedSlot(em, a.taskId)).reopened : false;
      const reversed = previous.get(a.id) === 'rejected';
      await this.audit.record(
        {
          actorId: reviewerId,
          action: decision === 'approve' ? (reversed ? 'assignment.rejection_reversed' : 'assignment.approved') : 'assignment.rejected',
          objectType: 'assignment',
          objectId: a.id,
          reason,
          data: { taskId: a.taskId, campaignId: a.campaignId, workerId: a.workerId, ...(reopened ? { taskReopened: true } : {}) },
        },
        em,
      );
    }
    return decided;
  }

  private async ownedCampaign(ownerId: string, campaignId: string): Promise<void> {
    const { rows } = await sql(this.ds.manager, `SELECT 1 FROM campaigns WHERE id = $1 AND owner_id = $2`, [campaignId, ownerId]);
    if (!rows.length) throw WorkErrors.campaignNotFound();
  }
}

function checkReason(reason: string | undefined | null): string {
  const r = (reason ?? '').trim();
  if (r.length < REASON_MIN || r.length > REASON_MAX) {
    throw invalidField('reason', `is required to reject and must have ${REASON_MIN} to ${REASON_MAX} characters`);
  }
  return r;
}
