import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DawidSkene } from '@tally/consensus';
import type { TaskConsensus, TaskType } from '@tally/campaigns';
import { inTransaction } from '@tally/database';
import { JobRegistry } from '@tally/jobs';
import { modelWorkerId, MODEL_WORKER_PREFIX, workSql as sql } from '@tally/work';
import { consensusAsAnswer } from './consensus-answer';
import { answersMatch, RULE_Z, wilson } from './grading';
import { QualityControlService } from './quality-control.service';
import { QualityRules, rulesOf } from './rules';

/** Pseudo-answers per confusion row of the crowd prior in the Dawid-Skene job. */
const PRIOR_ROW_ANSWERS = 1;

/** How often the background job re-estimates campaigns with new answers. */
export const REESTIMATE_EVERY_MS = 30_000;

interface AnswerRow {
  task_id: string;
  worker_id: string;
  answer: unknown;
  gold: unknown;
  is_gold: boolean;
  consensus: TaskConsensus | null;
}

export interface ReestimateReport {
  campaignId: string;
  workers: number;
  /** Models learnt as annotators (modelLabels 'annotator'). */
  models: number;
  answers: number;
  method: string;
  collusionFlags: number;
  /** Workers blocked or flagged by the Dawid-Skene accuracy rule in this run. */
  skillActions: number;
}


/**
 * The campaign-wide re-estimation job: Dawid-Skene (gold items clamped to their gold answer, a
 * one-pseudo-answer crowd prior per confusion row) over every counted answer of a single-label campaign gives each worker a
 * confusion matrix, accuracy and chance-corrected skill, stored in worker_skills, which dynamic
 * overlap then uses. For the other task types a worker's accuracy is their agreement with
 * consensus and gold (shrunk towards 0.7). Then the collusion check: pairs of workers whose
 * agreement exceeds what their accuracies explain by more than the campaign's margin are flagged
 * for an admin. `runOnce` (the 'quality-reestimate' job, and callable by any sweep) handles
 * campaigns with answers since their last run, and rejects failed gold that is due.
 */
@Injectable()
export class ReestimateService implements OnModuleInit {
  private readonly log = new Logger('Quality');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly control: QualityControlService,
    @Optional() private readonly jobs?: JobRegistry,
  ) {}

  onModuleInit(): void {
    this.jobs?.define({ name: 'quality-reestimate', everyMs: REESTIMATE_EVERY_MS, run: () => this.runOnce() });
  }

  async runOnce(): Promise<{ goldRejected: number; campaigns: ReestimateReport[] }> {
    await this.control.gradePending();
    await this.control.applyPendingReviewPolicies();
    const goldRejected = await this.control.rejectFailedGold();
    const { rows } = await sql<{ id: string; n: number }>(
      this.ds.manager,
      `SELECT c.id, x.n FROM campaigns c
         CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM assignments a WHERE a.campaign_id = c.id AND a.submitted_at IS NOT NULL) x
         LEFT JOIN quality_runs r ON r.campaign_id = c.id
        WHERE c.status IN ('published','paused','completed') AND x.n > coalesce(r.answers_seen, 0)
        LIMIT 50`,
    );
    const campaigns: ReestimateReport[] = [];
    for (const r of rows) {
      try {
        campaigns.push(await this.reestimateCampaign(r.id));
      } catch (err) {
        this.log.error(`re-estimation of campaign ${r.id} failed: ${(err as Error).message}`);
      }
    }
    return { goldRejected, campaigns };
  }

  async reestimateCampaign(campaignId: string): Promise<ReestimateReport> {
    const { rows: cs } = await sql<{ task_type: TaskType; labels: string[]; quality_rules: Partial<QualityRules>; model_labels: string; gold_pass_mark: number }>(
      this.ds.manager,
      `SELECT task_type, labels, quality_rules, model_labels, gold_pass_mark FROM campaigns WHERE id = $1`,
      [campaignId],
    );
    const c = cs[0];
    if (!c) throw new Error(`campaign ${campaignId} not found`);
    const rules = rulesOf(c.quality_rules);
    const { rows: all } = await sql<AnswerRow & { excluded: boolean; seen: number }>(
      this.ds.manager,
      `SELECT a.task_id, a.worker_id, a.answer, t.gold, (t.status = 'gold') AS is_gold, t.consensus, (a.excluded_at IS NOT NULL) AS excluded
         FROM assignments a JOIN tasks t ON t.id = a.task_id
        WHERE a.campaign_id = $1 AND a.submitted_at IS NOT NULL AND a.answer IS NOT NULL`,
      [campaignId],
    );
    // Models as annotators: each pre-label of a task that has counted human answers (or is gold)
    // is one more answer from the pseudo-worker model:<name>, so Dawid-Skene learns the model's
    // confusion matrix next to the workers'. Models stay out of the collusion check (`all`).
    const modelRows: AnswerRow[] = [];
    if (c.model_labels === 'annotator') {
      const { rows: pre } = await sql<{ task_id: string; prelabel: unknown; prelabel_model: string | null; gold: unknown; is_gold: boolean; consensus: TaskConsensus | null }>(
        this.ds.manager,
        `SELECT t.id AS task_id, t.prelabel, t.prelabel_model, t.gold, (t.status = 'gold') AS is_gold, t.consensus FROM tasks t
          WHERE t.campaign_id = $1 AND t.prelabel IS NOT NULL
            AND EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.submitted_at IS NOT NULL AND a.excluded_at IS NULL)`,
        [campaignId],
      );
      for (const p of pre) modelRows.push({ task_id: p.task_id, worker_id: modelWorkerId(p.prelabel_model), answer: p.prelabel, gold: p.gold, is_gold: p.is_gold, consensus: p.consensus });
    }
    const counted = [...all.filter((a) => !a.excluded), ...modelRows];
    type Skill = { classes: string[]; confusion: number[][]; accuracy: number; skill: number; answers: number };
    const skills = new Map<string, Skill>();
    // What the accuracy rule judges: the same as `skills`, except for single-label (see below).
    let judgedBySkillRule: Map<string, { accuracy: number; answers: number }> = skills;
    let method = 'agreement';
    // the best current estimate of each task's answer, the collusion check's reference
    const reference = new Map<string, unknown>();
    if (c.task_type === 'single-label' && counted.length) {
      method = 'ds';
      const gold = new Map<string, string>();
      for (const a of counted) if (a.is_gold) gold.set(a.task_id, (a.gold as { label: string }).label);
      // The prior on each confusion row: PRIOR_ROW_ANSWERS pseudo-answers of a typical worker of
      // this crowd (one-coin at the crowd's mean accuracy, empirical Bayes), plus a little uniform
      // smoothing so no cell is zero. A uniform pseudo-count alone pulls every worker towards
      // chance: 0.2 per cell made 0.9 workers look 0.86 after 45 answers, and the posteriors
      // of dynamic overlap under-confident (more answers bought than the target needs).
      const a0 = await this.crowdAccuracy(campaignId);
      const K = c.labels.length;
      const typical = c.labels.map((_, k) => c.labels.map((__, l) => (k === l ? a0 : (1 - a0) / Math.max(1, K - 1))));
      const priorConfusions = Object.fromEntries([...new Set(counted.map((a) => a.worker_id))].map((w) => [w, typical]));
      const long = counted.map((a) => ({ task: a.task_id, worker: a.worker_id, label: (a.answer as { label: string }).label }));
      const fit = new DawidSkene({ classes: c.labels, gold, smoothing: 0.05, priorConfusions, priorStrength: PRIOR_ROW_ANSWERS, maxIterations: 200 }).fit(long);
      // The accuracy rule judges a second fit without the crowd prior (uniform smoothing only): a
      // prior centred on a decent worker lets a random answerer's own answers pull the estimated
      // truths of the tasks they share with few others towards theirs (a simulated spammer read
      // 0.47 after 41 answers), so for blocking, the estimate that gives no benefit of the doubt.
      if (rules.skillAction !== 'off') {
        const plain = new DawidSkene({ classes: c.labels, gold, smoothing: 0.2, maxIterations: 200 }).fit(long);
        judgedBySkillRule = new Map(plain.workers.map((w, i) => [w, { accuracy: plain.workerAccuracy[i], answers: plain.workerAnswers[i] }]));
      }
      fit.tasks.forEach((task, i) => reference.set(task, { label: fit.labels[i] }));
      fit.workers.forEach((w, i) =>
        skills.set(w, { classes: [...fit.classes], confusion: fit.workerConfusion(w)!, accuracy: fit.workerAccuracy[i], skill: fit.workerSkill[i], answers: fit.workerAnswers[i] }),
      );
    } else {
      const per = new Map<string, { ok: number; n: number }>();
      for (const a of counted) {
        const ref = a.is_gold ? a.gold : consensusAsAnswer(c.task_type, a.consensus);
        if (ref == null) continue;
        const s = per.get(a.worker_id) ?? { ok: 0, n: 0 };
        s.n++;
        if (answersMatch(c.task_type, a.answer, ref)) s.ok++;
        per.set(a.worker_id, s);
      }
      for (const [w, s] of per) {
        const accuracy = (s.ok + 7) / (s.n + 10);
        skills.set(w, { classes: [], confusion: [], accuracy, skill: 2 * accuracy - 1, answers: s.n });
      }
    }
    await inTransaction(this.ds, async (em) => {
      for (const [w, s] of skills) {
        if (w.startsWith(MODEL_WORKER_PREFIX)) {
          await sql(
            em,
            `INSERT INTO model_skills (campaign_id, model, method, classes, confusion, accuracy, skill, answers, updated_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8, now())
             ON CONFLICT (campaign_id, model) DO UPDATE SET method = EXCLUDED.method, classes = EXCLUDED.classes, confusion = EXCLUDED.confusion,
               accuracy = EXCLUDED.accuracy, skill = EXCLUDED.skill, answers = EXCLUDED.answers, updated_at = now()`,
            [campaignId, w.slice(MODEL_WORKER_PREFIX.length), method, JSON.stringify(s.classes), JSON.stringify(s.confusion), s.accuracy, s.skill, s.answers],
          );
          continue;
        }
        await sql(
          em,
          `INSERT INTO worker_skills (campaign_id, worker_id, method, classes, confusion, accuracy, skill, answers, updated_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8, now())
           ON CONFLICT (campaign_id, worker_id) DO UPDATE SET method = EXCLUDED.method, classes = EXCLUDED.classes, confusion = EXCLUDED.confusion,
             accuracy = EXCLUDED.accuracy, skill = EXCLUDED.skill, answers = EXCLUDED.answers, updated_at = now()`,
          [campaignId, w, method, JSON.stringify(s.classes), JSON.stringify(s.confusion), s.accuracy, s.skill, s.answers],
        );
      }
      await sql(
        em,
        `INSERT INTO quality_runs (campaign_id, answers_seen, ran_at) VALUES ($1, $2, now())
         ON CONFLICT (campaign_id) DO UPDATE SET answers_seen = EXCLUDED.answers_seen, ran_at = now()`,
        [campaignId, all.length],
      );
    });
    const skillActions = method === 'ds' ? await this.skillRule(campaignId, judgedBySkillRule, rules, c.gold_pass_mark) : 0;
    // A worker blocked earlier has no counted answers left, so no fresh estimate: the collusion
    // check judges them by how often their (excluded) answers match the reference, not by the 0.7
    // of a stranger — a spammer taken for a 0.7 worker makes an honest worker's chance agreements
    // with them look like copying.
    const judged = new Map<string, { accuracy: number }>(skills);
    const tally = new Map<string, { ok: number; n: number }>();
    for (const a of all) {
      if (judged.has(a.worker_id)) continue;
      const ref = a.is_gold ? a.gold : (reference.get(a.task_id) ?? consensusAsAnswer(c.task_type, a.consensus));
      if (ref == null) continue;
      const s = tally.get(a.worker_id) ?? { ok: 0, n: 0 };
      s.n++;
      if (answersMatch(c.task_type, a.answer, ref)) s.ok++;
      tally.set(a.worker_id, s);
    }
    for (const [w, s] of tally) judged.set(w, { accuracy: (s.ok + 1.4) / (s.n + 2) });
    const collusionFlags = await this.collusion(campaignId, c.task_type, c.labels, all, judged, rules, reference);
    const models = [...skills.keys()].filter((w) => w.startsWith(MODEL_WORKER_PREFIX)).length;
    return { campaignId, workers: skills.size - models, models, answers: counted.length - modelRows.length, method, collusionFlags, skillActions };
  }

  /**
   * The campaign crowd's answer-weighted mean Dawid-Skene accuracy over workers not blocked, from
   * the previous run (0.7 before there is one), clamped to [0.5, 0.9]: the centre of the prior.
   */
  private async crowdAccuracy(campaignId: string): Promise<number> {
    const { rows } = await sql<{ mean: number | null }>(
      this.ds.manager,
      `SELECT sum(s.accuracy * s.answers) / nullif(sum(s.answers), 0) AS mean FROM worker_skills s
        WHERE s.campaign_id = $1 AND NOT EXISTS (SELECT 1 FROM campaign_blocks b WHERE b.campaign_id = s.campaign_id AND b.worker_id = s.worker_id)`,
      [campaignId],
    );
    const m = rows[0]?.mean;
    return m === null || m === undefined ? 0.7 : Math.min(0.9, Math.max(0.5, Number(m)));
  }

  /**
   * The Dawid-Skene accuracy rule (skillAction): a worker with at least skillMinAnswers counted
   * answers whose DS accuracy is under the pass mark even at the Wilson 99% upper bound (the
   * accuracy read as a rate over their answers) is blocked from the campaign or flagged. 99% (RULE_Z,
   * as the gold rule's upper bound): the DS accuracy is itself an estimate against estimated truths, biased
   * low for weak honest workers (simulated 0.65 workers: DS 0.39–0.58 after 20–49 answers), while
   * random answerers and copying rings sit near chance (0.1–0.4). Models are never judged.
   * Returns the number of workers acted on.
   */
  private async skillRule(campaignId: string, skills: Map<string, { accuracy: number; answers: number }>, rules: QualityRules, passMark: number): Promise<number> {
    if (rules.skillAction === 'off') return 0;
    let acted = 0;
    for (const [w, s] of skills) {
      if (w.startsWith(MODEL_WORKER_PREFIX) || s.answers < rules.skillMinAnswers) continue;
      const upper = wilson(s.accuracy * s.answers, s.answers, RULE_Z).high;
      if (upper >= passMark) continue;
      const reason = `Dawid-Skene accuracy ${s.accuracy.toFixed(2)} over ${s.answers} answers: even its 99% upper bound ${upper.toFixed(2)} is under the pass mark ${passMark}`;
      const done =
        rules.skillAction === 'block'
          ? await this.control.blockFromCampaign(campaignId, w, 'ds-accuracy', reason, null)
          : await this.control.flag(campaignId, 'ds-accuracy', [w], reason, { accuracy: s.accuracy, answers: s.answers });
      if (done) acted++;
    }
    return acted;
  }

  /**
   * Pairs of workers who agree on WRONG answers (different from the gold answer, or from the
   * current Dawid-Skene estimate / the completed task's consensus) far more often than independent workers of their accuracy
   * would: independent workers share a wrong label with probability (1−a)(1−b)/(K−1), a pair
   * that copies shares nearly all of its mistakes. Flagged for an admin when the observed rate
   * over at least `collusionMinShared` shared tasks with a reference exceeds the expected one by
   * more than `collusionMargin` and a binomial test puts the count below chance level: 1% for the
   * whole campaign, divided among the pairs tested (Bonferroni), since a campaign with n workers
   * tests up to n(n−1)/2 pairs and a fixed per-pair level would flag honest pairs by chance alone.
   * Excluded answers count here: copying is evidence even after a block.
   */
  private async collusion(
    campaignId: string,
    taskType: TaskType,
    labels: string[],
    all: AnswerRow[],
    skills: Map<string, { accuracy: number }>,
    rules: QualityRules,
    reference: Map<string, unknown>,
  ): Promise<number> {
    const byTask = new Map<string, AnswerRow[]>();
    for (const a of all) byTask.set(a.task_id, [...(byTask.get(a.task_id) ?? []), a]);
    const pairs = new Map<string, { shared: number; agree: number; agreeWrong: number }>();
    for (const [taskId, answers] of byTask) {
      // gold, else the fresh Dawid-Skene label (skills of now, not of when the task completed), else the stored consensus
      const ref = answers[0].is_gold ? answers[0].gold : (reference.get(taskId) ?? consensusAsAnswer(taskType, answers[0].consensus));
      if (ref == null) continue;
      for (let i = 0; i < answers.length; i++)
        for (let j = i + 1; j < answers.length; j++) {
          const [x, y] = [answers[i], answers[j]].sort((p, q) => p.worker_id.localeCompare(q.worker_id));
          const key = `${x.worker_id}|${y.worker_id}`;
          const p = pairs.get(key) ?? { shared: 0, agree: 0, agreeWrong: 0 };
          p.shared++;
          if (answersMatch(taskType, x.answer, y.answer)) {
            p.agree++;
            if (!answersMatch(taskType, x.answer, ref)) p.agreeWrong++;
          }
          pairs.set(key, p);
        }
    }
    const K = Math.max(2, labels.length);
    const tested = [...pairs].filter(([, p]) => p.shared >= rules.collusionMinShared);
    const alpha = 0.01 / Math.max(1, tested.length);
    let flagged = 0;
    for (const [key, p] of tested) {
      const [a, b] = key.split('|');
      const qa = skills.get(a)?.accuracy ?? 0.7;
      const qb = skills.get(b)?.accuracy ?? 0.7;
      const expected = ((1 - qa) * (1 - qb)) / (taskType === 'single-label' ? K - 1 : 1);
      const observed = p.agreeWrong / p.shared;
      // far above (the margin) and unlikely by chance (binomial tail under independence, corrected for the number of pairs)
      if (observed - expected <= rules.collusionMargin || binomialTail(p.agreeWrong, p.shared, expected) >= alpha) continue;
      const reason = `share the same wrong answer on ${p.agreeWrong} of ${p.shared} shared tasks (${observed.toFixed(2)}) where their accuracies (${qa.toFixed(2)}, ${qb.toFixed(2)}) explain ${expected.toFixed(2)}`;
      if (await this.control.flag(campaignId, 'collusion', [a, b], reason, { shared: p.shared, agree: p.agree, agreeWrong: p.agreeWrong, expected })) flagged++;
    }
    return flagged;
  }
}

/** P(X ≥ k) for X ~ Binomial(n, p). */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let term = Math.pow(1 - p, n); // P(X = 0)
  let cdf = 0;
  for (let i = 0; i < k; i++) {
    cdf += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return Math.max(0, 1 - cdf);
}
