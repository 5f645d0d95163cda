import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { inTransaction } from '@tally/database';
import { recordWebhookEvent } from '@tally/webhooks';
import { WorkMoney } from '../money/work-money';
import { sql } from '../sql';
import { completeTaskIfDone } from './complete-task';

/** Why a campaign completed: every task got its answers, or its deadline passed first (tasks still open, or none at all). */
export type CompletionReason = 'all-tasks-complete' | 'deadline';

/**
 * Completes straggler tasks, then marks campaigns `completed` that are done: published ones whose
 * every task is complete (answers may still await review; a later rejection reopens the task and
 * the campaign), and published or paused ones past their deadline once no assignment is still
 * claimed (work claimed before the deadline may be submitted until its lease ends; tasks still
 * open stay unanswered, and the audit event and webhook say `reason: "deadline"`). The NOT EXISTS
 * probes use the partial index of open tasks, so they are cheap for every campaign. Then settles escrow: every
 * completed, cancelled or expired campaign whose escrow holds more than its live and unreviewed
 * assignments may still cost gives the rest back to its owner's cash. Idempotent.
 */
@Injectable()
export class CompleteCampaignsUseCase {
  private readonly log = new Logger('CompleteCampaigns');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly money: WorkMoney,
  ) {}

  async execute(): Promise<string[]> {
    const completed = await this.markCompleted();
    await this.settleEscrows();
    return completed;
  }

  /**
   * Finished campaigns (completed, cancelled, or past their deadline: a deadline cannot move
   * after publishing, so no new claim can come) whose escrow exceeds (reward + fee) × the
   * assignments still claimed or submitted: release the excess, one transaction per campaign.
   * This is what returns a completed campaign's leftovers, and what catches up after a crash or a
   * pending answer rejected after cancellation. A failure is logged and retried next pass.
   */
  async settleEscrows(batch = 500): Promise<number> {
    const { rows } = await sql<{ id: string; status: string }>(
      this.ds.manager,
      `SELECT c.id, c.status FROM campaigns c
         JOIN campaign_escrows e ON e.campaign_id = c.id
         JOIN ledger_accounts a ON a.kind = 'campaign_escrow' AND a.owner_id = c.id AND a.currency = e.currency
        WHERE (c.status IN ('completed', 'cancelled') OR (c.status IN ('published', 'paused') AND c.deadline <= now()))
          AND a.balance > (e.reward_minor + e.fee_minor) *
              (SELECT count(*) FROM assignments x WHERE x.campaign_id = c.id AND x.status IN ('claimed', 'submitted'))
        LIMIT ${batch}`,
    );
    let n = 0;
    for (const r of rows) {
      try {
        await inTransaction(this.ds, (em) => this.money.settleCampaign(em, r.id, `campaign ${r.status}`));
        n++;
      } catch (err) {
        this.log.warn(`escrow of campaign ${r.id} not settled: ${(err as Error).message}`);
      }
    }
    return n;
  }

  private async markCompleted(): Promise<string[]> {
    await this.completeStragglers();
    // One transaction: the status change, its audit rows and the campaign.completed webhook events (outbox).
    return inTransaction(this.ds, async (em) => {
      const { rows } = await sql<{ id: string; completed_at: Date; reason: CompletionReason }>(
        em,
        `WITH done AS (
           UPDATE campaigns c SET status = 'completed', completed_at = now()
            WHERE (c.status = 'published'
                   AND EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = c.id)
                   AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = c.id AND t.status = 'open'))
               OR (c.status IN ('published', 'paused') AND c.deadline <= now()
                   AND NOT EXISTS (SELECT 1 FROM assignments x WHERE x.campaign_id = c.id AND x.status = 'claimed'))
            RETURNING c.id, c.completed_at,
                      CASE WHEN EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = c.id)
                                AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = c.id AND t.status = 'open')
                           THEN 'all-tasks-complete' ELSE 'deadline' END AS reason
         ), audited AS (
           INSERT INTO audit_events (actor_id, action, object_type, object_id, data)
           SELECT NULL, 'campaign.completed', 'campaign', id::text, jsonb_build_object('reason', reason) FROM done
         )
         SELECT id, completed_at, reason FROM done`,
      );
      for (const r of rows) await recordWebhookEvent(em, 'campaign.completed', r.id, { completedAt: r.completed_at, reason: r.reason });
      return rows.map((r) => r.id);
    });
  }

  /**
   * Open tasks whose answers are all in but that were never completed (the process stopped
   * between a submit and its completion): complete them now, one transaction each.
   */
  async completeStragglers(batch = 500): Promise<number> {
    const { rows } = await sql<{ id: string }>(this.ds.manager, `SELECT id FROM tasks WHERE status = 'open' AND answers_count >= needed LIMIT ${batch}`);
    let n = 0;
    for (const r of rows) if (await inTransaction(this.ds, (em) => completeTaskIfDone(em, r.id, this.money))) n++;
    return n;
  }
}
