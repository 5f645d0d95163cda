import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { bigintToNumber as num, LedgerReportsService, ledgerSql as sql } from '@tally/ledger';
import { Payout, toPayout } from './payouts.service';
import { StripeGateway } from './stripe.gateway';

export type DiscrepancyKind =
  | 'missing_transfer' // paid in Tally, no transfer in Stripe
  | 'duplicate_transfer' // more than one transfer in a payout's transfer_group
  | 'amount_mismatch' // transfer amount or currency differs from the payout
  | 'transfer_id_mismatch' // the recorded transfer id is not the one in the group
  | 'unrecorded_transfer' // a transfer exists for a payout still pending / failed in Tally
  | 'reversal_mismatch' // Stripe's amount_reversed differs from what Tally booked
  | 'orphan_transfer' // a Tally-looking transfer with no payout row
  | 'in_transit_mismatch' // payouts_in_transit ≠ the sum of pending payouts
  | 'ledger_unbalanced'; // the trial balance does not sum to zero

export interface Discrepancy {
  kind: DiscrepancyKind;
  payoutId?: string;
  transferId?: string;
  detail: string;
}

export interface ReconciliationReport {
  checkedPayouts: number;
  stripeTransfers: number;
  discrepancies: Discrepancy[];
  ok: boolean;
}

/**
 * Compares the ledger and payouts with Stripe: each payout's transfer_group must hold exactly the
 * one transfer Tally recorded, for the same amount, with the same reversals; every transfer Stripe
 * has for a `payout_` group must have its payout; in-transit balances must equal pending payouts;
 * the trial balance must be zero. Lists every discrepancy instead of stopping at the first.
 */
@Injectable()
export class ReconciliationService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly stripe: StripeGateway,
    private readonly reports: LedgerReportsService,
  ) {}

  /** `userIds` narrows the report to some workers (their payouts, and transfers whose metadata names them). */
  async reconcile(opts: { userIds?: string[] } = {}): Promise<ReconciliationReport> {
    const discrepancies: Discrepancy[] = [];
    const scope = opts.userIds ?? null;
    const inScope = (userId: string | undefined) => !scope || (!!userId && scope.includes(userId));
    const { rows } = await sql<Record<string, unknown>>(
      this.ds.manager,
      `SELECT * FROM payouts WHERE ($1::uuid[] IS NULL OR user_id = ANY($1::uuid[])) ORDER BY created_at`,
      [scope],
    );
    const payouts = rows.map(toPayout);
    const byGroup = new Map<string, Payout>(payouts.map((p) => [p.transferGroup, p]));

    // Every transfer Stripe has, grouped (auto-pagination follows has_more / starting_after).
    const groups = new Map<string, { id: string; amount: number; currency: string; amount_reversed: number }[]>();
    let count = 0;
    if (this.stripe.configured) {
      for await (const t of this.stripe.client.transfers.list({ limit: 100 })) {
        if (!inScope(t.metadata?.userId)) continue;
        count++;
        const g = t.transfer_group ?? '';
        if (!groups.has(g)) groups.set(g, []);
        groups.get(g)!.push({ id: t.id, amount: t.amount, currency: t.currency, amount_reversed: t.amount_reversed });
      }
    }
    for (const p of payouts) {
      const ts = groups.get(p.transferGroup) ?? [];
      if (ts.length > 1) discrepancies.push({ kind: 'duplicate_transfer', payoutId: p.id, detail: `${ts.length} transfers: ${ts.map((t) => t.id).join(', ')}` });
      if (p.status === 'paid') {
        const t = ts.find((x) => x.id === p.stripeTransferId) ?? ts[0];
        if (!t) discrepancies.push({ kind: 'missing_transfer', payoutId: p.id, detail: `payout paid with ${p.stripeTransferId}, Stripe has no transfer in ${p.transferGroup}` });
        else {
          if (t.id !== p.stripeTransferId) discrepancies.push({ kind: 'transfer_id_mismatch', payoutId: p.id, transferId: t.id, detail: `recorded ${p.stripeTransferId}` });
          if (t.amount !== p.amountMinor || t.currency !== p.currency) {
            discrepancies.push({ kind: 'amount_mismatch', payoutId: p.id, transferId: t.id, detail: `Tally ${p.amountMinor} ${p.currency}, Stripe ${t.amount} ${t.currency}` });
          }
          if (t.amount_reversed !== p.reversedMinor) {
            discrepancies.push({ kind: 'reversal_mismatch', payoutId: p.id, transferId: t.id, detail: `Tally booked ${p.reversedMinor} reversed, Stripe ${t.amount_reversed}` });
          }
        }
      } else if (ts.length) {
        discrepancies.push({ kind: 'unrecorded_transfer', payoutId: p.id, transferId: ts[0].id, detail: `payout ${p.status} but Stripe has ${ts[0].id}` });
      }
    }
    for (const [g, ts] of groups) {
      if (g.startsWith('payout_') && !byGroup.has(g)) for (const t of ts) discrepancies.push({ kind: 'orphan_transfer', transferId: t.id, detail: `no payout for ${g}` });
    }

    const { rows: transit } = await sql<{ owner_id: string; currency: string; balance: string; pending: string | null }>(
      this.ds.manager,
      `SELECT a.owner_id, a.currency, a.balance,
              (SELECT sum(amount_minor) FROM payouts p WHERE p.user_id = a.owner_id AND p.currency = a.currency AND p.status = 'pending') AS pending
         FROM ledger_accounts a WHERE a.kind = 'payouts_in_transit' AND ($1::uuid[] IS NULL OR a.owner_id = ANY($1::uuid[]))`,
      [scope],
    );
    for (const t of transit) {
      if (num(t.balance) !== num(t.pending)) {
        discrepancies.push({ kind: 'in_transit_mismatch', detail: `user ${t.owner_id} ${t.currency}: in transit ${t.balance}, pending payouts ${num(t.pending)}` });
      }
    }
    // The trial balance is global: whatever the scope, the journal must sum to zero.
    const tb = await this.reports.trialBalance();
    if (!tb.balanced) discrepancies.push({ kind: 'ledger_unbalanced', detail: JSON.stringify({ totals: tb.currencies.map((c) => [c.currency, c.total]), cache: tb.cacheMismatches, unbalanced: tb.unbalancedTransactions }) });
    return { checkedPayouts: payouts.length, stripeTransfers: count, discrepancies, ok: discrepancies.length === 0 };
  }
}
