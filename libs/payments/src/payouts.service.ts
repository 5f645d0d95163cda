import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { clampPage, Page } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { inTransaction } from '@tally/database';
import { bigintToNumber as num, inTransit, ledgerSql as sql, LedgerService, payable, stripeClearing } from '@tally/ledger';
import { PaymentsErrors } from './payments.errors';
import { isDefinitiveStripeRefusal, StripeGateway } from './stripe.gateway';

export type PayoutStatus = 'pending' | 'paid' | 'failed';

export interface Payout {
  id: string;
  userId: string;
  currency: string;
  amountMinor: number;
  destination: string;
  idempotencyKey: string;
  transferGroup: string;
  status: PayoutStatus;
  stripeTransferId: string | null;
  reversedMinor: number;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PayoutRunResult {
  started: number;
  paid: number;
  failed: number;
  /** Left pending after a transient error (network, 5xx, timeout): the next run looks them up first. */
  stillPending: number;
}

/**
 * Seams for crash tests: throwing here is the process dying at that point. Production never sets them.
 */
export interface PayoutCrashPoints {
  afterTransferCreated?: (payoutId: string, transferId: string) => void;
}

const PAYOUT_COLUMNS = `id, user_id, currency, amount_minor, destination, idempotency_key, transfer_group, status, stripe_transfer_id,
  reversed_minor, attempts, last_error, created_at, updated_at`;

/**
 * Worker payouts through Stripe Connect, exactly once, as a transactional outbox:
 *
 * 1. start: one DB transaction moves the whole payable balance → payouts_in_transit and inserts the
 *    payout row (status pending, idempotency key, transfer_group = payout_<id>). At most one
 *    pending payout per worker and currency (partial unique index).
 * 2. send: look the transfer up by transfer_group FIRST (a previous attempt may have created it and
 *    died before recording it, possibly longer ago than Stripe's 24-hour idempotency window); only
 *    if none exists call transfers.create with the payout's idempotency key.
 * 3. record: status paid + transfer id, and in transit → stripe_clearing; or, when Stripe refused
 *    definitively (4xx), status failed and in transit → payable (a compensating entry). Transient
 *    errors leave the payout pending; the next run repeats step 2.
 * A crash between any two steps is repaired by the next run; the conditional
 * `UPDATE ... WHERE status = 'pending'` decides a race between two runners.
 */
@Injectable()
export class PayoutsService {
  private readonly log = new Logger('Payouts');
  /** Test seam, see PayoutCrashPoints. */
  crashPoints: PayoutCrashPoints = {};

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    private readonly stripe: StripeGateway,
    private readonly ledger: LedgerService,
  ) {}

  /** Worker onboarding: an Express connected account (created once) and a fresh onboarding link. */
  async onboard(userId: string, opts: { returnUrl?: string; refreshUrl?: string } = {}): Promise<{ accountId: string; url: string; transfersEnabled: boolean }> {
    const client = this.stripe.client;
    const { rows: users } = await sql<{ email: string; roles: string[] }>(this.ds.manager, `SELECT email, roles FROM users WHERE id = $1`, [userId]);
    if (!users[0]) throw PaymentsErrors.userNotFound();
    if (!users[0].roles.includes('worker')) throw PaymentsErrors.notAWorker();
    let { rows } = await sql<{ stripe_account_id: string; transfers_enabled: boolean }>(
      this.ds.manager,
      `SELECT stripe_account_id, transfers_enabled FROM payout_accounts WHERE user_id = $1`,
      [userId],
    );
    if (!rows[0]) {
      // The key makes a double click (or a retry after a crash here) create one account, not two.
      const account = await client.accounts.create(
        { type: 'express', email: users[0].email, metadata: { userId }, capabilities: { transfers: { requested: true } } },
        { idempotencyKey: `tally-account:${userId}` },
      );
      await sql(this.ds.manager, `INSERT INTO payout_accounts (user_id, stripe_account_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`, [userId, account.id]);
      ({ rows } = await sql(this.ds.manager, `SELECT stripe_account_id, transfers_enabled FROM payout_accounts WHERE user_id = $1`, [userId]));
    }
    const accountId = rows[0].stripe_account_id;
    const link = await client.accountLinks.create({
      account: accountId,
      type: 'account_onboarding',
      refresh_url: opts.refreshUrl ?? `${this.config.publicUrl}/payouts/onboarding/refresh`,
      return_url: opts.returnUrl ?? `${this.config.publicUrl}/payouts/onboarding/done`,
    });
    return { accountId, url: link.url, transfersEnabled: rows[0].transfers_enabled };
  }

  /**
   * The background job (and the admin trigger): starts payouts for every onboarded worker whose
   * payable is at least PAYOUT_MINIMUM_MINOR, then sends every pending payout. Safe to run
   * concurrently and to repeat: every step is conditional or keyed.
   */
  async runPayouts(opts: { limit?: number; userIds?: string[] } = {}): Promise<PayoutRunResult> {
    this.stripe.client; // STRIPE_NOT_CONFIGURED: nothing to pay through
    const limit = Math.min(Math.max(1, opts.limit ?? 500), 5000);
    const result: PayoutRunResult = { started: 0, paid: 0, failed: 0, stillPending: 0 };
    const { rows: due } = await sql<{ user_id: string; currency: string }>(
      this.ds.manager,
      `SELECT a.owner_id AS user_id, a.currency FROM ledger_accounts a
         JOIN payout_accounts p ON p.user_id = a.owner_id AND p.transfers_enabled
        WHERE a.kind = 'worker_payable' AND a.balance >= $1
          AND NOT EXISTS (SELECT 1 FROM payouts x WHERE x.user_id = a.owner_id AND x.currency = a.currency AND x.status = 'pending')
          AND ($2::uuid[] IS NULL OR a.owner_id = ANY($2::uuid[]))
        ORDER BY a.id LIMIT ${limit}`,
      [this.config.payoutMinimumMinor, opts.userIds ?? null],
    );
    for (const d of due) if (await this.startPayout(d.user_id, d.currency.trim())) result.started++;
    const { rows: pending } = await sql<{ id: string }>(
      this.ds.manager,
      `SELECT id FROM payouts WHERE status = 'pending' AND (locked_until IS NULL OR locked_until < now())
          AND ($1::uuid[] IS NULL OR user_id = ANY($1::uuid[])) ORDER BY created_at LIMIT ${limit}`,
      [opts.userIds ?? null],
    );
    for (const p of pending) {
      const outcome = await this.sendPayout(p.id);
      if (outcome === 'paid') result.paid++;
      else if (outcome === 'failed') result.failed++;
      else if (outcome === 'pending') result.stillPending++;
    }
    return result;
  }

  /**
   * Step 1: payable → in transit and the payout row, in one transaction. Returns null when the
   * worker has nothing to pay (below the minimum, not onboarded) or a payout is already pending.
   */
  async startPayout(userId: string, currency: string): Promise<Payout | null> {
    return inTransaction(this.ds, async (em) => {
      const { rows: acct } = await sql<{ stripe_account_id: string }>(em, `SELECT stripe_account_id FROM payout_accounts WHERE user_id = $1 AND transfers_enabled`, [userId]);
      if (!acct[0]) return null;
      const account = await this.ledger.ensureAccount(em, payable(userId, currency));
      const balance = (await this.ledger.lockAccounts(em, [account.id])).get(account.id) ?? 0;
      if (balance < this.config.payoutMinimumMinor) return null;
      const id = randomUUID();
      const { rows } = await sql<Record<string, unknown>>(
        em,
        `INSERT INTO payouts (id, user_id, currency, amount_minor, destination, idempotency_key, transfer_group)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id, currency) WHERE status = 'pending' DO NOTHING RETURNING ${PAYOUT_COLUMNS}`,
        [id, userId, currency, balance, acct[0].stripe_account_id, `tally-payout:${id}`, `payout_${id}`],
      );
      if (!rows[0]) return null; // another runner started one first
      await this.ledger.post(em, {
        idempotencyKey: `payout:${id}`,
        kind: 'payout_start',
        memo: `payout ${id} to ${acct[0].stripe_account_id}`,
        reference: id,
        entries: [
          { account: payable(userId, currency), amount: -balance },
          { account: inTransit(userId, currency), amount: balance },
        ],
      });
      return toPayout(rows[0]);
    });
  }

  /** Steps 2 and 3 for one pending payout. Returns its status afterwards ('skipped' if another runner holds it). */
  async sendPayout(payoutId: string): Promise<PayoutStatus | 'skipped'> {
    const client = this.stripe.client;
    // A short lease so two runners do not send the same payout at once (correct anyway, but quieter).
    const { rows } = await sql<Record<string, unknown>>(
      this.ds.manager,
      `UPDATE payouts SET locked_until = now() + interval '2 minutes', attempts = attempts + 1, updated_at = now()
        WHERE id = $1 AND status = 'pending' AND (locked_until IS NULL OR locked_until < now()) RETURNING ${PAYOUT_COLUMNS}`,
      [payoutId],
    );
    if (!rows[0]) return 'skipped';
    const p = toPayout(rows[0]);
    try {
      // Look first: the transfer may exist from an attempt that died before recording it.
      const found = await client.transfers.list({ transfer_group: p.transferGroup, limit: 10 });
      let transfer = found.data.find((t) => t.metadata?.payoutId === p.id) ?? found.data[0];
      if (!transfer) {
        transfer = await client.transfers.create(
          { amount: p.amountMinor, currency: p.currency, destination: p.destination, transfer_group: p.transferGroup, metadata: { payoutId: p.id, userId: p.userId } },
          { idempotencyKey: p.idempotencyKey },
        );
      }
      this.crashPoints.afterTransferCreated?.(p.id, transfer.id);
      await this.recordPaid(p, transfer.id);
      return 'paid';
    } catch (err) {
      if (err instanceof PayoutCrash) throw err;
      if (isDefinitiveStripeRefusal(err)) {
        await this.recordFailed(p, (err as Error).message);
        return 'failed';
      }
      this.log.warn(`payout ${p.id} still pending: ${(err as Error).message}`);
      await sql(this.ds.manager, `UPDATE payouts SET locked_until = NULL, last_error = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`, [
        p.id,
        String((err as Error).message).slice(0, 500),
      ]);
      return 'pending';
    }
  }

  private async recordPaid(p: Payout, transferId: string): Promise<void> {
    await inTransaction(this.ds, async (em) => {
      const { affected } = await sql(
        em,
        `UPDATE payouts SET status = 'paid', stripe_transfer_id = $2, locked_until = NULL, last_error = NULL, updated_at = now() WHERE id = $1 AND status = 'pending'`,
        [p.id, transferId],
      );
      if (!affected) return; // another runner recorded it
      await this.ledger.post(em, {
        idempotencyKey: `payout-paid:${p.id}`,
        kind: 'payout_paid',
        memo: `transfer ${transferId}`,
        reference: p.id,
        entries: [
          { account: inTransit(p.userId, p.currency), amount: -p.amountMinor },
          { account: stripeClearing(p.currency), amount: p.amountMinor },
        ],
      });
    });
  }

  private async recordFailed(p: Payout, why: string): Promise<void> {
    await inTransaction(this.ds, async (em) => {
      const { affected } = await sql(
        em,
        `UPDATE payouts SET status = 'failed', locked_until = NULL, last_error = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`,
        [p.id, why.slice(0, 500)],
      );
      if (!affected) return;
      await this.ledger.post(em, {
        idempotencyKey: `payout-failed:${p.id}`,
        kind: 'payout_failed',
        memo: `payout failed, returned to payable: ${why}`.slice(0, 1000),
        reference: p.id,
        entries: [
          { account: inTransit(p.userId, p.currency), amount: -p.amountMinor },
          { account: payable(p.userId, p.currency), amount: p.amountMinor },
        ],
      });
    });
  }

  async list(filter: { userId?: string; status?: PayoutStatus; limit?: number; offset?: number }): Promise<Page<Payout>> {
    const { limit, offset } = clampPage(filter.limit, filter.offset);
    const params: unknown[] = [];
    const where: string[] = [];
    if (filter.userId) where.push(`user_id = $${params.push(filter.userId)}`);
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ rows }, { rows: n }] = await Promise.all([
      sql<Record<string, unknown>>(this.ds.manager, `SELECT ${PAYOUT_COLUMNS} FROM payouts ${w} ORDER BY created_at DESC, id LIMIT ${limit} OFFSET ${offset}`, params),
      sql<{ n: string }>(this.ds.manager, `SELECT count(*) AS n FROM payouts ${w}`, params),
    ]);
    return { items: rows.map(toPayout), total: num(n[0].n), limit, offset };
  }

  async payoutAccount(userId: string): Promise<{ stripeAccountId: string; transfersEnabled: boolean; detailsSubmitted: boolean } | null> {
    const { rows } = await sql<{ stripe_account_id: string; transfers_enabled: boolean; details_submitted: boolean }>(
      this.ds.manager,
      `SELECT stripe_account_id, transfers_enabled, details_submitted FROM payout_accounts WHERE user_id = $1`,
      [userId],
    );
    return rows[0] ? { stripeAccountId: rows[0].stripe_account_id, transfersEnabled: rows[0].transfers_enabled, detailsSubmitted: rows[0].details_submitted } : null;
  }
}

/** Thrown by crash seams in tests: propagates untouched, like a process dying. */
export class PayoutCrash extends Error {}

export function toPayout(r: Record<string, unknown>): Payout {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    currency: String(r.currency).trim(),
    amountMinor: num(r.amount_minor as string),
    destination: r.destination as string,
    idempotencyKey: r.idempotency_key as string,
    transferGroup: r.transfer_group as string,
    status: r.status as PayoutStatus,
    stripeTransferId: (r.stripe_transfer_id as string) ?? null,
    reversedMinor: num(r.reversed_minor as string),
    attempts: Number(r.attempts),
    lastError: (r.last_error as string) ?? null,
    createdAt: new Date(r.created_at as string).toISOString(),
    updatedAt: new Date(r.updated_at as string).toISOString(),
  };
}
