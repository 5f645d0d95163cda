import { EntityManager } from 'typeorm';
import type { TaskType } from '@tally/campaigns';
import { recordWebhookEvent } from '@tally/webhooks';
import { taskConsensus } from '../consensus/task-consensus';
import { decideTask, WorkerSkill } from '../consensus/task-decision';
import { sql } from '../sql';

/** What else happens, in the same transaction, when a task completes (e.g. WorkMoney releasing its unused slots). */
export interface TaskCompletionHooks {
  /** `known`: the task's answers_count read under its row lock in this transaction, and its campaign's redundancy_max. */
  taskCompleted(em: EntityManager, taskId: string, known?: { answersCount: number; redundancyMax: number }): Promise<unknown>;
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
            c.confidence_target, c.aggregation_method, (c.quality_rules->>'dynamicOverlap')::boolean AS dynamic,
            CASE WHEN c.model_labels = 'annotator' THEN t.prelabel END AS model_answer, t.prelabel_model
       FROM tasks t JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = $1 FOR UPDATE OF t`,
    [taskId],
    'complete_task_lock', // once per task on the submit path: named prepared statements, planned once per connection
  );
  const task = rows[0];
  if (!task || task.status !== 'open' || task.answers_count < task.needed) return false;
  // Answers excluded by a quality rule (their worker was blocked from the campaign) do not count.
  const { rows: answers } = await sql<{ answer: unknown; worker_id: string }>(
    em,
    `SELECT answer, worker_id FROM assignments WHERE task_id = $1 AND status IN ('submitted','approved') AND excluded_at IS NULL ORDER BY submitted_at, id`,
    [taskId],
    'complete_task_answers',
  );
  // Models as annotators (modelLabels 'annotator'): the item's pre-label is one more answer in the
  // consensus, from a pseudo-worker `model:<name>`. It never counts toward needed/redundancy (the
  // task completes on human answers as before) and has no assignment, so it is never paid.
  const model = task.model_answer !== null && task.model_answer !== undefined ? { answer: task.model_answer, worker_id: modelWorkerId(task.prelabel_model) } : null;
  if (task.dynamic) {
    const completed = await dynamicOverlap(em, taskId, task, answers, model);
    // answers_count read under the row lock still holds (needed may have grown; answers did not).
    if (completed) await hooks?.taskCompleted(em, taskId, { answersCount: task.answers_count, redundancyMax: task.redundancy_max });
    return completed;
  }
  const mv = taskConsensus(task.task_type, task.labels, [...answers, ...(model ? [model] : [])].map((r) => r.answer));
  const consensus = mv && model ? { ...mv, answers: answers.length, modelAnswers: 1 } : mv;
  await sql(
    em,
    `UPDATE tasks SET status = 'complete', completed_at = now(), consensus = $2 WHERE id = $1 AND status = 'open'`,
    [taskId, consensus === null ? null : JSON.stringify(consensus)],
    'complete_task_update',
  );
  // Outbox: the requester's task.completed webhook, in this transaction (libs/webhooks).
  await recordWebhookEvent(em, 'task.completed', task.campaign_id, { taskId, consensus, lowConfidence: false }, outboxQuery(em));
  await hooks?.taskCompleted(em, taskId, { answersCount: task.answers_count, redundancyMax: task.redundancy_max });
  return true;
}

/** The outbox statement (recordWebhookEvent) as a named prepared statement: it runs once per completed task. */
const outboxQuery = (em: EntityManager) => async (text: string, params: unknown[]) =>
  (await sql<{ event_id: string }>(em, text, params, 'webhook_outbox')).rows;

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
  model_answer: unknown;
  prelabel_model: string | null;
}

/** The pseudo-worker id a model answers under in consensus and in model_skills: `model:<name>`. */
export const MODEL_WORKER_PREFIX = 'model:';
export function modelWorkerId(name: string | null | undefined): string {
  return `${MODEL_WORKER_PREFIX}${name?.trim() || 'model'}`;
}

/**
 * Dynamic overlap (campaign quality rule `dynamicOverlap`): the task's posterior with the current
 * worker skills decides (decideTask) — complete; or one more slot (needed + 1, still under the
 * lock) while under redundancyMax; or complete flagged low-confidence. Returns whether it completed.
 */
async function dynamicOverlap(
  em: EntityManager,
  taskId: string,
  task: TaskRow,
  answers: { answer: unknown; worker_id: string }[],
  model: { answer: unknown; worker_id: string } | null,
): Promise<boolean> {
  const crowd = await campaignCrowd(em, task.campaign_id);
  const skills = await loadWorkerSkills(em, task.campaign_id, answers.map((a) => a.worker_id), crowd.meanAccuracy);
  if (model) Object.assign(skills, await loadModelSkills(em, task.campaign_id, [model.worker_id]));
  const decision = decideTask(
    task.task_type,
    task.labels,
    task.payload,
    [...answers.map((a) => ({ worker: a.worker_id, answer: a.answer })), ...(model ? [{ worker: model.worker_id, answer: model.answer, model: true }] : [])],
    {
      min: task.redundancy_min,
      max: task.redundancy_max,
      target: task.confidence_target,
      method: task.aggregation_method,
      defaultAccuracy: crowd.meanAccuracy,
      bestAccuracy: crowd.bestAccuracy,
    },
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
  await recordWebhookEvent(
    em,
    'task.completed',
    task.campaign_id,
    { taskId, consensus: decision.consensus, lowConfidence: decision.outcome !== 'complete' },
    outboxQuery(em),
  );
  return true;
}

/** Prior strength (pseudo-answers) of the crowd's mean accuracy for a worker known only by gold. */
const PRIOR_ANSWERS = 10;
/** Workers the crowd prior needs (with at least MIN_SKILL_ANSWERS answers each) before it replaces 0.7. */
const MIN_CROWD = 3;
const MIN_SKILL_ANSWERS = 10;

/**
 * What the campaign's crowd says about a worker it does not know yet (empirical Bayes): the
 * answer-weighted mean Dawid-Skene accuracy of its workers who are not blocked (once at least
 * MIN_CROWD have MIN_SKILL_ANSWERS answers; else 0.7, the old fixed guess), and the best known
 * accuracy (for the futility stop; absent until the crowd is known).
 */
export async function campaignCrowd(em: EntityManager, campaignId: string): Promise<{ meanAccuracy: number; bestAccuracy?: number }> {
  const { rows } = await sql<{ n: number; mean: number | null; best: number | null }>(
    em,
    `SELECT count(*)::int AS n, sum(s.accuracy * s.answers) / nullif(sum(s.answers), 0) AS mean, max(s.accuracy) AS best
       FROM worker_skills s
      WHERE s.campaign_id = $1 AND s.answers >= $2
        AND NOT EXISTS (SELECT 1 FROM campaign_blocks b WHERE b.campaign_id = s.campaign_id AND b.worker_id = s.worker_id)`,
    [campaignId, MIN_SKILL_ANSWERS],
  );
  const r = rows[0];
  if (!r || r.n < MIN_CROWD || r.mean === null) return { meanAccuracy: 0.7 };
  return { meanAccuracy: Number(r.mean), bestAccuracy: r.best === null ? undefined : Number(r.best) };
}

/**
 * The skills dynamic overlap weighs answers with: the campaign's Dawid-Skene confusion matrices
 * (worker_skills, written by the quality job), else a one-coin accuracy from the worker's graded
 * gold answers in this campaign so far, shrunk towards `prior` (the crowd's mean accuracy, see
 * campaignCrowd; 0.7 by default) with 10 pseudo-answers: a Beta prior centred on what a worker of
 * this crowd is likely to be, updated by their own gold record.
 */
export async function loadWorkerSkills(em: EntityManager, campaignId: string, workerIds: string[], prior = 0.7): Promise<Record<string, WorkerSkill>> {
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
    const goldAcc = (r.gold_ok + prior * PRIOR_ANSWERS) / (r.gold_n + PRIOR_ANSWERS);
    out[r.worker_id] = r.confusion
      ? { accuracy: r.ds_accuracy ?? goldAcc, classes: r.classes ?? undefined, confusion: r.confusion }
      : { accuracy: goldAcc };
  }
  return out;
}

/**
 * The confusion matrices the quality job learnt for models (modelLabels 'annotator'), keyed by
 * their pseudo-worker id. A model the job has not seen yet gets the default like a new worker.
 */
export async function loadModelSkills(em: EntityManager, campaignId: string, modelIds: string[]): Promise<Record<string, WorkerSkill>> {
  const names = [...new Set(modelIds)].map((id) => id.slice(MODEL_WORKER_PREFIX.length));
  if (!names.length) return {};
  const { rows } = await sql<{ model: string; classes: string[] | null; confusion: number[][] | null; accuracy: number }>(
    em,
    `SELECT model, classes, confusion, accuracy FROM model_skills WHERE campaign_id = $1 AND model = ANY($2::text[])`,
    [campaignId, names],
  );
  const out: Record<string, WorkerSkill> = {};
  for (const r of rows) {
    out[modelWorkerId(r.model)] = r.confusion?.length ? { accuracy: r.accuracy, classes: r.classes ?? undefined, confusion: r.confusion } : { accuracy: r.accuracy };
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
  if (reopened) await reopenCampaign(em, r.campaign_id);
  return { reopened };
}

/**
 * A completed campaign takes work again (a task of it reopened: a rejection, a block, more
 * assignments) — unless its deadline has passed, when no one could claim the reopened task.
 */
export async function reopenCampaign(em: EntityManager, campaignId: string): Promise<void> {
  await sql(em, `UPDATE campaigns SET status = 'published', completed_at = NULL WHERE id = $1 AND status = 'completed' AND (deadline IS NULL OR deadline > now())`, [campaignId]);
}
