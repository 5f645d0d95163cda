import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CampaignEntity } from '@tally/campaigns';
import { CampaignReliability, GlobalReliability, ReliabilityService } from '@tally/quality';
import { type Answer, fleissKappa, krippendorffAlpha, meanPairwiseIou, pairwiseSpanF1, percentAgreement } from '@tally/consensus';

/** Reports read at most this many answers (newest first); beyond, figures are over a sample, said so in `sampled`. */
export const MAX_REPORT_ANSWERS = 50_000;

export interface TimelinePoint {
  at: string;
  submitted: number;
  approved: number;
  rejected: number;
  completedTasks: number;
  cumulativeCompleted: number;
  spendMinor: number;
  cumulativeSpendMinor: number;
  /** Mean consensus agreement of the tasks completed in this bucket; null when none completed. */
  agreement: number | null;
}

export interface WorkerRow {
  /** The quality lib's per-campaign pseudonym (same as in /workers, the rule log and exports): requesters never see who a worker is. */
  pseudonym: string;
  submitted: number;
  approved: number;
  rejected: number;
  pending: number;
  /** Share of this worker's answers equal to the consensus of their (decided) task; null when none decided. */
  agreementWithConsensus: number | null;
  medianDurationMs: number | null;
}

export interface CampaignInsights {
  campaignId: string;
  currency: string;
  bucket: 'hour' | 'day';
  timeline: TimelinePoint[];
  workers: WorkerRow[];
  /** Single / multi-label: how often each label was answered and chosen by consensus. */
  labels: { label: string; answers: number; consensus: number }[];
  sampled: boolean;
}

export interface AgreementAudit {
  campaignId: string;
  name: string;
  taskType: string;
  labels: string[];
  answers: number;
  tasks: number;
  /** Tasks with at least two answers: the only ones agreement measures can use. */
  tasksWithOverlap: number;
  krippendorffAlpha: number | null;
  fleissKappa: number | null;
  percentAgreement: number | null;
  /** Boxes: mean pairwise IoU agreement; spans: mean pairwise span F1; else null. */
  meanPairwiseScore: number | null;
  /**
   * Coincidence matrix (Krippendorff): cell [i][j] counts ordered pairs of answers on the same task
   * where one said labels[i] and the other labels[j]; off the diagonal is confusion.
   */
  coincidence: number[][] | null;
  /** Rows: the label a worker gave; columns: the task's consensus label. */
  versusConsensus: number[][] | null;
  /** The label pairs most often confused, most first. */
  confusedPairs: { a: string; b: string; count: number; share: number }[];
  /** Multi-label: agreement on each label as a yes / no question. */
  perLabel: { label: string; krippendorffAlpha: number | null; percentAgreement: number | null }[];
  /** Decided tasks with the lowest agreement. */
  lowAgreementTasks: { taskId: string; seq: number; agreement: number; answers: number; consensus: unknown }[];
  sampled: boolean;
}

/** Everything quality knows about one worker, across campaigns, for the admin's worker page. */
export interface WorkerQuality {
  global: GlobalReliability;
  campaigns: (CampaignReliability & { campaignName: string })[];
  /** Graded gold answers, newest first (whether they were right; never the gold answer itself). */
  goldHistory: { campaignId: string; campaignName: string; submittedAt: string | null; correct: boolean; status: string }[];
  ruleLog: { id: number; campaignId: string; campaignName: string; rule: string; action: string; reason: string; createdAt: string }[];
  flags: { id: string; campaignId: string; campaignName: string; kind: string; reason: string; otherWorkers: number; resolvedAt: string | null; createdAt: string }[];
  blocks: { campaignId: string; campaignName: string; reason: string; rule: string | null; createdAt: string }[];
}

interface AnswerRow {
  task_id: string;
  worker_id: string;
  status: string;
  answer: unknown;
  duration_ms: number | null;
  consensus: { label?: unknown } | null;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** Canonical string of an answer or consensus label, so equal answers compare equal. */
export function answerKey(taskType: string, v: unknown): string {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  if (taskType === 'single-label') return typeof v === 'string' ? v : String(o.label ?? '');
  if (taskType === 'multi-label') {
    const list = Array.isArray(v) ? v : Array.isArray(o.labels) ? o.labels : [];
    return JSON.stringify([...list].map(String).sort());
  }
  return canonical(v);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * Read-only reports over one campaign's answers: the requester's dashboard (timeline, pseudonymous
 * worker table) and the admin's agreement audit (Krippendorff's alpha, which labels get confused).
 * Callers check ownership / role first; nothing here returns gold answers or worker ids.
 */
@Injectable()
export class CampaignInsightsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly reliability: ReliabilityService,
  ) {}

  private pseudonym(campaignId: string, workerId: string): string {
    return this.reliability.pseudonym(campaignId, workerId);
  }

  /**
   * The campaign's answers. `forAgreement` leaves out what consensus leaves out (gold items, answers
   * excluded when their worker was blocked from the campaign), as the quality lib's summary does.
   */
  private async answers(campaignId: string, forAgreement = false): Promise<{ rows: AnswerRow[]; sampled: boolean }> {
    const rows: AnswerRow[] = await this.ds.query(
      `SELECT a.task_id, a.worker_id, a.status, a.answer, a.duration_ms, t.consensus
         FROM assignments a JOIN tasks t ON t.id = a.task_id
        WHERE a.campaign_id = $1 AND a.status IN ('submitted', 'approved', 'rejected')
          ${forAgreement ? `AND t.status <> 'gold' AND a.excluded_at IS NULL` : ''}
        ORDER BY a.submitted_at DESC NULLS LAST, a.id
        LIMIT ${MAX_REPORT_ANSWERS + 1}`,
      [campaignId],
    );
    const sampled = rows.length > MAX_REPORT_ANSWERS;
    return { rows: sampled ? rows.slice(0, MAX_REPORT_ANSWERS) : rows, sampled };
  }

  async workerQuality(workerId: string): Promise<WorkerQuality> {
    const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
    const [mine, gold, log, flags, blocks] = await Promise.all([
      this.reliability.forWorker(workerId),
      this.ds.query(
        `SELECT a.campaign_id, c.name, a.submitted_at, a.gold_correct, a.status FROM assignments a JOIN campaigns c ON c.id = a.campaign_id
          WHERE a.worker_id = $1 AND a.gold_correct IS NOT NULL ORDER BY a.submitted_at DESC NULLS LAST LIMIT 100`,
        [workerId],
      ),
      this.ds.query(
        `SELECT l.id, l.campaign_id, c.name, l.rule, l.action, l.reason, l.created_at FROM quality_rule_log l JOIN campaigns c ON c.id = l.campaign_id
          WHERE l.worker_id = $1 ORDER BY l.id DESC LIMIT 100`,
        [workerId],
      ),
      this.ds.query(
        `SELECT f.id, f.campaign_id, c.name, f.kind, f.reason, cardinality(f.worker_ids) AS n, f.resolved_at, f.created_at
           FROM quality_flags f JOIN campaigns c ON c.id = f.campaign_id
          WHERE $1 = ANY(f.worker_ids) ORDER BY f.created_at DESC LIMIT 100`,
        [workerId],
      ),
      this.ds.query(
        `SELECT b.campaign_id, c.name, b.reason, b.rule, b.created_at FROM campaign_blocks b JOIN campaigns c ON c.id = b.campaign_id
          WHERE b.worker_id = $1 ORDER BY b.created_at DESC`,
        [workerId],
      ),
    ]);
    const ids = [...new Set(mine.campaigns.map((x) => x.campaignId))];
    const names = new Map<string, string>(
      ids.length ? (await this.ds.query(`SELECT id, name FROM campaigns WHERE id = ANY($1::uuid[])`, [ids])).map((r: { id: string; name: string }) => [r.id, r.name]) : [],
    );
    return {
      global: mine.global,
      campaigns: mine.campaigns.map((x) => ({ ...x, campaignName: names.get(x.campaignId) ?? '' })),
      goldHistory: gold.map((r: Record<string, unknown>) => ({ campaignId: r.campaign_id, campaignName: r.name, submittedAt: iso(r.submitted_at as Date), correct: !!r.gold_correct, status: r.status })),
      ruleLog: log.map((r: Record<string, unknown>) => ({ id: Number(r.id), campaignId: r.campaign_id, campaignName: r.name, rule: r.rule, action: r.action, reason: r.reason, createdAt: iso(r.created_at as Date)! })),
      flags: flags.map((r: Record<string, unknown>) => ({
        id: r.id,
        campaignId: r.campaign_id,
        campaignName: r.name,
        kind: r.kind,
        reason: r.reason,
        otherWorkers: Number(r.n) - 1,
        resolvedAt: iso(r.resolved_at as Date),
        createdAt: iso(r.created_at as Date)!,
      })),
      blocks: blocks.map((r: Record<string, unknown>) => ({ campaignId: r.campaign_id, campaignName: r.name, reason: r.reason, rule: r.rule ?? null, createdAt: iso(r.created_at as Date)! })),
    } as WorkerQuality;
  }

  async insights(c: CampaignEntity): Promise<CampaignInsights> {
    // Hourly buckets while the campaign is young, daily after two days.
    const [span] = await this.ds.query(
      `SELECT extract(epoch FROM (max(submitted_at) - min(submitted_at)))::float AS seconds FROM assignments WHERE campaign_id = $1 AND submitted_at IS NOT NULL`,
      [c.id],
    );
    const bucket: 'hour' | 'day' = (span?.seconds ?? 0) > 2 * 86400 ? 'day' : 'hour';
    // Spend counts approvals at the campaign's reward, the figure the dashboard's "spent" shows.
    const buckets: Record<string, unknown>[] = await this.ds.query(
      `WITH a AS (
         SELECT date_trunc('${bucket}', submitted_at) AS at, count(*)::int AS submitted,
                count(*) FILTER (WHERE status = 'approved')::int AS approved,
                count(*) FILTER (WHERE status = 'rejected')::int AS rejected
           FROM assignments WHERE campaign_id = $1 AND submitted_at IS NOT NULL GROUP BY 1),
       t AS (
         SELECT date_trunc('${bucket}', completed_at) AS at, count(*)::int AS completed,
                avg((consensus->>'agreement')::float) AS agreement
           FROM tasks WHERE campaign_id = $1 AND completed_at IS NOT NULL GROUP BY 1)
       SELECT coalesce(a.at, t.at) AS at, coalesce(a.submitted, 0) AS submitted, coalesce(a.approved, 0) AS approved,
              coalesce(a.rejected, 0) AS rejected, coalesce(t.completed, 0) AS completed, t.agreement
         FROM a FULL OUTER JOIN t ON a.at = t.at
        ORDER BY 1`,
      [c.id],
    );
    let cumDone = 0;
    let cumSpend = 0;
    const timeline: TimelinePoint[] = buckets.map((b) => {
      const approved = Number(b.approved);
      const completed = Number(b.completed);
      cumDone += completed;
      cumSpend += approved * c.rewardMinor;
      return {
        at: new Date(b.at as string).toISOString(),
        submitted: Number(b.submitted),
        approved,
        rejected: Number(b.rejected),
        completedTasks: completed,
        cumulativeCompleted: cumDone,
        spendMinor: approved * c.rewardMinor,
        cumulativeSpendMinor: cumSpend,
        agreement: b.agreement === null || b.agreement === undefined ? null : Number(b.agreement),
      };
    });

    const { rows, sampled } = await this.answers(c.id);
    const perWorker = new Map<string, { row: WorkerRow; agree: number; decided: number; durations: number[] }>();
    const labelCounts = new Map<string, { answers: number; consensus: number }>(c.labels.map((l) => [l, { answers: 0, consensus: 0 }]));
    const categorical = c.taskType === 'single-label' || c.taskType === 'multi-label';
    for (const r of rows) {
      let w = perWorker.get(r.worker_id);
      if (!w) {
        w = { row: { pseudonym: this.pseudonym(c.id, r.worker_id), submitted: 0, approved: 0, rejected: 0, pending: 0, agreementWithConsensus: null, medianDurationMs: null }, agree: 0, decided: 0, durations: [] };
        perWorker.set(r.worker_id, w);
      }
      w.row.submitted++;
      if (r.status === 'approved') w.row.approved++;
      else if (r.status === 'rejected') w.row.rejected++;
      else w.row.pending++;
      if (r.duration_ms !== null) w.durations.push(r.duration_ms);
      if (r.consensus && 'label' in r.consensus) {
        w.decided++;
        if (answerKey(c.taskType, r.answer) === answerKey(c.taskType, r.consensus.label)) w.agree++;
      }
      if (categorical) for (const l of answeredLabels(c.taskType, r.answer)) labelCounts.get(l) && labelCounts.get(l)!.answers++;
    }
    if (categorical) {
      const decided: { consensus: { label?: unknown } }[] = await this.ds.query(`SELECT consensus FROM tasks WHERE campaign_id = $1 AND consensus IS NOT NULL`, [c.id]);
      for (const t of decided) for (const l of answeredLabels(c.taskType, t.consensus.label)) labelCounts.get(l) && labelCounts.get(l)!.consensus++;
    }
    const workers = [...perWorker.values()]
      .map((w) => {
        w.durations.sort((a, b) => a - b);
        return {
          ...w.row,
          agreementWithConsensus: w.decided ? w.agree / w.decided : null,
          medianDurationMs: w.durations.length ? w.durations[Math.floor((w.durations.length - 1) / 2)] : null,
        };
      })
      .sort((a, b) => b.submitted - a.submitted || a.pseudonym.localeCompare(b.pseudonym));
    return {
      campaignId: c.id,
      currency: c.currency,
      bucket,
      timeline,
      workers,
      labels: categorical ? [...labelCounts].map(([label, v]) => ({ label, ...v })) : [],
      sampled,
    };
  }

  async agreementAudit(c: CampaignEntity): Promise<AgreementAudit> {
    const { rows, sampled } = await this.answers(c.id, true);
    const byTask = new Map<string, AnswerRow[]>();
    for (const r of rows) {
      const list = byTask.get(r.task_id) ?? [];
      list.push(r);
      byTask.set(r.task_id, list);
    }
    const audit: AgreementAudit = {
      campaignId: c.id,
      name: c.name,
      taskType: c.taskType,
      labels: c.labels,
      answers: rows.length,
      tasks: byTask.size,
      tasksWithOverlap: [...byTask.values()].filter((l) => l.length >= 2).length,
      krippendorffAlpha: null,
      fleissKappa: null,
      percentAgreement: null,
      meanPairwiseScore: null,
      coincidence: null,
      versusConsensus: null,
      confusedPairs: [],
      perLabel: [],
      lowAgreementTasks: [],
      sampled,
    };

    if (c.taskType === 'single-label') {
      const long: Answer[] = rows.map((r) => ({ task: r.task_id, worker: r.worker_id, label: answerKey('single-label', r.answer) }));
      audit.krippendorffAlpha = finite(krippendorffAlpha(long));
      audit.fleissKappa = finite(fleissKappa(long));
      audit.percentAgreement = finite(percentAgreement(long));
      const labels = [...c.labels, ...[...new Set(long.map((a) => a.label))].filter((l) => !c.labels.includes(l))];
      audit.labels = labels;
      const ix = new Map(labels.map((l, i) => [l, i]));
      const k = labels.length;
      const co = Array.from({ length: k }, () => new Array<number>(k).fill(0));
      const vs = Array.from({ length: k }, () => new Array<number>(k).fill(0));
      for (const list of byTask.values()) {
        // Krippendorff's coincidences: each ordered pair of distinct answers on a unit, weighted 1 / (m − 1).
        const m = list.length;
        if (m >= 2)
          for (let i = 0; i < m; i++)
            for (let j = 0; j < m; j++) if (i !== j) co[ix.get(answerKey('single-label', list[i].answer))!][ix.get(answerKey('single-label', list[j].answer))!] += 1 / (m - 1);
        for (const r of list) {
          if (!r.consensus || !('label' in r.consensus)) continue;
          const truth = ix.get(answerKey('single-label', r.consensus.label));
          if (truth !== undefined) vs[ix.get(answerKey('single-label', r.answer))!][truth]++;
        }
      }
      audit.coincidence = co.map((row) => row.map((x) => Math.round(x * 1000) / 1000));
      audit.versusConsensus = vs;
      const offDiagonal = co.reduce((s, row, i) => s + row.reduce((t, x, j) => t + (i === j ? 0 : x), 0), 0);
      const pairs: AgreementAudit['confusedPairs'] = [];
      for (let i = 0; i < k; i++)
        for (let j = i + 1; j < k; j++) {
          const count = co[i][j] + co[j][i];
          if (count > 0) pairs.push({ a: labels[i], b: labels[j], count: Math.round(count * 1000) / 1000, share: offDiagonal ? count / offDiagonal : 0 });
        }
      audit.confusedPairs = pairs.sort((x, y) => y.count - x.count || x.a.localeCompare(y.a)).slice(0, 10);
    } else if (c.taskType === 'multi-label') {
      // Each label as its own yes / no question; the overall figures average over labels.
      for (const label of c.labels) {
        const long: Answer[] = rows.map((r) => ({ task: r.task_id, worker: r.worker_id, label: answeredLabels('multi-label', r.answer).includes(label) ? 'yes' : 'no' }));
        audit.perLabel.push({ label, krippendorffAlpha: finite(krippendorffAlpha(long)), percentAgreement: finite(percentAgreement(long)) });
      }
      const mean = (xs: (number | null)[]) => {
        const v = xs.filter((x): x is number => x !== null);
        return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
      };
      audit.krippendorffAlpha = mean(audit.perLabel.map((p) => p.krippendorffAlpha));
      audit.percentAgreement = mean(audit.perLabel.map((p) => p.percentAgreement));
    } else {
      const scores: number[] = [];
      const exact: Answer[] = rows.map((r) => ({ task: r.task_id, worker: r.worker_id, label: answerKey(c.taskType, r.answer) }));
      for (const list of byTask.values()) {
        if (list.length < 2) continue;
        const score =
          c.taskType === 'boxes'
            ? meanPairwiseIou(list.map((r) => ({ worker: r.worker_id, boxes: ((r.answer as { boxes?: [] })?.boxes ?? []) as never[] })))
            : c.taskType === 'spans'
              ? pairwiseSpanF1(list.map((r) => ({ worker: r.worker_id, spans: ((r.answer as { spans?: [] })?.spans ?? []) as never[] })))
              : NaN;
        if (Number.isFinite(score)) scores.push(score);
      }
      audit.meanPairwiseScore = scores.length ? scores.reduce((s, x) => s + x, 0) / scores.length : null;
      audit.percentAgreement = finite(percentAgreement(exact));
      audit.krippendorffAlpha = finite(krippendorffAlpha(exact));
    }

    const low: { id: string; seq: string; agreement: number; answers: number; consensus: { label?: unknown } }[] = await this.ds.query(
      `SELECT id, seq, (consensus->>'agreement')::float AS agreement, coalesce((consensus->>'answers')::int, answers_count) AS answers, consensus
         FROM tasks WHERE campaign_id = $1 AND status <> 'gold' AND consensus ? 'agreement'
        ORDER BY (consensus->>'agreement')::float, seq LIMIT 10`,
      [c.id],
    );
    audit.lowAgreementTasks = low.map((t) => ({ taskId: t.id, seq: Number(t.seq), agreement: Number(t.agreement), answers: Number(t.answers), consensus: t.consensus.label ?? null }));
    return audit;
  }
}

function answeredLabels(taskType: string, v: unknown): string[] {
  if (taskType === 'single-label') return [answerKey('single-label', v)];
  return JSON.parse(answerKey('multi-label', v)) as string[];
}
