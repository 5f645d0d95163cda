import { EntityManager } from 'typeorm';
import type { TaskType } from '@tally/campaigns';
import { taskConsensus } from '../consensus/task-consensus';
import { decideTask, WorkerSkill } from '../consensus/task-decision';
import { sql } from '../sql';

/** What else happens, in the same transaction, when a task completes (e.g. WorkMoney releasing its unused slots). */
export interface TaskCompletionHooks {
  taskCompleted(em: EntityManager, taskId: string): Promise<unknown>;
}

/**
 * Completes a task with a majority-vote consensus when its good answers (submitted + approved)
 * have reached `needed`. Runs in the caller's transaction and takes the task's row lock first, so
 * it serialises with submits and rejections of this task: the answers read under the lock are
 * exactly the ones answers_count counts, and of two callers racing only the first completes it.
 * `hooks.taskCompleted` runs in the same transaction right after (WorkMoney: give back the
 * escrow of slots the task will never use). Safe to call any number of times.
 */
export async function completeTaskIfDone(em: EntityManager, taskId: string, hooks?: TaskCompletionHooks): Promise<boolean> {
  const { rows } = await sql<TaskRow>(
    em,
    `SELECT t.answers_count, t.needed, t.status, t.payload, t.campaign_id, c.task_type, c.labels, c.redundancy_min, c.redundancy_max,
            c.confidence_target, c.aggregation_method, (c.quality_rules->>'dynamicOverlap')::boolean AS dynamic
       FROM tasks t JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = $1 FOR UPDATE OF t`,
    [taskId],
  );
  const task = rows[0];
  if (!task || task.status !== 'open' || task.answers_count < task.needed) return false;
  // Answers excluded by a quality rule (their worker was blocked from the campaign) do not count.
  const { rows: answers } = await sql<{ answer: unknown; worker_id: string }>(
    em,
    `SELECT answer, worker_id FROM assignments WHERE task_id = $1 AND status IN ('submitted','approved') AND excluded_at IS NULL ORDER BY submitted_at, id`,
    [taskId],
  );
  if (task.dynamic) {
    const completed = await dynamicOverlap(em, taskId, task, answers);
    if (completed) await hooks?.taskCompleted(em, taskId);
    return completed;
  }
  const consensus = taskConsensus(task.task_type, task.labels, answers.map((r) => r.answer));
  await sql(em, `UPDATE tasks SET status = 'complete', completed_at = now(), consensus = $2 WHERE id = $1 AND status = 'open'`, [
    taskId,
    consensus === null ? null : JSON.stringify(consensus),
  ]);
  await hooks?.taskCompleted(em, taskId);
  return true;
}

interface TaskRow {
  answers_count: number;
  needed: number;
  status: string;
  payload: Record<string, unknown>;
  campaign_id: string;
  task_type: TaskType;
  labels: string[];
  redundancy_min: number;
  redundancy_max: number;
  confidence_target: number;
  aggregation_method: string;
  dynamic: boolean | null;
}

/**
 * Dynamic overlap (campaign quality rule `dynamicOverlap`): the task's posterior with the current
 * worker skills decides (decideTask) — complete; or one more slot (needed + 1, still under the
 * lock) while under redundancyMax; or complete flagged low-confidence. Returns whether it completed.
 */
async function dynamicOverlap(em: EntityManager, taskId: string, task: TaskRow, answers: { answer: unknown; worker_id: string }[]): Promise<boolean> {
  const skills = await loadWorkerSkills(em, task.campaign_id, answers.map((a) => a.worker_id));
  const decision = decideTask(
    task.task_type,
    task.labels,
    task.payload,
    answers.map((a) => ({ worker: a.worker_id, answer: a.answer })),
    { min: task.redundancy_min, max: task.redundancy_max, target: task.confidence_target, method: task.aggregation_method },
    skills,
  );
  if (decision.outcome === 'needs-more' && task.needed < task.redundancy_max) {
    await sql(em, `UPDATE tasks SET needed = needed + 1 WHERE id = $1 AND status = 'open'`, [taskId]);
    return false;
  }
  await sql(em, `UPDATE tasks SET status = 'complete', completed_at = now(), consensus = $2, low_confidence = $3 WHERE id = $1 AND status = 'open'`, [
    taskId,
    decision.consensus === null ? null : JSON.stringify(decision.consensus),
    decision.outcome !== 'complete',
  ]);
  return true;
}

/**
 * The skills dynamic overlap weighs answers with: the campaign's Dawid-Skene confusion matrices
 * (worker_skills, written by the quality job), else a one-coin accuracy from the worker's graded
 * gold answers in this campaign so far, shrunk towards 0.7 with 10 pseudo-answers.
 */
export async function loadWorkerSkills(em: EntityManager, campaignId: string, workerIds: string[]): Promise<Record<string, WorkerSkill>> {
  if (!workerIds.length) return {};
  const { rows } = await sql<{ worker_id: string; classes: string[] | null; confusion: number[][] | null; ds_accuracy: number | null; gold_n: number; gold_ok: number }>(
    em,
    `SELECT w.id AS worker_id, s.classes, s.confusion, s.accuracy AS ds_accuracy,
            coalesce(g.n, 0)::int AS gold_n, coalesce(g.ok, 0)::int AS gold_ok
       FROM unnest($2::uuid[]) AS w(id)
       LEFT JOIN worker_skills s ON s.campaign_id = $1 AND s.worker_id = w.id
       LEFT JOIN LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE a.gold_correct) AS ok FROM assignments a
                           WHERE a.campaign_id = $1 AND a.worker_id = w.id AND a.gold_correct IS NOT NULL) g ON true`,
    [campaignId, [...new Set(workerIds)]],
  );
  const out: Record<string, WorkerSkill> = {};
  for (const r of rows) {
    const goldAcc = (r.gold_ok + 7) / (r.gold_n + 10);
    out[r.worker_id] = r.confusion
      ? { accuracy: r.ds_accuracy ?? goldAcc, classes: r.classes ?? undefined, confusion: r.confusion }
      : { accuracy: goldAcc };
  }
  return out;
}

/**
 * Frees one slot of a task after a rejection (taken - 1, answers_count - 1). A complete task that
 * now has fewer good answers than it needs is reopened: status open, consensus cleared until the
 * replacement answer completes it again; a completed campaign goes back to published so the slot
 * can be claimed. Runs inside the caller's transaction.
 */
export async function releaseRejectedSlot(em: EntityManager, taskId: string): Promise<{ reopened: boolean }> {
  // The old status is read under the row lock the UPDATE takes anyway (FOR UPDATE in the CTE).
  const { rows } = await sql<{ campaign_id: string; was: string; now: string }>(
    em,
    `WITH old AS (SELECT id, status FROM tasks WHERE id = $1 FOR UPDATE)
     UPDATE tasks t
        SET taken = t.taken - 1,
            answers_count = t.answers_count - 1,
            status = CASE WHEN t.status = 'gold' THEN 'gold' WHEN t.answers_count - 1 < t.needed THEN 'open' ELSE t.status END,
            consensus = CASE WHEN t.status = 'complete' AND t.answers_count - 1 < t.needed THEN NULL ELSE t.consensus END,
            completed_at = CASE WHEN t.status = 'complete' AND t.answers_count - 1 < t.needed THEN NULL ELSE t.completed_at END
       FROM old
      WHERE t.id = old.id
      RETURNING t.campaign_id, old.status AS was, t.status AS now`,
    [taskId],
  );
  const r = rows[0];
  const reopened = !!r && r.was === 'complete' && r.now === 'open';
  if (reopened) {
    await sql(em, `UPDATE campaigns SET status = 'published', completed_at = NULL WHERE id = $1 AND status = 'completed'`, [r.campaign_id]);
  }
  return { reopened };
}
