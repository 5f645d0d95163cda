import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { QualificationRequirements, TaskType } from '@tally/campaigns';
import { clampPage, Page } from '@tally/common';
import { requireId } from '../assignment-row';
import { sql } from '../sql';

/** A campaign as a worker browsing for work sees it (no gold, no owner details, no money totals). */
export interface OpenCampaign {
  id: string;
  name: string;
  taskType: TaskType;
  labels: string[];
  instructions: string;
  rewardMinor: number;
  currency: string;
  leaseSeconds: number;
  deadline: Date | null;
  tasksTotal: number;
  tasksComplete: number;
  /** Free slots across open tasks (some may be on tasks this worker already did). */
  openSlots: number;
  /** What a worker needs to claim here (campaign qualification settings). */
  qualification: QualificationRequirements;
  /** Median time workers took on the campaign's last 200 answers, null before any. */
  estimatedSeconds: number | null;
}

/**
 * Campaigns a worker could claim from now: published, not past the deadline, not their own, with
 * at least one open task that has a free slot and that they have not done (EXISTS stops at the
 * first such task, so this stays cheap on large campaigns).
 */
@Injectable()
export class ListOpenCampaignsUseCase {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async execute(q: { workerId: string; limit?: number; offset?: number }): Promise<Page<OpenCampaign>> {
    const workerId = requireId(q.workerId, 'workerId');
    const { limit, offset } = clampPage(q.limit, q.offset);
    const where = `c.status = 'published' AND (c.deadline IS NULL OR c.deadline > now()) AND c.owner_id <> $1
      AND EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = c.id AND t.status = 'open' AND t.taken < t.needed
                    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.worker_id = $1))
      AND tally_claim_refusal(c.id, $1) IS NULL`; // quality: hidden when the worker may not claim here (qualifications, blocks, cap)
    const [{ rows }, count] = await Promise.all([
      sql<Record<string, unknown>>(
        this.ds.manager,
        `SELECT c.id, c.name, c.task_type AS "taskType", c.labels, c.instructions, c.reward_minor::text AS "rewardMinor",
                c.currency, c.lease_seconds AS "leaseSeconds", c.deadline,
                s.total AS "tasksTotal", s.complete AS "tasksComplete", s.open_slots AS "openSlots",
                c.qualification, est.seconds AS "estimatedSeconds"
           FROM campaigns c
           CROSS JOIN LATERAL (
             SELECT count(*) FILTER (WHERE t.status <> 'gold')::int AS total, count(*) FILTER (WHERE t.status = 'complete')::int AS complete,
                    coalesce(sum(t.needed - t.taken) FILTER (WHERE t.status = 'open'), 0)::int AS open_slots
               FROM tasks t WHERE t.campaign_id = c.id) s
           CROSS JOIN LATERAL (
             SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms) / 1000.0)::int AS seconds
               FROM (SELECT a.duration_ms FROM assignments a
                      WHERE a.campaign_id = c.id AND a.status IN ('submitted', 'approved', 'rejected') AND a.duration_ms IS NOT NULL
                      ORDER BY a.submitted_at DESC LIMIT 200) r) est
          WHERE ${where}
          ORDER BY c.published_at DESC NULLS LAST, c.id
          LIMIT ${limit} OFFSET ${offset}`,
        [workerId],
      ),
      sql<{ n: number }>(this.ds.manager, `SELECT count(*)::int AS n FROM campaigns c WHERE ${where}`, [workerId]),
    ]);
    return {
      items: rows.map((r) => ({
        ...(r as unknown as OpenCampaign),
        rewardMinor: Number(r.rewardMinor),
        currency: String(r.currency).trim(),
        qualification: (r.qualification as QualificationRequirements) ?? {},
        estimatedSeconds: r.estimatedSeconds === null || r.estimatedSeconds === undefined ? null : Number(r.estimatedSeconds),
      })),
      total: count.rows[0].n,
      limit,
      offset,
    };
  }
}
