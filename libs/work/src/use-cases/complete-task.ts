import { EntityManager } from 'typeorm';
import type { TaskType } from '@tally/campaigns';
import { taskConsensus } from '../consensus/task-consensus';
import { sql } from '../sql';

/**
 * Completes a task with a majority-vote consensus when its good answers (submitted + approved)
 * have reached `needed`. Runs in the caller's transaction and takes the task's row lock first, so
 * it serialises with submits and rejections of this task: the answers read under the lock are
 * exactly the ones answers_count counts, and of two callers racing only the first completes it.
 * Safe to call any number of times.
 */
export async function completeTaskIfDone(em: EntityManager, taskId: string): Promise<boolean> {
  const { rows } = await sql<{ answers_count: number; needed: number; status: string; task_type: TaskType; labels: string[] }>(
    em,
    `SELECT t.answers_count, t.needed, t.status, c.task_type, c.labels
       FROM tasks t JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = $1 FOR UPDATE OF t`,
    [taskId],
  );
  const task = rows[0];
  if (!task || task.status !== 'open' || task.answers_count < task.needed) return false;
  const { rows: answers } = await sql<{ answer: unknown }>(
    em,
    `SELECT answer FROM assignments WHERE task_id = $1 AND status IN ('submitted','approved') ORDER BY submitted_at, id`,
    [taskId],
  );
  const consensus = taskConsensus(task.task_type, task.labels, answers.map((r) => r.answer));
  await sql(em, `UPDATE tasks SET status = 'complete', completed_at = now(), consensus = $2 WHERE id = $1 AND status = 'open'`, [
    taskId,
    consensus === null ? null : JSON.stringify(consensus),
  ]);
  return true;
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
            status = CASE WHEN t.answers_count - 1 < t.needed THEN 'open' ELSE t.status END,
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
