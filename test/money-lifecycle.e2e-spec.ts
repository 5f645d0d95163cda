import { DataSource } from 'typeorm';
import { JobRegistry } from '@tally/jobs';
import { cash, escrow, LedgerReportsService, LedgerService, payable } from '@tally/ledger';
import { AutoApproveUseCase, CompleteCampaignsUseCase } from '@tally/work';
import { createAdmin, createTestApp, dataSourceOf, FakeStripe, signUp, startFakeStripe, TestApp, TestUser } from '@tally/testing';

jest.setTimeout(60_000);

/**
 * Money through the marketplace lifecycle, over HTTP: publish reserves escrow, approvals pay,
 * rejections do not, completed tasks and cancellation give the rest back, payouts go out through
 * Stripe Connect (the real SDK against the local fake). The default platform fee is 20 % rounded
 * up, so a reward of 10 costs 12 per approved assignment.
 */
describe('money through the lifecycle (e2e)', () => {
  let fake: FakeStripe;
  let t: TestApp;
  let ds: DataSource;
  let ledger: LedgerService;
  let admin: TestUser;

  beforeAll(async () => {
    fake = await startFakeStripe();
    t = await createTestApp(fake.env({ PAYOUT_MINIMUM_MINOR: '25', PLATFORM_FEE_BPS: '2000' }));
    ds = dataSourceOf(t);
    ledger = t.app.get(LedgerService);
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });

  const bal = (ref: Parameters<LedgerService['balance']>[1]) => ledger.balance(ds.manager, ref);
  const credit = (u: TestUser, amountMinor: number) =>
    t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId: u.id, amountMinor, currency: 'usd', reason: 'test funds' }).expect(201);
  const createCampaign = async (r: TestUser, items: string[], over: Record<string, unknown> = {}) => {
    const c = await t.http
      .post('/api/campaigns')
      .set(r.auth)
      .send({ name: 'Money', taskType: 'single-label', labels: ['cat', 'dog'], rewardMinor: 10, currency: 'usd', redundancyMin: 3, redundancyMax: 4, ...over })
      .expect(201);
    await importItems(r, c.body.id, items).expect(201);
    return c.body.id as string;
  };
  const importItems = (r: TestUser, id: string, items: string[]) =>
    t.http.post(`/api/campaigns/${id}/items`).set(r.auth).set('Content-Type', 'application/x-ndjson').send(items.map((text) => JSON.stringify({ text })).join('\n'));
  const claim = (w: TestUser, campaignId: string) => t.http.post(`/api/work/campaigns/${campaignId}/claim`).set(w.auth);
  const submit = (w: TestUser, assignmentId: string, label: string) => t.http.post(`/api/work/assignments/${assignmentId}/submit`).set(w.auth).send({ answer: { label } });
  /** Claims and answers `n` tasks; returns the assignment ids in order. */
  const work = async (w: TestUser, campaignId: string, n: number, label = 'cat') => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = await claim(w, campaignId).expect(200);
      await submit(w, c.body.assignmentId, label).expect(200);
      ids.push(c.body.assignmentId);
    }
    return ids;
  };
  const countTx = async () => Number((await ds.query(`SELECT count(*) AS n FROM ledger_transactions`))[0].n);
  const story = async (id: string) => (await t.http.get(`/api/admin/ledger/campaigns/${id}`).set(admin.auth).expect(200)).body;
  const deliver = (event: Record<string, unknown>) => {
    const { body, signature } = fake.sign(event);
    return t.http.post('/api/stripe/webhook').set('stripe-signature', signature).set('content-type', 'application/json').send(body);
  };

  it('refuses to publish without the funds: 422 naming the shortfall, and nothing changes', async () => {
    const r = await signUp(t, ['requester']);
    await credit(r, 50);
    const id = await createCampaign(r, ['a', 'b']); // 2 items × 4 slots × (10 + 2) = 96
    const before = await countTx();
    const res = await t.http.post(`/api/campaigns/${id}/publish`).set(r.auth).expect(422);
    expect(res.body).toMatchObject({ code: 'INSUFFICIENT_FUNDS', message: 'requester cash: needs 96 usd, available 50 (short by 46)', shortfallMinor: 46 });
    expect((await t.http.get(`/api/campaigns/${id}`).set(r.auth).expect(200)).body).toMatchObject({ status: 'draft', publishedAt: null });
    expect(await countTx()).toBe(before);
    expect(await bal(cash(r.id, 'usd'))).toBe(50);
    expect(await ds.query(`SELECT 1 FROM campaign_escrows WHERE campaign_id = $1`, [id])).toHaveLength(0);
    const audit = await t.http.get('/api/admin/audit').query({ objectType: 'campaign', objectId: id }).set(admin.auth).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).not.toContain('campaign.publish');
    // Funded, the same publish goes through and takes exactly the escrow.
    await credit(r, 46);
    await t.http.post(`/api/campaigns/${id}/publish`).set(r.auth).expect(200);
    expect(await bal(cash(r.id, 'usd'))).toBe(0);
    expect(await bal(escrow(id, 'usd'))).toBe(96);
  });

  it('refuses items added to a running campaign that the requester cannot cover, importing nothing', async () => {
    const r = await signUp(t, ['requester']);
    await credit(r, 96 + 47);
    const id = await createCampaign(r, ['a', 'b']);
    await t.http.post(`/api/campaigns/${id}/publish`).set(r.auth).expect(200);
    const refused = await importItems(r, id, ['c']).expect(422); // needs 48, has 47
    expect(refused.body).toMatchObject({ code: 'INSUFFICIENT_FUNDS', shortfallMinor: 1 });
    expect((await t.http.get(`/api/campaigns/${id}/tasks`).set(r.auth).expect(200)).body.total).toBe(2);
    expect(await bal(cash(r.id, 'usd'))).toBe(47);
    await credit(r, 1);
    const ok = await importItems(r, id, ['c']).expect(201);
    expect(ok.body.inserted).toBe(1);
    expect(await bal(escrow(id, 'usd'))).toBe(144);
    expect(await bal(cash(r.id, 'usd'))).toBe(0);
  });

  it('completion keeps escrow only for answers under review; a late rejection reopens the task and its slot', async () => {
    const r = await signUp(t, ['requester']);
    const worker = await signUp(t, ['worker']);
    await credit(r, 1000);
    const id = await createCampaign(r, ['only'], { redundancyMin: 1, redundancyMax: 2 });
    await t.http.post(`/api/campaigns/${id}/publish`).set(r.auth).expect(200);
    expect(await bal(escrow(id, 'usd'))).toBe(24);
    const [a] = await work(worker, id, 1);
    expect(await bal(escrow(id, 'usd'))).toBe(12); // the task completed with 1 of 2 slots
    await t.app.get(CompleteCampaignsUseCase).execute();
    expect((await t.http.get(`/api/campaigns/${id}`).set(r.auth).expect(200)).body.status).toBe('completed');
    expect(await bal(escrow(id, 'usd'))).toBe(12); // the answer may still be approved
    await t.http.post(`/api/assignments/${a}/reject`).set(r.auth).send({ reason: 'wrong animal' }).expect(200);
    expect((await t.http.get(`/api/campaigns/${id}`).set(r.auth).expect(200)).body.status).toBe('published');
    expect(await bal(escrow(id, 'usd'))).toBe(12); // for the replacement answer
    await t.http.post(`/api/campaigns/${id}/cancel`).set(r.auth).expect(200);
    expect(await bal(escrow(id, 'usd'))).toBe(0);
    expect(await bal(cash(r.id, 'usd'))).toBe(1000);
    expect(await bal(payable(worker.id, 'usd'))).toBe(0);
  });

  it('the settle sweep returns escrow kept for an answer that was rejected after cancellation', async () => {
    const r = await signUp(t, ['requester']);
    const worker = await signUp(t, ['worker']);
    await credit(r, 12);
    const id = await createCampaign(r, ['only'], { redundancyMin: 1, redundancyMax: 1 });
    await t.http.post(`/api/campaigns/${id}/publish`).set(r.auth).expect(200);
    const [a] = await work(worker, id, 1);
    await t.http.post(`/api/campaigns/${id}/cancel`).set(r.auth).expect(200);
    expect(await bal(escrow(id, 'usd'))).toBe(12);
    await t.http.post(`/api/assignments/${a}/reject`).set(r.auth).send({ reason: 'spam answer' }).expect(200);
    expect(await bal(escrow(id, 'usd'))).toBe(12);
    await t.app.get(CompleteCampaignsUseCase).execute();
    expect(await bal(escrow(id, 'usd'))).toBe(0);
    expect(await bal(cash(r.id, 'usd'))).toBe(12);
    expect((await story(id)).releasedMinor).toBe(12);
  });

  it('a campaign past its deadline gives back what its open slots held, keeping answers under review', async () => {
    const r = await signUp(t, ['requester']);
    const worker = await signUp(t, ['worker']);
    await credit(r, 48);
    const id = await createCampaign(r, ['a', 'b'], { redundancyMin: 2, redundancyMax: 2, deadline: new Date(Date.now() + 2500).toISOString() });
    await t.http.post(`/api/campaigns/${id}/publish`).set(r.auth).expect(200);
    await work(worker, id, 1);
    await t.app.get(CompleteCampaignsUseCase).settleEscrows();
    expect(await bal(escrow(id, 'usd'))).toBe(48); // not yet
    await new Promise((res) => setTimeout(res, Math.max(0, 2600)));
    await claim(worker, id).expect(409);
    await t.app.get(CompleteCampaignsUseCase).settleEscrows();
    expect(await bal(escrow(id, 'usd'))).toBe(12);
    expect(await bal(cash(r.id, 'usd'))).toBe(36);
  });

  it('a campaign past its deadline ends (completed, reason "deadline") once the work claimed before it is in; a rejection then reopens a task, not the campaign', async () => {
    const r = await signUp(t, ['requester']);
    const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
    await credit(r, 48);
    const id = await createCampaign(r, ['a', 'b', 'c'], { redundancyMin: 1, redundancyMax: 1, deadline: new Date(Date.now() + 2500).toISOString() });
    await t.http.post(`/api/campaigns/${id}/publish`).set(r.auth).expect(200);
    const [answered] = await work(w1, id, 1);
    const live = await claim(w2, id).expect(200);
    await new Promise((res) => setTimeout(res, 2600));
    const status = async () => (await t.http.get(`/api/campaigns/${id}`).set(r.auth).expect(200)).body.status;
    const sweep = t.app.get(CompleteCampaignsUseCase);
    expect(await sweep.execute()).not.toContain(id); // w2's claim, made in time, may still be submitted
    expect(await status()).toBe('published');
    await submit(w2, live.body.assignmentId, 'cat').expect(200);
    expect(await sweep.execute()).toContain(id);
    expect(await status()).toBe('completed');
    const audit = await ds.query(`SELECT data FROM audit_events WHERE action = 'campaign.completed' AND object_id = $1`, [id]);
    expect(audit).toEqual([{ data: { reason: 'deadline' } }]); // one task was never answered
    await t.http.post(`/api/assignments/${answered}/reject`).set(r.auth).send({ reason: 'wrong animal' }).expect(200);
    expect(await status()).toBe('completed');
    expect(await sweep.execute()).not.toContain(id);
    // escrow keeps only w2's answer, still under review (w1's was rejected: its slot's money went back)
    expect(await bal(escrow(id, 'usd'))).toBe(12);
  });

  describe('one campaign from publish to payout', () => {
    let r: TestUser;
    let w: TestUser[];
    let id: string;
    let work1: string[];
    let work2: string[];
    let work3: string[];
    let w4Assignment: string;

    beforeAll(async () => {
      r = await signUp(t, ['requester']);
      w = [];
      for (let i = 0; i < 5; i++) w.push(await signUp(t, ['worker'], `worker${i + 1}`));
      await credit(r, 1000);
    });

    it('publish reserves reward × redundancyMax × tasks × (1 + fee) exactly; an import afterwards reserves its share', async () => {
      id = await createCampaign(r, ['t1', 't2', 't3']);
      await t.http.post(`/api/campaigns/${id}/publish`).set(r.auth).expect(200);
      expect(await bal(cash(r.id, 'usd'))).toBe(1000 - 144); // 3 × 4 × 12
      expect(await bal(escrow(id, 'usd'))).toBe(144);
      await importItems(r, id, ['t4']).expect(201);
      expect(await bal(escrow(id, 'usd'))).toBe(192);
      expect(await story(id)).toMatchObject({ escrowedMinor: 192, terms: { rewardMinor: 10, feeMinor: 2, feeBps: 2000, slots: 16 } });
    });

    it('three workers answer; each task completed with 3 of its 4 slots gives the 4th back', async () => {
      work1 = await work(w[0], id, 3);
      work2 = await work(w[1], id, 3);
      work3 = await work(w[2], id, 3, 'dog');
      const tasks = (await t.http.get(`/api/campaigns/${id}/tasks`).set(r.auth).expect(200)).body.items;
      expect(tasks.map((x: { status: string }) => x.status)).toEqual(['complete', 'complete', 'complete', 'open']);
      // 3 tasks × 1 unused slot × 12 back; 9 answers awaiting review + task 4's 4 slots stay.
      expect(await bal(escrow(id, 'usd'))).toBe(192 - 36);
      expect(await bal(cash(r.id, 'usd'))).toBe(1000 - 192 + 36);
      expect(await story(id)).toMatchObject({ releasedMinor: 36, paidMinor: 0 });
    });

    it('approval pays the worker exactly the reward and the platform its fee, once however often it is sent', async () => {
      // Sent 4 times each, all at once, one of them inside a bulk request: one payment each.
      const racing = await Promise.all([
        ...work1.flatMap((a) => [1, 2, 3].map(() => t.http.post(`/api/assignments/${a}/approve`).set(r.auth))),
        t.http.post(`/api/campaigns/${id}/assignments/review`).set(r.auth).send({ assignmentIds: work1, decision: 'approve' }),
      ]);
      const bulkRes = racing.pop()!;
      expect(bulkRes.status).toBe(200);
      expect(racing.filter((x) => x.status === 200).length + bulkRes.body.approved).toBe(3);
      expect(racing.every((x) => x.status === 200 || x.status === 409)).toBe(true);
      const again = await t.http.post(`/api/assignments/${work1[0]}/approve`).set(r.auth).expect(409);
      expect(again.body.code).toBe('ASSIGNMENT_NOT_SUBMITTED');
      expect(await bal(payable(w[0].id, 'usd'))).toBe(30);
      // Platform revenue is shared by every suite: look at these approvals' own entries.
      const [paid] = await ds.query(
        `SELECT count(DISTINCT t.id)::int AS n,
                coalesce(sum(e.amount) FILTER (WHERE a.kind = 'platform_revenue'), 0)::int AS fees,
                coalesce(sum(e.amount) FILTER (WHERE a.kind = 'worker_payable'), 0)::int AS rewards
           FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id
          WHERE t.idempotency_key = ANY($1::text[])`,
        [work1.map((a) => `approve:${a}`)],
      );
      expect(paid).toEqual({ n: 3, fees: 6, rewards: 30 });
    });

    it('bulk approval pays each; a rejection pays nothing and keeps the slot’s escrow for the replacement', async () => {
      const [onT1, ...rest] = work2;
      const bulk = await t.http.post(`/api/campaigns/${id}/assignments/review`).set(r.auth).send({ assignmentIds: rest, decision: 'approve' }).expect(200);
      expect(bulk.body).toMatchObject({ approved: 2, skipped: 0 });
      await t.http.post(`/api/assignments/${onT1}/reject`).set(r.auth).send({ reason: 'not even close' }).expect(200);
      expect(await bal(payable(w[1].id, 'usd'))).toBe(20);
      // 156 − 5 approvals × 12; the rejected answer's slot is still there for its replacement.
      expect(await bal(escrow(id, 'usd'))).toBe(96);
      // The replacement answer completes task 1 again: nothing more is released (once per task).
      const c = await claim(w[3], id).expect(200);
      const t1 = (await t.http.get(`/api/campaigns/${id}/tasks`).set(r.auth).expect(200)).body.items[0];
      expect(c.body.taskId).toBe(t1.id);
      await submit(w[3], c.body.assignmentId, 'cat').expect(200);
      w4Assignment = c.body.assignmentId;
      expect(await bal(escrow(id, 'usd'))).toBe(96);
    });

    it('a reversed rejection pays the worker', async () => {
      const plain = await t.http.post(`/api/assignments/${work2[0]}/approve`).set(r.auth).expect(409);
      expect(plain.body.code).toBe('ASSIGNMENT_NOT_SUBMITTED');
      const res = await t.http.post(`/api/assignments/${work2[0]}/approve`).query({ overrideRejection: true }).set(r.auth).expect(200);
      expect(res.body).toMatchObject({ status: 'approved', rejectReason: null });
      await t.http.post(`/api/assignments/${work2[0]}/approve`).query({ overrideRejection: true }).set(r.auth).expect(409);
      expect(await bal(payable(w[1].id, 'usd'))).toBe(30);
      expect(await bal(escrow(id, 'usd'))).toBe(84);
      const audit = await t.http.get('/api/admin/audit').query({ objectType: 'assignment', objectId: work2[0] }).set(admin.auth).expect(200);
      expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['assignment.rejection_reversed', 'assignment.rejected']);
    });

    it('auto-approval pays what is due', async () => {
      await ds.query(`UPDATE assignments SET auto_approve_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`, [work3]);
      await t.app.get(AutoApproveUseCase).execute(); // (a sweep of a parallel suite may get there first: same result)
      const statuses = await ds.query(`SELECT DISTINCT status, reviewed_by FROM assignments WHERE id = ANY($1::uuid[])`, [work3]);
      expect(statuses).toEqual([{ status: 'approved', reviewed_by: null }]);
      expect(await bal(payable(w[2].id, 'usd'))).toBe(30);
      expect(await bal(escrow(id, 'usd'))).toBe(84 - 36);
    });

    it('cancellation releases live claims and the rest of the escrow, keeping the answer still under review', async () => {
      const live = await claim(w[4], id).expect(200); // task 4
      const cashBefore = await bal(cash(r.id, 'usd'));
      await t.http.post(`/api/campaigns/${id}/cancel`).set(r.auth).expect(200);
      const [a] = await ds.query(`SELECT status FROM assignments WHERE id = $1`, [live.body.assignmentId]);
      expect(a.status).toBe('expired');
      expect(await bal(escrow(id, 'usd'))).toBe(12); // worker 4's answer, still to be reviewed
      expect(await bal(cash(r.id, 'usd'))).toBe(cashBefore + 36);
      await t.http.post(`/api/assignments/${w4Assignment}/approve`).set(r.auth).expect(200);
      expect(await bal(payable(w[3].id, 'usd'))).toBe(10);
      expect(await bal(escrow(id, 'usd'))).toBe(0);
    });

    it('the campaign’s money story adds up and the trial balance is zero', async () => {
      // 10 approvals × 12 spent; everything else came back.
      expect(await bal(cash(r.id, 'usd'))).toBe(1000 - 120);
      const s = await story(id);
      expect(s).toMatchObject({ escrowedMinor: 192, paidMinor: 100, feesMinor: 20, paidFromCashMinor: 0, approvals: 10, releasedMinor: 72, escrowBalanceMinor: 0 });
      expect(s.escrowedMinor - (s.paidMinor + s.feesMinor - s.paidFromCashMinor) - s.releasedMinor).toBe(s.escrowBalanceMinor);
      const progress = (await t.http.get(`/api/campaigns/${id}/progress`).set(r.auth).expect(200)).body;
      expect(progress.spendMinor).toBe(s.paidMinor);
      // A later sweep finds nothing more to settle here.
      await t.app.get(CompleteCampaignsUseCase).execute();
      expect(await story(id)).toEqual(s);
      expect(await t.app.get(LedgerReportsService).trialBalance()).toMatchObject({ balanced: true, cacheMismatches: [], unbalancedTransactions: [] });
      const tb = (await t.http.get('/api/admin/ledger/trial-balance').set(admin.auth).expect(200)).body;
      expect(tb.currencies.find((c: { currency: string }) => c.currency === 'usd').total).toBe(0);
    });

    it('pays the earnings out through Stripe Connect once the worker is onboarded (the payouts job)', async () => {
      const acct = await t.http.post('/api/payouts/account').set(w[0].auth).send({}).expect(200);
      await deliver(fake.enableAccount(acct.body.accountId)).expect(200);
      const jobs = t.app.get(JobRegistry);
      // Scoped to this worker: other suites may share the database.
      expect(await jobs.run('payouts', { userIds: [w[0].id, w[3].id] })).toEqual({ started: 1, paid: 1, failed: 0, stillPending: 0 });
      expect(await jobs.run('payouts', { userIds: [w[0].id, w[3].id] })).toEqual({ started: 0, paid: 0, failed: 0, stillPending: 0 });
      expect(await bal(payable(w[0].id, 'usd'))).toBe(0);
      const payouts = (await t.http.get('/api/payouts').set(w[0].auth).expect(200)).body.items;
      expect(payouts).toHaveLength(1);
      expect(payouts[0]).toMatchObject({ amountMinor: 30, status: 'paid', stripeTransferId: expect.stringMatching(/^tr_/) });
      expect(fake.transfersInGroup(payouts[0].transferGroup)).toEqual([expect.objectContaining({ amount: 30, destination: acct.body.accountId, currency: 'usd' })]);
      // Worker 4 earned 10, under the minimum, and is not onboarded: nothing goes out.
      expect(await bal(payable(w[3].id, 'usd'))).toBe(10);
      expect((await t.app.get(LedgerReportsService).trialBalance()).balanced).toBe(true);
    });
  });
});
