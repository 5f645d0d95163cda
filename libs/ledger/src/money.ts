import { invalidField } from '@tally/common';

/**
 * Money is an integer count of minor units (cents) in a JS number, always checked with
 * Number.isSafeInteger: bigint columns come back through @tally/database's bigintNumber, which
 * refuses anything beyond 2^53. Products that could overflow are computed in BigInt and checked.
 */
export const MAX_MINOR = Number.MAX_SAFE_INTEGER;

/** ISO 4217 code in lower case, as Stripe writes it. */
export const CURRENCY_RE = /^[a-z]{3}$/;

export function assertCurrency(currency: string, field = 'currency'): string {
  if (typeof currency !== 'string' || !CURRENCY_RE.test(currency)) throw invalidField(field, 'must be a 3-letter lower-case ISO 4217 code');
  return currency;
}

/** A strictly positive safe integer amount of minor units. */
export function assertPositiveMinor(amount: number, field = 'amountMinor'): number {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw invalidField(field, 'must be a positive whole number of minor units', 'INVALID_AMOUNT');
  }
  return amount;
}

/** BigInt → safe number, or a clear error instead of silent rounding. */
export function toSafe(n: bigint, what: string): number {
  if (n > BigInt(MAX_MINOR) || n < -BigInt(MAX_MINOR)) throw invalidField(what, `${n} is beyond the largest supported amount`, 'AMOUNT_TOO_LARGE');
  return Number(n);
}

/**
 * The platform fee on one reward or bonus: ceil(amount × bps / 10000).
 * Rounded UP so a non-zero reward always carries a fee of at least one minor unit (as MTurk's
 * $0.01 minimum commission does), and so that fee(amount) is a function of the one amount: an
 * escrow of n × (reward + fee(reward)) pays n approvals exactly, with nothing left to round.
 */
export function platformFee(amountMinor: number, feeBps: number): number {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) throw new Error(`bad amount ${amountMinor}`);
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) throw new Error(`bad fee ${feeBps}`);
  const num = BigInt(amountMinor) * BigInt(feeBps);
  return toSafe((num + 9_999n) / 10_000n, 'fee');
}

/** Escrow for `slots` assignments: slots × (reward + fee(reward)). */
export function escrowFor(rewardMinor: number, slots: number, feeBps: number): { perSlot: number; fee: number; total: number } {
  const fee = platformFee(rewardMinor, feeBps);
  const perSlot = toSafe(BigInt(rewardMinor) + BigInt(fee), 'escrow');
  return { perSlot, fee, total: toSafe(BigInt(perSlot) * BigInt(slots), 'escrow') };
}
