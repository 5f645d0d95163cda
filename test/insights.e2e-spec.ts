import { krippendorffAlpha } from '@tally/consensus';
import { createAdmin, createTestApp, dataSourceOf, seedCampaign, signUp, TestApp, TestUser } from '@tally/testing';

/**
 * The read-only reports behind the web UI's charts: a requester's campaign insights (owner only,
 * workers pseudonymous), the admin's agreement audit, and the payment options the UI adapts to.
 */
describe('insights and agreement audit (e2e)', () => {
  let t: TestApp;
  let owner: TestUser;
  let stranger: TestUser;
  let admin: TestUser;
  let workers: TestUser[];
  let campaignId: string;
  let taskIds: string[];

  beforeAll(async () => {
    t = await createTestApp();
    [owner, stranger] = await Promise.all([signUp(t, ['requester'], 'owner'), signUp(t, ['requester'], 'stranger')]);
    admin = await createAdmin(t);
    workers = await Promise.all([1, 2, 3].map((i) => signUp(t, ['worker'], `w${i}`)));
    ({ id: campaignId, taskIds } = await seedCampaign(t, owner.id, { labels: ['cat', 'dog', 'bird'], redundancyMin: 3, redundancyMax: 3 }, 2));
    // Workers 1 and 2 say cat on both items, worker 3 says dog: cat/dog is the confused pair.
    for (const [i, w] of workers.entries()) {
      for (let k = 0; k < 2; k++) {
        const claim = await t.http.post(`/api/work/campaigns/${campaignId}/claim`).set(w.auth).expect(200);
        await t.http
          .post(`/api/work/assignments/${claim.body.assignmentId}/submit`)
          .set(w.auth)
          .send({ answer: { label: i === 2 ? 'dog' : 'cat' }, durationMs: 2000 + 1000 * i })
          .expect(200);
      }
    }
  });
  afterAll(() => t?.close());

  it('gives the owner a timeline, label counts and a worker table without worker ids', async () => {
    const res = await t.http.get(`/api/campaigns/${campaignId}/insights`).set(owner.auth).expect(200);
    const body = res.body;
    expect(body.bucket).toBe('hour');
    expect(body.timeline.reduce((s: number, p: { submitted: number }) => s + p.submitted, 0)).toBe(6);
    expect(body.timeline.at(-1).cumulativeCompleted).toBe(2);
    expect(body.timeline.at(-1).agreement).toBeCloseTo(1 / 3, 5);
    expect(body.labels).toEqual([
      { label: 'cat', answers: 4, consensus: 2 },
      { label: 'dog', answers: 2, consensus: 0 },
      { label: 'bird', answers: 0, consensus: 0 },
    ]);
    expect(body.workers).toHaveLength(3);
    for (const w of body.workers) {
      expect(w.pseudonym).toMatch(/^W-[0-9a-f]{10}$/);
      expect(w.submitted).toBe(2);
      expect(w.pending).toBe(2);
    }
    expect(body.workers.map((w: { agreementWithConsensus: number }) => w.agreementWithConsensus).sort()).toEqual([0, 1, 1]);
    expect(body.workers.map((w: { medianDurationMs: number }) => w.medianDurationMs).sort()).toEqual([2000, 3000, 4000]);
    // Pseudonyms are stable and never the worker's id.
    const again = await t.http.get(`/api/campaigns/${campaignId}/insights`).set(owner.auth).expect(200);
    expect(again.body.workers.map((w: { pseudonym: string }) => w.pseudonym)).toEqual(body.workers.map((w: { pseudonym: string }) => w.pseudonym));
    const text = JSON.stringify(body);
    for (const w of workers) expect(text).not.toContain(w.id);
  });

  it('hides insights from other requesters (404), workers and admins (403), and checks the id', async () => {
    await t.http.get(`/api/campaigns/${campaignId}/insights`).set(stranger.auth).expect(404);
    await t.http.get(`/api/campaigns/${campaignId}/insights`).set(workers[0].auth).expect(403);
    await t.http.get(`/api/campaigns/${campaignId}/insights`).set(admin.auth).expect(403);
    await t.http.get(`/api/campaigns/${campaignId}/insights`).expect(401);
    await t.http.get(`/api/campaigns/not-a-uuid/insights`).set(owner.auth).expect(400);
  });

  it("audits agreement for an admin: Krippendorff's alpha and which labels get confused", async () => {
    const res = await t.http.get(`/api/admin/campaigns/${campaignId}/agreement-audit`).set(admin.auth).expect(200);
    const a = res.body;
    const expected = krippendorffAlpha(
      taskIds.flatMap((task) => workers.map((w, i) => ({ task, worker: w.id, label: i === 2 ? 'dog' : 'cat' }))),
    );
    expect(a.krippendorffAlpha).toBeCloseTo(expected, 10);
    expect(a.percentAgreement).toBeCloseTo(1 / 3, 10);
    expect(a.answers).toBe(6);
    expect(a.tasksWithOverlap).toBe(2);
    expect(a.labels).toEqual(['cat', 'dog', 'bird']);
    // Per item: cat,cat,dog → coincidences cat-cat 1, cat-dog 1, dog-cat 1 (weight 1/(m−1) = 1/2 per ordered pair).
    expect(a.coincidence).toEqual([
      [2, 2, 0],
      [2, 0, 0],
      [0, 0, 0],
    ]);
    expect(a.versusConsensus).toEqual([
      [4, 0, 0],
      [2, 0, 0],
      [0, 0, 0],
    ]);
    expect(a.confusedPairs).toEqual([{ a: 'cat', b: 'dog', count: 4, share: 1 }]);
    expect(a.lowAgreementTasks).toHaveLength(2);
    expect(a.lowAgreementTasks[0]).toMatchObject({ agreement: expect.closeTo(1 / 3, 5), answers: 3, consensus: 'cat' });
    expect(JSON.stringify(a)).not.toContain(workers[0].id);
  });

  it('keeps the audit to admins and answers 404 for an unknown campaign', async () => {
    await t.http.get(`/api/admin/campaigns/${campaignId}/agreement-audit`).set(owner.auth).expect(403);
    await t.http.get(`/api/admin/campaigns/00000000-0000-4000-8000-000000000000/agreement-audit`).set(admin.auth).expect(404);
  });

  it('audits box campaigns by mean pairwise IoU', async () => {
    const { id } = await seedCampaign(t, owner.id, { taskType: 'boxes', labels: ['car'], redundancyMin: 2, redundancyMax: 2 }, [{ payload: { imageUrl: 'http://127.0.0.1/x.png', width: 100, height: 100 } }]);
    for (const [i, w] of workers.slice(0, 2).entries()) {
      const claim = await t.http.post(`/api/work/campaigns/${id}/claim`).set(w.auth).expect(200);
      await t.http
        .post(`/api/work/assignments/${claim.body.assignmentId}/submit`)
        .set(w.auth)
        .send({ answer: { boxes: [{ x: 10, y: 10, w: i ? 20 : 40, h: 40, label: 'car' }] } })
        .expect(200);
    }
    const a = (await t.http.get(`/api/admin/campaigns/${id}/agreement-audit`).set(admin.auth).expect(200)).body;
    expect(a.taskType).toBe('boxes');
    expect(a.meanPairwiseScore).toBeCloseTo(0.5, 10); // 20×40 inside 40×40
    expect(a.coincidence).toBeNull();
  });

  it("gives the admin one worker's quality record: reliability, gold history, blocks, rule log", async () => {
    const w = workers[2];
    const before = (await t.http.get(`/api/admin/workers/${w.id}/quality`).set(admin.auth).expect(200)).body;
    expect(before.global.workerId).toBe(w.id);
    expect(before.campaigns.find((c: { campaignId: string }) => c.campaignId === campaignId)).toMatchObject({ campaignName: 'Seeded campaign', answers: 2 });
    expect(before.goldHistory).toEqual([]);
    expect(before.blocks).toEqual([]);
    await t.http.post(`/api/admin/campaigns/${campaignId}/blocks`).set(admin.auth).send({ workerId: w.id, reason: 'Always says dog' }).expect(200);
    const after = (await t.http.get(`/api/admin/workers/${w.id}/quality`).set(admin.auth).expect(200)).body;
    expect(after.blocks).toEqual([expect.objectContaining({ campaignId, campaignName: 'Seeded campaign', reason: 'Always says dog' })]);
    // Their answers stop counting in the agreement audit, as in consensus.
    const audit = (await t.http.get(`/api/admin/campaigns/${campaignId}/agreement-audit`).set(admin.auth).expect(200)).body;
    expect(audit.answers).toBe(4);
    expect(audit.percentAgreement).toBe(1);
    await t.http.get(`/api/admin/workers/${w.id}/quality`).set(owner.auth).expect(403);
    await t.http.get(`/api/admin/workers/00000000-0000-4000-8000-000000000000/quality`).set(admin.auth).expect(404);
  });

  it('uses the same worker pseudonyms as the quality endpoints', async () => {
    const mine = (await t.http.get(`/api/campaigns/${campaignId}/insights`).set(owner.auth).expect(200)).body.workers.map((w: { pseudonym: string }) => w.pseudonym).sort();
    const theirs = (await t.http.get(`/api/campaigns/${campaignId}/workers`).set(owner.auth).expect(200)).body.items.map((w: { worker: string }) => w.worker).sort();
    expect(mine).toEqual(theirs);
  });

  it('tells the UI whether Stripe is on, and a worker whether a payout account is connected', async () => {
    expect((await t.http.get('/api/funding/options').set(owner.auth).expect(200)).body).toEqual({ stripe: false });
    expect((await t.http.get('/api/me/payout-account').set(workers[0].auth).expect(200)).body).toEqual({
      stripe: false,
      connected: false,
      transfersEnabled: false,
      detailsSubmitted: false,
    });
    await t.http.get('/api/me/payout-account').set(owner.auth).expect(403);
    await t.http.get('/api/funding/options').expect(401);
  });

  it('lists open campaigns with their requirements and an estimated time per task', async () => {
    const fresh = await signUp(t, ['worker'], 'fresh');
    const { id } = await seedCampaign(t, owner.id, { name: 'Estimate me' }, 1);
    const list = (await t.http.get('/api/work/campaigns').set(fresh.auth).query({ limit: 100 }).expect(200)).body.items;
    const seeded = list.find((c: { id: string }) => c.id === id);
    expect(seeded).toMatchObject({ qualification: {}, estimatedSeconds: null });
    // The first campaign's answers took 2, 2, 3, 3, 4, 4 seconds: median 3 s. Reopen one of its items so it is listed.
    await dataSourceOf(t).query(`UPDATE tasks SET needed = 4, status = 'open', completed_at = NULL WHERE id = $1`, [taskIds[0]]);
    const again = (await t.http.get('/api/work/campaigns').set(fresh.auth).query({ limit: 100 }).expect(200)).body.items;
    expect(again.find((c: { id: string }) => c.id === campaignId)).toMatchObject({ estimatedSeconds: 3 });
  });
});
