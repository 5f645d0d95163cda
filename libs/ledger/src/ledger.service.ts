import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { LedgerErrors } from './ledger.errors';
import {
  AccountKind,
  AccountRef,
  ACCOUNT_KINDS,
  AssignmentMoney,
  CampaignMoney,
  GUARDED_KINDS,
  LedgerTransaction,
  OWNED_KINDS,
  PostInput,
  PostResult,
  TRANSACTION_KINDS,
  TransactionKind,
} from './ledger.types';
import { assertCurrency, assertPositiveMinor, escrowFor, platformFee, toSafe } from './money';
import { num, sql } from './sql';

/** Escrow terms fixed when a campaign was first published (see campaign_escrows). */
export interface EscrowTerms {
  campaignId: string;
  currency: string;
  rewardMinor: number;
  feeMinor: number;
  feeBps: number;
  /** Assignments reserved for: redundancyMax × tasks, grown when tasks are added. */
  slots: number;
  /** rewardMinor + feeMinor: what one approval takes out of escrow. */
  perSlotMinor: number;
}

export interface EscrowReservation {
  terms: EscrowTerms;
  /** Minor units moved by this call (0 when everything was already reserved). */
  reservedMinor: number;
  /** What the escrow account holds now. */
  escrowBalanceMinor: number;
}

export interface BonusInput {
  requesterId: string;
  workerId: string;
  currency: string;
  amountMinor: number;
  reason: string;
  /** Caller-chosen, unique per bonus (e.g. the client's request id); the ledger key is `bonus:<key>`. */
  idempotencyKey: string;
  campaignId?: string | null;
  actorId?: string | null;
}

const KIND_LABEL: Record<AccountKind, string> = {
  requester_cash: 'requester cash',
  campaign_escrow: 'campaign escrow',
  worker_payable: 'worker payable',
  payouts_in_transit: 'payouts in transit',
  platform_revenue: 'platform revenue',
  processor_fees: 'processor fees',
  disputes: 'disputes',
  stripe_clearing: 'stripe clearing',
  manual_adjustments: 'manual adjustments',
};

interface AccountRow {
  id: string;
  kind: AccountKind;
  owner_id: string | null;
  currency: string;
  guarded: boolean;
  balance: string;
}

/**
 * The double-entry journal and the money movements the rest of Tally calls.
 *
 * Every method that changes money takes the caller's EntityManager, which must be inside a
 * transaction: the movement commits or rolls back with the caller's own change (an assignment
 * approved, a campaign published). Guarded accounts are locked with SELECT ... FOR UPDATE in id
 * order, their balance is checked, then the entries are inserted; the database re-checks
 * (balance >= 0, sum = 0 at commit, append-only), so a bug here fails loudly instead of losing money.
 */
@Injectable()
export class LedgerService {
  constructor(@Inject(TALLY_CONFIG) private readonly config: TallyConfig) {}

  get feeBps(): number {
    return this.config.platformFeeBps;
  }

  // ---------------------------------------------------------------- core

  /**
   * Posts one balanced transaction. A second post with the same idempotency key returns the
   * transaction that was applied first (created: false) and changes nothing; with different
   * entries it is a 409 IDEMPOTENCY_KEY_REUSED. Guarded accounts going below zero → 422
   * INSUFFICIENT_FUNDS naming the shortfall; the caller's transaction should then roll back.
   */
  async post(em: EntityManager, input: PostInput): Promise<PostResult> {
    requireTransaction(em);
    validatePost(input);
    const existing = await this.findTransaction(em, input.idempotencyKey);
    if (existing) return { transaction: sameOrThrow(existing, input), created: false };

    // Merge lines on the same account so a transaction holds one entry per account.
    const byAccount = new Map<string, { ref: AccountRef; amount: number }>();
    for (const line of input.entries) {
      const k = refKey(line.account);
      const cur = byAccount.get(k);
      byAccount.set(k, { ref: line.account, amount: toSafe(BigInt(cur?.amount ?? 0) + BigInt(line.amount), 'amount') });
    }
    const lines = [...byAccount.values()].filter((l) => l.amount !== 0);
    if (lines.length < 2) throw LedgerErrors.badEntries('a transaction needs at least two non-zero entries');
    const accounts = new Map<string, AccountRow>();
    for (const l of lines) accounts.set(refKey(l.ref), await this.ensureAccount(em, l.ref));

    // The key first: a concurrent post with the same key waits here for ours to commit, then sees it.
    const { rows: inserted } = await sql<{ id: string; created_at: Date }>(
      em,
      `INSERT INTO ledger_transactions (idempotency_key, kind, memo, reference, actor_id) VALUES ($1,$2,$3,$4,$5)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, created_at`,
      [input.idempotencyKey, input.kind, input.memo.slice(0, 1000), input.reference ?? null, input.actorId ?? null],
    );
    if (!inserted[0]) {
      const raced = await this.findTransaction(em, input.idempotencyKey);
      if (!raced) throw new Error(`ledger transaction ${input.idempotencyKey} vanished`);
      return { transaction: sameOrThrow(raced, input), created: false };
    }

    const guarded = lines.filter((l) => GUARDED_KINDS.includes(l.ref.kind));
    const locked = await this.lockAccounts(em, guarded.map((l) => accounts.get(refKey(l.ref))!.id));
    for (const l of guarded) {
      if (l.amount >= 0) continue;
      const acc = accounts.get(refKey(l.ref))!;
      const available = locked.get(acc.id)!;
      if (available + l.amount < 0) throw LedgerErrors.insufficientFunds(KIND_LABEL[l.ref.kind], -l.amount, available, l.ref.currency);
    }

    const params: unknown[] = [inserted[0].id];
    const values = lines.map((l) => {
      const acc = accounts.get(refKey(l.ref))!;
      params.push(acc.id, acc.currency, l.amount);
      const n = params.length;
      return `($1, $${n - 2}::uuid, $${n - 1}, $${n}::bigint)`;
    });
    await sql(em, `INSERT INTO ledger_entries (transaction_id, account_id, currency, amount) VALUES ${values.join(', ')}`, params);
    return {
      created: true,
      transaction: {
        id: String(inserted[0].id),
        idempotencyKey: input.idempotencyKey,
        kind: input.kind,
        memo: input.memo,
        reference: input.reference ?? null,
        createdAt: inserted[0].created_at,
        entries: lines.map((l) => ({ accountId: accounts.get(refKey(l.ref))!.id, kind: l.ref.kind, ownerId: l.ref.ownerId, currency: l.ref.currency, amount: l.amount })),
      },
    };
  }

  /** The account row for (kind, owner, currency), created on first use. */
  async ensureAccount(em: EntityManager, ref: AccountRef): Promise<AccountRow> {
    validateRef(ref);
    const find = () =>
      sql<AccountRow>(
        em,
        `SELECT id, kind, owner_id, currency, guarded, balance FROM ledger_accounts
          WHERE kind = $1 AND owner_id IS NOT DISTINCT FROM $2 AND currency = $3`,
        [ref.kind, ref.ownerId, ref.currency],
      );
    const { rows } = await find();
    if (rows[0]) return rows[0];
    await sql(em, `INSERT INTO ledger_accounts (kind, owner_id, currency) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, [ref.kind, ref.ownerId, ref.currency]);
    const again = await find();
    return again.rows[0];
  }

  /** Locks accounts in id order (the one global order, so two movements cannot deadlock on them). */
  async lockAccounts(em: EntityManager, ids: string[]): Promise<Map<string, number>> {
    const sorted = [...new Set(ids)].sort();
    if (!sorted.length) return new Map();
    const { rows } = await sql<{ id: string; balance: string }>(
      em,
      `SELECT id, balance FROM ledger_accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [sorted],
    );
    return new Map(rows.map((r) => [r.id, num(r.balance)]));
  }

  /** The balance derived from the journal (SUM of entries), 0 for an account never used. */
  async balance(em: EntityManager, ref: AccountRef): Promise<number> {
    const { rows } = await sql<{ total: string | null }>(
      em,
      `SELECT sum(e.amount) AS total FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
        WHERE a.kind = $1 AND a.owner_id IS NOT DISTINCT FROM $2 AND a.currency = $3`,
      [ref.kind, ref.ownerId, ref.currency],
    );
    return num(rows[0]?.total);
  }

  async findTransaction(em: EntityManager, idempotencyKey: string): Promise<LedgerTransaction | null> {
    const { rows } = await sql<{ id: string; idempotency_key: string; kind: TransactionKind; memo: string; reference: string | null; created_at: Date }>(
      em,
      `SELECT id, idempotency_key, kind, memo, reference, created_at FROM ledger_transactions WHERE idempotency_key = $1`,
      [idempotencyKey],
    );
    const t = rows[0];
    if (!t) return null;
    const { rows: entries } = await sql<{ account_id: string; kind: AccountKind; owner_id: string | null; currency: string; amount: string }>(
      em,
      `SELECT e.account_id, a.kind, a.owner_id, e.currency, e.amount FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
        WHERE e.transaction_id = $1 ORDER BY e.id`,
      [t.id],
    );
    return {
      id: String(t.id),
      idempotencyKey: t.idempotency_key,
      kind: t.kind,
      memo: t.memo,
      reference: t.reference,
      createdAt: t.created_at,
      entries: entries.map((e) => ({ accountId: e.account_id, kind: e.kind, ownerId: e.owner_id, currency: e.currency, amount: num(e.amount) })),
    };
  }

  // ---------------------------------------------------------------- escrow

  async escrowTerms(em: EntityManager, campaignId: string, lock = false): Promise<EscrowTerms | null> {
    const { rows } = await sql<{ campaign_id: string; currency: string; reward_minor: string; fee_minor: string; fee_bps: number; slots: string }>(
      em,
      `SELECT campaign_id, currency, reward_minor, fee_minor, fee_bps, slots FROM campaign_escrows WHERE campaign_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [campaignId],
    );
    const r = rows[0];
    if (!r) return null;
    const rewardMinor = num(r.reward_minor);
    const feeMinor = num(r.fee_minor);
    return { campaignId: r.campaign_id, currency: r.currency, rewardMinor, feeMinor, feeBps: r.fee_bps, slots: num(r.slots), perSlotMinor: rewardMinor + feeMinor };
  }

  /**
   * Publish: moves reward × redundancyMax × taskCount × (1 + fee) from the owner's cash to the
   * campaign's escrow. Not enough cash → 422 INSUFFICIENT_FUNDS ("needs 12000 usd, available 5000
   * (short by 7000)") and, as the caller's transaction rolls back, nothing changes.
   * Idempotent and incremental: called again (re-publish, tasks added) it reserves only the slots not
   * yet reserved. Terms (reward, fee) are fixed by the first call; taskCount defaults to the
   * campaign's rows in `tasks`, read in the caller's transaction.
   */
  async reserveEscrow(em: EntityManager, campaign: CampaignMoney, opts: { taskCount?: number; actorId?: string | null } = {}): Promise<EscrowReservation> {
    requireTransaction(em);
    assertCurrency(campaign.currency);
    const taskCount = opts.taskCount ?? num((await sql<{ n: string }>(em, `SELECT count(*) AS n FROM tasks WHERE campaign_id = $1`, [campaign.id])).rows[0].n);
    if (!Number.isSafeInteger(campaign.rewardMinor) || campaign.rewardMinor < 0) throw LedgerErrors.badEntries('reward must be a whole number of minor units');
    if (!Number.isSafeInteger(taskCount) || taskCount < 0) throw LedgerErrors.badEntries('taskCount must be a whole number');
    const fee = platformFee(campaign.rewardMinor, this.feeBps);
    await sql(
      em,
      `INSERT INTO campaign_escrows (campaign_id, currency, reward_minor, fee_minor, fee_bps, slots) VALUES ($1,$2,$3,$4,$5,0)
       ON CONFLICT (campaign_id) DO NOTHING`,
      [campaign.id, campaign.currency, campaign.rewardMinor, fee, this.feeBps],
    );
    const terms = (await this.escrowTerms(em, campaign.id, true))!;
    if (terms.currency !== campaign.currency) throw LedgerErrors.currencyMismatch(terms.currency, campaign.currency);
    const target = toSafe(BigInt(campaign.redundancyMax) * BigInt(taskCount), 'slots');
    let reservedMinor = 0;
    if (target > terms.slots) {
      const { total } = escrowFor(terms.rewardMinor, target - terms.slots, terms.feeBps);
      if (total > 0) {
        await this.post(em, {
          idempotencyKey: `escrow:${campaign.id}:${target}`,
          kind: 'escrow_reserve',
          memo: `escrow for ${target - terms.slots} assignments × ${terms.perSlotMinor} (reward ${terms.rewardMinor} + fee ${terms.feeMinor})`,
          reference: campaign.id,
          actorId: opts.actorId ?? campaign.ownerId,
          entries: [
            { account: cash(campaign.ownerId, campaign.currency), amount: -total },
            { account: escrow(campaign.id, campaign.currency), amount: total },
          ],
        });
      }
      await sql(em, `UPDATE campaign_escrows SET slots = $2, updated_at = now() WHERE campaign_id = $1`, [campaign.id, target]);
      reservedMinor = total;
      terms.slots = target;
    }
    return { terms, reservedMinor, escrowBalanceMinor: await this.balance(em, escrow(campaign.id, campaign.currency)) };
  }

  /**
   * Approval (and a reversed rejection): escrow → worker payable (reward) + platform revenue (fee),
   * at the terms reserved at publish. Key `approve:<assignmentId>`: approving twice pays once.
   * If the escrow has run dry (more approvals than reserved slots, or after a release) the rest
   * comes from the owner's cash; if that is short too → 422 INSUFFICIENT_FUNDS.
   */
  async payApproval(em: EntityManager, assignment: AssignmentMoney, campaign: CampaignMoney): Promise<PostResult> {
    requireTransaction(em);
    if (assignment.campaignId !== campaign.id) throw LedgerErrors.badEntries('assignment does not belong to this campaign');
    if (assignment.workerId === campaign.ownerId) throw LedgerErrors.selfBonus();
    const key = `approve:${assignment.id}`;
    const done = await this.findTransaction(em, key);
    if (done) return { transaction: done, created: false };
    const terms = await this.escrowTerms(em, campaign.id);
    if (!terms) throw LedgerErrors.notEscrowed(campaign.id);
    const c = terms.currency;
    const esc = await this.ensureAccount(em, escrow(campaign.id, c));
    const own = await this.ensureAccount(em, cash(campaign.ownerId, c));
    const pay = await this.ensureAccount(em, payable(assignment.workerId, c));
    const bal = await this.lockAccounts(em, [esc.id, own.id, pay.id]);
    // A racing approval of the same assignment may have committed while we waited for the locks.
    const raced = await this.findTransaction(em, key);
    if (raced) return { transaction: raced, created: false };
    const fromEscrow = Math.min(terms.perSlotMinor, bal.get(esc.id)!);
    const fromCash = terms.perSlotMinor - fromEscrow;
    if (terms.perSlotMinor === 0) return { transaction: await this.zeroMarker(em, key, 'approval', assignment.id), created: true };
    return this.post(em, {
      idempotencyKey: key,
      kind: 'approval',
      memo: `reward ${terms.rewardMinor} + fee ${terms.feeMinor} for assignment ${assignment.id}${fromCash ? ` (${fromCash} from cash: escrow ran dry)` : ''}`,
      reference: campaign.id,
      entries: [
        ...(fromEscrow ? [{ account: escrow(campaign.id, c), amount: -fromEscrow }] : []),
        ...(fromCash ? [{ account: cash(campaign.ownerId, c), amount: -fromCash }] : []),
        { account: payable(assignment.workerId, c), amount: terms.rewardMinor },
        ...(terms.feeMinor ? [{ account: platformRevenue(c), amount: terms.feeMinor }] : []),
      ],
    });
  }

  /**
   * Cancellation / completion: returns what remains in the campaign's escrow to the owner's cash,
   * keeping `keepSlots` × (reward + fee) for assignments still claimed or awaiting review.
   * Returns null when there is nothing to release, so calling it again is harmless.
   */
  async releaseEscrow(em: EntityManager, campaign: CampaignMoney, reason: string, opts: { keepSlots?: number; actorId?: string | null } = {}): Promise<PostResult | null> {
    requireTransaction(em);
    const terms = await this.escrowTerms(em, campaign.id, true);
    if (!terms) return null;
    const esc = await this.ensureAccount(em, escrow(campaign.id, terms.currency));
    const own = await this.ensureAccount(em, cash(campaign.ownerId, terms.currency));
    const bal = await this.lockAccounts(em, [esc.id, own.id]);
    const keep = toSafe(BigInt(Math.max(0, opts.keepSlots ?? 0)) * BigInt(terms.perSlotMinor), 'keep');
    const amount = bal.get(esc.id)! - keep;
    if (amount <= 0) return null;
    // Under the escrow lock the count is stable, so the key is deterministic for this release.
    const { rows } = await sql<{ n: string }>(em, `SELECT count(*) AS n FROM ledger_transactions WHERE reference = $1 AND kind = 'escrow_release'`, [campaign.id]);
    return this.post(em, {
      idempotencyKey: `release:${campaign.id}:${num(rows[0].n) + 1}`,
      kind: 'escrow_release',
      memo: `released ${amount} (${reason})`.slice(0, 1000),
      reference: campaign.id,
      actorId: opts.actorId ?? null,
      entries: [
        { account: escrow(campaign.id, terms.currency), amount: -amount },
        { account: cash(campaign.ownerId, terms.currency), amount },
      ],
    });
  }

  /**
   * Releases `slots` unused slots (e.g. a task completed before redundancyMax answers). The key is
   * the caller's (e.g. `task-complete:<taskId>`), so a repeated call releases once.
   */
  async releaseSlots(em: EntityManager, campaign: CampaignMoney, slots: number, idempotencyKey: string): Promise<PostResult | null> {
    requireTransaction(em);
    const terms = await this.escrowTerms(em, campaign.id);
    if (!terms || slots <= 0 || terms.perSlotMinor === 0) return null;
    const key = `release-slots:${idempotencyKey}`;
    const done = await this.findTransaction(em, key);
    if (done) return { transaction: done, created: false };
    const esc = await this.ensureAccount(em, escrow(campaign.id, terms.currency));
    const own = await this.ensureAccount(em, cash(campaign.ownerId, terms.currency));
    const bal = await this.lockAccounts(em, [esc.id, own.id]);
    const amount = Math.min(bal.get(esc.id)!, toSafe(BigInt(slots) * BigInt(terms.perSlotMinor), 'slots'));
    if (amount <= 0) return null;
    return this.post(em, {
      idempotencyKey: key,
      kind: 'escrow_release',
      memo: `released ${slots} unused slots`,
      reference: campaign.id,
      entries: [
        { account: escrow(campaign.id, terms.currency), amount: -amount },
        { account: cash(campaign.ownerId, terms.currency), amount },
      ],
    });
  }

  /** Bonus: requester cash → worker payable (amount) + platform revenue (fee on the amount). */
  async bonus(em: EntityManager, b: BonusInput): Promise<PostResult> {
    requireTransaction(em);
    assertPositiveMinor(b.amountMinor);
    assertCurrency(b.currency);
    if (!b.requesterId || !b.workerId) throw LedgerErrors.badEntries('requesterId and workerId are required');
    if (b.requesterId === b.workerId) throw LedgerErrors.selfBonus();
    if (!b.idempotencyKey || b.idempotencyKey.length > 200) throw LedgerErrors.badEntries('idempotencyKey must have 1 to 200 characters');
    const fee = platformFee(b.amountMinor, this.feeBps);
    return this.post(em, {
      idempotencyKey: `bonus:${b.idempotencyKey}`,
      kind: 'bonus',
      memo: `bonus ${b.amountMinor} + fee ${fee}: ${b.reason}`.slice(0, 1000),
      reference: b.campaignId ?? null,
      actorId: b.actorId ?? b.requesterId,
      entries: [
        { account: cash(b.requesterId, b.currency), amount: -toSafe(BigInt(b.amountMinor) + BigInt(fee), 'amountMinor') },
        { account: payable(b.workerId, b.currency), amount: b.amountMinor },
        ...(fee ? [{ account: platformRevenue(b.currency), amount: fee }] : []),
      ],
    });
  }

  /** A zero-reward approval moves no money; record the key anyway so it is visibly "paid once". */
  private async zeroMarker(em: EntityManager, key: string, kind: TransactionKind, reference: string): Promise<LedgerTransaction> {
    await sql(em, `INSERT INTO ledger_transactions (idempotency_key, kind, memo, reference) VALUES ($1,$2,'zero amount',$3) ON CONFLICT DO NOTHING`, [key, kind, reference]);
    return (await this.findTransaction(em, key))!;
  }
}

// ---------------------------------------------------------------- account helpers

export const cash = (userId: string, currency: string): AccountRef => ({ kind: 'requester_cash', ownerId: userId, currency });
export const escrow = (campaignId: string, currency: string): AccountRef => ({ kind: 'campaign_escrow', ownerId: campaignId, currency });
export const payable = (userId: string, currency: string): AccountRef => ({ kind: 'worker_payable', ownerId: userId, currency });
export const inTransit = (userId: string, currency: string): AccountRef => ({ kind: 'payouts_in_transit', ownerId: userId, currency });
export const platformRevenue = (currency: string): AccountRef => ({ kind: 'platform_revenue', ownerId: null, currency });
export const stripeClearing = (currency: string): AccountRef => ({ kind: 'stripe_clearing', ownerId: null, currency });
export const manualAdjustments = (currency: string): AccountRef => ({ kind: 'manual_adjustments', ownerId: null, currency });
export const disputes = (currency: string): AccountRef => ({ kind: 'disputes', ownerId: null, currency });

const refKey = (r: AccountRef) => `${r.kind}|${r.ownerId ?? ''}|${r.currency}`;

/** Locks taken on ds.manager would be released at once: money needs the caller's transaction. */
function requireTransaction(em: EntityManager): void {
  if (!em.queryRunner?.isTransactionActive) throw new Error('ledger operations must run inside a transaction (pass the transaction\'s EntityManager)');
}

function validateRef(ref: AccountRef): void {
  if (!ACCOUNT_KINDS.includes(ref.kind)) throw LedgerErrors.badEntries(`unknown account kind ${ref.kind}`);
  assertCurrency(ref.currency);
  const owned = OWNED_KINDS.includes(ref.kind);
  if (owned && !ref.ownerId) throw LedgerErrors.badEntries(`${ref.kind} needs an owner`);
  if (!owned && ref.ownerId) throw LedgerErrors.badEntries(`${ref.kind} has no owner`);
}

function validatePost(input: PostInput): void {
  if (!input.idempotencyKey || input.idempotencyKey.length > 300) throw LedgerErrors.badEntries('idempotencyKey must have 1 to 300 characters');
  if (!TRANSACTION_KINDS.includes(input.kind)) throw LedgerErrors.badEntries(`unknown transaction kind ${input.kind}`);
  if (!Array.isArray(input.entries) || input.entries.length < 2) throw LedgerErrors.badEntries('a transaction needs at least two entries');
  const totals = new Map<string, bigint>();
  for (const e of input.entries) {
    validateRef(e.account);
    if (!Number.isSafeInteger(e.amount) || e.amount === 0) throw LedgerErrors.badEntries(`entry amounts must be non-zero safe integers (got ${e.amount})`);
    totals.set(e.account.currency, (totals.get(e.account.currency) ?? 0n) + BigInt(e.amount));
  }
  for (const [currency, total] of totals) if (total !== 0n) throw LedgerErrors.unbalanced(currency, Number(total));
}

/** An idempotent replay must describe the same movement; anything else is a caller bug worth a 409. */
function sameOrThrow(existing: LedgerTransaction, input: PostInput): LedgerTransaction {
  const norm = (xs: { kind: string; ownerId: string | null; currency: string; amount: number }[]) => {
    const m = new Map<string, number>();
    for (const x of xs) {
      const k = `${x.kind}|${x.ownerId ?? ''}|${x.currency}`;
      m.set(k, (m.get(k) ?? 0) + x.amount);
    }
    return [...m.entries()].filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(';');
  };
  const wanted = norm(input.entries.map((e) => ({ ...e.account, amount: e.amount })));
  if (existing.kind !== input.kind || norm(existing.entries) !== wanted) throw LedgerErrors.keyReused(input.idempotencyKey);
  return existing;
}
