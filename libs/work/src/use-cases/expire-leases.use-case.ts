import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { inTransaction } from '@tally/database';
import { sql } from '../sql';

export const SWEEP_BATCH = 500;

/**
 * Expires claimed assignments in a batch and frees their slots, in one statement of the caller's
 * transaction. `FOR UPDATE SKIP LOCKED` means two sweepers (API processes, apps/worker) take
 * disjoint batches and never decrement a task twice; the status condition means an assignment
 * that a submit won a moment ago is left alone.
 */
async function expireBatch(em: EntityManager, which: string, params: unknown[], batch: number): Promise<number> {
  const { rows } = await sql<{ n: number }>(
    em,
    `WITH victims AS (
       SELECT a.id FROM assignments a WHERE ${which} LIMIT ${batch} FOR UPDATE OF a SKIP LOCKED
     ), expired AS (
       UPDATE assignments a SET status = 'expired' FROM victims
        WHERE a.id = victims.id AND a.status = 'claimed'
        RETURNING a.task_id
     ), freed AS (
       UPDATE tasks t SET taken = t.taken - x.n
         FROM (SELECT task_id, count(*)::int AS n FROM expired GROUP BY task_id) x
        WHERE t.id = x.task_id
        RETURNING x.n
     )
     SELECT coalesce(sum(n), 0)::int AS n FROM freed`,
    [...params],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Gives back every live claim of a campaign at once (call it when a campaign is cancelled, inside
 * the cancelling transaction if you have one): the claims become `expired` and their slots are
 * freed. Submitted answers are untouched. Returns how many claims were released.
 */
export async function releaseCampaignClaims(em: EntityManager, campaignId: string): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await expireBatch(em, `a.campaign_id = $1 AND a.status = 'claimed'`, [campaignId], SWEEP_BATCH);
    total += n;
    if (n < SWEEP_BATCH) return total;
  }
}

/**
 * The lease sweep: claimed assignments whose lease has run out become `expired` and free their
 * slot; so do claims left on cancelled campaigns. One transaction per batch, repeated until a
 * batch comes back short. Idempotent: running it twice, or in two processes, changes nothing more.
 */
@Injectable()
export class ExpireLeasesUseCase {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async execute(batch = SWEEP_BATCH): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await inTransaction(this.ds, (em) => expireBatch(em, `a.status = 'claimed' AND a.lease_expires_at <= now()`, [], batch));
      total += n;
      if (n < batch) break;
    }
    const cancelled = await this.ds.query(`SELECT DISTINCT a.campaign_id FROM assignments a JOIN campaigns c ON c.id = a.campaign_id
      WHERE a.status = 'claimed' AND c.status = 'cancelled'`);
    for (const { campaign_id } of cancelled as { campaign_id: string }[]) {
      total += await inTransaction(this.ds, (em) => releaseCampaignClaims(em, campaign_id));
    }
    return total;
  }

  /** The same release, in its own transaction, for callers without one. */
  releaseCampaignClaims(campaignId: string): Promise<number> {
    return inTransaction(this.ds, (em) => releaseCampaignClaims(em, campaignId));
  }
}
