import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { TaskConsensus, TaskType } from '@tally/campaigns';
import { clampPage, Page } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { workSql as sql } from '@tally/work';
import { QualityErrors } from './errors';
import { answersMatch, median, wilson } from './grading';
import { consensusAsAnswer } from './consensus-answer';

export interface Interval {
  rate: number | null;
  low: number;
  high: number;
  n: number;
}

/** A worker's reliability in one campaign. */
export interface CampaignReliability {
  campaignId: string;
  /** The worker's id for themselves and admins; a stable per-campaign pseudonym for requesters. */
  worker: string;
  answers: number;
  goldAccuracy: Interval;
  /** Share of their answers on completed tasks that match the consensus. */
  consensusAgreement: Interval;
  /** From the campaign's Dawid-Skene job (null before it ran or for non-categorical types). */
  dawidSkene: { method: string; accuracy: number; skill: number; classes: string[]; confusion: number[][]; updatedAt: Date } | null;
  medianSeconds: number | null;
  approved: number;
  rejected: number;
  approvalRate: number | null;
  blocked: { reason: string; at: Date } | null;
}

/** Across every campaign. `reliability` is what `minReliability` qualifications compare with. */
export interface GlobalReliability {
  workerId: string;
  answers: number;
  goldAccuracy: Interval;
  approved: number;
  rejected: number;
  approvalRate: number | null;
  /** Wilson 95% lower bound of (correct gold + approved answers) / (graded gold + reviewed answers). */
  reliability: number;
  /** Answer-weighted mean Dawid-Skene skill over campaigns, null before any estimate. */
  meanSkill: number | null;
  medianSeconds: number | null;
}

const interval = (ok: number, n: number): Interval => {
  const w = wilson(ok, n);
  return { rate: w.rate, low: w.low, high: w.high, n };
};

/**
 * Worker reliability, computed from the assignments as they are now (so it moves with every
 * answer) plus the skills the campaign-wide job estimated. Three views: a worker's own, a
 * requester's campaign (pseudonyms: HMAC of campaign and worker, stable and unlinkable across
 * campaigns), an admin's (everything, real ids).
 */
@Injectable()
export class ReliabilityService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
  ) {}

  pseudonym(campaignId: string, workerId: string): string {
    return 'W-' + createHmac('sha256', this.config.jwtSecret).update(`${campaignId}:${workerId}`).digest('hex').slice(0, 10);
  }

  /** The owner's view: every worker of their campaign under pseudonyms (404 for anyone else's campaign). */
  async forRequester(ownerId: string, campaignId: string): Promise<CampaignReliability[]> {
    await this.ownedCampaign(ownerId, campaignId);
    const list = await this.campaignWorkers(campaignId);
    return list.map((r) => ({ ...r, worker: this.pseudonym(campaignId, r.worker) }));
  }

  /** Admin view of one campaign, real ids. */
  async forAdminCampaign(campaignId: string): Promise<CampaignReliability[]> {
    const { rows } = await sql(this.ds.manager, `SELECT 1 FROM campaigns WHERE id = $1`, [campaignId]);
    if (!rows.length) throw QualityErrors.campaignNotFound();
    return this.campaignWorkers(campaignId);
  }

  /** A worker's own: global plus each campaign they worked on. */
  async forWorker(workerId: string): Promise<{ global: GlobalReliability; campaigns: CampaignReliability[] }> {
    const [global] = await this.global([workerId]);
    const { rows } = await sql<{ campaign_id: string }>(this.ds.manager, `SELECT DISTINCT campaign_id FROM assignments WHERE worker_id = $1`, [workerId]);
    const campaigns: CampaignReliability[] = [];
    for (const r of rows) campaigns.push(...(await this.campaignWorkers(r.campaign_id, workerId)));
    return { global, campaigns };
  }

  /** Admin: every worker with answers, global figures, most answers first. */
  async adminList(q: { limit?: number; offset?: number }): Promise<Page<GlobalReliability>> {
    const { limit, offset } = clampPage(q.limit, q.offset);
    const { rows } = await sql<{ worker_id: string }>(
      this.ds.manager,
      `SELECT worker_id FROM assignments WHERE submitted_at IS NOT NULL GROUP BY worker_id ORDER BY count(*) DESC, worker_id LIMIT ${limit} OFFSET ${offset}`,
    );
    const { rows: c } = await sql<{ n: number }>(this.ds.manager, `SELECT count(DISTINCT worker_id)::int AS n FROM assignments WHERE submitted_at IS NOT NULL`);
    return { items: await this.global(rows.map((r) => r.worker_id)), total: c[0].n, limit, offset };
  }

  async global(workerIds: string[]): Promise<GlobalReliability[]> {
    if (!workerIds.length) return [];
    const { rows } = await sql<{
      worker_id: string;
      answers: number;
      gold_n: number;
      gold_ok: number;
      approved: number;
      rejected: number;
      median_ms: number | null;
      skill: number | null;
    }>(
      this.ds.manager,
      `SELECT w.id AS worker_id,
              coalesce(x.answers, 0)::int AS answers, coalesce(x.gold_n, 0)::int AS gold_n, coalesce(x.gold_ok, 0)::int AS gold_ok,
              coalesce(x.approved, 0)::int AS approved, coalesce(x.rejected, 0)::int AS rejected, x.median_ms, s.skill
         FROM unnest($1::uuid[]) WITH ORDINALITY AS w(id, ord)
         LEFT JOIN LATERAL (
           SELECT count(*) FILTER (WHERE a.submitted_at IS NOT NULL) AS answers,
                  count(*) FILTER (WHERE a.gold_correct IS NOT NULL) AS gold_n, count(*) FILTER (WHERE a.gold_correct) AS gold_ok,
                  count(*) FILTER (WHERE a.status = 'approved' AND a.gold_correct IS NULL AND a.excluded_at IS NULL) AS approved,
                  count(*) FILTER (WHERE a.status = 'rejected' AND a.gold_correct IS NULL) AS rejected,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (a.submitted_at - a.claimed_at)) * 1000)
                    FILTER (WHERE a.submitted_at IS NOT NULL) AS median_ms
             FROM assignments a WHERE a.worker_id = w.id) x ON true
         LEFT JOIN LATERAL (SELECT sum(ws.skill * ws.answers) / nullif(sum(ws.answers), 0) AS skill FROM worker_skills ws WHERE ws.worker_id = w.id) s ON true
        ORDER BY w.ord`,
      [workerIds],
    );
    return rows.map((r) => {
      const reviewed = r.approved + r.rejected;
      return {
        workerId: r.worker_id,
        answers: r.answers,
        goldAccuracy: interval(r.gold_ok, r.gold_n),
        approved: r.approved,
        rejected: r.rejected,
        approvalRate: reviewed ? r.approved / reviewed : null,
        reliability: wilson(r.gold_ok + r.approved, r.gold_n + reviewed).low * (r.gold_n + reviewed > 0 ? 1 : 0),
        meanSkill: r.skill === null ? null : Number(r.skill),
        medianSeconds: r.median_ms === null ? null : Number(r.median_ms) / 1000,
      };
    });
  }

  /** Per-worker figures of one campaign (optionally one worker), real ids. */
  async campaignWorkers(campaignId: string, onlyWorker?: string): Promise<CampaignReliability[]> {
    const { rows: cs } = await sql<{ task_type: TaskType }>(this.ds.manager, `SELECT task_type FROM campaigns WHERE id = $1`, [campaignId]);
    if (!cs[0]) throw QualityErrors.campaignNotFound();
    const taskType = cs[0].task_type;
    const params: unknown[] = [campaignId];
    const only = onlyWorker ? ` AND a.worker_id = $${params.push(onlyWorker)}` : '';
    const { rows } = await sql<{
      worker_id: string;
      status: string;
      answer: unknown;
      gold_correct: boolean | null;
      excluded: boolean;
      ms: number | null;
      task_status: string;
      consensus: TaskConsensus | null;
    }>(
      this.ds.manager,
      `SELECT a.worker_id, a.status, a.answer, a.gold_correct, (a.excluded_at IS NOT NULL) AS excluded,
              extract(epoch FROM (a.submitted_at - a.claimed_at)) * 1000 AS ms, t.status AS task_status, t.consensus
         FROM assignments a JOIN tasks t ON t.id = a.task_id
        WHERE a.campaign_id = $1 AND a.submitted_at IS NOT NULL${only}
        ORDER BY a.worker_id`,
      params,
    );
    const { rows: skills } = await sql<{ worker_id: string; method: string; accuracy: number; skill: number; classes: string[]; confusion: number[][]; updated_at: Date }>(
      this.ds.manager,
      `SELECT worker_id, method, accuracy, skill, classes, confusion, updated_at FROM worker_skills WHERE campaign_id = $1`,
      [campaignId],
    );
    const { rows: blocks } = await sql<{ worker_id: string; reason: string; created_at: Date }>(
      this.ds.manager,
      `SELECT worker_id, reason, created_at FROM campaign_blocks WHERE campaign_id = $1`,
      [campaignId],
    );
    const skillOf = new Map(skills.map((s) => [s.worker_id, s]));
    const blockOf = new Map(blocks.map((b) => [b.worker_id, b]));
    const byWorker = new Map<string, typeof rows>();
    for (const r of rows) byWorker.set(r.worker_id, [...(byWorker.get(r.worker_id) ?? []), r]);
    return [...byWorker].map(([worker, list]) => {
      const gold = list.filter((r) => r.gold_correct !== null);
      const onComplete = list.filter((r) => r.gold_correct === null && r.task_status === 'complete' && r.consensus && !r.excluded);
      const agree = onComplete.filter((r) => answersMatch(taskType, r.answer, consensusAsAnswer(taskType, r.consensus))).length;
      const approved = list.filter((r) => r.status === 'approved' && r.gold_correct === null).length;
      const rejected = list.filter((r) => r.status === 'rejected' && r.gold_correct === null).length;
      const s = skillOf.get(worker);
      const b = blockOf.get(worker);
      const med = median(list.map((r) => Number(r.ms)).filter((x) => Number.isFinite(x)));
      return {
        campaignId,
        worker,
        answers: list.length,
        goldAccuracy: interval(gold.filter((r) => r.gold_correct).length, gold.length),
        consensusAgreement: interval(agree, onComplete.length),
        dawidSkene: s ? { method: s.method, accuracy: s.accuracy, skill: s.skill, classes: s.classes, confusion: s.confusion, updatedAt: s.updated_at } : null,
        medianSeconds: med === null ? null : med / 1000,
        approved,
        rejected,
        approvalRate: approved + rejected ? approved / (approved + rejected) : null,
        blocked: b ? { reason: b.reason, at: b.created_at } : null,
      };
    });
  }

  async ownedCampaign(ownerId: string, campaignId: string): Promise<void> {
    if (!ownerId) throw new Error('ownerId is required');
    const { rows } = await sql(this.ds.manager, `SELECT 1 FROM campaigns WHERE id = $1 AND owner_id = $2`, [campaignId, ownerId]);
    if (!rows.length) throw QualityErrors.campaignNotFound();
  }

  /** A requester's pseudonym back to the worker id, among the campaign's workers (null if none). */
  async resolvePseudonym(campaignId: string, pseudonym: string): Promise<string | null> {
    const { rows } = await sql<{ worker_id: string }>(this.ds.manager, `SELECT DISTINCT worker_id FROM assignments WHERE campaign_id = $1`, [campaignId]);
    return rows.find((r) => this.pseudonym(campaignId, r.worker_id) === pseudonym)?.worker_id ?? null;
  }
}
