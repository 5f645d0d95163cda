import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '@tally/audit';
import { inTransaction } from '@tally/database';
import { ledgerSql as sql, LedgerService, PostResult } from '@tally/ledger';
import { PaymentsErrors } from './payments.errors';

export interface GrantBonusInput {
  requesterId: string;
  campaignId: string;
  workerId: string;
  amountMinor: number;
  reason: string;
  /** The client's key: the same request retried pays once. */
  idempotencyKey: string;
}

/**
 * A requester pays a worker extra for work on one of their campaigns: requester cash → worker
 * payable + platform fee, in the campaign's currency. Only the campaign's owner (anyone else: 404),
 * only to a worker with submitted work on it, never to themselves.
 */
@Injectable()
export class GrantBonusUseCase {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly ledger: LedgerService,
    private readonly audit: AuditService,
  ) {}

  async execute(input: GrantBonusInput): Promise<PostResult> {
    if (!input.requesterId) throw PaymentsErrors.campaignNotFound();
    return inTransaction(this.ds, async (em) => {
      const { rows: c } = await sql<{ currency: string }>(em, `SELECT currency FROM campaigns WHERE id = $1 AND owner_id = $2`, [input.campaignId, input.requesterId]);
      if (!c[0]) throw PaymentsErrors.campaignNotFound();
      const { rows: a } = await sql(
        em,
        `SELECT 1 FROM assignments WHERE campaign_id = $1 AND worker_id = $2 AND status IN ('submitted','approved','rejected') LIMIT 1`,
        [input.campaignId, input.workerId],
      );
      if (!a[0]) throw PaymentsErrors.notYourWorker();
      const result = await this.ledger.bonus(em, {
        requesterId: input.requesterId,
        workerId: input.workerId,
        currency: c[0].currency.trim(),
        amountMinor: input.amountMinor,
        reason: input.reason,
        idempotencyKey: `${input.requesterId}:${input.idempotencyKey}`,
        campaignId: input.campaignId,
      });
      if (result.created) {
        await this.audit.record(
          { actorId: input.requesterId, action: 'ledger.bonus', objectType: 'user', objectId: input.workerId, reason: input.reason, data: { campaignId: input.campaignId, amountMinor: input.amountMinor, transactionId: result.transaction.id } },
          em,
        );
      }
      return result;
    });
  }
}
