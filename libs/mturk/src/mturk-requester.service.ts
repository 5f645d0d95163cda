import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import { CampaignsService, ImportItemsUseCase, QualificationRequirements } from '@tally/campaigns';
import { DomainError } from '@tally/common';
import { isUniqueViolation } from '@tally/database';
import { cash, escrow, LedgerReportsService, LedgerService } from '@tally/ledger';
import { GrantBonusUseCase } from '@tally/payments';
import { completeTaskIfDone, reopenCampaign, ReviewAssignmentsUseCase, TaskCompletionHooks, WorkMoney } from '@tally/work';
import { formatAmount, MTURK_CURRENCY, parseAmount } from './money';
import { MturkError, MturkErrors } from './mturk.errors';
import { MturkWorkersService, page, paged } from './mturk-workers.service';
import { MturkNotificationsService } from './mturk-notifications.service';
import { base32 } from './server-key';
import { MappedQuestion, parseQuestion, QuestionKind, shapeKey, toQuestionFormAnswers } from './question-xml';

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

/** Tally's limits where they are tighter than MTurk's (the error names the parameter and the limit). */
export const MTURK_LIMITS = {
  maxAssignments: 50, // Tally's redundancy limit
  assignmentDuration: { min: 30, max: 86_400 }, // Tally's lease limit (MTurk allows up to a year)
  autoApprovalDelay: { min: 0, max: 30 * 86_400 },
  lifetime: { min: 30, max: 365 * 86_400 },
  title: 128,
  description: 2000,
  keywords: 1000,
  annotation: 255,
  token: 64,
  feedback: 1024,
} as const;

/** MTurk's system qualification types Tally can honour, and what they become on the campaign. */
const SYSTEM_QUALIFICATIONS: Record<string, keyof QualificationRequirements> = {
  '000000000000000000L0': 'minApprovalRate', // Worker_PercentAssignmentsApproved
  '00000000000000000040': 'minApprovedCount', // Worker_NumberHITsApproved
};

const STATUS_SQL = `CASE WHEN h.deleted_at IS NOT NULL THEN 'Disposed'
     WHEN h.reviewing THEN 'Reviewing'
     WHEN h.expires_at <= now() OR t.status = 'complete' THEN 'Reviewable'
     WHEN t.taken < t.needed THEN 'Assignable' ELSE 'Unassignable' END`;

const HIT_SELECT = `
  SELECT h.task_id, h.hit_type_id, h.hit_group_id, h.question_kind, h.question, h.requester_annotation, h.max_assignments,
         h.expires_at, h.review_status, h.created_at, h.campaign_id, h.owner_id,
         ht.title, ht.description, ht.keywords, ht.reward_minor, ht.assignment_duration_seconds, ht.auto_approval_delay_seconds,
         ht.qualification_requirements, t.needed, t.taken, t.status AS task_status, (h.expires_at <= now()) AS expired,
         ${STATUS_SQL} AS hit_status,
         (SELECT count(*)::int FROM assignments a WHERE a.task_id = h.task_id AND a.status = 'claimed' AND a.lease_expires_at > now()) AS pending,
         (SELECT count(*)::int FROM assignments a WHERE a.task_id = h.task_id AND a.status IN ('approved','rejected')) AS completed,
         (SELECT count(*)::int FROM assignments a WHERE a.task_id = h.task_id AND a.status = 'submitted') AS submitted
    FROM mturk_hits h
    JOIN tasks t ON t.id = h.task_id
    JOIN mturk_hit_types ht ON ht.id = h.hit_type_id`;

interface HitRow {
  task_id: string;
  hit_type_id: string;
  hit_group_id: string;
  question_kind: QuestionKind;
  question: string;
  requester_annotation: string | null;
  max_assignments: number;
  expires_at: Date;
  review_status: string;
  created_at: Date;
  campaign_id: string;
  owner_id: string;
  title: string;
  description: string;
  keywords: string | null;
  reward_minor: string;
  assignment_duration_seconds: number;
  auto_approval_delay_seconds: number;
  qualification_requirements: unknown[];
  needed: number;
  taken: number;
  task_status: string;
  expired: boolean;
  hit_status: string;
  pending: number;
  completed: number;
  submitted: number;
}

interface HitTypeRow {
  id: string;
  owner_id: string;
  title: string;
  description: string;
  keywords: string | null;
  reward_minor: string;
  assignment_duration_seconds: number;
  auto_approval_delay_seconds: number;
  qualification_requirements: QualificationRequirementInput[];
}

interface QualificationRequirementInput {
  QualificationTypeId: string;
  Comparator: string;
  IntegerValues?: number[];
  LocaleValues?: unknown[];
  RequiredToPreview?: boolean;
  ActionsGuarded?: string;
}

interface AssignmentRow {
  id: string;
  task_id: string;
  worker_id: string;
  status: string;
  claimed_at: Date;
  lease_expires_at: Date;
  submitted_at: Date | null;
  answer: unknown;
  auto_approve_at: Date | null;
  reviewed_at: Date | null;
  reject_reason: string | null;
  question_kind: QuestionKind;
  question_identifier: string | null;
  campaign_id: string;
}

const ASSIGNMENT_STATUS: Record<string, string> = { submitted: 'Submitted', approved: 'Approved', rejected: 'Rejected' };
const epoch = (d: Date | null | undefined) => (d ? Math.floor(new Date(d).getTime() / 1000) : undefined);

/**
 * The MTurk requester operations, mapped onto Tally (see docs/mturk.md):
 * HIT type → the settings of a campaign; HIT → a task of the campaign that holds its HIT type's
 * HITs of one question shape and one MaxAssignments; assignment → assignment. Every state change
 * goes through Tally's own use cases (campaign create / publish, item import with its escrow,
 * review approve / reject, bonus), so the ledger, escrow and fee rules are the REST API's.
 * This service only keeps what MTurk has and Tally does not (mturk_* tables).
 */
@Injectable()
export class MturkRequesterService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly campaigns: CampaignsService,
    private readonly importItems: ImportItemsUseCase,
    private readonly review: ReviewAssignmentsUseCase,
    private readonly bonuses: GrantBonusUseCase,
    private readonly reports: LedgerReportsService,
    private readonly workers: MturkWorkersService,
    private readonly workMoney: WorkMoney,
    private readonly notifications: MturkNotificationsService,
    private readonly ledger: LedgerService,
  ) {
    Object.assign(this.operations, this.workers.operations, this.notifications.operations);
  }

  /**
   * What happens, in the closing transaction, when a HIT's task completes: Tally's own hook (the
   * slots under the campaign's redundancyMax that were never used go back), then, in a campaign
   * whose escrow was topped up for MTurk operations, whatever it now holds beyond its need.
   */
  private readonly closeHooks: TaskCompletionHooks = {
    taskCompleted: async (em, taskId) => {
      await this.workMoney.taskCompleted(em, taskId);
      const [row] = await em.query(
        `SELECT t.campaign_id FROM tasks t WHERE t.id = $1
            AND EXISTS (SELECT 1 FROM ledger_transactions l WHERE l.reference = t.campaign_id::text AND l.kind = 'escrow_reserve' AND l.idempotency_key LIKE 'mturk-topup:%')`,
        [taskId],
      );
      if (row) await this.reconcileEscrow(em, row.campaign_id, 'release');
    },
  };

  /** The operations this server answers, by X-Amz-Target operation name. */
  readonly operations: Record<string, (ownerId: string, input: Input) => Promise<Output>> = {
    CreateHITType: (o, i) => this.createHitType(o, i),
    CreateHIT: (o, i) => this.createHit(o, i),
    CreateHITWithHITType: (o, i) => this.createHitWithHitType(o, i),
    GetHIT: (o, i) => this.getHit(o, i),
    ListHITs: (o, i) => this.listHits(o, i),
    ListReviewableHITs: (o, i) => this.listReviewableHits(o, i),
    ListAssignmentsForHIT: (o, i) => this.listAssignmentsForHit(o, i),
    GetAssignment: (o, i) => this.getAssignment(o, i),
    ApproveAssignment: (o, i) => this.approveAssignment(o, i),
    RejectAssignment: (o, i) => this.rejectAssignment(o, i),
    SendBonus: (o, i) => this.sendBonus(o, i),
    ListBonusPayments: (o, i) => this.listBonusPayments(o, i),
    CreateAdditionalAssignmentsForHIT: (o, i) => this.createAdditionalAssignments(o, i),
    UpdateExpirationForHIT: (o, i) => this.updateExpiration(o, i),
    UpdateHITReviewStatus: (o, i) => this.updateHitReviewStatus(o, i),
    DeleteHIT: (o, i) => this.deleteHit(o, i),
    GetAccountBalance: (o) => this.getAccountBalance(o),
    // NotifyWorkers, UpdateNotificationSettings: MturkNotificationsService (libs/webhooks underneath).
  };

  async execute(ownerId: string, operation: string, input: Input): Promise<Output> {
    if (!ownerId) throw new Error('owner id is required');
    const op = Object.prototype.hasOwnProperty.call(this.operations, operation) ? this.operations[operation] : undefined;
    if (!op) throw MturkErrors.unknownOperation(operation);
    try {
      return await op(ownerId, input);
    } catch (err) {
      throw toMturkError(err);
    }
  }

  // ------------------------------------------------------------------ HIT types

  async createHitType(ownerId: string, i: Input): Promise<Output> {
    const p = {
      title: text(i, 'Title', MTURK_LIMITS.title, true)!,
      description: text(i, 'Description', MTURK_LIMITS.description, true)!,
      keywords: text(i, 'Keywords', MTURK_LIMITS.keywords, false),
      rewardMinor: parseAmount('Reward', i.Reward ?? missing('Reward')),
      assignmentDuration: int(i, 'AssignmentDurationInSeconds', MTURK_LIMITS.assignmentDuration, undefined),
      autoApprovalDelay: int(i, 'AutoApprovalDelayInSeconds', MTURK_LIMITS.autoApprovalDelay, 2_592_000),
      qualifications: await this.qualificationRequirements(ownerId, i.QualificationRequirements),
    };
    // Equal parameters → the same HIT type (MTurk's CreateHITType is idempotent that way).
    const hash = createHash('sha256').update(JSON.stringify([ownerId, p])).digest();
    const id = base32(hash).slice(0, 30);
    await this.ds.query(
      `INSERT INTO mturk_hit_types (id, owner_id, params_hash, title, description, keywords, reward_minor, currency, assignment_duration_seconds, auto_approval_delay_seconds, qualification_requirements)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING`,
      [id, ownerId, hash.toString('hex'), p.title, p.description, p.keywords, p.rewardMinor, MTURK_CURRENCY, p.assignmentDuration, p.autoApprovalDelay, JSON.stringify(p.qualifications)],
    );
    return { HITTypeId: id };
  }

  private async hitType(ownerId: string, id: unknown): Promise<HitTypeRow> {
    if (typeof id !== 'string' || !id) throw MturkErrors.missing('HITTypeId');
    const rows: HitTypeRow[] = await this.ds.query(`SELECT * FROM mturk_hit_types WHERE id = $1 AND owner_id = $2`, [id, ownerId]);
    if (!rows[0]) throw MturkErrors.hitTypeNotFound(id);
    return rows[0];
  }

  /**
   * MTurk's QualificationRequirements → Tally campaign requirements: the system qualifications
   * Tally has data for (approval rate, approved count) and the requester's own qualification types
   * (Comparator Exists). Anything else is refused, naming it.
   */
  private async qualificationRequirements(ownerId: string, v: unknown): Promise<QualificationRequirementInput[]> {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw MturkErrors.parameter('QualificationRequirements', 'must be a list');
    const own = await this.workers.tallyNames(ownerId, v.map((q) => String((q as QualificationRequirementInput)?.QualificationTypeId ?? '')));
    return v.map((q, n) => {
      const name = `QualificationRequirements.${n + 1}`;
      if (!q || typeof q !== 'object') throw MturkErrors.parameter(name, 'must be an object');
      const r = q as QualificationRequirementInput;
      if (own.has(r.QualificationTypeId)) {
        if (r.Comparator !== 'Exists') throw MturkErrors.parameter(`${name}.Comparator`, 'must be Exists for a Tally qualification (it is held or not)');
        return { QualificationTypeId: r.QualificationTypeId, Comparator: 'Exists', ...(r.ActionsGuarded ? { ActionsGuarded: r.ActionsGuarded } : {}) };
      }
      const target = SYSTEM_QUALIFICATIONS[r.QualificationTypeId];
      if (!target) {
        throw MturkErrors.unsupported(
          `${name}.QualificationTypeId ${String(r.QualificationTypeId)}`,
          'Tally honours your own qualification types and the system qualifications Worker_PercentAssignmentsApproved (000000000000000000L0) and Worker_NumberHITsApproved (00000000000000000040); it has no data for the others (e.g. locale, Masters)',
        );
      }
      if (!['GreaterThan', 'GreaterThanOrEqualTo'].includes(r.Comparator)) throw MturkErrors.parameter(`${name}.Comparator`, 'must be GreaterThan or GreaterThanOrEqualTo for this qualification in Tally');
      const value = r.IntegerValues?.[0];
      if (!Number.isInteger(value) || (value as number) < 0) throw MturkErrors.parameter(`${name}.IntegerValues`, 'must hold one non-negative integer');
      return { QualificationTypeId: r.QualificationTypeId, Comparator: r.Comparator, IntegerValues: [value as number], ...(r.ActionsGuarded ? { ActionsGuarded: r.ActionsGuarded } : {}) };
    });
  }

  private async campaignQualification(ownerId: string, reqs: QualificationRequirementInput[]): Promise<QualificationRequirements> {
    const out: QualificationRequirements = {};
    const own = await this.workers.tallyNames(ownerId, (reqs ?? []).map((r) => r.QualificationTypeId));
    for (const r of reqs ?? []) {
      if (own.has(r.QualificationTypeId)) {
        out.requiredQualifications = [...(out.requiredQualifications ?? []), own.get(r.QualificationTypeId)!];
        continue;
      }
      const v = r.IntegerValues![0] + (r.Comparator === 'GreaterThan' ? 1 : 0);
      if (SYSTEM_QUALIFICATIONS[r.QualificationTypeId] === 'minApprovalRate') out.minApprovalRate = Math.min(1, v / 100);
      else out.minApprovedCount = v;
    }
    return out;
  }

  // ------------------------------------------------------------------ HITs

  async createHit(ownerId: string, i: Input): Promise<Output> {
    const { HITTypeId } = await this.createHitType(ownerId, {
      Title: i.Title,
      Description: i.Description,
      Keywords: i.Keywords,
      Reward: i.Reward,
      AssignmentDurationInSeconds: i.AssignmentDurationInSeconds,
      AutoApprovalDelayInSeconds: i.AutoApprovalDelayInSeconds,
      QualificationRequirements: i.QualificationRequirements,
    });
    return this.createHitWithHitType(ownerId, { ...i, HITTypeId });
  }

  async createHitWithHitType(ownerId: string, i: Input): Promise<Output> {
    if (i.HITLayoutId !== undefined || i.HITLayoutParameters !== undefined) throw MturkErrors.unsupported('HITLayoutId', 'layouts are not kept by Tally; send the Question XML');
    if (i.AssignmentReviewPolicy !== undefined || i.HITReviewPolicy !== undefined) throw MturkErrors.unsupported('Review policies', 'use Tally campaign quality rules instead');
    const type = await this.hitType(ownerId, i.HITTypeId);
    const maxAssignments = int(i, 'MaxAssignments', { min: 1, max: MTURK_LIMITS.maxAssignments }, 1);
    const lifetime = int(i, 'LifetimeInSeconds', MTURK_LIMITS.lifetime, undefined);
    const annotation = text(i, 'RequesterAnnotation', MTURK_LIMITS.annotation, false);
    const token = text(i, 'UniqueRequestToken', MTURK_LIMITS.token, false);
    if (typeof i.Question !== 'string') throw MturkErrors.missing('Question');
    const question = parseQuestion(i.Question, `${type.title}\n${type.description}`);

    if (token) {
      const [dup] = await this.ds.query(`SELECT task_id FROM mturk_hits WHERE owner_id = $1 AND unique_request_token = $2`, [ownerId, token]);
      if (dup) throw MturkErrors.hitAlreadyExists(dup.task_id);
    }
    // The ref makes the payload unique per HIT (the import skips exact duplicates) — and, for a token,
    // the same on a retry, so two racing calls with one token import one task, not two.
    const ref = token ? createHash('sha256').update(`${ownerId}\n${token}`).digest('hex').slice(0, 32) : randomUUID();
    const payload = { ...question.payload, mturk: { ...question.payload.mturk, hitTypeId: type.id, ref } };
    const campaignId = await this.campaignFor(ownerId, type, question, maxAssignments);
    const report = await this.importItems.execute({
      ownerId,
      campaignId,
      format: 'json',
      strict: true,
      body: Readable.from([Buffer.from(JSON.stringify([{ payload }]))]),
    });
    const [task] = await this.ds.query(`SELECT id FROM tasks WHERE campaign_id = $1 AND payload->'mturk'->>'ref' = $2`, [campaignId, ref]);
    if (!task) throw new Error(`imported HIT task not found (inserted ${report.inserted})`);
    try {
      await this.ds.query(
        `INSERT INTO mturk_hits (task_id, owner_id, hit_type_id, campaign_id, hit_group_id, question_kind, question, requester_annotation, max_assignments, lifetime_seconds, expires_at, unique_request_token)
         VALUES ($1,$2,$3,$4,$3,$5,$6,$7,$8,$9::int, now() + make_interval(secs => $9::int), $10)`,
        [task.id, ownerId, type.id, campaignId, question.kind, i.Question, annotation, maxAssignments, lifetime, token],
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // The same token won a race (or the task was already registered): no second HIT.
      const [dup] = await this.ds.query(`SELECT task_id FROM mturk_hits WHERE owner_id = $1 AND unique_request_token = $2`, [ownerId, token]);
      if (dup && dup.task_id !== task.id) await this.ds.transaction((em) => closeTask(em, task.id, this.closeHooks));
      throw MturkErrors.hitAlreadyExists(dup?.task_id ?? task.id);
    }
    const campaign = await this.campaigns.findOwned(ownerId, campaignId);
    if (campaign.status === 'draft') {
      try {
        await this.campaigns.transition(ownerId, campaignId, 'publish');
      } catch (err) {
        // Not published (e.g. not enough funds for the escrow): this HIT must not linger as a draft task.
        await this.ds.transaction(async (em) => {
          await em.query(`UPDATE mturk_hits SET deleted_at = now(), expires_at = least(expires_at, now()) WHERE task_id = $1`, [task.id]);
          await closeTask(em, task.id, this.closeHooks);
        });
        throw err;
      }
    }
    return { HIT: toHit(await this.hitRow(ownerId, task.id)) };
  }

  /**
   * The campaign holding this HIT type's HITs of this question shape and MaxAssignments (created,
   * in draft, on first use; replaced when it has completed or was cancelled, since a finished
   * campaign takes no new items).
   */
  private async campaignFor(ownerId: string, type: HitTypeRow, q: MappedQuestion, maxAssignments: number): Promise<string> {
    const key = shapeKey(q, maxAssignments);
    const [row] = await this.ds.query(
      `SELECT m.campaign_id, c.status FROM mturk_hit_campaigns m JOIN campaigns c ON c.id = m.campaign_id WHERE m.hit_type_id = $1 AND m.shape_key = $2`,
      [type.id, key],
    );
    if (row && ['draft', 'published', 'paused'].includes(row.status)) return row.campaign_id;
    const campaign = await this.campaigns.create(ownerId, {
      name: `MTurk: ${type.title}`.slice(0, 200),
      taskType: q.taskType,
      labels: q.labels,
      instructions: [type.description, type.keywords ? `Keywords: ${type.keywords}` : ''].filter(Boolean).join('\n\n'),
      rewardMinor: Number(type.reward_minor),
      currency: MTURK_CURRENCY,
      redundancyMin: maxAssignments,
      redundancyMax: maxAssignments,
      leaseSeconds: type.assignment_duration_seconds,
      autoApproveSeconds: type.auto_approval_delay_seconds,
      maxTextLength: q.maxTextLength,
      qualification: await this.campaignQualification(ownerId, type.qualification_requirements),
    });
    await this.workers.applyBlocks(ownerId, campaign.id);
    const [won] = await this.ds.query(
      `INSERT INTO mturk_hit_campaigns (hit_type_id, shape_key, campaign_id) VALUES ($1,$2,$3)
       ON CONFLICT (hit_type_id, shape_key) DO UPDATE SET campaign_id = EXCLUDED.campaign_id
         WHERE (SELECT status FROM campaigns WHERE id = mturk_hit_campaigns.campaign_id) IN ('completed','cancelled')
       RETURNING campaign_id`,
      [type.id, key, campaign.id],
    );
    if (won) return won.campaign_id;
    // A concurrent call mapped a live campaign first: ours, still an empty draft, is cancelled.
    await this.campaigns.transition(ownerId, campaign.id, 'cancel');
    const [current] = await this.ds.query(`SELECT campaign_id FROM mturk_hit_campaigns WHERE hit_type_id = $1 AND shape_key = $2`, [type.id, key]);
    return current.campaign_id;
  }

  private async hitRow(ownerId: string, hitId: unknown, opts: { includeDeleted?: boolean } = {}): Promise<HitRow> {
    if (typeof hitId !== 'string' || !hitId) throw MturkErrors.missing('HITId');
    if (!isUuid(hitId)) throw MturkErrors.hitNotFound(hitId);
    const rows: HitRow[] = await this.ds.query(`${HIT_SELECT} WHERE h.task_id = $1 AND h.owner_id = $2${opts.includeDeleted ? '' : ' AND h.deleted_at IS NULL'}`, [hitId, ownerId]);
    if (!rows[0]) throw MturkErrors.hitNotFound(hitId);
    return rows[0];
  }

  async getHit(ownerId: string, i: Input): Promise<Output> {
    return { HIT: toHit(await this.hitRow(ownerId, i.HITId)) };
  }

  async listHits(ownerId: string, i: Input): Promise<Output> {
    const { limit, offset } = page(i);
    const rows: HitRow[] = await this.ds.query(`${HIT_SELECT} WHERE h.owner_id = $1 AND h.deleted_at IS NULL ORDER BY h.created_at, h.task_id LIMIT $2 OFFSET $3`, [
      ownerId,
      limit + 1,
      offset,
    ]);
    return paged(rows, limit, offset, 'HITs', toHit);
  }

  async listReviewableHits(ownerId: string, i: Input): Promise<Output> {
    const status = i.Status ?? 'Reviewable';
    if (status !== 'Reviewable' && status !== 'Reviewing') throw MturkErrors.parameter('Status', 'must be Reviewable or Reviewing');
    const { limit, offset } = page(i);
    const params: unknown[] = [ownerId, status, limit + 1, offset];
    const byType = i.HITTypeId !== undefined ? ` AND h.hit_type_id = $${params.push(String(i.HITTypeId))}` : '';
    const rows: HitRow[] = await this.ds.query(
      `SELECT * FROM (${HIT_SELECT} WHERE h.owner_id = $1 AND h.deleted_at IS NULL${byType}) x WHERE x.hit_status = $2 ORDER BY x.created_at, x.task_id LIMIT $3 OFFSET $4`,
      params,
    );
    return paged(rows, limit, offset, 'HITs', (r) => ({ HITId: r.task_id, HITTypeId: r.hit_type_id, HITGroupId: r.hit_group_id }));
  }

  /**
   * More assignments for a HIT, paid for like any other slot: reward + fee per assignment moves from
   * the requester's cash to the campaign's escrow (see reconcileEscrow) in the same transaction as
   * the HIT grows, so approvals of the extra answers come out of escrow. Not enough available
   * balance → AWS.MechanicalTurk.InsufficientFunds and nothing changes.
   */
  async createAdditionalAssignments(ownerId: string, i: Input): Promise<Output> {
    const hit = await this.hitRow(ownerId, i.HITId);
    const n = int(i, 'NumberOfAdditionalAssignments', { min: 1, max: MTURK_LIMITS.maxAssignments }, undefined);
    if (hit.expired) throw MturkErrors.invalidHitState(hit.task_id, 'expired', 'Assignable, Unassignable, Reviewable (not expired); extend it with UpdateExpirationForHIT first');
    await this.ds.transaction(async (em) => {
      // Serialises calls on this HIT (the limit below is checked on the count read under the lock).
      const [locked] = await em.query(`SELECT max_assignments FROM mturk_hits WHERE task_id = $1 FOR UPDATE`, [hit.task_id]);
      const total = Number(locked.max_assignments) + n;
      if (total > MTURK_LIMITS.maxAssignments) {
        throw MturkErrors.parameter('NumberOfAdditionalAssignments', `would make ${total} assignments; Tally allows at most ${MTURK_LIMITS.maxAssignments} per HIT`);
      }
      await em.query(`UPDATE mturk_hits SET max_assignments = $2 WHERE task_id = $1`, [hit.task_id, total]);
      // More answers wanted: a completed task opens again (its consensus is recomputed when they are in).
      await em.query(
        `UPDATE tasks SET needed = needed + $2, status = CASE WHEN status = 'complete' THEN 'open' ELSE status END,
                completed_at = CASE WHEN status = 'complete' THEN NULL ELSE completed_at END,
                consensus = CASE WHEN status = 'complete' THEN NULL ELSE consensus END
          WHERE id = $1`,
        [hit.task_id, n],
      );
      await reopenCampaign(em, hit.campaign_id);
      await this.reconcileEscrow(em, hit.campaign_id, 'reserve');
    });
    return {};
  }

  /**
   * Keeps an MTurk campaign's escrow at what its HITs can still pay, in (reward + fee) slots: for
   * each open task its unfilled slots and its assignments still claimed or awaiting review, plus
   * the slots Tally's task-completion hook will give back when a closed task's last answer comes in;
   * for each finished task its assignments still claimed or awaiting review. 'reserve' moves a
   * shortfall from the requester's cash (INSUFFICIENT_FUNDS → AWS.MechanicalTurk.InsufficientFunds,
   * and the caller's transaction rolls back); 'release' gives a surplus back. Tally's own movements
   * (publish, import, task completion, approval, settlement) stay as they are; this only adds what
   * MTurk operations change (CreateAdditionalAssignmentsForHIT, extending an expired HIT) and takes
   * it back when a HIT closes. Runs under the campaign's escrow and cash locks, so approvals wait
   * and the sequence number in the key is stable.
   */
  private async reconcileEscrow(em: EntityManager, campaignId: string, direction: 'reserve' | 'release'): Promise<void> {
    const terms = await this.ledger.escrowTerms(em, campaignId);
    if (!terms || terms.perSlotMinor === 0) return; // never published: nothing is escrowed yet
    const [c] = await em.query(`SELECT owner_id, redundancy_max FROM campaigns WHERE id = $1`, [campaignId]);
    const esc = await this.ledger.ensureAccount(em, escrow(campaignId, terms.currency));
    const own = await this.ledger.ensureAccount(em, cash(c.owner_id, terms.currency));
    const held = (await this.ledger.lockAccounts(em, [esc.id, own.id])).get(esc.id)!;
    const [{ slots }] = await em.query(
      `SELECT coalesce(sum(
                CASE WHEN t.status = 'open'
                     THEN greatest(t.needed - t.taken, 0) + coalesce(a.pending, 0)
                          + CASE WHEN t.needed < $2 AND NOT EXISTS (SELECT 1 FROM ledger_transactions l WHERE l.idempotency_key = 'release-slots:task-complete:' || t.id)
                                 THEN $2 - t.needed ELSE 0 END
                     ELSE coalesce(a.pending, 0) END), 0)::int AS slots
         FROM tasks t
         LEFT JOIN (SELECT task_id, count(*) AS pending FROM assignments WHERE campaign_id = $1 AND status IN ('claimed','submitted') GROUP BY task_id) a ON a.task_id = t.id
        WHERE t.campaign_id = $1 AND t.status IN ('open','complete')`,
      [campaignId, c.redundancy_max],
    );
    const need = slots * terms.perSlotMinor;
    const amount = direction === 'reserve' ? need - held : held - need;
    if (amount <= 0) return;
    const prefix = direction === 'reserve' ? 'mturk-topup' : 'mturk-trim';
    const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM ledger_transactions WHERE reference = $1 AND idempotency_key LIKE $2`, [campaignId, `${prefix}:${campaignId}:%`]);
    const memo = `${slots} MTurk assignments still payable × ${terms.perSlotMinor} (reward ${terms.rewardMinor} + fee ${terms.feeMinor})`;
    await this.ledger.post(em, {
      idempotencyKey: `${prefix}:${campaignId}:${n + 1}`,
      kind: direction === 'reserve' ? 'escrow_reserve' : 'escrow_release',
      memo: direction === 'reserve' ? `escrow topped up to ${memo}` : `escrow above ${memo} released`,
      reference: campaignId,
      actorId: c.owner_id,
      entries: [
        { account: cash(c.owner_id, terms.currency), amount: direction === 'reserve' ? -amount : amount },
        { account: escrow(campaignId, terms.currency), amount: direction === 'reserve' ? amount : -amount },
      ],
    });
  }

  async updateExpiration(ownerId: string, i: Input): Promise<Output> {
    const hit = await this.hitRow(ownerId, i.HITId);
    const at = i.ExpireAt;
    if (typeof at !== 'number' || !Number.isFinite(at)) throw MturkErrors.missing('ExpireAt');
    await this.ds.transaction(async (em) => {
      if (at * 1000 <= Date.now()) {
        await em.query(`UPDATE mturk_hits SET expires_at = least(expires_at, now()) WHERE task_id = $1`, [hit.task_id]);
        await closeTask(em, hit.task_id, this.closeHooks);
      } else {
        await em.query(`UPDATE mturk_hits SET expires_at = to_timestamp($2), expired_applied = false WHERE task_id = $1`, [hit.task_id, at]);
        // Extending an expired HIT gives back the slots expiry took away — escrowed again, as they were
        // given back when it closed.
        const [, reopened] = await em.query(
          `UPDATE tasks t SET needed = greatest(t.taken, $2),
                  status = CASE WHEN t.status = 'complete' AND t.answers_count < greatest(t.taken, $2) THEN 'open' ELSE t.status END,
                  completed_at = CASE WHEN t.status = 'complete' AND t.answers_count < greatest(t.taken, $2) THEN NULL ELSE t.completed_at END
            WHERE t.id = $1 AND t.needed < $2`,
          [hit.task_id, hit.max_assignments],
        );
        if (reopened) {
          await reopenCampaign(em, hit.campaign_id);
          await this.reconcileEscrow(em, hit.campaign_id, 'reserve');
        }
      }
    });
    return {};
  }

  async updateHitReviewStatus(ownerId: string, i: Input): Promise<Output> {
    const hit = await this.hitRow(ownerId, i.HITId);
    const revert = i.Revert === true;
    if (hit.hit_status !== 'Reviewable' && hit.hit_status !== 'Reviewing') throw MturkErrors.invalidHitState(hit.task_id, hit.hit_status, 'Reviewable, Reviewing');
    await this.ds.query(`UPDATE mturk_hits SET reviewing = $2 WHERE task_id = $1`, [hit.task_id, !revert]);
    return {};
  }

  async deleteHit(ownerId: string, i: Input): Promise<Output> {
    const hit = await this.hitRow(ownerId, i.HITId, { includeDeleted: true });
    if (hit.hit_status === 'Disposed') return {};
    if ((hit.hit_status !== 'Reviewable' && hit.hit_status !== 'Reviewing') || hit.pending > 0 || hit.submitted > 0) {
      const state = hit.submitted > 0 ? `${hit.hit_status} with ${hit.submitted} submitted assignment(s) not yet approved or rejected` : hit.hit_status;
      throw MturkErrors.invalidHitState(hit.task_id, state, 'Reviewable, Reviewing (every submitted assignment approved or rejected)');
    }
    await this.ds.transaction(async (em) => {
      await em.query(`UPDATE mturk_hits SET deleted_at = now(), expires_at = least(expires_at, now()) WHERE task_id = $1`, [hit.task_id]);
      await closeTask(em, hit.task_id, this.closeHooks);
    });
    return {};
  }

  /**
   * Applies expiry to HITs whose lifetime has passed: a HIT past its expiration hands out no more
   * assignments (needed = taken). Run by the background loop; it re-applies when a lease expiry
   * has since freed a slot of an expired HIT.
   */
  async expireDue(limit = 500): Promise<number> {
    const due: { task_id: string }[] = await this.ds.query(
      `SELECT h.task_id FROM mturk_hits h JOIN tasks t ON t.id = h.task_id
        WHERE h.expires_at <= now() AND t.status = 'open' AND t.needed > t.taken
        ORDER BY h.expires_at LIMIT $1`,
      [limit],
    );
    for (const { task_id } of due) {
      await this.ds.transaction(async (em) => {
        await closeTask(em, task_id, this.closeHooks);
        await em.query(`UPDATE mturk_hits SET expired_applied = true WHERE task_id = $1`, [task_id]);
      });
    }
    return due.length;
  }

  // ------------------------------------------------------------------ assignments

  private async assignmentRows(where: string, params: unknown[], tail = ''): Promise<AssignmentRow[]> {
    return this.ds.query(
      `SELECT a.id, a.task_id, a.worker_id, a.status, a.claimed_at, a.lease_expires_at, a.submitted_at, a.answer, a.auto_approve_at,
              a.reviewed_at, a.reject_reason, a.campaign_id, h.question_kind, t.payload->'mturk'->>'questionIdentifier' AS question_identifier
         FROM assignments a JOIN mturk_hits h ON h.task_id = a.task_id JOIN tasks t ON t.id = a.task_id
        WHERE ${where} ${tail}`,
      params,
    );
  }

  private async assignment(ownerId: string, id: unknown): Promise<AssignmentRow> {
    if (typeof id !== 'string' || !id) throw MturkErrors.missing('AssignmentId');
    if (!isUuid(id)) throw MturkErrors.assignmentNotFound(id);
    const [row] = await this.assignmentRows(`a.id = $1 AND h.owner_id = $2 AND a.status IN ('submitted','approved','rejected')`, [id, ownerId]);
    if (!row) throw MturkErrors.assignmentNotFound(id);
    return row;
  }

  async listAssignmentsForHit(ownerId: string, i: Input): Promise<Output> {
    const hit = await this.hitRow(ownerId, i.HITId, { includeDeleted: true });
    const statuses = i.AssignmentStatuses === undefined ? ['Submitted', 'Approved', 'Rejected'] : i.AssignmentStatuses;
    if (!Array.isArray(statuses) || statuses.some((s) => !['Submitted', 'Approved', 'Rejected'].includes(s as string))) {
      throw MturkErrors.parameter('AssignmentStatuses', 'must be a list of Submitted, Approved, Rejected');
    }
    const tally = Object.entries(ASSIGNMENT_STATUS).filter(([, m]) => statuses.includes(m)).map(([t]) => t);
    const { limit, offset } = page(i);
    const rows = await this.assignmentRows(`a.task_id = $1 AND a.status = ANY($2::text[])`, [hit.task_id, tally], `ORDER BY a.submitted_at, a.id LIMIT ${limit + 1} OFFSET ${offset}`);
    await this.workers.remember(ownerId, rows.map((r) => r.worker_id));
    return paged(rows, limit, offset, 'Assignments', (a) => toAssignment(a, this.workers.workerIdFor(ownerId, a.worker_id)));
  }

  async getAssignment(ownerId: string, i: Input): Promise<Output> {
    const a = await this.assignment(ownerId, i.AssignmentId);
    await this.workers.remember(ownerId, [a.worker_id]);
    return { Assignment: toAssignment(a, this.workers.workerIdFor(ownerId, a.worker_id)), HIT: toHit(await this.hitRow(ownerId, a.task_id, { includeDeleted: true })) };
  }

  async approveAssignment(ownerId: string, i: Input): Promise<Output> {
    const a = await this.assignment(ownerId, i.AssignmentId);
    text(i, 'RequesterFeedback', MTURK_LIMITS.feedback, false);
    const override = i.OverrideRejection === true;
    if (a.status === 'rejected' && !override) throw MturkErrors.invalidAssignmentState(a.id, 'Rejected', 'Submitted (or Rejected with OverrideRejection)');
    if (a.status !== 'submitted' && a.status !== 'rejected') throw MturkErrors.invalidAssignmentState(a.id, ASSIGNMENT_STATUS[a.status] ?? a.status, 'Submitted');
    // A reversed rejection pays the worker through the same use case (audited as rejection_reversed).
    await this.review.approve(ownerId, a.id, { overrideRejection: override });
    return {};
  }

  async rejectAssignment(ownerId: string, i: Input): Promise<Output> {
    const a = await this.assignment(ownerId, i.AssignmentId);
    const feedback = text(i, 'RequesterFeedback', MTURK_LIMITS.feedback, true)!;
    if (a.status !== 'submitted') throw MturkErrors.invalidAssignmentState(a.id, ASSIGNMENT_STATUS[a.status] ?? a.status, 'Submitted');
    await this.review.reject(ownerId, a.id, feedback);
    return {};
  }

  // ------------------------------------------------------------------ money

  async sendBonus(ownerId: string, i: Input): Promise<Output> {
    const mturkWorker = text(i, 'WorkerId', 64, true)!;
    const amountMinor = parseAmount('BonusAmount', i.BonusAmount ?? missing('BonusAmount'), { min: 1 });
    const reason = text(i, 'Reason', MTURK_LIMITS.feedback, true)!;
    const token = text(i, 'UniqueRequestToken', MTURK_LIMITS.token, false);
    const a = await this.assignment(ownerId, i.AssignmentId);
    if (this.workers.workerIdFor(ownerId, a.worker_id) !== mturkWorker) throw MturkErrors.workerNotOnHit(mturkWorker);
    const workerId = a.worker_id;
    if (token) {
      const [dup] = await this.ds.query(`SELECT 1 FROM mturk_bonuses WHERE owner_id = $1 AND unique_request_token = $2`, [ownerId, token]);
      if (dup) throw MturkErrors.bonusAlreadyExists(token);
    }
    const key = token ?? randomUUID();
    // The ledger's idempotency key decides a race between two calls with one token: one pays, one is told.
    const result = await this.bonuses.execute({ requesterId: ownerId, campaignId: a.campaign_id, workerId, amountMinor, reason, idempotencyKey: `mturk:${key}` });
    if (!result.created) throw MturkErrors.bonusAlreadyExists(key);
    await this.ds.query(
      `INSERT INTO mturk_bonuses (owner_id, worker_id, assignment_id, task_id, amount_minor, currency, reason, unique_request_token, ledger_transaction_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING`,
      [ownerId, workerId, a.id, a.task_id, amountMinor, MTURK_CURRENCY, reason, key, result.transaction.id],
    );
    return {};
  }

  async listBonusPayments(ownerId: string, i: Input): Promise<Output> {
    const { limit, offset } = page(i);
    let where: string;
    let id: string;
    if (i.HITId !== undefined) {
      id = (await this.hitRow(ownerId, i.HITId, { includeDeleted: true })).task_id;
      where = 'b.task_id = $2';
    } else if (i.AssignmentId !== undefined) {
      id = (await this.assignment(ownerId, i.AssignmentId)).id;
      where = 'b.assignment_id = $2';
    } else throw MturkErrors.missing('HITId or AssignmentId');
    const rows: { worker_id: string; amount_minor: string; assignment_id: string; reason: string; created_at: Date }[] = await this.ds.query(
      `SELECT b.worker_id, b.amount_minor, b.assignment_id, b.reason, b.created_at FROM mturk_bonuses b
        WHERE b.owner_id = $1 AND ${where} ORDER BY b.created_at, b.id LIMIT $3 OFFSET $4`,
      [ownerId, id, limit + 1, offset],
    );
    return paged(rows, limit, offset, 'BonusPayments', (b) => ({
      WorkerId: this.workers.workerIdFor(ownerId, b.worker_id),
      BonusAmount: formatAmount(Number(b.amount_minor)),
      AssignmentId: b.assignment_id,
      Reason: b.reason,
      GrantTime: epoch(b.created_at),
    }));
  }

  /** Available = the requester's USD cash; on hold = USD escrow of their campaigns (rewards + fees not yet paid). */
  async getAccountBalance(ownerId: string): Promise<Output> {
    const [own, held] = await Promise.all([this.reports.ownerBalances(ownerId), this.reports.escrowOnHold(ownerId)]);
    const available = own.find((b) => b.kind === 'requester_cash' && b.currency === MTURK_CURRENCY)?.balance ?? 0;
    const onHold = held.find((h) => h.currency === MTURK_CURRENCY)?.balance ?? 0;
    return { AvailableBalance: formatAmount(available), OnHoldBalance: formatAmount(onHold) };
  }
}

/**
 * No more assignments for this task: needed = taken (never below), and complete it if its answers
 * are in — with Tally's completion hooks, so the escrow of the slots it will never use goes back.
 */
async function closeTask(em: EntityManager, taskId: string, hooks: TaskCompletionHooks): Promise<void> {
  await em.query(`UPDATE tasks SET needed = taken WHERE id = $1 AND needed > taken AND status = 'open'`, [taskId]);
  await completeTaskIfDone(em, taskId, hooks);
}


// ------------------------------------------------------------------ mapping helpers

function toHit(r: HitRow): Output {
  const available = r.expired || r.hit_status === 'Disposed' ? 0 : Math.max(0, r.needed - r.taken);
  return {
    HITId: r.task_id,
    HITTypeId: r.hit_type_id,
    HITGroupId: r.hit_group_id,
    CreationTime: epoch(r.created_at),
    Title: r.title,
    Description: r.description,
    Question: r.question,
    ...(r.keywords ? { Keywords: r.keywords } : {}),
    HITStatus: r.hit_status,
    MaxAssignments: r.max_assignments,
    Reward: formatAmount(Number(r.reward_minor)),
    AutoApprovalDelayInSeconds: r.auto_approval_delay_seconds,
    Expiration: epoch(r.expires_at),
    AssignmentDurationInSeconds: r.assignment_duration_seconds,
    ...(r.requester_annotation ? { RequesterAnnotation: r.requester_annotation } : {}),
    QualificationRequirements: r.qualification_requirements ?? [],
    HITReviewStatus: r.review_status,
    NumberOfAssignmentsPending: r.pending,
    NumberOfAssignmentsAvailable: available,
    NumberOfAssignmentsCompleted: r.completed,
  };
}

function toAssignment(a: AssignmentRow, workerId: string): Output {
  return {
    AssignmentId: a.id,
    WorkerId: workerId,
    HITId: a.task_id,
    AssignmentStatus: ASSIGNMENT_STATUS[a.status] ?? a.status,
    ...(a.auto_approve_at ? { AutoApprovalTime: epoch(a.auto_approve_at) } : {}),
    AcceptTime: epoch(a.claimed_at),
    ...(a.submitted_at ? { SubmitTime: epoch(a.submitted_at) } : {}),
    ...(a.status === 'approved' ? { ApprovalTime: epoch(a.reviewed_at ?? a.submitted_at) } : {}),
    ...(a.status === 'rejected' ? { RejectionTime: epoch(a.reviewed_at), RequesterFeedback: a.reject_reason ?? undefined } : {}),
    Deadline: epoch(a.lease_expires_at),
    Answer: toQuestionFormAnswers(a.question_kind, a.question_identifier, a.answer),
  };
}

function missing(name: string): never {
  throw MturkErrors.missing(name);
}

function text(i: Input, name: string, max: number, required: boolean): string | null {
  const v = i[name];
  if (v === undefined || v === null) {
    if (required) missing(name);
    return null;
  }
  if (typeof v !== 'string') throw MturkErrors.parameter(name, 'must be a string');
  if (required && !v.trim()) throw MturkErrors.parameter(name, 'must not be empty');
  if (v.length > max) throw MturkErrors.parameter(name, `must have at most ${max} characters`);
  return v;
}

function int(i: Input, name: string, range: { min: number; max: number }, dflt: number | undefined): number {
  const v = i[name];
  if (v === undefined || v === null) {
    if (dflt === undefined) missing(name);
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) throw MturkErrors.parameter(name, 'must be an integer');
  if (v < range.min || v > range.max) throw MturkErrors.parameter(name, `must be between ${range.min} and ${range.max} in Tally`);
  return v;
}



function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}


/** Tally's domain errors in MTurk's words (codes it knows get their MTurk TurkErrorCode). */
export function toMturkError(err: unknown): unknown {
  if (err instanceof MturkError || !(err instanceof DomainError)) return err;
  switch (err.code) {
    case 'INSUFFICIENT_FUNDS':
      return MturkErrors.insufficientFunds(err.message);
    case 'ASSIGNMENT_NOT_SUBMITTED':
      return new MturkError('RequestError', err.message, 'AWS.MechanicalTurk.InvalidAssignmentState');
    case 'ASSIGNMENT_NOT_FOUND':
      return new MturkError('RequestError', err.message, 'AWS.MechanicalTurk.AssignmentDoesNotExist');
  }
  if (err.kind === 'invalid') return new MturkError('RequestError', err.message, 'AWS.ParameterOutOfRange');
  return new MturkError('RequestError', err.message, `AWS.MechanicalTurk.${err.code}`);
}
