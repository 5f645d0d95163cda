import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AssignmentMoney, CampaignMoney, cash, escrow, LedgerService, payable } from '@tally/ledger';
import { sql } from '../sql';

/** What a money movement needs to know about an approved assignment. */
export type ApprovedAssignment = AssignmentMoney;

/**
 * The marketplace's money moments, over @tally/ledger, always inside the caller's transaction so
 * money moves with the state change that causes it (or not at all):
 * - an approval (by a requester, in bulk, by the auto-approval sweep, or a reversed rejection)
 *   pays reward + fee out of the campaign's escrow, once per assignment (`approve:<id>`);
 * - a task that completes with fewer answers than redundancyMax gives back its unused slots
 *   (`release-slots:task-complete:<taskId>`, so at most once per task);
 * - a finished (completed / cancelled) campaign gives back everything but the slots of
 *   assignments still claimed or awaiting review.
 * Rejections, expired leases and returns move no money: the slot is refilled and its escrow stays.
 */
@Injectable()
export class WorkMoney {
  constructor(private readonly ledger: LedgerService) {}

  /**
   * Pays approved assignments (their status already changed in `em`'s transaction). Every account
   * the payments touch is locked up front in one sorted statement, so two bulk approvals of the
   * same campaign queue instead of deadlocking on accounts taken in different orders.
   */
  async payApprovals(em: EntityManager, approved: readonly ApprovedAssignment[]): Promise<void> {
    if (!approved.length) return;
    const campaigns = await this.campaignsOf(em, [...new Set(approved.map((a) => a.campaignId))]);
    const ids = new Set<string>();
    for (const c of campaigns.values()) {
      ids.add((await this.ledger.ensureAccount(em, escrow(c.id, c.currency))).id);
      ids.add((await this.ledger.ensureAccount(em, cash(c.ownerId, c.currency))).id);
    }
    const workers = new Set(approved.map((a) => `${a.workerId}|${campaigns.get(a.campaignId)!.currency}`));
    for (const w of workers) {
      const [workerId, currency] = w.split('|');
      ids.add((await this.ledger.ensureAccount(em, payable(workerId, currency))).id);
    }
    await this.ledger.lockAccounts(em, [...ids]);
    for (const a of approved) await this.ledger.payApproval(em, { id: a.id, workerId: a.workerId, campaignId: a.campaignId }, campaigns.get(a.campaignId)!);
  }

  /**
   * A task just completed: its slots beyond the answers it holds will never be filled, so their
   * escrow goes back to the owner's cash. Keyed by task, so a task reopened by a rejection and
   * completed again releases nothing more (its kept slots pay the replacement answer).
   */
  async taskCompleted(em: EntityManager, taskId: string, known?: { answersCount: number; redundancyMax: number }): Promise<void> {
    // The completing transaction already read both under the task's row lock: with no unused
    // slot (every task of a fixed-redundancy campaign) there is nothing to release or to read.
    if (known && known.redundancyMax - known.answersCount <= 0) return;
    const { rows } = await sql<{ campaign_id: string; answers_count: number; owner_id: string; currency: string; reward_minor: string; redundancy_max: number }>(
      em,
      `SELECT t.campaign_id, t.answers_count, c.owner_id, c.currency, c.reward_minor, c.redundancy_max
         FROM tasks t JOIN campaigns c ON c.id = t.campaign_id WHERE t.id = $1`,
      [taskId],
    );
    const t = rows[0];
    if (!t) return;
    const unused = t.redundancy_max - t.answers_count;
    if (unused <= 0) return;
    await this.ledger.releaseSlots(em, toCampaignMoney(t), unused, `task-complete:${taskId}`);
  }

  /**
   * Gives a completed, cancelled or expired campaign's unused escrow back, keeping one slot per assignment
   * still claimed or submitted (they may yet be approved). Harmless to repeat.
   */
  async settleCampaign(em: EntityManager, campaignId: string, reason: string): Promise<void> {
    const campaigns = await this.campaignsOf(em, [campaignId]);
    const c = campaigns.get(campaignId);
    if (!c) return;
    const { rows } = await sql<{ n: number }>(em, `SELECT count(*)::int AS n FROM assignments WHERE campaign_id = $1 AND status IN ('claimed', 'submitted')`, [campaignId]);
    await this.ledger.releaseEscrow(em, c, reason, { keepSlots: rows[0].n });
  }

  private async campaignsOf(em: EntityManager, ids: string[]): Promise<Map<string, CampaignMoney>> {
    const { rows } = await sql<{ id: string; owner_id: string; currency: string; reward_minor: string; redundancy_max: number }>(
      em,
      `SELECT id, owner_id, currency, reward_minor, redundancy_max FROM campaigns WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, toCampaignMoney({ campaign_id: r.id, ...r })]));
  }
}

function toCampaignMoney(r: { campaign_id: string; owner_id: string; currency: string; reward_minor: string; redundancy_max: number }): CampaignMoney {
  return { id: r.campaign_id, ownerId: r.owner_id, currency: r.currency.trim(), rewardMinor: Number(r.reward_minor), redundancyMax: r.redundancy_max };
}
