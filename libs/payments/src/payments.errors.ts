import { conflict, DomainError, forbidden, notFound, unprocessable } from '@tally/common';

export const PaymentsErrors = {
  /** Funding and payouts need Stripe keys; without them an admin credits accounts by hand. */
  notConfigured: () =>
    conflict('STRIPE_NOT_CONFIGURED', 'Stripe is not configured on this server (STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET); an admin can credit accounts by hand'),
  badSignature: (why: string) => new DomainError('STRIPE_SIGNATURE_INVALID', 'invalid', `webhook signature refused: ${why}`),
  /** Signed, but not shaped like a Stripe event (no string id / type, no numeric created, no data.object). */
  malformedEvent: (why: string) => new DomainError('STRIPE_EVENT_MALFORMED', 'invalid', `webhook event refused: ${why}`),
  /** The event refers to something not known yet (out of order): not stored, so Stripe's retry re-applies it. */
  eventNotReady: (why: string) => conflict('STRIPE_EVENT_NOT_READY', `event cannot be applied yet: ${why}`),
  notAWorker: () => forbidden('FORBIDDEN_ROLE', 'only workers have payout accounts'),
  campaignNotFound: () => notFound('CAMPAIGN_NOT_FOUND', 'Campaign not found'),
  notYourWorker: () => unprocessable('WORKER_NOT_ON_CAMPAIGN', 'the worker has no submitted work on this campaign'),
  userNotFound: () => notFound('USER_NOT_FOUND', 'User not found'),
  stripeFailed: (message: string) => new DomainError('STRIPE_ERROR', 'unprocessable', `Stripe refused the request: ${message}`),
} as const;
