import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { notFound } from '@tally/common';
import { AccountKind } from './ledger.types';
import { num, sql } from './sql';

export interface TrialBalance {
  currencies: {
    currency: string;
    /** Must be 0: every transaction sums to zero, so all balances do. */
    total: number;
    accounts: { kind: AccountKind; balance: number; accounts: number }[];
  }[];
  /** Guarded accounts whose cached balance differs from SUM(entries): must be empty. */
  cacheMismatches: { accountId: string; kind: AccountKind; cached: number; derived: number }[];
  /** Transactions whose entries do not sum to zero: must be empty (the database refuses them). */
  unbalancedTransactions: string[];
  balanced: boolean;
}

export interface StatementLine {
  transactionId: string;
  createdAt: string;
  kind: string;
  memo: string;
  reference: string | null;
  account: AccountKind;
  currency: string;
  amountMinor: number;
  balanceAfterMinor: number;
}

export interface CampaignMoneyStory {
  campaignId: string;
  currency: string | null;
  terms: { rewardMinor: number; feeMinor: number; feeBps: number; slots: number } | null;
  /** Moved into escrow from the owner's cash (reserve). */
  escrowedMinor: number;
  /** Rewards paid to workers (approvals). */
  paidMinor: number;
  /** Platform fees on approvals. */
  feesMinor: number;
  /** Approvals paid from the owner's cash because the escrow had run dry. */
  paidFromCashMinor: number;
  approvals: number;
  /** Returned from escrow to the owner's cash. */
  releasedMinor: number;
  /** Bonuses referencing this campaign (amount to workers, fees). */
  bonusesMinor: number;
  bonusFeesMinor: number;
  /** What escrow holds now: escrowed − (paid + fees − paidFromCash) − released. */
  escrowBalanceMinor: number;
}

/** Read side of the ledger: balances, statements, trial balance, a campaign's money story. */
@Injectable()
export class LedgerReportsService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async trialBalance(em: EntityManager = this.ds.manager): Promise<TrialBalance> {
    const { rows } = await sql<{ currency: string; kind: AccountKind; balance: string | null; n: string }>(
      em,
      `SELECT a.currency, a.kind, coalesce(sum(e.amount), 0) AS balance, count(DISTINCT a.id) AS n
         FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
        GROUP BY a.currency, a.kind ORDER BY a.currency, a.kind`,
    );
    const byCurrency = new Map<string, TrialBalance['currencies'][number]>();
    for (const r of rows) {
      const c = byCurrency.get(r.currency) ?? { currency: r.currency, total: 0, accounts: [] };
      c.accounts.push({ kind: r.kind, balance: num(r.balance), accounts: num(r.n) });
      c.total += num(r.balance);
      byCurrency.set(r.currency, c);
    }
    const { rows: mism } = await sql<{ id: string; kind: AccountKind; balance: string; derived: string }>(
      em,
      `SELECT a.id, a.kind, a.balance, coalesce(s.total, 0) AS derived FROM ledger_accounts a
         LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_entries GROUP BY account_id) s ON s.account_id = a.id
        WHERE a.guarded AND a.balance <> coalesce(s.total, 0)`,
    );
    const { rows: unbalanced } = await sql<{ transaction_id: string }>(
      em,
      `SELECT transaction_id FROM ledger_entries GROUP BY transaction_id, currency HAVING sum(amount) <> 0 LIMIT 100`,
    );
    const currencies = [...byCurrency.values()];
    return {
      currencies,
      cacheMismatches: mism.map((m) => ({ accountId: m.id, kind: m.kind, cached: num(m.balance), derived: num(m.derived) })),
      unbalancedTransactions: unbalanced.map((u) => String(u.transaction_id)),
      balanced: currencies.every((c) => c.total === 0) && !mism.length && !unbalanced.length,
    };
  }

  /** Balances of the accounts a user owns, derived from the journal. */
  async ownerBalances(ownerId: string, em: EntityManager = this.ds.manager): Promise<{ kind: AccountKind; currency: string; balance: number }[]> {
    if (!ownerId) throw notFound('USER_NOT_FOUND', 'User not found');
    const { rows } = await sql<{ kind: AccountKind; currency: string; balance: string }>(
      em,
      `SELECT a.kind, a.currency, coalesce(sum(e.amount), 0) AS balance FROM ledger_accounts a
         LEFT JOIN ledger_entries e ON e.account_id = a.id
        WHERE a.owner_id = $1 GROUP BY a.kind, a.currency ORDER BY a.currency, a.kind`,
      [ownerId],
    );
    return rows.map((r) => ({ kind: r.kind, currency: r.currency, balance: num(r.balance) }));
  }

  /** Escrow held for the campaigns a requester owns, per currency. */
  async escrowOnHold(ownerId: string, em: EntityManager = this.ds.manager): Promise<{ currency: string; balance: number }[]> {
    const { rows } = await sql<{ currency: string; balance: string }>(
      em,
      `SELECT a.currency, coalesce(sum(e.amount), 0) AS balance FROM ledger_accounts a
         JOIN campaigns c ON c.id = a.owner_id AND c.owner_id = $1
         LEFT JOIN ledger_entries e ON e.account_id = a.id
        WHERE a.kind = 'campaign_escrow' GROUP BY a.currency ORDER BY a.currency`,
      [ownerId],
    );
    return rows.map((r) => ({ currency: r.currency, balance: num(r.balance) }));
  }

  /** Every entry on a user's own accounts, oldest first, with the running balance of each account. */
  async statement(ownerId: string, opts: { currency?: string; limit?: number } = {}, em: EntityManager = this.ds.manager): Promise<StatementLine[]> {
    if (!ownerId) throw notFound('USER_NOT_FOUND', 'User not found');
    const limit = Math.min(Math.max(1, opts.limit ?? 10_000), 50_000);
    const params: unknown[] = [ownerId];
    const cur = opts.currency ? `AND a.currency = $${params.push(opts.currency)}` : '';
    const { rows } = await sql<{ id: string; created_at: Date; kind: string; memo: string; reference: string | null; account: AccountKind; currency: string; amount: string; after: string }>(
      em,
      `SELECT t.id, t.created_at, t.kind, t.memo, t.reference, a.kind AS account, a.currency, e.amount,
              sum(e.amount) OVER (PARTITION BY a.id ORDER BY e.id) AS after
         FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.transaction_id
        WHERE a.owner_id = $1 ${cur} ORDER BY e.id LIMIT ${limit}`,
      params,
    );
    return rows.map((r) => ({
      transactionId: String(r.id),
      createdAt: new Date(r.created_at).toISOString(),
      kind: r.kind,
      memo: r.memo,
      reference: r.reference,
      account: r.account,
      currency: r.currency.trim(),
      amountMinor: num(r.amount),
      balanceAfterMinor: num(r.after),
    }));
  }

  async campaignStory(campaignId: string, em: EntityManager = this.ds.manager): Promise<CampaignMoneyStory> {
    const { rows: c } = await sql<{ id: string; owner_id: string; currency: string }>(em, `SELECT id, owner_id, currency FROM campaigns WHERE id = $1`, [campaignId]);
    if (!c[0]) throw notFound('CAMPAIGN_NOT_FOUND', 'Campaign not found');
    const { rows: t } = await sql<{ reward_minor: string; fee_minor: string; fee_bps: number; slots: string; currency: string }>(
      em,
      `SELECT reward_minor, fee_minor, fee_bps, slots, currency FROM campaign_escrows WHERE campaign_id = $1`,
      [campaignId],
    );
    // Sum each transaction kind's effect per account kind for transactions referencing this campaign.
    const { rows } = await sql<{ tkind: string; akind: AccountKind; owner_id: string | null; total: string; n: string }>(
      em,
      `SELECT t.kind AS tkind, a.kind AS akind, a.owner_id, sum(e.amount) AS total, count(DISTINCT t.id) AS n
         FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id
        WHERE t.reference = $1 GROUP BY t.kind, a.kind, a.owner_id`,
      [campaignId],
    );
    const sumOf = (tkind: string, akind: AccountKind) => rows.filter((r) => r.tkind === tkind && r.akind === akind).reduce((s, r) => s + num(r.total), 0);
    const approvals = rows.filter((r) => r.tkind === 'approval' && r.akind === 'worker_payable').reduce((s, r) => s + num(r.n), 0);
    const { rows: esc } = await sql<{ total: string | null }>(
      em,
      `SELECT sum(e.amount) AS total FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id WHERE a.kind = 'campaign_escrow' AND a.owner_id = $1`,
      [campaignId],
    );
    return {
      campaignId,
      currency: t[0]?.currency ?? c[0].currency,
      terms: t[0] ? { rewardMinor: num(t[0].reward_minor), feeMinor: num(t[0].fee_minor), feeBps: t[0].fee_bps, slots: num(t[0].slots) } : null,
      escrowedMinor: sumOf('escrow_reserve', 'campaign_escrow'),
      paidMinor: sumOf('approval', 'worker_payable'),
      feesMinor: sumOf('approval', 'platform_revenue'),
      paidFromCashMinor: -sumOf('approval', 'requester_cash') || 0, // never -0
      approvals,
      releasedMinor: sumOf('escrow_release', 'requester_cash'),
      bonusesMinor: sumOf('bonus', 'worker_payable'),
      bonusFeesMinor: sumOf('bonus', 'platform_revenue'),
      escrowBalanceMinor: num(esc[0]?.total),
    };
  }
}
