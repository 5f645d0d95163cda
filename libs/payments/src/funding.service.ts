import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '@tally/audit';
import { invalidField } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { inTransaction } from '@tally/database';
import { assertCurrency, assertPositiveMinor, cash, ledgerSql as sql, LedgerService, manualAdjustments, payable, PostResult, stripeClearing } from '@tally/ledger';
import { PaymentsErrors } from './payments.errors';
import { StripeGateway } from './stripe.gateway';

/** Stripe's own ceiling for one Checkout payment is 99,999,999 minor units. */
export const MAX_CHECKOUT_MINOR = 99_999_999;

export interface CheckoutInput {
  userId: string;
  amountMinor: number;
  currency: string;
  successUrl?: string;
  cancelUrl?: string;
}

export interface ManualCreditInput {
  adminId: string;
  userId: string;
  amountMinor: number;
  currency: string;
  reason: string;
  /** Which of the user's accounts: a requester's cash (default) or a worker's payable. */
  account?: 'requester_cash' | 'worker_payable';
  /** Optional client key so a retried admin request credits once. */
  idempotencyKey?: string;
}

/** A confirmed Stripe payment to credit, from whichever event reported it first. */
export interface ConfirmedPayment {
  paymentIntentId: string;
  userId: string;
  amountMinor: number;
  currency: string;
  checkoutSessionId?: string | null;
}

/**
 * Money in: Stripe Checkout top-ups (credited by the webhook, never by the redirect) and manual
 * credits by an admin, audited, for installations without Stripe.
 */
@Injectable()
export class FundingService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    private readonly stripe: StripeGateway,
    private readonly ledger: LedgerService,
    private readonly audit: AuditService,
  ) {}

  /** Starts a top-up: a Checkout Session whose metadata carries the user id the webhook credits. */
  async createCheckout(input: CheckoutInput): Promise<{ sessionId: string; url: string | null; amountMinor: number; currency: string }> {
    const client = this.stripe.client; // STRIPE_NOT_CONFIGURED before any validation work
    assertPositiveMinor(input.amountMinor);
    if (input.amountMinor > MAX_CHECKOUT_MINOR) throw invalidField('amountMinor', `must be at most ${MAX_CHECKOUT_MINOR}`, 'INVALID_AMOUNT');
    assertCurrency(input.currency);
    const metadata = { userId: input.userId, purpose: 'tally_funding' };
    const session = await client.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ quantity: 1, price_data: { currency: input.currency, unit_amount: input.amountMinor, product_data: { name: 'Tally balance top-up' } } }],
      client_reference_id: input.userId,
      metadata,
      payment_intent_data: { metadata },
      success_url: input.successUrl ?? `${this.config.publicUrl}/funding/success?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: input.cancelUrl ?? `${this.config.publicUrl}/funding/cancelled`,
    });
    return { sessionId: session.id, url: session.url ?? null, amountMinor: input.amountMinor, currency: input.currency };
  }

  /**
   * Credits a confirmed payment once: key `fund:<paymentIntentId>`, whichever of
   * checkout.session.completed / payment_intent.succeeded / a later charge event comes first.
   */
  async creditPayment(em: EntityManager, p: ConfirmedPayment): Promise<PostResult> {
    assertPositiveMinor(p.amountMinor);
    assertCurrency(p.currency);
    // metadata.userId comes back from Stripe: a value that is not a user id is an unknown user, not a cast error
    if (typeof p.userId !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(p.userId)) throw PaymentsErrors.userNotFound();
    const { rows } = await sql<{ id: string }>(em, `SELECT id FROM users WHERE id = $1`, [p.userId]);
    if (!rows[0]) throw PaymentsErrors.userNotFound();
    await sql(
      em,
      `INSERT INTO stripe_payments (payment_intent_id, user_id, currency, amount_minor, checkout_session_id) VALUES ($1,$2,$3,$4,$5)
       ON CONFLICT (payment_intent_id) DO UPDATE SET checkout_session_id = coalesce(stripe_payments.checkout_session_id, EXCLUDED.checkout_session_id)`,
      [p.paymentIntentId, p.userId, p.currency, p.amountMinor, p.checkoutSessionId ?? null],
    );
    return this.ledger.post(em, {
      idempotencyKey: `fund:${p.paymentIntentId}`,
      kind: 'funding',
      memo: `Stripe payment ${p.paymentIntentId}`,
      reference: p.paymentIntentId,
      actorId: p.userId,
      entries: [
        { account: stripeClearing(p.currency), amount: -p.amountMinor },
        { account: cash(p.userId, p.currency), amount: p.amountMinor },
      ],
    });
  }

  /** An admin credits a user's account by hand, with a reason, in the audit log with the movement. */
  async manualCredit(input: ManualCreditInput): Promise<PostResult> {
    assertPositiveMinor(input.amountMinor);
    assertCurrency(input.currency);
    const reason = (input.reason ?? '').trim();
    if (reason.length < 3) throw invalidField('reason', 'must have at least 3 characters');
    const account = input.account ?? 'requester_cash';
    return inTransaction(this.ds, async (em) => {
      const { rows } = await sql<{ roles: string[] }>(em, `SELECT roles FROM users WHERE id = $1`, [input.userId]);
      if (!rows[0]) throw PaymentsErrors.userNotFound();
      const target = account === 'worker_payable' ? payable(input.userId, input.currency) : cash(input.userId, input.currency);
      const key = `manual-credit:${input.idempotencyKey ? `${input.adminId}:${input.idempotencyKey}` : randomKey()}`;
      const result = await this.ledger.post(em, {
        idempotencyKey: key,
        kind: 'manual_credit',
        memo: reason,
        reference: input.userId,
        actorId: input.adminId,
        entries: [
          { account: manualAdjustments(input.currency), amount: -input.amountMinor },
          { account: target, amount: input.amountMinor },
        ],
      });
      if (result.created) {
        await this.audit.record(
          {
            actorId: input.adminId,
            action: 'ledger.manual_credit',
            objectType: 'user',
            objectId: input.userId,
            reason,
            data: { amountMinor: input.amountMinor, currency: input.currency, account, transactionId: result.transaction.id },
          },
          em,
        );
      }
      return result;
    });
  }
}

const randomKey = () => randomUUID();
