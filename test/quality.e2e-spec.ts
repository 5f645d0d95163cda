import { DataSource } from 'typeorm';
import { createAdmin, createTestApp, dataSourceOf, seedCampaign, SeedCampaignOverrides, SeedItem, signUp, TestApp, TestUser } from '@tally/testing';
import { GOLD_FAILED_REASON, ReestimateService } from '@tally/quality';

/** Quality control through the HTTP API: hidden gold, qualifications, rules, reliability, dynamic overlap, exports. */
jest.setTimeout(120_000);

describe('quality control (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let requester: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    ds = dataSourceOf(t);
    requester = await signUp(t, ['requester']);
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  const claim = (w: TestUser, campaignId: string) => t.http.post(`/api/work/campaigns/${campaignId}/claim`).set(w.auth);
  const submit = (w: TestUser, assignmentId: string, answer: unknown) => t.http.post(`/api/work/assignments/${assignmentId}/submit`).set(w.auth).send({ answer });
  const isGold = async (taskId: string) => (await ds.query(`SELECT status FROM tasks WHERE id = $1`, [taskId]))[0].status === 'gold';
  const goldOf = async (taskId: string) => (await ds.query(`SELECT gold FROM tasks WHERE id = $1`, [taskId]))[0].gold;
  /** Pretends the worker spent `seconds` on the task (the server measures claim → submit). */
  const spend = (assignmentId: string, seconds: number) =>
    ds.query(`UPDATE assignments SET claimed_at = claimed_at - make_interval(secs => $2) WHERE id = $1`, [assignmentId, seconds]);
  const setCampaign = (id: string, sets: string, params: unknown[] = []) => ds.query(`UPDATE campaigns SET ${sets} WHERE id = $1`, [id, ...params]);
  const rules = (id: string, body: Record<string, unknown>, who = requester) => t.http.patch(`/api/campaigns/${id}/quality-rules`).set(who.auth).send(body);
  const items = (n: number, gold: number, goldLabel = 'cat'): SeedItem[] => [
    ...Array.from({ length: n }, (_, i) => ({ payload: { text: `real ${i} ${Math.random()}` } })),
    ...Array.from({ length: gold }, (_, i) => ({ payload: { text: `gold ${i} ${Math.random()}` }, gold: { label: goldLabel } })),
  ];
  const campaign = (o: SeedCampaignOverrides, list: SeedItem[]) => seedCampaign(t, requester.id, o, list);

  describe('hidden gold', () => {
    it('mixes gold in at the gold rate, never toward redundancy, and retires an item after its exposures', async () => {
      const c = await campaign({ redundancyMin: 1, redundancyMax: 1 }, items(20, 10));
      await setCampaign(c.id, `gold_rate = 0.3`);
      await rules(c.id, { goldMaxExposures: 1 }).expect(200);
      const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      let golds = 0;
      let reals = 0;
      for (const w of [w1, w2]) {
        for (;;) {
          const res = await claim(w, c.id);
          if (res.status === 409) break;
          expect(res.status).toBe(200);
          if (await isGold(res.body.taskId)) golds++;
          else reals++;
          await submit(w, res.body.assignmentId, { label: 'cat' }).expect(200);
        }
      }
      expect(reals).toBe(20); // every real task once: redundancy 1, gold did not use it up
      expect(golds).toBeGreaterThan(0);
      expect(golds).toBeLessThanOrEqual(10);
      const tasks: { status: string; exposures: number; answers_count: number }[] = await ds.query(`SELECT status, exposures, answers_count FROM tasks WHERE campaign_id = $1`, [c.id]);
      expect(tasks.filter((x) => x.status === 'complete')).toHaveLength(20);
      expect(tasks.filter((x) => x.status === 'gold').every((x) => x.exposures <= 1)).toBe(true); // retired after one exposure
    });

    it('adaptive gold: a worker proven on gold gets it at goldRateProven, one who misses keeps the full rate', async () => {
      const c = await campaign({ redundancyMin: 1, redundancyMax: 2 }, items(12, 12));
      // every claim draws gold while gold is left; a proven worker (4 gold answers, Wilson 95% lower
      // bound ≥ the pass mark 0.5: 4 of 4 right gives 0.51, 3 of 4 gives 0.30) gets none
      await setCampaign(c.id, `gold_rate = 1, gold_pass_mark = 0.5`);
      await rules(c.id, { goldRateProven: 0, minGoldAnswers: 4, goldAction: 'off' }).expect(200);
      const run = async (w: TestUser, n: number, right: (i: number) => boolean) => {
        const gold: boolean[] = [];
        for (let i = 0; i < n; i++) {
          const res = await claim(w, c.id).expect(200);
          const g = await isGold(res.body.taskId);
          gold.push(g);
          await submit(w, res.body.assignmentId, { label: g && !right(i) ? 'dog' : 'cat' }).expect(200);
        }
        return gold;
      };
      const good = await signUp(t, ['worker']);
      expect(await run(good, 8, () => true)).toEqual([true, true, true, true, false, false, false, false]);
      const unlucky = await signUp(t, ['worker']);
      expect(await run(unlucky, 8, (i) => i !== 0)).toEqual([true, true, true, true, true, true, true, true]);
      // off again (null): gold at the campaign's rate for everyone
      await rules(c.id, { goldRateProven: null }).expect(200);
      expect(await run(good, 1, () => true)).toEqual([true]);
      await rules(c.id, { goldRateProven: 1.5 }).expect(400);
    });

    it('grades gold, rejects a failed one with "judged wrong" only, and no worker-facing response ever carries a gold answer', async () => {
      const c = await campaign(
        { taskType: 'text', labels: [], redundancyMin: 2, autoApproveSeconds: 0 },
        [
          { payload: { text: 'describe me' } },
          { payload: { text: 'gold one' }, gold: { text: 'SECRET-GOLD-1' } },
          { payload: { text: 'gold two' }, gold: { text: 'SECRET-GOLD-2' } },
        ],
      );
      await setCampaign(c.id, `gold_rate = 1`);
      const w = await signUp(t, ['worker']);
      const bodies: unknown[] = [];
      const seen = async (p: Promise<{ status: number; body: unknown }>) => {
        const r = await p;
        bodies.push(r.body);
        return r as { status: number; body: any };
      };
      await seen(t.http.get('/api/work/campaigns').set(w.auth));
      const g1 = await seen(claim(w, c.id));
      expect(await isGold(g1.body.taskId)).toBe(true);
      expect(Object.keys(g1.body).sort()).toEqual(['assignmentId', 'campaignId', 'instructions', 'labels', 'leaseExpiresAt', 'payload', 'resumed', 'taskId', 'taskType']);
      await seen(claim(w, c.id)); // resumed, same body shape
      const wrong = await seen(submit(w, g1.body.assignmentId, { text: 'a wrong guess' }));
      expect(wrong.status).toBe(200);
      expect(wrong.body.status).toBe('submitted'); // not judged in front of the worker
      const g2 = await seen(claim(w, c.id));
      await seen(t.http.post(`/api/work/assignments/${g2.body.assignmentId}/return`).set(w.auth));
      await seen(t.http.get(`/api/work/assignments/${g2.body.assignmentId}`).set(w.auth));
      const real = await seen(claim(w, c.id)); // no gold left for this worker: a real task
      expect(await isGold(real.body.taskId)).toBe(false);
      await seen(submit(w, real.body.assignmentId, { text: 'a photo' }));

      const graded = (await ds.query(`SELECT gold_correct, auto_approve_at FROM assignments WHERE id = $1`, [g1.body.assignmentId]))[0];
      expect(graded).toEqual({ gold_correct: false, auto_approve_at: null });
      const run = await t.http.post('/api/admin/quality/run').set(admin.auth).expect(200);
      expect(run.body.goldRejected).toBeGreaterThanOrEqual(1);
      const mine = await seen(t.http.get(`/api/work/assignments/${g1.body.assignmentId}`).set(w.auth));
      expect(mine.body).toMatchObject({ status: 'rejected', rejectReason: GOLD_FAILED_REASON, answer: { text: 'a wrong guess' } });
      await seen(t.http.get('/api/work/assignments').set(w.auth));
      await seen(t.http.get('/api/me/reliability').set(w.auth));
      for (const b of bodies) {
        const s = JSON.stringify(b);
        expect(s).not.toMatch(/SECRET-GOLD/);
        expect(s).not.toMatch(/"gold"|gold_correct|goldCorrect|"exposures"/);
      }
      // the requester's review list shows the worker's answers, never the gold answers
      const review = await t.http.get(`/api/campaigns/${c.id}/answers`).set(requester.auth).expect(200);
      expect(JSON.stringify(review.body)).not.toMatch(/SECRET-GOLD/);
      expect((await goldOf(g1.body.taskId)).text).toMatch(/^SECRET-GOLD-/); // still on the server
    });
  });

  describe('qualifications', () => {
    it('hides the campaign and refuses a claim with the reason: approved count, named qualification (granted and revoked)', async () => {
      const w = await signUp(t, ['worker']);
      const c = await campaign({}, items(3, 0));
      await setCampaign(c.id, `qualification = $2`, [JSON.stringify({ minApprovedCount: 5 })]);
      const listed = async () => (await t.http.get('/api/work/campaigns').query({ limit: 200 }).set(w.auth).expect(200)).body.items.map((x: { id: string }) => x.id);
      expect(await listed()).not.toContain(c.id);
      const r1 = await claim(w, c.id).expect(403);
      expect(r1.body).toMatchObject({ code: 'NOT_QUALIFIED' });
      expect(r1.body.message).toMatch(/at least 5 approved answers; you have 0/);

      const name = `skilled-${Date.now()}`;
      const q = await t.http.post('/api/qualifications').set(requester.auth).send({ name, description: 'trusted' }).expect(201);
      await t.http.post('/api/qualifications').set(requester.auth).send({ name }).expect(409);
      await t.http.post('/api/qualifications').set(requester.auth).send({ name: 'Bad Name!' }).expect(400);
      await t.http.post('/api/qualifications').set(w.auth).send({ name: 'x-worker' }).expect(403);
      await setCampaign(c.id, `qualification = $2`, [JSON.stringify({ requiredQualifications: [name] })]);
      const r2 = await claim(w, c.id).expect(403);
      expect(r2.body.message).toContain(name);
      // another requester cannot grant it; the owner grants by the pseudonym seen in one of their campaigns
      const other = await signUp(t, ['requester']);
      await t.http.post(`/api/qualifications/${q.body.id}/grants`).set(other.auth).send({ campaignId: c.id, pseudonym: 'W-0000000000' }).expect(403);
      const warmup = await campaign({ redundancyMin: 1 }, items(1, 0));
      const a = await claim(w, warmup.id).expect(200);
      await submit(w, a.body.assignmentId, { label: 'dog' }).expect(200);
      const workers = await t.http.get(`/api/campaigns/${warmup.id}/workers`).set(requester.auth).expect(200);
      const pseudonym = workers.body.items[0].worker;
      expect(pseudonym).toMatch(/^W-[0-9a-f]{10}$/);
      expect(JSON.stringify(workers.body)).not.toContain(w.id);
      await t.http.post(`/api/qualifications/${q.body.id}/grants`).set(requester.auth).send({ campaignId: warmup.id, pseudonym }).expect(200);
      expect(await listed()).toContain(c.id);
      await claim(w, c.id).expect(200);
      // admin revokes by id: refused again (the live claim is kept, a new one is not)
      await t.http.post(`/api/qualifications/${q.body.id}/revocations`).set(admin.auth).send({ workerId: w.id }).expect(200);
      await ds.query(`UPDATE assignments SET status = 'returned' WHERE worker_id = $1 AND campaign_id = $2`, [w.id, c.id]);
      await claim(w, c.id).expect(403);
    });

    it('minimum reliability and approval rate', async () => {
      const w = await signUp(t, ['worker']);
      const c = await campaign({}, items(2, 0));
      await setCampaign(c.id, `qualification = $2`, [JSON.stringify({ minReliability: 0.5 })]);
      expect((await claim(w, c.id).expect(403)).body.message).toMatch(/reliability of at least 0.5; yours is 0/);
      // ten approved answers elsewhere: Wilson lower bound of 10/10 is 0.72
      const past = await campaign({ redundancyMin: 1 }, items(10, 0));
      for (let i = 0; i < 10; i++) {
        const a = await claim(w, past.id).expect(200);
        await submit(w, a.body.assignmentId, { label: 'cat' }).expect(200);
      }
      await ds.query(`UPDATE assignments SET status = 'approved', reviewed_at = now() WHERE worker_id = $1`, [w.id]);
      await claim(w, c.id).expect(200);
      await setCampaign(c.id, `qualification = $2`, [JSON.stringify({ minApprovalRate: 0.95 })]);
      await ds.query(`UPDATE assignments SET status = 'rejected', reject_reason = 'bad' WHERE id = (SELECT id FROM assignments WHERE worker_id = $1 AND campaign_id = $2 LIMIT 1)`, [w.id, past.id]);
      await ds.query(`UPDATE assignments SET status = 'returned' WHERE worker_id = $1 AND campaign_id = $2`, [w.id, c.id]);
      expect((await claim(w, c.id).expect(403)).body.message).toMatch(/approval rate of at least 0.95; yours is 0.9/);
    });

    it('qualification test: gold only until passed; a failed test waits for the retry delay', async () => {
      const c = await campaign({ redundancyMin: 1 }, items(2, 5, 'dog'));
      await setCampaign(c.id, `qualification = $2, gold_pass_mark = 1`, [JSON.stringify({ qualificationTestSize: 2, qualificationRetryDelaySeconds: 3600 })]);
      const w = await signUp(t, ['worker']);
      for (let i = 0; i < 2; i++) {
        const a = await claim(w, c.id).expect(200);
        expect(await isGold(a.body.taskId)).toBe(true);
        await submit(w, a.body.assignmentId, { label: i === 0 ? 'dog' : 'cat' }).expect(200);
      }
      const refused = await claim(w, c.id).expect(403);
      expect(refused.body.message).toMatch(/did not pass this campaign's qualification test \(1 of 2 right\); you may retry after/);
      await ds.query(`UPDATE qualification_tests SET retry_at = now() - interval '1 second' WHERE worker_id = $1`, [w.id]);
      for (let i = 0; i < 2; i++) {
        const a = await claim(w, c.id).expect(200);
        expect(await isGold(a.body.taskId)).toBe(true);
        await submit(w, a.body.assignmentId, { label: 'dog' }).expect(200);
      }
      expect((await ds.query(`SELECT status, attempt FROM qualification_tests WHERE worker_id = $1`, [w.id]))[0]).toEqual({ status: 'passed', attempt: 2 });
      const real = await claim(w, c.id).expect(200);
      expect(await isGold(real.body.taskId)).toBe(false);
      const log = await t.http.get(`/api/campaigns/${c.id}/rule-log`).set(requester.auth).expect(200);
      expect(log.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['fail', 'pass']);
    });
  });

  describe('automatic rules', () => {
    it('gold under the pass mark after n golds blocks the worker from the campaign, excludes their answers, reopens tasks; honest workers untouched', async () => {
      const c = await campaign({ redundancyMin: 1, redundancyMax: 1 }, items(4, 6, 'dog'));
      await setCampaign(c.id, `gold_pass_mark = 0.8`);
      await rules(c.id, { minGoldAnswers: 3, goldAction: 'block' }).expect(200);
      const [spammer, honest] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      // the spammer answers two real tasks (completing them), then fails three gold items
      for (let i = 0; i < 2; i++) {
        const a = await claim(spammer, c.id).expect(200);
        await submit(spammer, a.body.assignmentId, { label: 'bird' }).expect(200);
      }
      expect((await ds.query(`SELECT count(*)::int AS n FROM tasks WHERE campaign_id = $1 AND status = 'complete'`, [c.id]))[0].n).toBe(2);
      await setCampaign(c.id, `gold_rate = 1`);
      for (let i = 0; i < 3; i++) {
        const a = await claim(spammer, c.id).expect(200);
        await submit(spammer, a.body.assignmentId, { label: 'bird' }).expect(200);
      }
      for (let i = 0; i < 3; i++) {
        const a = await claim(honest, c.id).expect(200);
        await submit(honest, a.body.assignmentId, { label: 'dog' }).expect(200);
      }
      const refused = await claim(spammer, c.id).expect(403);
      expect(refused.body.message).toMatch(/blocked from this campaign: gold accuracy 0\/3/);
      const excluded = await ds.query(`SELECT count(*)::int AS n FROM assignments WHERE worker_id = $1 AND excluded_at IS NOT NULL`, [spammer.id]);
      expect(excluded[0].n).toBeGreaterThanOrEqual(2);
      expect((await ds.query(`SELECT count(*)::int AS n FROM tasks WHERE campaign_id = $1 AND status = 'complete'`, [c.id]))[0].n).toBe(0); // reopened
      const log = await t.http.get(`/api/campaigns/${c.id}/rule-log`).set(requester.auth).expect(200);
      expect(log.body.items).toEqual([expect.objectContaining({ rule: 'gold-accuracy', action: 'block', reason: expect.stringMatching(/under the pass mark 0.8 after 3 gold answers/) })]);
      expect(log.body.items[0].worker).toMatch(/^W-/);
      // the honest worker picks up the reopened tasks
      await setCampaign(c.id, `gold_rate = 0`);
      const next = await claim(honest, c.id).expect(200);
      expect(await isGold(next.body.taskId)).toBe(false);
      // admin lifts the block
      await t.http.post(`/api/admin/campaigns/${c.id}/blocks/${spammer.id}/unblock`).set(requester.auth).send({ reason: 'appeal' }).expect(403);
      await t.http.post(`/api/admin/campaigns/${c.id}/blocks/${spammer.id}/unblock`).set(admin.auth).send({ reason: 'appeal accepted' }).expect(200);
      await claim(spammer, c.id).expect(200);
      await t.http.post(`/api/admin/campaigns/${c.id}/blocks`).set(admin.auth).send({ workerId: spammer.id, reason: 'manual block' }).expect(200);
      await claim(spammer, c.id).expect(403);
      await t.http.post(`/api/admin/campaigns/${c.id}/blocks`).set(admin.auth).send({ workerId: spammer.id }).expect(400);
    });

    it('fast answers are flagged for the fast worker only; daily cap refuses the next claim', async () => {
      const c = await campaign({ redundancyMin: 3, redundancyMax: 3 }, items(8, 0));
      await rules(c.id, { fastMinSample: 6, fastFactor: 0.25, fastMinCount: 2, fastAction: 'flag' }).expect(200);
      const honest = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const bot = await signUp(t, ['worker']);
      for (let i = 0; i < 4; i++) {
        for (const w of honest) {
          const a = await claim(w, c.id).expect(200);
          await spend(a.body.assignmentId, 20 + i);
          await submit(w, a.body.assignmentId, { label: 'cat' }).expect(200);
        }
        const b = await claim(bot, c.id).expect(200);
        await submit(bot, b.body.assignmentId, { label: 'cat' }).expect(200);
      }
      const flags = await t.http.get(`/api/admin/quality/flags`).query({ campaignId: c.id }).set(admin.auth).expect(200);
      expect(flags.body.items).toEqual([expect.objectContaining({ kind: 'fast-answers', workers: [bot.id], reason: expect.stringMatching(/answers faster than/) })]);
      const forOwner = await t.http.get(`/api/campaigns/${c.id}/flags`).set(requester.auth).expect(200);
      expect(forOwner.body.items[0].workers[0]).toMatch(/^W-/);
      await t.http.post(`/api/admin/quality/flags/${flags.body.items[0].id}/resolve`).set(admin.auth).send({ reason: 'looked at it' }).expect(200);

      await rules(c.id, { dailyCap: 4 }).expect(200);
      const capped = await claim(honest[0], c.id).expect(403);
      expect(capped.body.message).toMatch(/daily cap of 4 tasks/);
      await rules(c.id, { dailyCap: 'many' }).expect(400);
      await rules(c.id, { notARule: 1 }).expect(400);
      await rules(c.id, { dailyCap: 4 }, await signUp(t, ['requester'])).expect(404);
    });
  });

  describe('campaign-wide Dawid-Skene rules', () => {
    /**
     * 16 tasks over 4 labels, every task answered by 5 workers: three honest workers (each wrong
     * once, on different tasks, never with the pair's label) and a pair who copy each other and
     * share the same wrong label on 12 of the 16 tasks. Independent workers of their accuracy
     * would share a wrong label on ~19% of tasks; the pair shares one on 75%.
     */
    it('collusion flags the copying pair only; the skill rule blocks the pair beyond reasonable doubt, never the honest workers', async () => {
      const labels = ['cat', 'dog', 'bird', 'fish'];
      const c = await campaign({ labels, redundancyMin: 5, redundancyMax: 5 }, items(16, 0));
      await rules(c.id, { collusionMinShared: 8, collusionMargin: 0.3 }).expect(200);
      const honest = [await signUp(t, ['worker']), await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const pair = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const truthOf = async (taskId: string) => {
        const i = Number(/^real (\d+) /.exec((await ds.query(`SELECT payload FROM tasks WHERE id = $1`, [taskId]))[0].payload.text)![1]);
        return { i, truth: labels[i % 4], copied: labels[(i + 1) % 4] };
      };
      for (const w of [...honest, ...pair])
        for (let n = 0; n < 16; n++) {
          const a = await claim(w, c.id).expect(200);
          const { i, truth, copied } = await truthOf(a.body.taskId);
          let label = truth;
          if (pair.includes(w) && i < 12) label = copied;
          const h = honest.indexOf(w);
          if (h >= 0 && i === 12 + h) label = labels[(i + 2) % 4]; // an honest slip, on a task the pair got right
          await submit(w, a.body.assignmentId, { label }).expect(200);
        }

      const report = await t.app.get(ReestimateService).reestimateCampaign(c.id);
      expect(report).toMatchObject({ method: 'ds', workers: 5, answers: 80, skillActions: 0 });
      const flags = await t.http.get(`/api/admin/quality/flags`).query({ campaignId: c.id }).set(admin.auth).expect(200);
      expect(flags.body.items).toEqual([
        expect.objectContaining({ kind: 'collusion', workers: pair.map((w) => w.id).sort(), reason: expect.stringMatching(/share the same wrong answer on 12 of 16 shared tasks/) }),
      ]);
      // the requester sees the flag under pseudonyms; running the job again does not flag the pair twice
      const forOwner = await t.http.get(`/api/campaigns/${c.id}/flags`).set(requester.auth).expect(200);
      expect(forOwner.body.items[0].workers).toEqual([expect.stringMatching(/^W-/), expect.stringMatching(/^W-/)]);
      expect((await t.app.get(ReestimateService).reestimateCampaign(c.id)).collusionFlags).toBe(0);

      // the Dawid-Skene accuracy rule: the pair's accuracy (~0.25 over 16 answers) is under the pass mark 0.8 even at its
      // 99% upper bound; the honest workers' (~0.94) is not
      await rules(c.id, { skillAction: 'block', skillMinAnswers: 10 }).expect(200);
      expect((await t.app.get(ReestimateService).reestimateCampaign(c.id)).skillActions).toBe(2);
      const log = await t.http.get(`/api/campaigns/${c.id}/rule-log`).set(requester.auth).expect(200);
      const skillLog = log.body.items.filter((e: { rule: string }) => e.rule === 'ds-accuracy');
      expect(skillLog).toHaveLength(2);
      for (const e of skillLog) expect(e).toMatchObject({ action: 'block', reason: expect.stringMatching(/Dawid-Skene accuracy 0\.\d+ over 16 answers: even its 99% upper bound 0\.\d+ is under the pass mark 0\.8/) });
      const blocked = await ds.query(`SELECT DISTINCT worker_id FROM assignments WHERE campaign_id = $1 AND excluded_at IS NOT NULL`, [c.id]);
      expect(blocked.map((r: { worker_id: string }) => r.worker_id).sort()).toEqual(pair.map((w) => w.id).sort());
      for (const w of pair) expect((await claim(w, c.id).expect(403)).body.message).toMatch(/blocked from this campaign/);
      // their answers are excluded, so tasks they answered wrongly reopen for honest answers
      const open = await ds.query(`SELECT count(*)::int AS n FROM tasks WHERE campaign_id = $1 AND status <> 'complete'`, [c.id]);
      expect(open[0].n).toBeGreaterThan(0);
    });
  });

  describe('review policy', () => {
    it('consensus: agreeing answers approved and paid at completion, the disagreeing one left to the requester', async () => {
      const r = await signUp(t, ['requester']);
      await t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId: r.id, amountMinor: 10_000, currency: 'usd', reason: 'test funds' }).expect(201);
      const c = await seedCampaign(t, r.id, { status: 'draft', redundancyMin: 3, redundancyMax: 3, autoApproveSeconds: 3600 }, items(1, 0));
      await t.http.post(`/api/campaigns/${c.id}/publish`).set(r.auth).expect(200);
      await t.http.patch(`/api/campaigns/${c.id}/quality-rules`).set(r.auth).send({ reviewPolicy: 'consensus' }).expect(200);
      const ws = [await signUp(t, ['worker']), await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const ids: string[] = [];
      for (const [i, w] of ws.entries()) {
        const a = await claim(w, c.id).expect(200);
        ids.push(a.body.assignmentId);
        await submit(w, a.body.assignmentId, { label: i < 2 ? 'cat' : 'dog' }).expect(200);
      }
      const rows: { id: string; status: string; auto_approve_at: Date | null }[] = await ds.query(`SELECT id, status, auto_approve_at FROM assignments WHERE id = ANY($1::uuid[])`, [ids]);
      const by = new Map(rows.map((x) => [x.id, x]));
      expect(by.get(ids[0])!.status).toBe('approved');
      expect(by.get(ids[1])!.status).toBe('approved');
      expect(by.get(ids[2])).toMatchObject({ status: 'submitted', auto_approve_at: null });
      const paid = await ds.query(`SELECT idempotency_key FROM ledger_transactions WHERE idempotency_key = ANY($1::text[])`, [ids.map((id) => `approve:${id}`)]);
      expect(paid.map((p: { idempotency_key: string }) => p.idempotency_key).sort()).toEqual([`approve:${ids[0]}`, `approve:${ids[1]}`].sort());
      const audit = await ds.query(`SELECT action, reason FROM audit_events WHERE object_id = $1`, [ids[2]]);
      expect(audit).toEqual([{ action: 'assignment.left_for_review', reason: 'disagrees with the consensus' }]);
      // the requester decides the disagreement
      await t.http.post(`/api/assignments/${ids[2]}/reject`).set(r.auth).send({ reason: 'not a dog' }).expect(200);
      await t.http.patch(`/api/campaigns/${c.id}/quality-rules`).set(r.auth).send({ reviewPolicy: 'sometimes' }).expect(400);
    });
  });

  describe('dynamic overlap', () => {
    it('completes at the confidence target, asks for one more answer while under max, else flags low confidence', async () => {
      const c = await campaign({ redundancyMin: 2, redundancyMax: 4 }, items(2, 0));
      await setCampaign(c.id, `confidence_target = 0.9`);
      await rules(c.id, { dynamicOverlap: true }).expect(200);
      const ws = await Promise.all(Array.from({ length: 4 }, () => signUp(t, ['worker'])));
      const answer = async (w: TestUser, label: string) => {
        const a = await claim(w, c.id).expect(200);
        await submit(w, a.body.assignmentId, { label }).expect(200);
        return a.body.taskId as string;
      };
      // task 1: two agree → complete with confidence 1
      const t1 = await answer(ws[0], 'cat');
      await answer(ws[1], 'cat');
      expect((await ds.query(`SELECT status, needed, low_confidence FROM tasks WHERE id = $1`, [t1]))[0]).toEqual({ status: 'complete', needed: 2, low_confidence: false });
      // task 2: they disagree → needs more, up to the max of 4, then low confidence
      const t2 = await answer(ws[0], 'cat');
      await answer(ws[1], 'dog');
      expect((await ds.query(`SELECT status, needed FROM tasks WHERE id = $1`, [t2]))[0]).toEqual({ status: 'open', needed: 3 });
      await answer(ws[2], 'cat');
      expect((await ds.query(`SELECT status, needed FROM tasks WHERE id = $1`, [t2]))[0]).toEqual({ status: 'open', needed: 4 });
      await answer(ws[3], 'cat');
      const done = (await ds.query(`SELECT status, needed, low_confidence, consensus FROM tasks WHERE id = $1`, [t2]))[0];
      expect(done).toMatchObject({ status: 'complete', needed: 4, low_confidence: true, consensus: { label: 'cat', confidence: 0.75, answers: 4, lowConfidence: true } });
    });

    it('multi-label and spans: agreeing answers complete the task, a disagreement buys one more answer', async () => {
      const ml = await campaign({ taskType: 'multi-label', labels: ['red', 'green', 'blue'], redundancyMin: 2, redundancyMax: 3 }, [
        { payload: { text: 'a red and blue flag' } },
        { payload: { text: 'a green field' } },
      ]);
      const sp = await campaign({ taskType: 'spans', labels: ['PER', 'LOC'], redundancyMin: 2, redundancyMax: 3 }, [{ payload: { text: 'Ada Lovelace lived in London' } }]);
      for (const c of [ml, sp]) {
        await rules(c.id, { dynamicOverlap: true }).expect(200);
        await setCampaign(c.id, `confidence_target = 0.8`);
      }
      const ws = await Promise.all(Array.from({ length: 3 }, () => signUp(t, ['worker'])));
      const answerFor = async (w: TestUser, campaignId: string, byText: Record<string, unknown>) => {
        const a = await claim(w, campaignId).expect(200);
        await submit(w, a.body.assignmentId, byText[a.body.payload.text]).expect(200);
        return a.body.taskId as string;
      };
      const state = async (taskId: string) => (await ds.query(`SELECT status, needed, consensus FROM tasks WHERE id = $1`, [taskId]))[0];
      // multi-label: both tick red+blue on the flag → complete; on the field they differ → a third answer is asked for
      const mlAnswers = (w: number) => ({ 'a red and blue flag': { labels: ['red', 'blue'] }, 'a green field': { labels: w === 0 ? ['green'] : ['green', 'blue'] } });
      for (const w of [0, 1]) for (let n = 0; n < 2; n++) await answerFor(ws[w], ml.id, mlAnswers(w));
      const [flag, field] = await Promise.all(ml.taskIds.map(state));
      expect(flag).toMatchObject({ status: 'complete', needed: 2, consensus: { label: ['red', 'blue'] } });
      expect(field).toMatchObject({ status: 'open', needed: 3 });
      await answerFor(ws[2], ml.id, mlAnswers(2));
      expect(await state(ml.taskIds[1])).toMatchObject({ status: 'complete', needed: 3, consensus: { label: ['green', 'blue'] } });
      // spans: the same two spans from two workers → complete with that consensus
      const text = 'Ada Lovelace lived in London';
      const spans = { [text]: { spans: [{ start: 0, end: 12, label: 'PER' }, { start: 22, end: 28, label: 'LOC' }] } };
      await answerFor(ws[0], sp.id, spans);
      expect(await state(sp.taskIds[0])).toMatchObject({ status: 'open', needed: 2 });
      await answerFor(ws[1], sp.id, spans);
      expect(await state(sp.taskIds[0])).toMatchObject({ status: 'complete', needed: 2, consensus: { label: spans[text] } });
    });

    it('boxes agree by IoU', async () => {
      const c = await campaign({ taskType: 'boxes', labels: ['car'], redundancyMin: 2, redundancyMax: 3 }, [{ payload: { imageUrl: 'https://x.test/1.png', width: 100, height: 100 } }]);
      await rules(c.id, { dynamicOverlap: true }).expect(200);
      await setCampaign(c.id, `confidence_target = 0.8`);
      const [a, b] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const x = await claim(a, c.id).expect(200);
      await submit(a, x.body.assignmentId, { boxes: [{ x: 10, y: 10, w: 40, h: 40, label: 'car' }] }).expect(200);
      const y = await claim(b, c.id).expect(200);
      await submit(b, y.body.assignmentId, { boxes: [{ x: 11, y: 10, w: 40, h: 41, label: 'car' }] }).expect(200);
      const done = (await ds.query(`SELECT status, consensus FROM tasks WHERE id = $1`, [c.taskIds[0]]))[0];
      expect(done.status).toBe('complete');
      expect(done.consensus.method).toBe('iou-fusion');
      expect(done.consensus.label.boxes).toHaveLength(1);
      expect(done.consensus.agreement).toBeGreaterThan(0.9);
    });
  });

  describe('reliability and exports', () => {
    it('worker sees their own, requester pseudonyms, admin everything; results export in JSON, JSONL, CSV for the owner only, never gold', async () => {
      const c = await campaign({ redundancyMin: 2, redundancyMax: 2, autoApproveSeconds: 0 }, items(3, 2, 'dog'));
      await setCampaign(c.id, `gold_rate = 0.5`);
      const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      for (const w of [w1, w2])
        for (;;) {
          const a = await claim(w, c.id);
          if (a.status !== 200) break;
          await spend(a.body.assignmentId, 5);
          await submit(w, a.body.assignmentId, { label: w === w1 ? 'dog' : 'cat' }).expect(200);
        }
      await t.app.get(ReestimateService).reestimateCampaign(c.id);
      const mine = await t.http.get('/api/me/reliability').set(w1.auth).expect(200);
      expect(mine.body.global.workerId).toBe(w1.id);
      const here = mine.body.campaigns.find((x: { campaignId: string }) => x.campaignId === c.id);
      expect(here).toMatchObject({ worker: w1.id, answers: expect.any(Number), dawidSkene: { method: 'ds', classes: ['cat', 'dog', 'bird'] } });
      expect(here.medianSeconds).toBeGreaterThanOrEqual(5);
      if (here.goldAccuracy.n) expect(here.goldAccuracy).toMatchObject({ rate: 1 });
      await t.http.get('/api/me/reliability').set(requester.auth).expect(403);

      const forOwner = await t.http.get(`/api/campaigns/${c.id}/workers`).set(requester.auth).expect(200);
      expect(forOwner.body.items).toHaveLength(2);
      expect(JSON.stringify(forOwner.body)).not.toMatch(new RegExp(`${w1.id}|${w2.id}`));
      await t.http.get(`/api/campaigns/${c.id}/workers`).set((await signUp(t, ['requester'])).auth).expect(404);
      const forAdmin = await t.http.get(`/api/admin/campaigns/${c.id}/workers`).set(admin.auth).expect(200);
      expect(forAdmin.body.items.map((x: { worker: string }) => x.worker).sort()).toEqual([w1.id, w2.id].sort());
      const all = await t.http.get('/api/admin/reliability').query({ limit: 200 }).set(admin.auth).expect(200);
      expect(all.body.total).toBeGreaterThanOrEqual(2);
      await t.http.get('/api/admin/reliability').set(requester.auth).expect(403);

      const jsonl = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'jsonl', raw: 'true' }).set(requester.auth).expect(200);
      expect(jsonl.headers['content-type']).toMatch(/application\/x-ndjson/);
      const rows = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
      expect(rows).toHaveLength(3); // real tasks only
      expect(rows[0]).toMatchObject({ status: 'complete', answers: 2, lowConfidence: false, method: 'mv' });
      expect(rows[0].rawAnswers.map((r: { worker: string }) => r.worker).every((p: string) => /^W-/.test(p))).toBe(true);
      expect(jsonl.text).not.toMatch(/gold \d/);
      const json = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'json' }).set(requester.auth).expect(200);
      expect(JSON.parse(json.text)).toHaveLength(3);
      const csv = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'csv' }).set(requester.auth).expect(200);
      const lines = csv.text.trim().split('\n');
      expect(lines[0]).toBe('task_id,seq,status,label,confidence,agreement,low_confidence,answers,method,posterior,payload');
      expect(lines).toHaveLength(4);
      await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'xml' }).set(requester.auth).expect(400);
      const summary = await t.http.get(`/api/campaigns/${c.id}/results/summary`).set(requester.auth).expect(200);
      expect(summary.body).toMatchObject({ tasks: 3, complete: 3, lowConfidence: 0, answers: 6 });
      expect(summary.body.krippendorffAlpha).toBeLessThan(0); // the two workers always disagree
      const sample = await t.http.get(`/api/campaigns/${c.id}/review-sample`).query({ order: 'lowest-confidence', limit: 2 }).set(requester.auth).expect(200);
      expect(sample.body.items).toHaveLength(2);
      expect(sample.body.items[0].rawAnswers).toHaveLength(2);
      const workersCsv = await t.http.get(`/api/campaigns/${c.id}/workers`).query({ format: 'csv' }).set(requester.auth).expect(200);
      expect(workersCsv.headers['content-type']).toMatch(/text\/csv/);
      expect(workersCsv.text.split('\n')[0]).toMatch(/^worker,answers,gold_n,gold_accuracy/);
      expect(workersCsv.text).not.toContain(w1.id);
      await t.http.get(`/api/campaigns/${c.id}/results`).set(w1.auth).expect(403);
      await t.http.get(`/api/campaigns/${c.id}/results`).set((await signUp(t, ['requester'])).auth).expect(404);
    });
  });
});
