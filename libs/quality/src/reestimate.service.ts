import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DawidSkene } from '@tally/consensus';
import type { TaskConsensus, TaskType } from '@tally/campaigns';
import { inTransaction } from '@tally/database';
import { JobRegistry } from '@tally/jobs';
import { workSql as sql } from '@tally/work';
import { consensusAsAnswer } from './consensus-answer';
import { answersMatch } from './grading';
import { QualityControlService } from './quality-control.service';
import { QualityRules, rulesOf } from './rules';

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
  answers: number;
  method: string;
  collusionFlags: number;
}


/**
 * The campaign-wide re-estimation job: Dawid-Skene (gold items clamped to their gold answer,
 * smoothing 0.2 per cell) over every counted answer of a single-label campaign gives each worker a
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
    const { rows: cs } = await sql<{ task_type: TaskType; labels: string[]; quality_rules: Partial<QualityRules> }>(
      this.ds.manager,
      `SELECT task_type, labels, quality_rules FROM campaigns WHERE id = $1`,
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
    const counted = all.filter((a) => !a.excluded);
    type Skill = { classes: string[]; confusion: number[][]; accuracy: number; skill: number; answers: number };
    const skills = new Map<string, Skill>();
    let method = 'agreement';
    // the best current estimate of each task's answer, the collusion check's reference
    const reference = new Map<string, unknown>();
    if (c.task_type === 'single-label' && counted.length) {
      method = 'ds';
      const gold = new Map<string, string>();
      for (const a of counted) if (a.is_gold) gold.set(a.task_id, (a.gold as { label: string }).label);
      const fit = new DawidSkene({ classes: c.labels, gold, smoothing: 0.2, maxIterations: 200 }).fit(
        counted.map((a) => ({ task: a.task_id, worker: a.worker_id, label: (a.answer as { label: string }).label })),
      );
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
    const collusionFlags = await this.collusion(campaignId, c.task_type, c.labels, all, skills, rules, reference);
    return { campaignId, workers: skills.size, answers: counted.length, method, collusionFlags };
  }

  /**
   * Pairs of workers who agree on WRONG answers (different from the gold answer, or from the
   * current Dawid-Skene estimate / the completed task's consensus) far more often than independent workers of their accuracy
   * would: independent workers share a wrong label with probability (1−a)(1−b)/(K−1), a pair
   * that copies shares nearly all of its mistakes. Flagged for an admin when the observed rate
   * over at least `collusionMinShared` shared tasks with a reference exceeds the expected one by
   * more than `collusionMargin` and a binomial test puts the count below 0.1% chance. Excluded
   * answers count here: copying is evidence even after a block.
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
    let flagged = 0;
    for (const [key, p] of pairs) {
      if (p.shared < rules.collusionMinShared) continue;
      const [a, b] = key.split('|');
      const qa = skills.get(a)?.accuracy ?? 0.7;
      const qb = skills.get(b)?.accuracy ?? 0.7;
      const expected = ((1 - qa) * (1 - qb)) / (taskType === 'single-label' ? K - 1 : 1);
      const observed = p.agreeWrong / p.shared;
      // far above (the margin) and unlikely by chance (binomial tail under independence < 0.001)
      if (observed - expected <= rules.collusionMargin || binomialTail(p.agreeWrong, p.shared, expected) >= 0.001) continue;
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
