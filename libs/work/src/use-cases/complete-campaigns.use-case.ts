import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { inTransaction } from '@tally/database';
import { sql } from '../sql';
import { completeTaskIfDone } from './complete-task';

/**
 * Completes straggler tasks, then marks published campaigns whose every task is complete as `completed` (answers may still await
 * review; a later rejection reopens the task and the campaign). The NOT EXISTS probe uses the
 * partial index of open tasks, so it is cheap for every campaign. Idempotent.
 */
@Injectable()
export class CompleteCampaignsUseCase {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async execute(): Promise<string[]> {
    await this.completeStragglers();
    const { rows } = await sql<{ id: string }>(
      this.ds.manager,
      `WITH done AS (
         UPDATE campaigns c SET status = 'completed', completed_at = now()
          WHERE c.status = 'published'
            AND EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = c.id)
            AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = c.id AND t.status = 'open')
          RETURNING c.id
       ), audited AS (
         INSERT INTO audit_events (actor_id, action, object_type, object_id, data)
         SELECT NULL, 'campaign.completed', 'campaign', id::text, '{}'::jsonb FROM done
       )
       SELECT id FROM done`,
    );
    return rows.map((r) => r.id);
  }

  /**
   * Open tasks whose answers are all in but that were never completed (the process stopped
   * between a submit and its completion): complete them now, one transaction each.
   */
  async completeStragglers(batch = 500): Promise<number> {
    const { rows } = await sql<{ id: string }>(this.ds.manager, `SELECT id FROM tasks WHERE status = 'open' AND answers_count >= needed LIMIT ${batch}`);
    let n = 0;
    for (const r of rows) if (await inTransaction(this.ds, (em) => completeTaskIfDone(em, r.id))) n++;
    return n;
  }
}
