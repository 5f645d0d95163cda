/**
 * Sign convention: an account's balance is SUM(amount) of its entries, and every transaction sums
 * to zero per currency. Accounts for money Tally holds on someone's behalf (requester cash,
 * escrow, worker payable, payouts in transit) and platform revenue carry positive balances;
 * the external sources they came from (stripe_clearing, manual_adjustments) go negative by the
 * same amount. So "the trial balance sums to zero" is literally SUM(all balances) = 0.
 */
export const ACCOUNT_KINDS = [
  'requester_cash', // a requester's spendable funds (owner: user)
  'campaign_escrow', // reserved for a campaign's rewards and fees (owner: campaign)
  'worker_payable', // earned by a worker, not yet paid out (owner: user)
  'payouts_in_transit', // being transferred to a worker's Stripe account (owner: user)
  'platform_revenue', // platform fees earned (no owner)
  'processor_fees', // Stripe's fees, when they are booked (no owner)
  'disputes', // refunds and disputes the requester's cash could not cover: the platform's loss (no owner)
  'stripe_clearing', // the outside world through Stripe: funding in, transfers out (no owner)
  'manual_adjustments', // the outside world through an admin: manual credits (no owner)
] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** Accounts that may never go below zero: checked under a row lock and by a CHECK in the database. */
export const GUARDED_KINDS: readonly AccountKind[] = ['requester_cash', 'campaign_escrow', 'worker_payable', 'payouts_in_transit'];

export const OWNED_KINDS: readonly AccountKind[] = GUARDED_KINDS;

export interface AccountRef {
  kind: AccountKind;
  /** User id (cash, payable, in transit), campaign id (escrow), null for platform accounts. */
  ownerId: string | null;
  currency: string;
}

export interface PostingLine {
  account: AccountRef;
  /** Signed minor units; non-zero. */
  amount: number;
}

export const TRANSACTION_KINDS = [
  'funding', // Stripe payment → requester cash
  'manual_credit', // admin → requester cash / worker payable
  'escrow_reserve', // requester cash → campaign escrow
  'escrow_release', // campaign escrow → requester cash
  'approval', // campaign escrow → worker payable + platform revenue
  'bonus', // requester cash → worker payable + platform revenue
  'refund', // requester cash (and disputes) → Stripe
  'dispute', // requester cash (and disputes) → Stripe
  'payout_start', // worker payable → in transit
  'payout_paid', // in transit → Stripe
  'payout_failed', // in transit → worker payable
  'transfer_reversed', // Stripe → worker payable
] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

export interface PostInput {
  /** Unique per money movement, e.g. `approve:<assignmentId>`: a second post with it is a no-op. */
  idempotencyKey: string;
  kind: TransactionKind;
  memo: string;
  /** What the movement is about (campaign id, payment intent, payout id), for statements and stories. */
  reference?: string | null;
  actorId?: string | null;
  entries: PostingLine[];
}

export interface LedgerTransaction {
  id: string;
  idempotencyKey: string;
  kind: TransactionKind;
  memo: string;
  reference: string | null;
  createdAt: Date;
  entries: { accountId: string; kind: AccountKind; ownerId: string | null; currency: string; amount: number }[];
}

export interface PostResult {
  transaction: LedgerTransaction;
  /** false when the idempotency key had already been applied (the existing transaction is returned). */
  created: boolean;
}

/** What the ledger needs to know about a campaign (structurally matches CampaignEntity). */
export interface CampaignMoney {
  id: string;
  ownerId: string;
  currency: string;
  rewardMinor: number;
  redundancyMax: number;
}

/** What the ledger needs to know about an assignment (structurally matches AssignmentEntity). */
export interface AssignmentMoney {
  id: string;
  workerId: string;
  campaignId: string;
}
