import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TaskType, validateAnswer } from '@tally/campaigns';
import { DomainError } from '@tally/common';
import { inTransaction } from '@tally/database';
import { ASSIGNMENT_COLUMNS, requireId, toAssignment } from '../assignment-row';
import { canonicalJson } from '../consensus/task-consensus';
import { AssignmentEntity } from '../entities/assignment.entity';
import { WorkMoney } from '../money/work-money';
import { QUALITY_HOOKS, QualityHooks, StoredAnswer } from '../quality-hooks';
import { sql } from '../sql';
import { WorkErrors } from '../work.errors';
import { completeTaskIfDone } from './complete-task';

export interface SubmitAnswerInput {
  workerId: string;
  assignmentId: string;
  answer: unknown;
  durationMs?: number;
}

export interface SubmitResult {
  assignment: AssignmentEntity;
  /** False when this was a retry of a submit that was already stored (nothing new was written). */
  stored: boolean;
}

interface Target {
  status: string;
  lease_live: boolean;
  answer: unknown;
  payload: Record<string, unknown>;
  task_type: TaskType;
  labels: string[];
  max_text_length: number;
  auto_approve_seconds: number;
  blocked: boolean;
  blocked_reason: string | null;
  // for the quality check after the submit (QualityHooks.afterSubmit)
  gold_pass_mark: number;
  quality_rules: Record<string, unknown> | null;
  qualification: Record<string, unknown> | null;
}

/** The submit statement's row: the assignment (ASSIGNMENT_COLUMNS) plus what the quality check needs. */
type SubmittedRow = Record<string, unknown> & { taskId: string; full: boolean; task_status: string; gold: unknown; elapsed_ms: number };

/**
 * Submits a worker's answer to their claimed assignment.
 * - Validated against the campaign's task type: a 400 names the field.
 * - The state change is `UPDATE ... WHERE status = 'claimed' AND worker_id = me AND lease live`:
 *   its affected count decides a race with the lease sweep or a parallel retry.
 * - A retried submit (same answer) gets the stored result back and writes nothing; a different
 *   answer to an already submitted assignment is a 409 (the first answer stands).
 * - The same statement increments answers_count; the answer that reaches `needed` then
 *   completes the task with its majority-vote consensus (see completeTaskIfDone).
 */
@Injectable()
export class SubmitAnswerUseCase {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly money: WorkMoney,
    @Optional() @Inject(QUALITY_HOOKS) private readonly quality?: QualityHooks,
  ) {}

  async execute(input: SubmitAnswerInput): Promise<SubmitResult> {
    const workerId = requireId(input.workerId, 'workerId');
    const target = await this.target(workerId, input.assignmentId);
    if (!target) throw WorkErrors.assignmentNotFound();
    if (target.blocked) throw WorkErrors.workerBlocked(target.blocked_reason);
    if (target.status !== 'claimed') return this.alreadyDone(workerId, input);
    if (!target.lease_live) throw WorkErrors.leaseExpired();

    const problems = validateAnswer(
      { taskType: target.task_type, labels: target.labels, maxTextLength: target.max_text_length },
      target.payload,
      input.answer,
    );
    if (problems.length) {
      throw new DomainError('INVALID_ANSWER', 'invalid', problems.map((p) => `${p.field}: ${p.problem}`).join('; '), { fields: problems });
    }

    // One statement, so its own transaction: the assignment row first, then its task (the lock
    // order every path of this lib follows), and the task row lock — the hot spot when a task's
    // workers answer together — is held for one statement only, not across round trips.
    const { rows } = await sql<SubmittedRow>(
      this.ds.manager,
      `WITH s AS (
         UPDATE assignments a
            SET status = 'submitted', answer = $3, duration_ms = $4, submitted_at = now(),
                auto_approve_at = now() + make_interval(secs => $5)
          WHERE a.id = $1 AND a.worker_id = $2 AND a.status = 'claimed' AND a.lease_expires_at > now()
          RETURNING ${ASSIGNMENT_COLUMNS('a')})
       UPDATE tasks t SET answers_count = t.answers_count + 1 FROM s WHERE t.id = s."taskId"
       RETURNING s.*, (t.status = 'open' AND t.answers_count >= t.needed) AS full, t.status AS task_status, t.gold,
                 (extract(epoch FROM (s."submittedAt" - s."claimedAt")) * 1000)::int AS elapsed_ms`,
      [input.assignmentId, workerId, JSON.stringify(input.answer), input.durationMs ?? null, target.auto_approve_seconds],
      'submit_answer',
    );
    // Lost the race (a parallel retry stored it first, or the lease ran out meanwhile).
    if (!rows.length) return this.alreadyDone(workerId, input);
    // The answer that fills the task completes it, in a transaction of its own that re-checks
    // under the task's row lock; if this process dies in between, the sweep completes the task.
    const row = rows[0];
    const completed = row.full && (await inTransaction(this.ds, (em) => completeTaskIfDone(em, row.taskId, this.money)));
    // Quality control (gold grading, qualification test, campaign rules) sees every stored answer,
    // handed what this submit already read and wrote (no read-back round trip).
    if (this.quality) await this.quality.afterSubmit(input.assignmentId, storedAnswer(row, target, completed));
    return { assignment: toAssignment(row), stored: true };
  }

  private async alreadyDone(workerId: string, input: SubmitAnswerInput): Promise<SubmitResult> {
    const a = await this.load(workerId, input.assignmentId);
    if (a.status === 'returned') throw WorkErrors.assignmentReturned();
    if (a.status === 'expired' || a.status === 'claimed') throw WorkErrors.leaseExpired();
    if (canonicalJson(a.answer) !== canonicalJson(input.answer)) throw WorkErrors.alreadySubmitted();
    return { assignment: a, stored: false };
  }

  private async target(workerId: string, assignmentId: string): Promise<Target | undefined> {
    const { rows } = await sql<Target>(
      this.ds.manager,
      `SELECT a.status, (a.lease_expires_at > now()) AS lease_live, a.answer, t.payload,
              c.task_type, c.labels, c.max_text_length, c.auto_approve_seconds,
              (u.blocked_at IS NOT NULL) AS blocked, u.blocked_reason,
              c.gold_pass_mark, c.quality_rules, c.qualification
         FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN campaigns c ON c.id = a.campaign_id
         JOIN users u ON u.id = a.worker_id
        WHERE a.id = $1 AND a.worker_id = $2`,
      [assignmentId, workerId],
      'submit_target',
    );
    return rows[0];
  }

  private async load(workerId: string, assignmentId: string): Promise<AssignmentEntity> {
    const { rows } = await sql(this.ds.manager, `SELECT ${ASSIGNMENT_COLUMNS('a')} FROM assignments a WHERE a.id = $1 AND a.worker_id = $2`, [
      assignmentId,
      workerId,
    ]);
    if (!rows[0]) throw WorkErrors.assignmentNotFound();
    return toAssignment(rows[0]);
  }
}

/** The stored answer as the quality check reads it; the task is 'complete' when this answer completed it. */
function storedAnswer(row: SubmittedRow, target: Target, completed: boolean): StoredAnswer {
  return {
    assignment_id: row.id as string,
    task_id: row.taskId,
    campaign_id: row.campaignId as string,
    worker_id: row.workerId as string,
    task_status: completed ? 'complete' : row.task_status,
    gold: row.gold,
    answer: row.answer,
    task_type: target.task_type,
    gold_pass_mark: target.gold_pass_mark,
    quality_rules: target.quality_rules,
    qualification: target.qualification,
    elapsed_ms: row.elapsed_ms,
  };
}
