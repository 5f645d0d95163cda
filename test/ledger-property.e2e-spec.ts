import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { inTransaction } from '@tally/database';
import { cash, CampaignMoney, escrow, LedgerReportsService, LedgerService, payable, platformFee } from '@tally/ledger';
import { FundingService, PayoutsService, StripeGateway, StripeWebhookService } from '@tally/payments';
import { createTestApp, dataSourceOf, FakeStripe, onEmbeddedPostgres, seedCampaign, seedUsers, startFakeStripe, TestApp } from '@tally/testing';

jest.setTimeout(600_000);

type Cmd =
  | { op: 'fund'; amount: number }
  | { op: 'reserve' }
  | { op: 'approve'; worker: number; assignment: number }
  | { op: 'release'; keep: number }
  | { op: 'bonus'; worker: number; amount: number; key: number }
  | { op: 'refund'; payment: number; amount: number }
  | { op: 'payout'; worker: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ op: fc.constant('fund' as const), amount: fc.integer({ min: 1, max: 3000 }) }),
  fc.constant({ op: 'reserve' as const }),
  fc.record({ op: fc.constant('approve' as const), worker: fc.integer({ min: 0, max: 1 }), assignment: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('release' as const), keep: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ op: fc.constant('bonus' as const), worker: fc.integer({ min: 0, max: 1 }), amount: fc.integer({ min: 1, max: 800 }), key: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant('refund' as const), payment: fc.integer({ min: 0, max: 3 }), amount: fc.integer({ min: 1, max: 2000 }) }),
  fc.record({ op: fc.constant('payout' as const), worker: fc.integer({ min: 0, max: 1 }) }),
);

/**
 * Random sequences of fund / reserve (publish) / approve / release (cancel) / bonus / refund /
 * payout against a simple model: after every step each guarded balance equals the model, none is
 * negative, and the whole journal still sums to zero per currency.
 */
describe('ledger property (e2e)', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let ds: DataSource;
  let ledger: LedgerService;

  beforeAll(async () => {
    fake = await startFakeStripe();
    t = await createTestApp(fake.env());
    ds = dataSourceOf(t);
    ledger = t.app.get(LedgerService);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  const bal = (ref: Parameters<LedgerService['balance']>[1]) => ledger.balance(ds.manager, ref);

  it('keeps every transaction balanced and every balance as the model says', async () => {
    const webhooks = t.app.get(StripeWebhookService);
    const funding = t.app.get(FundingService);
    const payouts = t.app.get(PayoutsService);
    const stripe = t.app.get(StripeGateway).client;
    const reports = t.app.get(LedgerReportsService);
    const min = t.config.payoutMinimumMinor;
    const fee = t.config.platformFeeBps;

    await fc.assert(
      fc.asyncProperty(
        fc.record({ reward: fc.integer({ min: 0, max: 60 }), redundancyMax: fc.integer({ min: 1, max: 3 }), tasks: fc.integer({ min: 1, max: 3 }) }),
        fc.array(cmd, { minLength: 1, maxLength: onEmbeddedPostgres() ? 15 : 30 }),
        async (setup, cmds) => {
          const [r] = await seedUsers(t, 1, ['requester']);
          const workers = await seedUsers(t, 2, ['worker']);
          for (const w of workers) {
            const acct = await stripe.accounts.create({ type: 'express', metadata: { userId: w.id } });
            await ds.query(`INSERT INTO payout_accounts (user_id, stripe_account_id, transfers_enabled) VALUES ($1, $2, true)`, [w.id, acct.id]);
          }
          const seeded = await seedCampaign(t, r.id, { status: 'draft', rewardMinor: setup.reward, redundancyMin: 1, redundancyMax: setup.redundancyMax }, setup.tasks);
          const campaign: CampaignMoney = { id: seeded.id, ownerId: r.id, currency: 'usd', rewardMinor: setup.reward, redundancyMax: setup.redundancyMax };
          const assignments = Array.from({ length: 8 }, () => randomUUID());
          const perSlot = setup.reward + platformFee(setup.reward, fee);

          const m = { cash: 0, escrow: 0, payable: [0, 0], reserved: false, approved: new Set<number>(), bonusKeys: new Map<number, string>(), payments: [] as { pi: string; funded: number; refunded: number }[] };
          const expectRefusal = async (p: Promise<unknown>, code: string) => {
            await expect(p).rejects.toMatchObject({ code });
          };

          for (const c of cmds) {
            switch (c.op) {
              case 'fund': {
                const pi = `pi_${randomUUID().replace(/-/g, '')}`;
                await inTransaction(ds, (em) => funding.creditPayment(em, { paymentIntentId: pi, userId: r.id, amountMinor: c.amount, currency: 'usd' }));
                m.cash += c.amount;
                m.payments.push({ pi, funded: c.amount, refunded: 0 });
                break;
              }
              case 'reserve': {
                const needs = m.reserved ? 0 : perSlot * setup.redundancyMax * setup.tasks;
                if (needs > m.cash) await expectRefusal(inTransaction(ds, (em) => ledger.reserveEscrow(em, campaign)), 'INSUFFICIENT_FUNDS');
                else {
                  await inTransaction(ds, (em) => ledger.reserveEscrow(em, campaign));
                  m.cash -= needs;
                  m.escrow += needs;
                  m.reserved = true;
                }
                break;
              }
              case 'approve': {
                const a = { id: assignments[c.assignment], workerId: workers[c.worker].id, campaignId: campaign.id };
                if (!m.reserved) {
                  await expectRefusal(inTransaction(ds, (em) => ledger.payApproval(em, a, campaign)), 'CAMPAIGN_NOT_ESCROWED');
                  break;
                }
                if (m.approved.has(c.assignment)) {
                  const again = await inTransaction(ds, (em) => ledger.payApproval(em, { ...a, workerId: workers[0].id }, campaign));
                  expect(again.created).toBe(false);
                  break;
                }
                const fromEscrow = Math.min(perSlot, m.escrow);
                const fromCash = perSlot - fromEscrow;
                if (fromCash > m.cash) {
                  await expectRefusal(inTransaction(ds, (em) => ledger.payApproval(em, a, campaign)), 'INSUFFICIENT_FUNDS');
                  break;
                }
                await inTransaction(ds, (em) => ledger.payApproval(em, a, campaign));
                m.approved.add(c.assignment);
                m.escrow -= fromEscrow;
                m.cash -= fromCash;
                m.payable[c.worker] += setup.reward;
                break;
              }
              case 'release': {
                const res = await inTransaction(ds, (em) => ledger.releaseEscrow(em, campaign, 'cancelled', { keepSlots: c.keep }));
                const amount = m.reserved ? m.escrow - c.keep * perSlot : 0;
                expect(res ? res.transaction.entries.find((e) => e.kind === 'requester_cash')!.amount : 0).toBe(Math.max(0, amount));
                if (amount > 0) {
                  m.escrow -= amount;
                  m.cash += amount;
                }
                break;
              }
              case 'bonus': {
                const input = { requesterId: r.id, workerId: workers[c.worker].id, currency: 'usd', amountMinor: c.amount, reason: 'property', idempotencyKey: `${r.id}:${c.key}` };
                const sig = `${c.worker}:${c.amount}`;
                const used = m.bonusKeys.get(c.key);
                if (used !== undefined) {
                  if (used === sig) expect((await inTransaction(ds, (em) => ledger.bonus(em, input))).created).toBe(false);
                  else await expectRefusal(inTransaction(ds, (em) => ledger.bonus(em, input)), 'IDEMPOTENCY_KEY_REUSED');
                  break;
                }
                const cost = c.amount + platformFee(c.amount, fee);
                if (cost > m.cash) {
                  await expectRefusal(inTransaction(ds, (em) => ledger.bonus(em, input)), 'INSUFFICIENT_FUNDS');
                  break;
                }
                await inTransaction(ds, (em) => ledger.bonus(em, input));
                m.bonusKeys.set(c.key, sig);
                m.cash -= cost;
                m.payable[c.worker] += c.amount;
                break;
              }
              case 'refund': {
                const p = m.payments[c.payment];
                if (!p) break;
                const target = Math.min(p.funded, p.refunded + c.amount);
                const ev = fake.refundEvent(p.pi, p.funded, target, 'usd');
                const { body, signature } = fake.sign(ev);
                await webhooks.receive(Buffer.from(body), signature);
                const delta = target - p.refunded;
                p.refunded = target;
                m.cash -= Math.min(delta, m.cash); // the rest is the platform's loss (disputes)
                break;
              }
              case 'payout': {
                const w = workers[c.worker];
                const run = await payouts.runPayouts({ userIds: [w.id] });
                if (m.payable[c.worker] >= min) {
                  expect(run).toMatchObject({ started: 1, paid: 1 });
                  m.payable[c.worker] = 0;
                } else expect(run.started).toBe(0);
                break;
              }
            }
            // After every step: the model, and nothing negative.
            expect(await bal(cash(r.id, 'usd'))).toBe(m.cash);
            expect(await bal(escrow(campaign.id, 'usd'))).toBe(m.escrow);
            for (let i = 0; i < 2; i++) expect(await bal(payable(workers[i].id, 'usd'))).toBe(m.payable[i]);
            const neg = await ds.query(`SELECT count(*)::int AS n FROM ledger_accounts WHERE guarded AND balance < 0`);
            expect(neg[0].n).toBe(0);
          }
          const bad = await ds.query(`SELECT transaction_id FROM ledger_entries GROUP BY transaction_id, currency HAVING sum(amount) <> 0`);
          expect(bad).toEqual([]);
        },
      ),
      { numRuns: onEmbeddedPostgres() ? 12 : 40, seed: Number(process.env.FC_SEED ?? 20_260_730) },
    );
    const tb = await reports.trialBalance();
    expect(tb.balanced).toBe(true);
  });
});
