import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { inTransaction } from '@tally/database';
import { WorkMoney } from '../money/work-money';
import { sql } from '../sql';
import { SWEEP_BATCH } from './expire-leases.use-case';

/**
 * Approves submitted assignments whose auto-approval time has come (reviewed_by stays null: no
 * person decided) and pays them, campaign by campaign: one transaction per batch approves,
 * audits and pays together. SKIP LOCKED keeps parallel sweepers apart and the
 * `status = 'submitted'` condition loses gracefully to a requester who rejects at the same
 * moment. A campaign whose approvals cannot be paid (its escrow ran dry and the owner's cash is
 * short) is logged and skipped: its answers stay submitted until it can, and the other
 * campaigns are not held up. Idempotent.
 */
@Injectable()
export class AutoApproveUseCase {
  private readonly log = new Logger('AutoApprove');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly money: WorkMoney,
  ) {}

  async execute(batch = SWEEP_BATCH): Promise<number> {
    const { rows: due } = await sql<{ campaign_id: string }>(
      this.ds.manager,
      `SELECT DISTINCT campaign_id FROM assignments WHERE status = 'submitted' AND auto_approve_at <= now() LIMIT 10000`,
    );
    let total = 0;
    for (const { campaign_id } of due) {
      try {
        for (;;) {
          const n = await inTransaction(this.ds, (em) => this.approveBatch(em, campaign_id, batch));
          total += n;
          if (n < batch) break;
        }
      } catch (err) {
        this.log.warn(`auto-approval of campaign ${campaign_id} skipped: ${(err as Error).message}`);
      }
    }
    return total;
  }

  private async approveBatch(em: Parameters<WorkMoney['payApprovals']>[0], campaignId: string, batch: number): Promise<number> {
    const { rows } = await sql<{ id: string; task_id: string; campaign_id: string; worker_id: string }>(
      em,
      `WITH due AS (
         SELECT id FROM assignments
          WHERE campaign_id = $1 AND status = 'submitted' AND auto_approve_at <= now()
          ORDER BY id LIMIT ${batch} FOR UPDATE SKIP LOCKED
       ), approved AS (
         UPDATE assignments a SET status = 'approved', reviewed_at = now(), reviewed_by = NULL
           FROM due WHERE a.id = due.id AND a.status = 'submitted'
           RETURNING a.id, a.task_id, a.campaign_id, a.worker_id
       ), audited AS (
         INSERT INTO audit_events (actor_id, action, object_type, object_id, data)
         SELECT NULL, 'assignment.auto_approved', 'assignment', id::text,
                jsonb_build_object('taskId', task_id, 'campaignId', campaign_id, 'workerId', worker_id)
           FROM approved
       )
       SELECT id, task_id, campaign_id, worker_id FROM approved`,
      [campaignId],
    );
    await this.money.payApprovals(
      em,
      rows.map((r) => ({ id: r.id, workerId: r.worker_id, campaignId: r.campaign_id })),
    );
    return rows.length;
  }
}
