import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { TaskConsensus, TaskType } from '@tally/campaigns';
import { krippendorffAlpha } from '@tally/consensus';
import { invalidField } from '@tally/common';
import { workSql as sql } from '@tally/work';
import { QualityErrors } from './errors';
import { cocoAnnotations, cocoCategories, cocoImage, conllItem } from './exports';
import { ReliabilityService } from './reliability.service';

/** json / jsonl / csv for every task type; coco for box campaigns, conll for span campaigns. */
export const RESULT_FORMATS = ['json', 'jsonl', 'csv', 'coco', 'conll'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];
/** The one task type each type-specific format fits. */
const FORMAT_TASK_TYPE: Partial<Record<ResultFormat, TaskType>> = { coco: 'boxes', conll: 'spans' };

/** One task's result, as exported. Gold (control) items are never exported. */
export interface TaskResult {
  taskId: string;
  seq: number;
  status: string;
  payload: Record<string, unknown>;
  label: unknown;
  posterior: Record<string, number> | null;
  confidence: number | null;
  agreement: number | null;
  lowConfidence: boolean;
  answers: number;
  method: string | null;
  rawAnswers?: { worker: string; answer: unknown }[];
}

export interface CampaignResultsSummary {
  tasks: number;
  complete: number;
  lowConfidence: number;
  meanConfidence: number | null;
  answers: number;
  krippendorffAlpha: number | null;
}

const CSV_COLUMNS = ['task_id', 'seq', 'status', 'label', 'confidence', 'agreement', 'low_confidence', 'answers', 'method', 'posterior', 'payload', 'raw_answers'];

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A campaign's results for its owner, streamed in batches of `batch` tasks (seq order, keyset
 * paging), as JSON (one array), JSONL or CSV. Optionally with each task's counted answers under
 * the campaign's worker pseudonyms. Gold items and their answers never appear.
 */
@Injectable()
export class ResultsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly reliability: ReliabilityService,
  ) {}

  async checkOwner(ownerId: string, campaignId: string): Promise<void> {
    await this.reliability.ownedCampaign(ownerId, campaignId);
  }

  /**
   * Who may download a campaign's results: its owner, or an admin (any campaign). Anyone else
   * gets a 404, as for every owner-scoped read. A format that does not fit the campaign's task
   * type (COCO needs boxes, CoNLL spans) is a 400 naming `format`.
   */
  async checkExport(caller: { id: string; admin: boolean }, campaignId: string, format: ResultFormat): Promise<void> {
    if (!caller.id) throw new Error('caller id is required');
    const { rows } = await sql<{ task_type: TaskType }>(
      this.ds.manager,
      caller.admin ? `SELECT task_type FROM campaigns WHERE id = $1` : `SELECT task_type FROM campaigns WHERE id = $1 AND owner_id = $2`,
      caller.admin ? [campaignId] : [campaignId, caller.id],
    );
    if (!rows.length) throw QualityErrors.campaignNotFound();
    const needs = FORMAT_TASK_TYPE[format];
    if (needs && rows[0].task_type !== needs) throw invalidField('format', `${format} is for ${needs} campaigns; this one is ${rows[0].task_type} (use json, jsonl or csv)`);
  }

  async *rows(campaignId: string, withRaw: boolean, batch = 500, from = '0'): AsyncGenerator<TaskResult> {
    let after = from;
    for (;;) {
      const { rows } = await sql<{ id: string; seq: string; status: string; payload: Record<string, unknown>; consensus: (TaskConsensus & { posterior?: Record<string, number> }) | null; low_confidence: boolean; answers_count: number }>(
        this.ds.manager,
        `SELECT id, seq, status, payload, consensus, low_confidence, answers_count FROM tasks
          WHERE campaign_id = $1 AND status <> 'gold' AND seq > $2 ORDER BY seq LIMIT ${batch}`,
        [campaignId, after],
      );
      if (!rows.length) return;
      const raw = new Map<string, { worker: string; answer: unknown }[]>();
      if (withRaw) {
        const { rows: answers } = await sql<{ task_id: string; worker_id: string; answer: unknown }>(
          this.ds.manager,
          `SELECT task_id, worker_id, answer FROM assignments
            WHERE task_id = ANY($1::uuid[]) AND status IN ('submitted','approved') AND excluded_at IS NULL ORDER BY submitted_at, id`,
          [rows.map((r) => r.id)],
        );
        for (const a of answers) raw.set(a.task_id, [...(raw.get(a.task_id) ?? []), { worker: this.reliability.pseudonym(campaignId, a.worker_id), answer: a.answer }]);
      }
      for (const r of rows) {
        const c = r.consensus;
        yield {
          taskId: r.id,
          seq: Number(r.seq),
          status: r.status,
          payload: r.payload,
          label: c?.label ?? null,
          posterior: c?.posterior ?? null,
          confidence: c?.confidence ?? null,
          agreement: c?.agreement ?? null,
          lowConfidence: r.low_confidence,
          answers: r.answers_count,
          method: c?.method ?? null,
          ...(withRaw ? { rawAnswers: raw.get(r.id) ?? [] } : {}),
        };
      }
      after = rows[rows.length - 1].seq;
      if (rows.length < batch || batch === 1) return;
    }
  }

  /**
   * Campaign-level figures: tasks, completion, low-confidence count, mean confidence, answers, and
   * Krippendorff's alpha over the counted answers of real tasks (single-label; null otherwise).
   */
  async summary(campaignId: string): Promise<CampaignResultsSummary> {
    const { rows: cs } = await sql<{ task_type: TaskType }>(this.ds.manager, `SELECT task_type FROM campaigns WHERE id = $1`, [campaignId]);
    const { rows } = await sql<{ tasks: number; complete: number; low: number; mean_conf: number | null; answers: number }>(
      this.ds.manager,
      `SELECT count(*)::int AS tasks, count(*) FILTER (WHERE status = 'complete')::int AS complete,
              count(*) FILTER (WHERE low_confidence)::int AS low, avg((consensus->>'confidence')::double precision) AS mean_conf,
              coalesce(sum(answers_count), 0)::int AS answers
         FROM tasks WHERE campaign_id = $1 AND status <> 'gold'`,
      [campaignId],
    );
    let alpha: number | null = null;
    if (cs[0]?.task_type === 'single-label') {
      const { rows: answers } = await sql<{ task: string; worker: string; label: string }>(
        this.ds.manager,
        `SELECT a.task_id AS task, a.worker_id AS worker, a.answer->>'label' AS label FROM assignments a JOIN tasks t ON t.id = a.task_id
          WHERE a.campaign_id = $1 AND t.status <> 'gold' AND a.status IN ('submitted','approved') AND a.excluded_at IS NULL`,
        [campaignId],
      );
      const a = answers.length ? krippendorffAlpha(answers) : NaN;
      alpha = Number.isFinite(a) ? a : null;
    }
    const r = rows[0];
    return { tasks: r.tasks, complete: r.complete, lowConfidence: r.low, meanConfidence: r.mean_conf === null ? null : Number(r.mean_conf), answers: r.answers, krippendorffAlpha: alpha };
  }

  /** Completed tasks to review: the least confident first, or a random sample; with their answers under pseudonyms. */
  async sample(campaignId: string, order: 'lowest-confidence' | 'random', limit: number): Promise<TaskResult[]> {
    const { rows } = await sql<{ seq: string }>(
      this.ds.manager,
      `SELECT seq FROM tasks WHERE campaign_id = $1 AND status = 'complete'
        ORDER BY ${order === 'random' ? 'random()' : `low_confidence DESC, (consensus->>'confidence')::double precision ASC NULLS FIRST, seq`}
        LIMIT ${Math.max(1, Math.min(500, Math.floor(limit)))}`,
      [campaignId],
    );
    const wanted = rows.map((r) => r.seq);
    const out: TaskResult[] = [];
    for (const seq of wanted) {
      for await (const t of this.rows(campaignId, true, 1, String(BigInt(seq) - 1n))) out.push(t);
    }
    return out;
  }

  /** The export as text chunks in the given format. */
  async *export(campaignId: string, format: ResultFormat, withRaw: boolean): AsyncGenerator<string> {
    if (format === 'coco') return yield* this.coco(campaignId);
    if (format === 'conll') return yield* this.conll(campaignId);
    if (format === 'csv') yield CSV_COLUMNS.filter((c) => withRaw || c !== 'raw_answers').join(',') + '\n';
    if (format === 'json') yield '[';
    let first = true;
    for await (const r of this.rows(campaignId, withRaw)) {
      if (format === 'jsonl') yield JSON.stringify(r) + '\n';
      else if (format === 'json') yield (first ? '\n' : ',\n') + JSON.stringify(r);
      else {
        const cells = [r.taskId, r.seq, r.status, r.label, r.confidence, r.agreement, r.lowConfidence, r.answers, r.method, r.posterior, r.payload];
        if (withRaw) cells.push(r.rawAnswers);
        yield cells.map(csvCell).join(',') + '\n';
      }
      first = false;
    }
    if (format === 'json') yield first ? ']\n' : '\n]\n';
  }

  /**
   * COCO for a box campaign, streamed: one image per completed task (id = the task's seq,
   * `coco_url` its image URL, `tally_task_id`), the campaign's classes as categories (ids 1..K),
   * one annotation per consensus box with bbox [x, y, w, h] in pixels and score = the task's
   * consensus confidence. Two passes over the tasks so that memory stays one batch.
   */
  private async *coco(campaignId: string): AsyncGenerator<string> {
    const { rows } = await sql<{ name: string; labels: string[] }>(this.ds.manager, `SELECT name, labels FROM campaigns WHERE id = $1`, [campaignId]);
    const categories = cocoCategories(rows[0]?.labels ?? []);
    const info = { description: rows[0]?.name ?? '', version: '1.0', contributor: 'Tally', date_created: new Date().toISOString(), tally_campaign_id: campaignId };
    yield `{"info":${JSON.stringify(info)},\n"categories":${JSON.stringify(categories)},\n"images":[`;
    let first = true;
    for await (const r of this.rows(campaignId, false)) {
      if (r.status !== 'complete') continue;
      yield (first ? '\n' : ',\n') + JSON.stringify(cocoImage(r.seq, r.taskId, r.payload));
      first = false;
    }
    yield '],\n"annotations":[';
    const byName = new Map(categories.map((c) => [c.name, c.id]));
    let id = 0;
    first = true;
    for await (const r of this.rows(campaignId, false)) {
      if (r.status !== 'complete') continue;
      for (const a of cocoAnnotations(r.seq, r.label, r.confidence, r.lowConfidence, byName, () => ++id)) {
        yield (first ? '\n' : ',\n') + JSON.stringify(a);
        first = false;
      }
    }
    yield ']}\n';
  }

  /** CoNLL for a span campaign: each completed task's text, one token per line with its BIO tag. */
  private async *conll(campaignId: string): AsyncGenerator<string> {
    for await (const r of this.rows(campaignId, false)) {
      if (r.status !== 'complete') continue;
      yield conllItem(r.taskId, String(r.payload.text ?? ''), r.label);
    }
  }
}
