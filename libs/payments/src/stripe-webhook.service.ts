import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '@tally/common';
import { inTransaction } from '@tally/database';
import { bigintToNumber as num, cash, disputes, ledgerSql as sql, LedgerService, payable, stripeClearing, TransactionKind } from '@tally/ledger';
import { FundingService } from './funding.service';
import { PaymentsErrors } from './payments.errors';
import { StripeEvent, StripeGateway } from './stripe.gateway';

export interface WebhookResult {
  received: true;
  eventId: string;
  type: string;
  /** What happened: 'credited', 'duplicate', 'ignored: <why>', ... */
  outcome: string;
}

type Obj = Record<string, any>;

/**
 * Stripe webhooks: verified on the raw body, then the event id is inserted into stripe_events
 * (primary key) in the SAME transaction as the event's ledger effects. A redelivery finds the id
 * and does nothing; a crash before commit leaves neither, so Stripe's retry applies it. Every
 * money effect also has its own idempotency key, so two different events reporting the same
 * payment (checkout.session.completed and payment_intent.succeeded) credit once.
 */
@Injectable()
export class StripeWebhookService {
  private readonly log = new Logger('StripeWebhook');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly stripe: StripeGateway,
    private readonly ledger: LedgerService,
    private readonly funding: FundingService,
  ) {}

  async receive(rawBody: Buffer, signature: string | undefined): Promise<WebhookResult> {
    const event = this.stripe.constructEvent(rawBody, signature);
    checkEventShape(event);
    return inTransaction(this.ds, async (em) => {
      const { rows } = await sql<{ id: string }>(
        em,
        `INSERT INTO stripe_events (id, type, created, outcome, payload) VALUES ($1, $2, to_timestamp($3), 'processing', $4)
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [event.id, event.type, event.created, JSON.stringify(event)],
      );
      if (!rows[0]) return { received: true as const, eventId: event.id, type: event.type, outcome: 'duplicate' };
      let outcome: string;
      // A savepoint, so an event that can never apply leaves no half of its effects behind.
      await sql(em, 'SAVEPOINT stripe_event');
      try {
        outcome = await this.dispatch(em, event);
      } catch (err) {
        await sql(em, 'ROLLBACK TO SAVEPOINT stripe_event');
        // Not ready (out of order): roll back, answer 409, Stripe retries later. Other domain errors
        // (unknown user, bad amount) can never succeed: keep the event with the reason, answer 2xx.
        // Likewise data PostgreSQL refuses (a value of the wrong type or out of range, a user that does
        // not exist): retrying cannot help, and it must not surface as a 500.
        const pgCode = (err as { code?: unknown }).code ?? (err as { driverError?: { code?: unknown } }).driverError?.code;
        if (err instanceof DomainError && err.code !== 'STRIPE_EVENT_NOT_READY' && err.code !== 'INSUFFICIENT_FUNDS') {
          outcome = `ignored: ${err.code} ${err.message}`;
          this.log.warn(`event ${event.id} (${event.type}) ${outcome}`);
        } else if (!(err instanceof DomainError) && typeof pgCode === 'string' && /^(22...|23502|23503)$/.test(pgCode)) {
          outcome = `ignored: the event's data does not fit (PostgreSQL ${pgCode})`;
          this.log.warn(`event ${event.id} (${event.type}) ${outcome}: ${(err as Error).message}`);
        } else throw err;
      }
      await sql(em, `UPDATE stripe_events SET outcome = $2 WHERE id = $1`, [event.id, outcome.slice(0, 500)]);
      return { received: true as const, eventId: event.id, type: event.type, outcome };
    });
  }

  private dispatch(em: EntityManager, event: StripeEvent): Promise<string> {
    const o = (event.data as { object: Obj }).object;
    switch (event.type as string) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
        return this.checkoutPaid(em, o);
      case 'payment_intent.succeeded':
        return this.paymentIntentSucceeded(em, o);
      case 'charge.refunded':
        return this.chargeRefunded(em, o);
      case 'charge.dispute.created':
        return this.disputeCreated(em, o);
      case 'account.updated':
        return this.accountUpdated(em, o, event.created);
      case 'transfer.reversed':
        return this.transferReversed(em, o);
      default:
        return Promise.resolve('ignored: event type not handled');
    }
  }

  private async checkoutPaid(em: EntityManager, s: Obj): Promise<string> {
    if (s.mode !== 'payment') return 'ignored: not a payment session';
    // An asynchronous payment method completes the session unpaid; its async_payment_succeeded credits.
    if (s.payment_status !== 'paid') return `ignored: payment_status ${s.payment_status}`;
    const userId = s.metadata?.userId;
    if (!userId) return 'ignored: no userId in metadata';
    const r = await this.funding.creditPayment(em, {
      paymentIntentId: typeof s.payment_intent === 'string' ? s.payment_intent : (s.payment_intent?.id ?? `cs:${s.id}`),
      userId,
      amountMinor: Number(s.amount_total),
      currency: s.currency,
      checkoutSessionId: s.id,
    });
    return r.created ? 'credited' : 'already credited';
  }

  private async paymentIntentSucceeded(em: EntityManager, pi: Obj): Promise<string> {
    const userId = pi.metadata?.userId;
    if (!userId) return 'ignored: no userId in metadata';
    const r = await this.funding.creditPayment(em, { paymentIntentId: pi.id, userId, amountMinor: Number(pi.amount_received ?? pi.amount), currency: pi.currency });
    return r.created ? 'credited' : 'already credited';
  }

  /** The payment behind a charge; credits it first when the charge event outran the payment event. */
  private async paymentOf(em: EntityManager, ch: Obj): Promise<{ userId: string; currency: string }> {
    const pi = typeof ch.payment_intent === 'string' ? ch.payment_intent : ch.payment_intent?.id;
    if (!pi) throw PaymentsErrors.eventNotReady('charge without payment_intent');
    const { rows } = await sql<{ user_id: string; currency: string }>(em, `SELECT user_id, currency FROM stripe_payments WHERE payment_intent_id = $1`, [pi]);
    if (rows[0]) return { userId: rows[0].user_id, currency: rows[0].currency.trim() };
    if (ch.object === 'charge' && ch.metadata?.userId) {
      await this.funding.creditPayment(em, { paymentIntentId: pi, userId: ch.metadata.userId, amountMinor: Number(ch.amount), currency: ch.currency });
      return { userId: ch.metadata.userId, currency: ch.currency };
    }
    throw PaymentsErrors.eventNotReady(`payment ${pi} has not been credited yet`);
  }

  /**
   * charge.refunded carries the cumulative amount_refunded: debit only what this ledger has not
   * debited yet for the payment, so partial refunds delivered out of order end at the right total.
   */
  private async chargeRefunded(em: EntityManager, ch: Obj): Promise<string> {
    const { userId, currency } = await this.paymentOf(em, ch);
    const pi = typeof ch.payment_intent === 'string' ? ch.payment_intent : ch.payment_intent.id;
    const target = Number(ch.amount_refunded);
    return this.debitRequester(em, userId, currency, 'refund', pi, `refund:${pi}:${target}`, async () => {
      const { rows } = await sql<{ total: string | null }>(
        em,
        `SELECT sum(e.amount) AS total FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
           JOIN ledger_accounts a ON a.id = e.account_id AND a.kind = 'stripe_clearing'
          WHERE t.reference = $1 AND t.kind = 'refund'`,
        [pi],
      );
      return target - num(rows[0]?.total);
    });
  }

  private async disputeCreated(em: EntityManager, d: Obj): Promise<string> {
    const { userId, currency } = await this.paymentOf(em, { object: 'dispute', payment_intent: d.payment_intent });
    return this.debitRequester(em, userId, currency, 'dispute', d.payment_intent, `dispute:${d.id}`, async () => Number(d.amount));
  }

  /**
   * Money Stripe took back from the platform. It comes out of the requester's cash; what the cash
   * cannot cover (already escrowed or paid to workers) is booked to `disputes`, the platform's loss
   * to recover, so no guarded account ever goes negative.
   */
  private async debitRequester(em: EntityManager, userId: string, currency: string, kind: TransactionKind, reference: string, key: string, amount: () => Promise<number>): Promise<string> {
    const acc = await this.ledger.ensureAccount(em, cash(userId, currency));
    const bal = await this.ledger.lockAccounts(em, [acc.id]); // serialises debits of this requester before reading totals
    const delta = await amount();
    if (!Number.isSafeInteger(delta) || delta <= 0) return `no-op: nothing more to debit`;
    const fromCash = Math.min(delta, bal.get(acc.id) ?? 0);
    const fromPlatform = delta - fromCash;
    const r = await this.ledger.post(em, {
      idempotencyKey: key,
      kind,
      memo: `${kind} of ${delta}${fromPlatform ? ` (${fromPlatform} not covered by cash: booked to disputes)` : ''}`,
      reference,
      entries: [
        { account: stripeClearing(currency), amount: delta },
        ...(fromCash ? [{ account: cash(userId, currency), amount: -fromCash }] : []),
        ...(fromPlatform ? [{ account: disputes(currency), amount: -fromPlatform }] : []),
      ],
    });
    return r.created ? `debited ${delta}` : 'already debited';
  }

  /** Connected account state; older events never overwrite newer ones (deliveries come out of order). */
  private async accountUpdated(em: EntityManager, a: Obj, created: number): Promise<string> {
    const transfersEnabled = a.capabilities?.transfers === 'active';
    const args = [a.id, !!a.details_submitted, !!a.charges_enabled, transfersEnabled, created];
    const { affected } = await sql(
      em,
      `UPDATE payout_accounts SET details_submitted = $2, charges_enabled = $3, transfers_enabled = $4, stripe_updated_at = to_timestamp($5), updated_at = now()
        WHERE stripe_account_id = $1 AND (stripe_updated_at IS NULL OR stripe_updated_at <= to_timestamp($5))`,
      args,
    );
    if (affected) return transfersEnabled ? 'account ready for payouts' : 'account updated';
    const { rows } = await sql(em, `SELECT 1 FROM payout_accounts WHERE stripe_account_id = $1`, [a.id]);
    if (rows[0]) return 'ignored: older than the state we have';
    const userId = a.metadata?.userId;
    if (!userId) return 'ignored: unknown account';
    if (typeof a.id !== 'string' || !a.id) return 'ignored: no account id';
    if (typeof userId !== 'string' || !UUID.test(userId) || !(await sql(em, `SELECT 1 FROM users WHERE id = $1`, [userId])).rows[0]) return 'ignored: metadata.userId is not a user';
    await sql(
      em,
      `INSERT INTO payout_accounts (user_id, stripe_account_id, details_submitted, charges_enabled, transfers_enabled, stripe_updated_at)
       VALUES ($6, $1, $2, $3, $4, to_timestamp($5)) ON CONFLICT DO NOTHING`,
      [...args, userId],
    );
    return 'account recorded';
  }

  /** A reversed transfer returns the reversed amount to the worker's payable (cumulative, applied once). */
  private async transferReversed(em: EntityManager, t: Obj): Promise<string> {
    const { rows } = await sql<{ id: string; user_id: string; currency: string; reversed_minor: string }>(
      em,
      `SELECT id, user_id, currency, reversed_minor FROM payouts WHERE stripe_transfer_id = $1 OR transfer_group = $2 OR id::text = $3
        ORDER BY id LIMIT 1 FOR UPDATE`,
      [t.id, t.transfer_group ?? '', t.metadata?.payoutId ?? ''],
    );
    const p = rows[0];
    if (!p) return 'ignored: not a Tally payout';
    const target = Number(t.amount_reversed);
    const delta = target - num(p.reversed_minor);
    if (!Number.isSafeInteger(delta) || delta <= 0) return 'no-op: reversal already applied';
    const currency = p.currency.trim();
    await this.ledger.post(em, {
      idempotencyKey: `transfer-reversed:${t.id}:${target}`,
      kind: 'transfer_reversed',
      memo: `transfer ${t.id} reversed by ${delta}`,
      reference: p.id,
      entries: [
        { account: stripeClearing(currency), amount: -delta },
        { account: payable(p.user_id, currency), amount: delta },
      ],
    });
    await sql(em, `UPDATE payouts SET reversed_minor = $2, updated_at = now() WHERE id = $1`, [p.id, target]);
    return `returned ${delta} to payable`;
  }
}

/**
 * The signature proves who sent the bytes, not that they form an event: check the fields the
 * journal relies on before storing it (a missing `created` was a NOT NULL violation, a 500).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkEventShape(event: StripeEvent): void {
  const e = event as unknown as { id?: unknown; type?: unknown; created?: unknown; data?: { object?: unknown } } | null;
  if (!e || typeof e !== 'object' || Array.isArray(e)) throw PaymentsErrors.malformedEvent('the body must be a JSON object');
  if (typeof e.id !== 'string' || !/^[\w-]{1,255}$/.test(e.id)) throw PaymentsErrors.malformedEvent('id must be a Stripe event id (evt_...)');
  if (typeof e.type !== 'string' || !/^[\w.]{1,255}$/.test(e.type)) throw PaymentsErrors.malformedEvent('type must be an event type such as checkout.session.completed');
  if (typeof e.created !== 'number' || !Number.isInteger(e.created) || e.created < 0 || e.created > 32503680000) throw PaymentsErrors.malformedEvent('created must be a Unix timestamp');
  if (!e.data || typeof e.data.object !== 'object' || e.data.object === null || Array.isArray(e.data.object)) throw PaymentsErrors.malformedEvent('data.object must be an object');
  if (hasUnstorableString(event)) throw PaymentsErrors.malformedEvent('a string in it contains an unpaired UTF-16 surrogate or a NUL character, which jsonb cannot store');
}

/** Walks the event without recursion (it may be deeply nested): PostgreSQL's jsonb refuses unpaired surrogates and \u0000. */
function hasUnstorableString(value: unknown): boolean {
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (lone.test(v)) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (lone.test(k)) return true;
        stack.push(x);
      }
    }
  }
  return false;
}
