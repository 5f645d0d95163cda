import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { inTransaction } from '@tally/database';
import { cash, escrow, LedgerReportsService, LedgerService, payable, platformRevenue } from '@tally/ledger';
import { createAdmin, createTestApp, dataSourceOf, seedCampaign, signUp, TestApp, TestUser } from '@tally/testing';

/** The ledger core, escrow, bonuses, manual credits and the read side, without Stripe. */
jest.setTimeout(60_000);

describe('ledger (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let ledger: LedgerService;
  let reports: LedgerReportsService;
  let admin: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    ds = dataSourceOf(t);
    ledger = t.app.get(LedgerService);
    reports = t.app.get(LedgerReportsService);
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  const credit = (userId: string, amountMinor: number, extra: Record<string, unknown> = {}) =>
    t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId, amountMinor, currency: 'usd', reason: 'test top-up', ...extra });
  const bal = (ref: Parameters<LedgerService['balance']>[1]) => ledger.balance(ds.manager, ref);
  const countTx = async () => Number((await ds.query(`SELECT count(*) AS n FROM ledger_transactions`))[0].n);
  const campaignOf = async (id: string) => {
    const [c] = await ds.query(`SELECT id, owner_id, currency, reward_minor, redundancy_max FROM campaigns WHERE id = $1`, [id]);
    return { id: c.id, ownerId: c.owner_id, currency: c.currency, rewardMinor: Number(c.reward_minor), redundancyMax: c.redundancy_max };
  };

  describe('manual credit (admin)', () => {
    it('credits a requester once per key, audited, and shows in the balance', async () => {
      const r = await signUp(t, ['requester']);
      const res = await credit(r.id, 10_000, { idempotencyKey: 'k1' }).expect(201);
      expect(res.body).toMatchObject({ kind: 'manual_credit', memo: 'test top-up' });
      await credit(r.id, 10_000, { idempotencyKey: 'k1' }).expect(201); // retried: same transaction
      const me = await t.http.get('/api/me/balance').set(r.auth).expect(200);
      expect(me.body.balances).toEqual([{ currency: 'usd', availableMinor: 10_000, escrowMinor: 0, payableMinor: 0, inTransitMinor: 0 }]);
      const audit = await t.http.get('/api/admin/audit').query({ objectType: 'user', objectId: r.id }).set(admin.auth).expect(200);
      expect(audit.body.items).toHaveLength(1);
      expect(audit.body.items[0]).toMatchObject({ action: 'ledger.manual_credit', reason: 'test top-up', actorId: admin.id });
    });

    it('refuses zero, negative, fractional, overflowing and malformed amounts, other roles and unknown users; nothing changes', async () => {
      const r = await signUp(t, ['requester']);
      const before = await countTx();
      for (const amountMinor of [0, -5, 1.5, 2 ** 53, 1e20, '100', null]) {
        const res = await credit(r.id, amountMinor as number).expect(400);
        expect(res.body.fields.map((f: { field: string }) => f.field)).toContain('amountMinor');
      }
      await credit(r.id, 100, { currency: 'USD' }).expect(400);
      await credit(r.id, 100, { currency: 'dollars' }).expect(400);
      await credit(r.id, 100, { reason: '' }).expect(400);
      await credit(randomUUID(), 100).expect(404);
      await t.http.post('/api/admin/ledger/credits').set(r.auth).send({ userId: r.id, amountMinor: 100, currency: 'usd', reason: 'myself' }).expect(403);
      expect(await countTx()).toBe(before);
      expect(await bal(cash(r.id, 'usd'))).toBe(0);
    });
  });

  describe('escrow', () => {
    it('reserves reward × redundancyMax × tasks × (1 + fee); a shortfall is a 422 naming it, and nothing changes', async () => {
      const r = await signUp(t, ['requester']);
      await credit(r.id, 100).expect(201);
      const c = await seedCampaign(t, r.id, { status: 'draft', rewardMinor: 10, redundancyMin: 2, redundancyMax: 3 }, 4);
      const campaign = await campaignOf(c.id);
      const before = await countTx();
      // fee = ceil(10 × 2000 / 10000) = 2 → 12 per slot × 3 × 4 = 144
      await expect(inTransaction(ds, (em) => ledger.reserveEscrow(em, campaign))).rejects.toMatchObject({
        code: 'INSUFFICIENT_FUNDS',
        kind: 'unprocessable',
        message: 'requester cash: needs 144 usd, available 100 (short by 44)',
        details: { shortfallMinor: 44 },
      });
      expect(await countTx()).toBe(before);
      expect((await ds.query(`SELECT * FROM campaign_escrows WHERE campaign_id = $1`, [c.id]))).toHaveLength(0);
      expect(await bal(cash(r.id, 'usd'))).toBe(100);

      await credit(r.id, 100).expect(201);
      const res = await inTransaction(ds, (em) => ledger.reserveEscrow(em, campaign));
      expect(res).toMatchObject({ reservedMinor: 144, escrowBalanceMinor: 144, terms: { rewardMinor: 10, feeMinor: 2, slots: 12, perSlotMinor: 12 } });
      // Again (re-publish): nothing more.
      expect((await inTransaction(ds, (em) => ledger.reserveEscrow(em, campaign))).reservedMinor).toBe(0);
      // One more task: 3 more slots.
      expect((await inTransaction(ds, (em) => ledger.reserveEscrow(em, campaign, { taskCount: 5 }))).reservedMinor).toBe(36);
      expect(await bal(cash(r.id, 'usd'))).toBe(200 - 180);
      expect(await bal(escrow(c.id, 'usd'))).toBe(180);
    });

    it('pays an approval once, at the reserved terms; releases the rest; a reversed rejection after release pays from cash', async () => {
      const r = await signUp(t, ['requester']);
      const w = await signUp(t, ['worker']);
      await credit(r.id, 1000).expect(201);
      const c = await seedCampaign(t, r.id, { status: 'draft', rewardMinor: 25, redundancyMin: 1, redundancyMax: 2 }, 2);
      const campaign = await campaignOf(c.id);
      await inTransaction(ds, (em) => ledger.reserveEscrow(em, campaign)); // 4 × (25 + 5) = 120
      const a1 = { id: randomUUID(), workerId: w.id, campaignId: c.id };
      const first = await inTransaction(ds, (em) => ledger.payApproval(em, a1, campaign));
      const again = await inTransaction(ds, (em) => ledger.payApproval(em, a1, campaign));
      expect(first.created).toBe(true);
      expect(again).toMatchObject({ created: false, transaction: { id: first.transaction.id } });
      expect(await bal(payable(w.id, 'usd'))).toBe(25);
      expect(await bal(escrow(c.id, 'usd'))).toBe(90);
      // The owner cannot be paid for their own campaign.
      await expect(inTransaction(ds, (em) => ledger.payApproval(em, { id: randomUUID(), workerId: r.id, campaignId: c.id }, campaign))).rejects.toMatchObject({ code: 'SELF_PAYMENT' });

      // Cancellation with one assignment still under review: keep its slot.
      const rel = await inTransaction(ds, (em) => ledger.releaseEscrow(em, campaign, 'cancelled', { keepSlots: 1 }));
      expect(rel?.transaction.entries.find((e) => e.kind === 'requester_cash')?.amount).toBe(60);
      expect(await bal(escrow(c.id, 'usd'))).toBe(30);
      expect(await inTransaction(ds, (em) => ledger.releaseEscrow(em, campaign, 'cancelled', { keepSlots: 1 }))).toBeNull();
      await inTransaction(ds, (em) => ledger.payApproval(em, { id: randomUUID(), workerId: w.id, campaignId: c.id }, campaign));
      expect(await bal(escrow(c.id, 'usd'))).toBe(0);
      // A reversed rejection after everything was released: from the owner's cash.
      const cashBefore = await bal(cash(r.id, 'usd'));
      await inTransaction(ds, (em) => ledger.payApproval(em, { id: randomUUID(), workerId: w.id, campaignId: c.id }, campaign));
      expect(await bal(cash(r.id, 'usd'))).toBe(cashBefore - 30);
      expect(await bal(payable(w.id, 'usd'))).toBe(75);

      const story = await t.http.get(`/api/admin/ledger/campaigns/${c.id}`).set(admin.auth).expect(200);
      expect(story.body).toMatchObject({ escrowedMinor: 120, paidMinor: 75, feesMinor: 15, paidFromCashMinor: 30, approvals: 3, releasedMinor: 60, escrowBalanceMinor: 0 });
    });

    it('refuses to pay a campaign that was never escrowed', async () => {
      const r = await signUp(t, ['requester']);
      const c = await seedCampaign(t, r.id, { status: 'draft' }, 1);
      const campaign = await campaignOf(c.id);
      await expect(inTransaction(ds, (em) => ledger.payApproval(em, { id: randomUUID(), workerId: randomUUID(), campaignId: c.id }, campaign))).rejects.toMatchObject({
        code: 'CAMPAIGN_NOT_ESCROWED',
      });
    });
  });

  describe('bonuses', () => {
    it('pays a worker on the campaign once per key; over balance, strangers and other requesters are refused', async () => {
      const r = await signUp(t, ['requester']);
      const other = await signUp(t, ['requester']);
      const w = await signUp(t, ['worker']);
      const stranger = await signUp(t, ['worker']);
      await credit(r.id, 130).expect(201);
      const c = await seedCampaign(t, r.id, {}, 1);
      await ds.query(`INSERT INTO assignments (task_id, campaign_id, worker_id, status, lease_expires_at, submitted_at, answer) VALUES ($1,$2,$3,'submitted', now(), now(), '"cat"')`, [
        c.taskIds[0],
        c.id,
        w.id,
      ]);
      const body = { campaignId: c.id, workerId: w.id, amountMinor: 100, reason: 'great boxes', idempotencyKey: 'b-1' };
      const res = await t.http.post('/api/bonuses').set(r.auth).send(body).expect(201);
      expect(res.body.entries).toEqual(
        expect.arrayContaining([
          { account: 'requester_cash', ownerId: r.id, currency: 'usd', amountMinor: -120 },
          { account: 'worker_payable', ownerId: w.id, currency: 'usd', amountMinor: 100 },
          { account: 'platform_revenue', ownerId: null, currency: 'usd', amountMinor: 20 },
        ]),
      );
      await t.http.post('/api/bonuses').set(r.auth).send(body).expect(201);
      expect(await bal(payable(w.id, 'usd'))).toBe(100);
      const over = await t.http.post('/api/bonuses').set(r.auth).send({ ...body, idempotencyKey: 'b-2' }).expect(422);
      expect(over.body).toMatchObject({ code: 'INSUFFICIENT_FUNDS', message: 'requester cash: needs 120 usd, available 10 (short by 110)' });
      await t.http.post('/api/bonuses').set(r.auth).send({ ...body, workerId: stranger.id, idempotencyKey: 'b-3' }).expect(422);
      await t.http.post('/api/bonuses').set(other.auth).send({ ...body, idempotencyKey: 'b-4' }).expect(404);
      await t.http.post('/api/bonuses').set(r.auth).send({ ...body, amountMinor: 0.5, idempotencyKey: 'b-5' }).expect(400);
      await t.http.post('/api/bonuses').set(w.auth).send({ ...body, idempotencyKey: 'b-6' }).expect(403);
      expect(await bal(cash(r.id, 'usd'))).toBe(10);
    });
  });

  describe('what the database enforces', () => {
    it('refuses UPDATE, DELETE and TRUNCATE on the journal', async () => {
      const r = await signUp(t, ['requester']);
      await credit(r.id, 50).expect(201);
      await expect(ds.query(`UPDATE ledger_entries SET amount = amount * 2`)).rejects.toThrow(/append-only/);
      await expect(ds.query(`DELETE FROM ledger_entries`)).rejects.toThrow(/append-only/);
      await expect(ds.query(`UPDATE ledger_transactions SET memo = 'x'`)).rejects.toThrow(/append-only/);
      await expect(ds.query(`DELETE FROM ledger_transactions`)).rejects.toThrow(/append-only/);
      await expect(ds.query(`TRUNCATE ledger_entries CASCADE`)).rejects.toThrow(/append-only/);
      expect(await bal(cash(r.id, 'usd'))).toBe(50);
    });

    it('refuses an unbalanced transaction at commit, and a guarded account below zero', async () => {
      const r = await signUp(t, ['requester']);
      const before = await countTx();
      await expect(
        inTransaction(ds, async (em) => {
          const acc = await ledger.ensureAccount(em, cash(r.id, 'usd'));
          const [tx] = await em.query(`INSERT INTO ledger_transactions (idempotency_key, kind) VALUES ($1, 'manual_credit') RETURNING id`, [`raw:${randomUUID()}`]);
          await em.query(`INSERT INTO ledger_entries (transaction_id, account_id, currency, amount) VALUES ($1, $2, 'usd', 500)`, [tx.id, acc.id]);
        }),
      ).rejects.toThrow(/does not balance/);
      await expect(
        inTransaction(ds, async (em) => {
          const acc = await ledger.ensureAccount(em, cash(r.id, 'usd'));
          const rev = await ledger.ensureAccount(em, platformRevenue('usd'));
          const [tx] = await em.query(`INSERT INTO ledger_transactions (idempotency_key, kind) VALUES ($1, 'manual_credit') RETURNING id`, [`raw:${randomUUID()}`]);
          await em.query(`INSERT INTO ledger_entries (transaction_id, account_id, currency, amount) VALUES ($1, $2, 'usd', -5), ($1, $3, 'usd', 5)`, [tx.id, acc.id, rev.id]);
        }),
      ).rejects.toThrow(/ck_ledger_accounts_not_negative/);
      // An entry whose currency is not its account's.
      await expect(
        inTransaction(ds, async (em) => {
          const acc = await ledger.ensureAccount(em, cash(r.id, 'usd'));
          const [tx] = await em.query(`INSERT INTO ledger_transactions (idempotency_key, kind) VALUES ($1, 'manual_credit') RETURNING id`, [`raw:${randomUUID()}`]);
          await em.query(`INSERT INTO ledger_entries (transaction_id, account_id, currency, amount) VALUES ($1, $2, 'eur', 5)`, [tx.id, acc.id]);
        }),
      ).rejects.toThrow(/fk_ledger_entries_account/);
      expect(await countTx()).toBe(before);
    });

    it('refuses in code: unbalanced entries, a reused key with other entries, posting outside a transaction', async () => {
      const r = await signUp(t, ['requester']);
      const entries = (n: number) => [
        { account: platformRevenue('usd'), amount: -n },
        { account: cash(r.id, 'usd'), amount: n },
      ];
      await expect(inTransaction(ds, (em) => ledger.post(em, { idempotencyKey: `x:${r.id}`, kind: 'manual_credit', memo: '', entries: [entries(5)[0], { account: cash(r.id, 'usd'), amount: 4 }] }))).rejects.toMatchObject({
        code: 'LEDGER_UNBALANCED',
      });
      await inTransaction(ds, (em) => ledger.post(em, { idempotencyKey: `x:${r.id}`, kind: 'manual_credit', memo: '', entries: entries(5) }));
      await expect(inTransaction(ds, (em) => ledger.post(em, { idempotencyKey: `x:${r.id}`, kind: 'manual_credit', memo: '', entries: entries(6) }))).rejects.toMatchObject({
        code: 'IDEMPOTENCY_KEY_REUSED',
      });
      await expect(ledger.post(ds.manager, { idempotencyKey: `y:${r.id}`, kind: 'manual_credit', memo: '', entries: entries(1) })).rejects.toThrow(/inside a transaction/);
    });
  });

  describe('read side', () => {
    it('statements (JSON and CSV), trial balance at zero, Stripe endpoints answer STRIPE_NOT_CONFIGURED', async () => {
      const r = await signUp(t, ['requester']);
      await credit(r.id, 700).expect(201);
      await credit(r.id, 300).expect(201);
      const st = await t.http.get('/api/me/statement').set(r.auth).expect(200);
      expect(st.body.items.map((l: { amountMinor: number; balanceAfterMinor: number }) => [l.amountMinor, l.balanceAfterMinor])).toEqual([
        [700, 700],
        [300, 1000],
      ]);
      const csv = await t.http.get('/api/me/statement').query({ format: 'csv' }).set(r.auth).expect(200);
      expect(csv.headers['content-type']).toMatch(/text\/csv/);
      const lines = csv.text.trim().split('\n');
      expect(lines[0]).toBe('createdAt,transactionId,kind,account,currency,amountMinor,balanceAfterMinor,reference,memo');
      expect(lines[2]).toMatch(/,manual_credit,requester_cash,usd,300,1000,/);

      const tb = await t.http.get('/api/admin/ledger/trial-balance').set(admin.auth).expect(200);
      expect(tb.body.balanced).toBe(true);
      for (const c of tb.body.currencies) expect(c.total).toBe(0);
      await t.http.get('/api/admin/ledger/trial-balance').set(r.auth).expect(403);

      const co = await t.http.post('/api/funding/checkout').set(r.auth).send({ amountMinor: 500, currency: 'usd' }).expect(409);
      expect(co.body.code).toBe('STRIPE_NOT_CONFIGURED');
      const wh = await t.http.post('/api/stripe/webhook').set('stripe-signature', 't=1,v1=x').send('{}').expect(409);
      expect(wh.body.code).toBe('STRIPE_NOT_CONFIGURED');
      expect((await reports.trialBalance()).balanced).toBe(true);
    });
  });
});
