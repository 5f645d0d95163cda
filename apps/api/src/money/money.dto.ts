import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { MAX_PAGE_OFFSET, MAX_PAGE_SIZE } from '@tally/common';
import type { LedgerTransaction, StatementLine } from '@tally/ledger';
import type { Payout } from '@tally/payments';

/** Integer minor units: no fractions, no zero or negatives, nothing beyond 2^53 (class-validator refuses 1.5, -1, 1e20). */
const MINOR = { min: 1, max: Number.MAX_SAFE_INTEGER };
const CURRENCY = /^[a-z]{3}$/;

export class CheckoutDto {
  @ApiProperty({ description: 'top-up in minor units (cents)', example: 5000, minimum: 1, maximum: 99_999_999 })
  @IsInt() @Min(MINOR.min) @Max(99_999_999)
  amountMinor: number;

  @ApiProperty({ example: 'usd', description: 'ISO 4217, lower case' })
  @IsString() @Matches(CURRENCY, { message: 'currency must be a 3-letter lower-case ISO 4217 code' })
  currency: string;

  @ApiPropertyOptional() @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) successUrl?: string;
  @ApiPropertyOptional() @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) cancelUrl?: string;
}

export class CheckoutResponseDto {
  @ApiProperty() sessionId: string;
  @ApiProperty({ nullable: true, type: String }) url: string | null;
  @ApiProperty() amountMinor: number;
  @ApiProperty() currency: string;
}

export class ManualCreditDto {
  @ApiProperty() @IsUUID() userId: string;

  @ApiProperty({ minimum: 1, example: 10000 })
  @IsInt() @Min(MINOR.min) @Max(MINOR.max)
  amountMinor: number;

  @ApiProperty({ example: 'usd' })
  @IsString() @Matches(CURRENCY, { message: 'currency must be a 3-letter lower-case ISO 4217 code' })
  currency: string;

  @ApiProperty({ description: 'why; kept in the audit log and the transaction memo' })
  @IsString() @Length(3, 1000)
  reason: string;

  @ApiPropertyOptional({ enum: ['requester_cash', 'worker_payable'], default: 'requester_cash' })
  @IsOptional() @IsIn(['requester_cash', 'worker_payable'])
  account?: 'requester_cash' | 'worker_payable';

  @ApiPropertyOptional({ description: 'retrying with the same key credits once' })
  @IsOptional() @IsString() @Length(1, 100)
  idempotencyKey?: string;
}

export class BonusDto {
  @ApiProperty() @IsUUID() campaignId: string;
  @ApiProperty() @IsUUID() workerId: string;

  @ApiProperty({ minimum: 1, description: 'paid to the worker; the platform fee is charged on top' })
  @IsInt() @Min(MINOR.min) @Max(MINOR.max)
  amountMinor: number;

  @ApiProperty() @IsString() @Length(3, 1000) reason: string;

  @ApiProperty({ description: 'the client\'s key: the same bonus retried pays once' })
  @IsString() @Length(1, 100)
  idempotencyKey: string;
}

export class OnboardDto {
  @ApiPropertyOptional() @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) returnUrl?: string;
  @ApiPropertyOptional() @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) refreshUrl?: string;
}

export class StatementQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() @Matches(CURRENCY) currency?: string;
  @ApiPropertyOptional({ enum: ['json', 'csv'] }) @IsOptional() @IsIn(['json', 'csv']) format?: 'json' | 'csv';
}

export class PayoutsQuery {
  @ApiPropertyOptional() @IsOptional() @IsUUID() userId?: string;
  @ApiPropertyOptional({ enum: ['pending', 'paid', 'failed'] }) @IsOptional() @IsIn(['pending', 'paid', 'failed']) status?: 'pending' | 'paid' | 'failed';
  @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE_SIZE) limit?: number;
  @ApiPropertyOptional({ maximum: MAX_PAGE_OFFSET }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX_PAGE_OFFSET) offset?: number;
}

export class TransactionDto {
  @ApiProperty() id: string;
  @ApiProperty() idempotencyKey: string;
  @ApiProperty() kind: string;
  @ApiProperty() memo: string;
  @ApiProperty({ nullable: true, type: String }) reference: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() entries: { account: string; ownerId: string | null; currency: string; amountMinor: number }[];
}

export const toTransactionDto = (t: LedgerTransaction): TransactionDto => ({
  id: t.id,
  idempotencyKey: t.idempotencyKey,
  kind: t.kind,
  memo: t.memo,
  reference: t.reference,
  createdAt: new Date(t.createdAt).toISOString(),
  entries: t.entries.map((e) => ({ account: e.kind, ownerId: e.ownerId, currency: e.currency.trim(), amountMinor: e.amount })),
});

export class PayoutDto {
  @ApiProperty() id: string;
  @ApiProperty() userId: string;
  @ApiProperty() currency: string;
  @ApiProperty() amountMinor: number;
  @ApiProperty({ enum: ['pending', 'paid', 'failed'] }) status: string;
  @ApiProperty({ nullable: true, type: String }) stripeTransferId: string | null;
  @ApiProperty() transferGroup: string;
  @ApiProperty() reversedMinor: number;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: String }) lastError: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export const toPayoutDto = (p: Payout): PayoutDto => ({
  id: p.id,
  userId: p.userId,
  currency: p.currency,
  amountMinor: p.amountMinor,
  status: p.status,
  stripeTransferId: p.stripeTransferId,
  transferGroup: p.transferGroup,
  reversedMinor: p.reversedMinor,
  attempts: p.attempts,
  lastError: p.lastError,
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

const CSV_COLUMNS: (keyof StatementLine)[] = ['createdAt', 'transactionId', 'kind', 'account', 'currency', 'amountMinor', 'balanceAfterMinor', 'reference', 'memo'];

/** RFC 4180 CSV; cells starting with = + - @ are prefixed with ' so spreadsheets do not run them. */
export function statementCsv(lines: StatementLine[]): string {
  const cell = (v: unknown) => {
    let s = v === null || v === undefined ? '' : String(v);
    if (/^[=+\-@]/.test(s) && typeof v === 'string') s = `'${s}`;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [CSV_COLUMNS.join(','), ...lines.map((l) => CSV_COLUMNS.map((c) => cell(l[c])).join(','))].join('\n') + '\n';
}
