import { DataSource } from 'typeorm';
import { cash, LedgerService, payable, disputes } from '@tally/ledger';
import { PayoutCrash, PayoutsService, ReconciliationService } from '@tally/payments';
import { createAdmin, createTestApp, dataSourceOf, FakeStripe, startFakeStripe, signUp, TestApp, TestUser } from '@tally/testing';

jest.setTimeout(60_000);

/** Funding, refunds, disputes, onboarding and payouts through the real `stripe` SDK and a local fake Stripe. */
describe('ledger with Stripe (e2e)', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let ds: DataSource;
  let ledger: LedgerService;
  let payouts: PayoutsService;
  let admin: TestUser;

  beforeAll(async () => {
    fake = await startFakeStripe();
    t = await createTestApp(fake.env({ STRIPE_TIMEOUT_MS: '1000' }));
    ds = dataSourceOf(t);
    ledger = t.app.get(LedgerService);
    payouts = t.app.get(PayoutsService);
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });
  afterEach(() => {
    fake.clearFailures();
    payouts.crashPoints = {};
  });

  const deliver = (event: Record<string, unknown>, opts: { timestamp?: number; secret?: string } = {}) => {
    const { body, signature } = fake.sign(event, opts);
    return t.http.post('/api/stripe/webhook').set('stripe-signature', signature).set('content-type', 'application/json').send(body);
  };
  const bal = (ref: Parameters<LedgerService['balance']>[1]) => ledger.balance(ds.manager, ref);
  const shuffle = <T>(xs: T[], seed: number) => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  };

  async function fund(r: TestUser, amountMinor: number) {
    const res = await t.http.post('/api/funding/checkout').set(r.auth).send({ amountMinor, currency: 'usd' }).expect(201);
    return fake.completeCheckout(res.body.sessionId);
  }

  async function onboardedWorker(): Promise<{ w: TestUser; accountId: string }> {
    const w = await signUp(t, ['worker']);
    const res = await t.http.post('/api/payouts/account').set(w.auth).send({}).expect(200);
    expect(res.body).toMatchObject({ transfersEnabled: false, url: expect.stringContaining(res.body.accountId) });
    const ev = await deliver(fake.enableAccount(res.body.accountId)).expect(200);
    expect(ev.body.outcome).toBe('account ready for payouts');
    return { w, accountId: res.body.accountId };
  }

  const creditPayable = (userId: string, amountMinor: number) =>
    t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId, amountMinor, currency: 'usd', reason: 'earned elsewhere', account: 'worker_payable' }).expect(201);

  describe('funding webhooks', () => {
    it('creates a Checkout Session with the user in its metadata; events delivered 3× out of order credit once', async () => {
      const r = await signUp(t, ['requester']);
      const res = await t.http.post('/api/funding/checkout').set(r.auth).send({ amountMinor: 12_345, currency: 'usd' }).expect(201);
      expect(res.body).toMatchObject({ sessionId: expect.stringMatching(/^cs_test_/), url: expect.any(String), amountMinor: 12_345 });
      const req = fake.requests.find((q) => q.path === '/v1/checkout/sessions')!;
      expect(req.body).toMatchObject({ mode: 'payment', metadata: { userId: r.id }, payment_intent_data: { metadata: { userId: r.id } } });
      const { completed, succeeded } = fake.completeCheckout(res.body.sessionId);
      const deliveries = shuffle([completed, succeeded, completed, succeeded, completed, succeeded], 7);
      const outcomes = [];
      for (const ev of deliveries) outcomes.push((await deliver(ev).expect(200)).body.outcome);
      expect(outcomes.filter((o) => o === 'credited')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(4);
      expect(outcomes.filter((o) => o === 'already credited')).toHaveLength(1);
      expect(await bal(cash(r.id, 'usd'))).toBe(12_345);
      const n = await ds.query(`SELECT count(*)::int AS n FROM ledger_transactions WHERE kind = 'funding' AND actor_id = $1`, [r.id]);
      expect(n[0].n).toBe(1);
    });

    it('refuses bad signatures, other secrets, tampered bodies and stale timestamps with 400, changing nothing', async () => {
      const r = await signUp(t, ['requester']);
      const { completed } = await fund(r, 500);
      const { body, signature } = fake.sign(completed);
      const post = (b: string, sig?: string) => {
        const q = t.http.post('/api/stripe/webhook').set('content-type', 'application/json');
        return (sig ? q.set('stripe-signature', sig) : q).send(b);
      };
      expect((await post(body, 't=1,v1=deadbeef').expect(400)).body.code).toBe('STRIPE_SIGNATURE_INVALID');
      await post(body).expect(400);
      await post(body.replace('"amount_total":500', '"amount_total":50000'), signature).expect(400);
      await deliver(completed, { secret: 'whsec_someone_else' }).expect(400);
      await deliver(completed, { timestamp: Math.floor(Date.now() / 1000) - 600 }).expect(400);
      expect(await bal(cash(r.id, 'usd'))).toBe(0);
      // The genuine delivery still works afterwards.
      await post(body, signature).expect(200);
      expect(await bal(cash(r.id, 'usd'))).toBe(500);
    });

    it('debits partial refunds by their cumulative total whatever the order; a dispute beyond cash is booked to disputes', async () => {
      const r = await signUp(t, ['requester']);
      const { completed, paymentIntentId: pi } = await fund(r, 1000);
      await deliver(completed).expect(200);
      const disputesBefore = await bal(disputes('usd'));
      // Stripe reports amount_refunded cumulatively: 300 then 100 arrives late.
      await deliver(fake.refundEvent(pi, 1000, 300, 'usd')).expect(200);
      const late = await deliver(fake.refundEvent(pi, 1000, 100, 'usd')).expect(200);
      expect(late.body.outcome).toMatch(/no-op/);
      expect(await bal(cash(r.id, 'usd'))).toBe(700);
      // Spend some, then a dispute for the whole charge: cash covers 500, the platform books 500 to disputes.
      await t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId: r.id, amountMinor: 1, currency: 'usd', reason: 'noise' }).expect(201);
      await ds.transaction((em) => ledger.post(em, { idempotencyKey: `spend:${r.id}`, kind: 'manual_credit', memo: 'spent', entries: [{ account: cash(r.id, 'usd'), amount: -201 }, { account: { kind: 'manual_adjustments', ownerId: null, currency: 'usd' }, amount: 201 }] }));
      const dispute = fake.disputeEvent(pi, 1000, 'usd');
      for (let i = 0; i < 3; i++) await deliver(dispute).expect(200);
      expect(await bal(cash(r.id, 'usd'))).toBe(0);
      expect(await bal(disputes('usd'))).toBe(disputesBefore - 500);
    });

    it('asks Stripe to retry (409) a refund that arrives before its payment, and applies it once the payment is in', async () => {
      const r = await signUp(t, ['requester']);
      const { completed, paymentIntentId: pi } = await fund(r, 800);
      const early = await deliver(fake.refundEvent(pi, 800, 800, 'usd')).expect(409);
      expect(early.body.code).toBe('STRIPE_EVENT_NOT_READY');
      await deliver(completed).expect(200);
      const refund = fake.refundEvent(pi, 800, 800, 'usd');
      await deliver(refund).expect(200);
      await deliver(refund).expect(200);
      expect(await bal(cash(r.id, 'usd'))).toBe(0);
    });

    it('answers 2xx to events it does not handle or that name nobody', async () => {
      expect((await deliver(fake.event('customer.created', { id: 'cus_1' })).expect(200)).body.outcome).toMatch(/ignored/);
      expect((await deliver(fake.event('payment_intent.succeeded', { id: 'pi_x', amount: 5, currency: 'usd', metadata: {} })).expect(200)).body.outcome).toMatch(/ignored/);
    });
  });

  describe('payouts', () => {
    it('pays an onboarded worker once; the reversal webhook returns money to payable; reconciliation is clean', async () => {
      const { w, accountId } = await onboardedWorker();
      const idle = await signUp(t, ['worker']); // not onboarded: never paid
      await creditPayable(w.id, 1500);
      await creditPayable(idle.id, 1500);
      const run = await payouts.runPayouts({ userIds: [w.id, idle.id] });
      expect(run).toEqual({ started: 1, paid: 1, failed: 0, stillPending: 0 });
      expect(await payouts.runPayouts({ userIds: [w.id, idle.id] })).toEqual({ started: 0, paid: 0, failed: 0, stillPending: 0 });
      const list = await t.http.get('/api/payouts').set(w.auth).expect(200);
      expect(list.body.items).toHaveLength(1);
      const p = list.body.items[0];
      expect(p).toMatchObject({ status: 'paid', amountMinor: 1500, stripeTransferId: expect.stringMatching(/^tr_/) });
      expect(fake.transfersInGroup(p.transferGroup)).toHaveLength(1);
      expect(fake.transfersInGroup(p.transferGroup)[0]).toMatchObject({ amount: 1500, destination: accountId, currency: 'usd' });
      expect(await bal(payable(w.id, 'usd'))).toBe(0);
      const me = await t.http.get('/api/me/balance').set(w.auth).expect(200);
      expect(me.body.balances[0]).toMatchObject({ payableMinor: 0, inTransitMinor: 0 });

      const reversed = fake.reverseTransfer(p.stripeTransferId, 400);
      await deliver(reversed).expect(200);
      await deliver(reversed).expect(200);
      expect(await bal(payable(w.id, 'usd'))).toBe(400);
      const rec = await t.app.get(ReconciliationService).reconcile({ userIds: [w.id] });
      expect(rec).toMatchObject({ ok: true, checkedPayouts: 1, stripeTransfers: 1, discrepancies: [] });
    });

    it('a definitive refusal fails the payout and returns the money; transient errors leave it pending until a retry pays it once', async () => {
      const { w, accountId } = await onboardedWorker();
      await creditPayable(w.id, 900);
      fake.refuseTransfersTo.add(accountId);
      expect(await payouts.runPayouts({ userIds: [w.id] })).toMatchObject({ started: 1, failed: 1 });
      expect(await bal(payable(w.id, 'usd'))).toBe(900);
      fake.refuseTransfersTo.delete(accountId);

      // 500 on every attempt of this run (the SDK retries twice with the same key): still pending.
      fake.failNext({ method: 'POST', path: /^\/v1\/transfers$/, status: 500, times: 3 });
      expect(await payouts.runPayouts({ userIds: [w.id] })).toMatchObject({ started: 1, stillPending: 1 });
      // Stripe creates it but the response is lost, twice; the SDK's retry with the same key gets the replay.
      fake.failNext({ method: 'POST', path: /^\/v1\/transfers$/, afterProcessing: true, destroy: true, times: 2 });
      expect(await payouts.runPayouts({ userIds: [w.id] })).toMatchObject({ paid: 1 });
      // A slow Stripe (beyond STRIPE_TIMEOUT_MS) that did create the transfer.
      await creditPayable(w.id, 600);
      fake.failNext({ method: 'POST', path: /^\/v1\/transfers$/, afterProcessing: true, delayMs: 1500 });
      const slow = await payouts.runPayouts({ userIds: [w.id] });
      expect(slow.paid + slow.stillPending).toBe(1);
      await payouts.runPayouts({ userIds: [w.id] });

      const page = await payouts.list({ userId: w.id });
      expect(page.items.map((p) => p.status).sort()).toEqual(['failed', 'paid', 'paid']);
      for (const p of page.items) expect(fake.transfersInGroup(p.transferGroup)).toHaveLength(p.status === 'paid' ? 1 : 0);
      expect(await bal(payable(w.id, 'usd'))).toBe(0);
      expect((await t.app.get(ReconciliationService).reconcile({ userIds: [w.id] })).ok).toBe(true);
    });

    it('exactly once across crashes: after the DB step, and after the Stripe call beyond the idempotency window', async () => {
      const { w } = await onboardedWorker();
      await creditPayable(w.id, 700);
      // Died right after step 1: the payout is pending, the money in transit, Stripe never called.
      const started = await payouts.startPayout(w.id, 'usd');
      expect(started).toMatchObject({ status: 'pending', amountMinor: 700 });
      expect(fake.transfersInGroup(started!.transferGroup)).toHaveLength(0);
      expect(await payouts.runPayouts({ userIds: [w.id] })).toMatchObject({ started: 0, paid: 1 });
      expect(fake.transfersInGroup(started!.transferGroup)).toHaveLength(1);

      // Died right after Stripe created the transfer, before recording it; the restart comes more
      // than 24 hours later (Stripe has forgotten the idempotency key): the lookup finds the transfer.
      await creditPayable(w.id, 800);
      payouts.crashPoints.afterTransferCreated = () => {
        throw new PayoutCrash('kill -9');
      };
      await expect(payouts.runPayouts({ userIds: [w.id] })).rejects.toThrow('kill -9');
      payouts.crashPoints = {};
      const [pending] = (await payouts.list({ userId: w.id, status: 'pending' })).items;
      expect(fake.transfersInGroup(pending.transferGroup)).toHaveLength(1);
      fake.forgetIdempotencyKeys();
      await ds.query(`UPDATE payouts SET locked_until = NULL WHERE id = $1`, [pending.id]); // its lease ran out
      expect(await payouts.runPayouts({ userIds: [w.id] })).toMatchObject({ paid: 1 });
      expect(fake.transfersInGroup(pending.transferGroup)).toHaveLength(1);
      const creates = fake.requests.filter((q) => q.method === 'POST' && q.path === '/v1/transfers' && q.body.transfer_group === pending.transferGroup);
      expect(creates).toHaveLength(1);
      expect((await t.app.get(ReconciliationService).reconcile({ userIds: [w.id] })).ok).toBe(true);
    });

    it('lists and runs payouts for admins only; reconciliation reports an orphan transfer', async () => {
      const { w, accountId } = await onboardedWorker();
      await t.http.post('/api/admin/payouts/run').set(w.auth).expect(403);
      const list = await t.http.get('/api/admin/payouts').query({ userId: w.id }).set(admin.auth).expect(200);
      expect(list.body.total).toBe(0);
      await payouts['stripe'].client.transfers.create({ amount: 5, currency: 'usd', destination: accountId, transfer_group: 'payout_00000000-0000-0000-0000-000000000000', metadata: { userId: w.id } });
      const rec = await t.app.get(ReconciliationService).reconcile({ userIds: [w.id] });
      expect(rec.ok).toBe(false);
      expect(rec.discrepancies).toEqual([expect.objectContaining({ kind: 'orphan_transfer' })]);
      const onboardAgain = await t.http.post('/api/payouts/account').set(w.auth).send({}).expect(200);
      expect(onboardAgain.body).toMatchObject({ accountId, transfersEnabled: true });
      expect(fake.requests.filter((q) => q.path === '/v1/accounts' && q.body.metadata && (q.body.metadata as Record<string, string>).userId === w.id && !q.replayed)).toHaveLength(1);
    });
  });
});
