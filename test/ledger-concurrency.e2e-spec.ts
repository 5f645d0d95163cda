import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { inTransaction } from '@tally/database';
import { cash, CampaignMoney, escrow, LedgerReportsService, LedgerService, payable, platformFee } from '@tally/ledger';
import { FundingService, PayoutsService, StripeGateway } from '@tally/payments';
import { createTestApp, dataSourceOf, FakeStripe, onEmbeddedPostgres, seedCampaign, seedUsers, startFakeStripe, TestApp } from '@tally/testing';

jest.setTimeout(300_000);

/**
 * Many approvals (each sent twice), bonuses (each key twice) and payout runs at once on the same
 * requester, escrow and worker accounts: nobody is paid twice, nothing is lost, nothing goes negative.
 * On the embedded PGlite transactions are serialised, so the numbers are smaller there.
 */
describe('ledger concurrency (e2e)', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let ds: DataSource;
  let ledger: LedgerService;

  beforeAll(async () => {
    fake = await startFakeStripe();
    t = await createTestApp(fake.env({ PAYOUT_MINIMUM_MINOR: '1' }));
    ds = dataSourceOf(t);
    ledger = t.app.get(LedgerService);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  it('50 parallel approvals, bonuses and payouts: no double pay, nothing lost', async () => {
    const N = onEmbeddedPostgres() ? 12 : 50;
    const reward = 37;
    const perSlot = reward + platformFee(reward, t.config.platformFeeBps);
    const [r] = await seedUsers(t, 1, ['requester']);
    const workers = await seedUsers(t, 3, ['worker']);
    const stripe = t.app.get(StripeGateway).client;
    for (const w of workers) {
      const acct = await stripe.accounts.create({ type: 'express', metadata: { userId: w.id } });
      await ds.query(`INSERT INTO payout_accounts (user_id, stripe_account_id, transfers_enabled) VALUES ($1, $2, true)`, [w.id, acct.id]);
    }
    await inTransaction(ds, (em) => t.app.get(FundingService).creditPayment(em, { paymentIntentId: `pi_${randomUUID()}`, userId: r.id, amountMinor: 1_000_000, currency: 'usd' }));
    const seeded = await seedCampaign(t, r.id, { status: 'draft', rewardMinor: reward, redundancyMin: 1, redundancyMax: 1 }, N);
    const campaign: CampaignMoney = { id: seeded.id, ownerId: r.id, currency: 'usd', rewardMinor: reward, redundancyMax: 1 };
    await inTransaction(ds, (em) => ledger.reserveEscrow(em, campaign));

    const assignments = Array.from({ length: N }, (_, i) => ({ id: randomUUID(), workerId: workers[i % 3].id, campaignId: campaign.id }));
    const bonusAmount = 11;
    const bonusFee = platformFee(bonusAmount, t.config.platformFeeBps);
    const ops: (() => Promise<unknown>)[] = [];
    for (const a of assignments) ops.push(() => inTransaction(ds, (em) => ledger.payApproval(em, a, campaign), 10), () => inTransaction(ds, (em) => ledger.payApproval(em, a, campaign), 10));
    for (let i = 0; i < N; i++) {
      const input = { requesterId: r.id, workerId: workers[i % 3].id, currency: 'usd', amountMinor: bonusAmount, reason: 'race', idempotencyKey: `${r.id}:${i}` };
      ops.push(() => inTransaction(ds, (em) => ledger.bonus(em, input), 10), () => inTransaction(ds, (em) => ledger.bonus(em, input), 10));
    }
    const payouts = t.app.get(PayoutsService);
    // On PGlite two payout runners at once stall the embedded server's query queue (under
    // investigation, see the report); the embedded single process runs one background pass at a time.
    for (let i = 0; i < (onEmbeddedPostgres() ? 1 : 10); i++) ops.push(() => payouts.runPayouts({ userIds: workers.map((w) => w.id) }));
    // Shuffle so approvals, bonuses and payouts interleave.
    ops.sort(() => Math.random() - 0.5);
    const results = await Promise.allSettled(ops.map((op) => op()));
    const failures = results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[];
    expect(failures.map((f) => String(f.reason))).toEqual([]);
    // Whatever is still payable goes out now.
    await payouts.runPayouts({ userIds: workers.map((w) => w.id) });

    const earned = workers.map((_, k) => assignments.filter((_, i) => i % 3 === k).length * (reward + bonusAmount));
    const paidOut = await ds.query(
      `SELECT user_id, sum(amount_minor)::bigint AS total, count(*)::int AS n FROM payouts WHERE user_id = ANY($1::uuid[]) AND status = 'paid' GROUP BY user_id`,
      [workers.map((w) => w.id)],
    );
    for (const [k, w] of workers.entries()) {
      const row = paidOut.find((p: { user_id: string }) => p.user_id === w.id);
      expect(Number(row?.total ?? 0) + (await ledger.balance(ds.manager, payable(w.id, 'usd')))).toBe(earned[k]);
      expect(await ledger.balance(ds.manager, payable(w.id, 'usd'))).toBe(0);
    }
    // One transfer per paid payout, for its amount; none for anything else.
    const all = await ds.query(`SELECT transfer_group, amount_minor, status FROM payouts WHERE user_id = ANY($1::uuid[])`, [workers.map((w) => w.id)]);
    for (const p of all) {
      const ts = fake.transfersInGroup(p.transfer_group);
      expect(ts.length).toBe(p.status === 'paid' ? 1 : 0);
      if (ts[0]) expect(ts[0].amount).toBe(Number(p.amount_minor));
    }
    expect(await ledger.balance(ds.manager, escrow(campaign.id, 'usd'))).toBe(0);
    expect(await ledger.balance(ds.manager, cash(r.id, 'usd'))).toBe(1_000_000 - N * perSlot - N * (bonusAmount + bonusFee));
    const approvals = await ds.query(`SELECT count(*)::int AS n FROM ledger_transactions WHERE reference = $1 AND kind = 'approval'`, [campaign.id]);
    expect(approvals[0].n).toBe(N);
    expect((await t.app.get(LedgerReportsService).trialBalance()).balanced).toBe(true);
  });
});
