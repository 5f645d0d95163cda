import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sql } from '../sql';
import { SWEEP_BATCH } from './expire-leases.use-case';

/**
 * Approves submitted assignments whose auto-approval time has come (reviewed_by stays null: no
 * person decided). One statement per batch approves and audits together; SKIP LOCKED keeps
 * parallel sweepers apart and the `status = 'submitted'` condition loses gracefully to a requester
 * who rejects at the same moment. Idempotent.
 */
@Injectable()
export class AutoApproveUseCase {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async execute(batch = SWEEP_BATCH): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows } = await sql<{ n: number }>(
        this.ds.manager,
        `WITH due AS (
           SELECT id FROM assignments
            WHERE status = 'submitted' AND auto_approve_at <= now()
            ORDER BY auto_approve_at LIMIT ${batch} FOR UPDATE SKIP LOCKED
         ), approved AS (
           UPDATE assignments a SET status = 'approved', reviewed_at = now(), reviewed_by = NULL
             FROM due WHERE a.id = due.id AND a.status = 'submitted'
             RETURNING a.id, a.task_id, a.campaign_id, a.worker_id
         ), audited AS (
           INSERT INTO audit_events (actor_id, action, object_type, object_id, data)
           SELECT NULL, 'assignment.auto_approved', 'assignment', id::text,
                  jsonb_build_object('taskId', task_id, 'campaignId', campaign_id, 'workerId', worker_id)
             FROM approved
           RETURNING 1
         )
         SELECT count(*)::int AS n FROM audited`,
      );
      const n = rows[0]?.n ?? 0;
      total += n;
      if (n < batch) return total;
    }
  }
}
