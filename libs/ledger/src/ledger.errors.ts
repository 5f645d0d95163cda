import { conflict, DomainError, invalidField, notFound, unprocessable } from '@tally/common';

export const LedgerErrors = {
  /** 422 naming the shortfall: "needs 12000 usd, available 5000 (short by 7000)". */
  insufficientFunds: (what: string, needs: number, available: number, currency: string) =>
    unprocessable(
      'INSUFFICIENT_FUNDS',
      `${what}: needs ${needs} ${currency}, available ${available} (short by ${needs - available})`,
      { needsMinor: needs, availableMinor: available, shortfallMinor: needs - available, currency },
    ),
  unbalanced: (currency: string, total: number) =>
    new DomainError('LEDGER_UNBALANCED', 'invalid', `entries do not sum to zero in ${currency} (off by ${total})`),
  badEntries: (problem: string) => new DomainError('LEDGER_INVALID_ENTRIES', 'invalid', problem),
  keyReused: (key: string) =>
    conflict('IDEMPOTENCY_KEY_REUSED', `idempotency key ${key} was already used for a different money movement`),
  notEscrowed: (campaignId: string) => conflict('CAMPAIGN_NOT_ESCROWED', `campaign ${campaignId} has no escrow: publish reserves it`),
  currencyMismatch: (expected: string, got: string) =>
    invalidField('currency', `must be ${expected} (got ${got})`, 'CURRENCY_MISMATCH'),
  userNotFound: () => notFound('USER_NOT_FOUND', 'User not found'),
  selfBonus: () => unprocessable('SELF_PAYMENT', 'a requester cannot pay themselves'),
} as const;
