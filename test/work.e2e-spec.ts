import { DataSource } from 'typeorm';
import { createAdmin, createTestApp, dataSourceOf, onEmbeddedPostgres, seedCampaign, signUp, TestApp, TestUser } from '@tally/testing';
import { AutoApproveUseCase, CompleteCampaignsUseCase, ExpireLeasesUseCase } from '@tally/work';

/** Worker and requester flows of the marketplace core, every refusal included. */
describe('work: claim, submit, return, review (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let requester: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    ds = dataSourceOf(t);
    requester = await signUp(t, ['requester']);
  });
  afterAll(() => t.close());

  const claim = (w: TestUser, campaignId: string) => t.http.post(`/api/work/campaigns/${campaignId}/claim`).set(w.auth);
  const submit = (w: TestUser, assignmentId: string, answer: unknown, durationMs?: number) =>
    t.http.post(`/api/work/assignments/${assignmentId}/submit`).set(w.auth).send({ answer, ...(durationMs !== undefined ? { durationMs } : {}) });
  const task = async (id: string) => (await ds.query(`SELECT * FROM tasks WHERE id = $1`, [id]))[0];
  const assignment = async (id: string) => (await ds.query(`SELECT * FROM assignments WHERE id = $1`, [id]))[0];

  describe('finding and claiming work', () => {
    it('lists open campaigns with reward and counts, never gold, never my own or closed ones', async () => {
      const w = await signUp(t, ['worker']);
      // an item with a gold answer is a hidden control task: not counted, never shown as such
      const open = await seedCampaign(t, requester.id, { name: 'open one', rewardMinor: 12 }, [{ payload: { text: 'a' }, gold: { label: 'SECRET-GOLD' } }, { payload: { text: 'b' } }]);
      const draft = await seedCampaign(t, requester.id, { status: 'draft' }, 1);
      const late = await seedCampaign(t, requester.id, { deadline: new Date(Date.now() - 1000) }, 1);
      const mine = await seedCampaign(t, w.id, {}, 1);
      const res = await t.http.get('/api/work/campaigns').query({ limit: 200 }).set(w.auth).expect(200);
      const ids = res.body.items.map((c: { id: string }) => c.id);
      expect(ids).toContain(open.id);
      expect(ids).not.toEqual(expect.arrayContaining([draft.id]));
      expect(ids).not.toContain(late.id);
      expect(ids).not.toContain(mine.id);
      const item = res.body.items.find((c: { id: string }) => c.id === open.id);
      expect(item).toMatchObject({ name: 'open one', rewardMinor: 12, currency: 'usd', taskType: 'single-label', labels: ['cat', 'dog', 'bird'], tasksTotal: 1, tasksComplete: 0, openSlots: 3 });
      expect(JSON.stringify(res.body)).not.toMatch(/SECRET-GOLD|gold/i);
    });

    it('claims a task chosen by the server, with payload and rules, never the gold answer', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, { leaseSeconds: 120 }, [{ payload: { text: 'is this a cat?' }, gold: { label: 'SECRET-GOLD' }, prelabel: { label: 'cat' } }, { payload: { text: 'real work' } }]);
      // the first item is a hidden gold (control) task; gold rate 1 hands it out like any task (while real work is left)
      await ds.query(`UPDATE campaigns SET gold_rate = 1 WHERE id = $1`, [c.id]);
      const res = await claim(w, c.id).expect(200);
      expect(res.body).toMatchObject({ taskId: c.taskIds[0], campaignId: c.id, payload: { text: 'is this a cat?' }, taskType: 'single-label', labels: ['cat', 'dog', 'bird'], instructions: 'Pick the animal.', resumed: false });
      expect(Object.keys(res.body).sort()).toEqual(['assignmentId', 'campaignId', 'instructions', 'labels', 'leaseExpiresAt', 'payload', 'resumed', 'taskId', 'taskType']);
      expect(JSON.stringify(res.body)).not.toMatch(/SECRET-GOLD|gold|prelabel/);
      const lease = new Date(res.body.leaseExpiresAt).getTime() - Date.now();
      expect(lease).toBeGreaterThan(100_000);
      expect(lease).toBeLessThanOrEqual(121_000);
      expect((await task(c.taskIds[0])).taken).toBe(1);
    });

    it('gives a worker their live claim back instead of taking a second slot (idempotent claim)', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 3);
      const first = await claim(w, c.id).expect(200);
      const again = await claim(w, c.id).expect(200);
      expect(again.body).toMatchObject({ assignmentId: first.body.assignmentId, taskId: first.body.taskId, resumed: true });
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM assignments WHERE worker_id = $1`, [w.id]);
      expect(n).toBe(1);
    });

    it('never hands a worker the same task twice, then answers NO_TASK_AVAILABLE (409)', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 3);
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const r = await claim(w, c.id).expect(200);
        expect(seen.has(r.body.taskId)).toBe(false);
        seen.add(r.body.taskId);
        await submit(w, r.body.assignmentId, { label: 'cat' }).expect(200);
      }
      const none = await claim(w, c.id).expect(409);
      expect(none.body).toMatchObject({ code: 'NO_TASK_AVAILABLE' });
      expect(none.body.message).toMatch(/No task/);
    });

    it('refuses a claim when every slot is taken by others', async () => {
      const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const c = await seedCampaign(t, requester.id, { redundancyMin: 1 }, 1);
      await claim(w1, c.id).expect(200);
      expect((await claim(w2, c.id).expect(409)).body.code).toBe('NO_TASK_AVAILABLE');
    });

    it('refuses the requester on their own campaign (403 OWN_CAMPAIGN)', async () => {
      const both = await signUp(t, ['requester', 'worker']);
      const c = await seedCampaign(t, both.id, {}, 1);
      expect((await claim(both, c.id).expect(403)).body.code).toBe('OWN_CAMPAIGN');
    });

    it('refuses a blocked worker with the reason (403 WORKER_BLOCKED)', async () => {
      const admin = await createAdmin(t);
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 2);
      const a = await claim(w, c.id).expect(200);
      await t.http.post(`/api/admin/users/${w.id}/block`).set(admin.auth).send({ reason: 'copy-paste answers' }).expect(200);
      const res = await claim(w, c.id).expect(403);
      expect(res.body).toMatchObject({ code: 'WORKER_BLOCKED', reason: 'copy-paste answers' });
      expect(res.body.message).toContain('copy-paste answers');
      expect((await submit(w, a.body.assignmentId, { label: 'cat' }).expect(403)).body.code).toBe('WORKER_BLOCKED');
    });

    it('refuses paused, draft, cancelled and past-deadline campaigns (409 CAMPAIGN_NOT_OPEN) and unknown ones (404)', async () => {
      const w = await signUp(t, ['worker']);
      for (const status of ['paused', 'draft', 'cancelled', 'completed'] as const) {
        const c = await seedCampaign(t, requester.id, { status }, 1);
        const res = await claim(w, c.id).expect(409);
        expect(res.body).toMatchObject({ code: 'CAMPAIGN_NOT_OPEN', status });
      }
      const late = await seedCampaign(t, requester.id, { deadline: new Date(Date.now() - 60_000) }, 1);
      expect((await claim(w, late.id).expect(409)).body.code).toBe('CAMPAIGN_NOT_OPEN');
      expect((await claim(w, '00000000-0000-4000-8000-000000000000').expect(404)).body.code).toBe('CAMPAIGN_NOT_FOUND');
      await claim(w, 'not-a-uuid').expect(400);
    });

    it('needs the worker role (403) and a token (401)', async () => {
      const c = await seedCampaign(t, requester.id, {}, 1);
      expect((await t.http.get('/api/work/campaigns').set(requester.auth).expect(403)).body.code).toBe('FORBIDDEN_ROLE');
      expect((await claim(requester, c.id).expect(403)).body.code).toBe('FORBIDDEN_ROLE');
      await t.http.post(`/api/work/campaigns/${c.id}/claim`).expect(401);
    });
  });

  describe('submitting', () => {
    it('validates the answer against the task type and names the field (400)', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 1);
      const a = await claim(w, c.id).expect(200);
      const id = a.body.assignmentId;
      const notInSet = await submit(w, id, { label: 'horse' }).expect(400);
      expect(notInSet.body.code).toBe('INVALID_ANSWER');
      expect(notInSet.body.fields).toEqual([{ field: 'answer.label', problem: expect.stringContaining('not in the label set') }]);
      const missing = await t.http.post(`/api/work/assignments/${id}/submit`).set(w.auth).send({}).expect(400);
      expect(missing.body.fields.map((f: { field: string }) => f.field)).toContain('answer');
      const extra = await t.http.post(`/api/work/assignments/${id}/submit`).set(w.auth).send({ answer: { label: 'cat' }, status: 'approved' }).expect(400);
      expect(extra.body.message).toContain('status');
      const badDuration = await submit(w, id, { label: 'cat' }, -5).expect(400);
      expect(badDuration.body.fields[0].field).toBe('durationMs');
      expect((await assignment(id)).status).toBe('claimed');
    });

    it('a retried submit returns the first result and stores nothing new; a different answer is 409', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, { autoApproveSeconds: 3600 }, 1);
      const a = await claim(w, c.id).expect(200);
      const first = await submit(w, a.body.assignmentId, { label: 'dog' }, 1234).expect(200);
      expect(first.body).toMatchObject({ id: a.body.assignmentId, status: 'submitted', answer: { label: 'dog' }, durationMs: 1234, rejectReason: null });
      const autoApprove = new Date((await assignment(a.body.assignmentId)).auto_approve_at).getTime() - Date.now();
      expect(autoApprove).toBeGreaterThan(3500_000);
      const retry = await submit(w, a.body.assignmentId, { label: 'dog' }, 1234).expect(200);
      expect(retry.body).toEqual(first.body);
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM assignments WHERE task_id = $1`, [c.taskIds[0]]);
      expect(n).toBe(1);
      expect((await task(c.taskIds[0])).answers_count).toBe(1);
      const other = await submit(w, a.body.assignmentId, { label: 'cat' }).expect(409);
      expect(other.body.code).toBe('ASSIGNMENT_ALREADY_SUBMITTED');
      expect((await assignment(a.body.assignmentId)).answer).toEqual({ label: 'dog' });
    });

    // Real PostgreSQL only: the embedded PGlite mixes up concurrent autocommit statements.
    (onEmbeddedPostgres() ? it.skip : it)('parallel retries of one submit store one answer', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 1);
      const a = await claim(w, c.id).expect(200);
      const results = await Promise.all(Array.from({ length: 5 }, () => submit(w, a.body.assignmentId, { label: 'bird' })));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect((await task(c.taskIds[0])).answers_count).toBe(1);
    });

    it("hides another worker's assignment (404) on read, submit and return", async () => {
      const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const c = await seedCampaign(t, requester.id, {}, 1);
      const a = await claim(w1, c.id).expect(200);
      const id = a.body.assignmentId;
      expect((await t.http.get(`/api/work/assignments/${id}`).set(w2.auth).expect(404)).body.code).toBe('ASSIGNMENT_NOT_FOUND');
      await submit(w2, id, { label: 'cat' }).expect(404);
      await t.http.post(`/api/work/assignments/${id}/return`).set(w2.auth).expect(404);
      expect((await assignment(id)).status).toBe('claimed');
    });

    it('an expired lease frees the slot in the sweep, refuses the late submit, and the task goes to someone else', async () => {
      const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const c = await seedCampaign(t, requester.id, { redundancyMin: 1 }, 1);
      const a = await claim(w1, c.id).expect(200);
      expect((await claim(w2, c.id).expect(409)).body.code).toBe('NO_TASK_AVAILABLE');
      // Move time: the lease ran out a minute ago.
      await ds.query(`UPDATE assignments SET lease_expires_at = now() - interval '1 minute' WHERE id = $1`, [a.body.assignmentId]);
      // Even before the sweep, the submit is refused: the condition checks the lease itself.
      expect((await submit(w1, a.body.assignmentId, { label: 'cat' }).expect(409)).body.code).toBe('LEASE_EXPIRED');
      const expired = await t.app.get(ExpireLeasesUseCase).execute();
      expect(expired).toBeGreaterThanOrEqual(1);
      expect((await assignment(a.body.assignmentId)).status).toBe('expired');
      expect((await task(c.taskIds[0])).taken).toBe(0);
      expect(await t.app.get(ExpireLeasesUseCase).execute()).toBe(0); // idempotent: nothing decremented twice
      expect((await task(c.taskIds[0])).taken).toBe(0);
      expect((await submit(w1, a.body.assignmentId, { label: 'cat' }).expect(409)).body.code).toBe('LEASE_EXPIRED');
      // The slot is free again, but never for the worker who let it expire.
      expect((await claim(w1, c.id).expect(409)).body.code).toBe('NO_TASK_AVAILABLE');
      const b = await claim(w2, c.id).expect(200);
      expect(b.body.taskId).toBe(c.taskIds[0]);
    });

    it('a returned task frees its slot and cannot be submitted', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 2);
      const a = await claim(w, c.id).expect(200);
      const ret = await t.http.post(`/api/work/assignments/${a.body.assignmentId}/return`).set(w.auth).expect(200);
      expect(ret.body.status).toBe('returned');
      expect((await task(a.body.taskId)).taken).toBe(0);
      expect((await t.http.post(`/api/work/assignments/${a.body.assignmentId}/return`).set(w.auth).expect(409)).body.code).toBe('ASSIGNMENT_NOT_CLAIMED');
      expect((await submit(w, a.body.assignmentId, { label: 'cat' }).expect(409)).body.code).toBe('ASSIGNMENT_RETURNED');
      const next = await claim(w, c.id).expect(200);
      expect(next.body.taskId).not.toBe(a.body.taskId);
    });

    it('lists my assignments with status filter and rejection reasons; shows one with its payload', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 2);
      const a1 = await claim(w, c.id).expect(200);
      await submit(w, a1.body.assignmentId, { label: 'cat' }).expect(200);
      await t.http.post(`/api/assignments/${a1.body.assignmentId}/reject`).set(requester.auth).send({ reason: 'That is a dog.' }).expect(200);
      const a2 = await claim(w, c.id).expect(200);
      const all = await t.http.get('/api/work/assignments').set(w.auth).expect(200);
      expect(all.body.total).toBe(2);
      expect(all.body.items.map((i: { id: string }) => i.id)).toEqual([a2.body.assignmentId, a1.body.assignmentId]);
      const rejected = await t.http.get('/api/work/assignments').query({ status: 'rejected' }).set(w.auth).expect(200);
      expect(rejected.body.items).toEqual([expect.objectContaining({ id: a1.body.assignmentId, status: 'rejected', rejectReason: 'That is a dog.' })]);
      await t.http.get('/api/work/assignments').query({ status: 'bogus' }).set(w.auth).expect(400);
      const one = await t.http.get(`/api/work/assignments/${a2.body.assignmentId}`).set(w.auth).expect(200);
      expect(one.body).toMatchObject({ status: 'claimed', payload: a2.body.payload, taskType: 'single-label', labels: ['cat', 'dog', 'bird'] });
      expect(JSON.stringify(one.body)).not.toMatch(/gold|workerId/);
    });
  });

  describe('completion and consensus', () => {
    it('completes a single-label task with a majority vote when its needed answers are in, then the campaign', async () => {
      const ws = [await signUp(t, ['worker']), await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const c = await seedCampaign(t, requester.id, { redundancyMin: 3 }, 1);
      const labels = ['dog', 'cat', 'dog'];
      for (let i = 0; i < 3; i++) {
        const a = await claim(ws[i], c.id).expect(200);
        await submit(ws[i], a.body.assignmentId, { label: labels[i] }).expect(200);
        expect((await task(c.taskIds[0])).status).toBe(i < 2 ? 'open' : 'complete');
      }
      const done = await task(c.taskIds[0]);
      expect(done).toMatchObject({ status: 'complete', answers_count: 3, taken: 3 });
      expect(done.consensus).toEqual({ label: 'dog', confidence: 2 / 3, method: 'mv', agreement: 1 / 3, answers: 3 });
      expect(done.completed_at).not.toBeNull();
      const completed = await t.app.get(CompleteCampaignsUseCase).execute();
      expect(completed).toContain(c.id);
      expect((await ds.query(`SELECT status FROM campaigns WHERE id = $1`, [c.id]))[0].status).toBe('completed');
    });

    const image = { imageUrl: 'https://img.example/1.jpg', width: 100, height: 80 };
    const cases = [
      {
        type: 'multi-label' as const,
        labels: ['red', 'green', 'blue'],
        payload: { text: 'colours' },
        answers: [{ labels: ['red', 'blue'] }, { labels: ['red'] }],
        bad: { labels: ['purple'] },
        badField: 'answer.labels[0]',
        consensus: { label: ['red'], method: 'mv-per-label' },
      },
      {
        type: 'boxes' as const,
        labels: ['car', 'person'],
        payload: image,
        answers: [{ boxes: [{ x: 1, y: 2, w: 10, h: 10, label: 'car' }] }, { boxes: [{ label: 'car', x: 1, y: 2, w: 10, h: 10 }] }],
        bad: { boxes: [{ x: 95, y: 0, w: 10, h: 10, label: 'car' }] },
        badField: 'answer.boxes[0]',
        consensus: { label: { boxes: [{ x: 1, y: 2, w: 10, h: 10, label: 'car' }] }, confidence: 1, method: 'iou-cluster', agreement: 1 },
      },
      {
        type: 'spans' as const,
        labels: ['PER', 'LOC'],
        payload: { text: 'Ada lives in London' },
        answers: [{ spans: [{ start: 0, end: 3, label: 'PER' }, { start: 13, end: 19, label: 'LOC' }] }, { spans: [{ start: 0, end: 3, label: 'PER' }] }],
        bad: { spans: [{ start: 0, end: 30, label: 'PER' }] },
        badField: 'answer.spans[0]',
        // a 1–1 tie on the LOC characters goes to the tag (ties by label order), at half confidence
        consensus: { label: { spans: [{ start: 0, end: 3, label: 'PER' }, { start: 13, end: 19, label: 'LOC' }] }, confidence: 0.5, method: 'span-vote' },
      },
      {
        type: 'text' as const,
        labels: [],
        payload: { imageUrl: 'https://img.example/2.jpg' },
        answers: [{ text: 'a red bicycle' }, { text: 'a red bicycle' }],
        bad: { text: '   ' },
        badField: 'answer.text',
        consensus: { label: { text: 'a red bicycle' }, confidence: 1, method: 'medoid' },
      },
    ];
    it.each(cases)('runs the lifecycle of a $type task: claim, refuse a bad answer, submit, complete', async (k) => {
      const ws = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const c = await seedCampaign(t, requester.id, { taskType: k.type, labels: k.labels, redundancyMin: 2 }, [{ payload: k.payload }]);
      for (let i = 0; i < 2; i++) {
        const a = await claim(ws[i], c.id).expect(200);
        expect(a.body).toMatchObject({ taskType: k.type, payload: k.payload });
        const bad = await submit(ws[i], a.body.assignmentId, k.bad).expect(400);
        expect(bad.body.fields.map((f: { field: string }) => f.field)).toContain(k.badField);
        await submit(ws[i], a.body.assignmentId, k.answers[i]).expect(200);
      }
      const done = await task(c.taskIds[0]);
      expect(done).toMatchObject({ status: 'complete', answers_count: 2 });
      expect(done.consensus).toMatchObject({ ...k.consensus, answers: 2 });
    });
  });

  describe('review', () => {
    async function answered(n: number, redundancy = 1) {
      const c = await seedCampaign(t, requester.id, { redundancyMin: redundancy }, n);
      const ids: string[] = [];
      const workers: TestUser[] = [];
      for (let i = 0; i < n * redundancy; i++) {
        const w = await signUp(t, ['worker']);
        const a = await claim(w, c.id).expect(200);
        await submit(w, a.body.assignmentId, { label: 'cat' }, 900).expect(200);
        ids.push(a.body.assignmentId);
        workers.push(w);
      }
      return { c, ids, workers };
    }

    it('lists a campaign’s answers to its owner only', async () => {
      const { c, ids, workers } = await answered(2);
      const res = await t.http.get(`/api/campaigns/${c.id}/answers`).set(requester.auth).expect(200);
      expect(res.body.total).toBe(2);
      expect(res.body.items.map((i: { id: string }) => i.id).sort()).toEqual([...ids].sort());
      expect(res.body.items[0]).toMatchObject({ status: 'submitted', answer: { label: 'cat' }, durationMs: 900, campaignId: c.id });
      expect(workers.map((w) => w.id)).toContain(res.body.items[0].workerId);
      const filtered = await t.http.get(`/api/campaigns/${c.id}/answers`).query({ status: 'approved' }).set(requester.auth).expect(200);
      expect(filtered.body.total).toBe(0);
      const stranger = await signUp(t, ['requester']);
      expect((await t.http.get(`/api/campaigns/${c.id}/answers`).set(stranger.auth).expect(404)).body.code).toBe('CAMPAIGN_NOT_FOUND');
      await t.http.get(`/api/campaigns/${c.id}/answers`).set(workers[0].auth).expect(403);
    });

    it('approves once, audits it, and refuses to review twice (409) or someone else’s (404)', async () => {
      const { ids } = await answered(1);
      const stranger = await signUp(t, ['requester']);
      expect((await t.http.post(`/api/assignments/${ids[0]}/approve`).set(stranger.auth).expect(404)).body.code).toBe('ASSIGNMENT_NOT_FOUND');
      const ok = await t.http.post(`/api/assignments/${ids[0]}/approve`).set(requester.auth).expect(200);
      expect(ok.body).toMatchObject({ id: ids[0], status: 'approved', reviewedBy: requester.id });
      const again = await t.http.post(`/api/assignments/${ids[0]}/approve`).set(requester.auth).expect(409);
      expect(again.body).toMatchObject({ code: 'ASSIGNMENT_NOT_SUBMITTED', status: 'approved' });
      await t.http.post(`/api/assignments/${ids[0]}/reject`).set(requester.auth).send({ reason: 'too late' }).expect(409);
      const audit = await ds.query(`SELECT * FROM audit_events WHERE object_type = 'assignment' AND object_id = $1`, [ids[0]]);
      expect(audit).toEqual([expect.objectContaining({ action: 'assignment.approved', actor_id: requester.id })]);
    });

    it('refuses to review a claimed (unsubmitted) assignment (409)', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 1);
      const a = await claim(w, c.id).expect(200);
      expect((await t.http.post(`/api/assignments/${a.body.assignmentId}/approve`).set(requester.auth).expect(409)).body.code).toBe('ASSIGNMENT_NOT_SUBMITTED');
    });

    it('rejects only with a reason; rejection frees the slot and reopens a complete task', async () => {
      const { c, ids } = await answered(1, 2);
      expect((await task(c.taskIds[0])).status).toBe('complete');
      const noReason = await t.http.post(`/api/assignments/${ids[0]}/reject`).set(requester.auth).send({}).expect(400);
      expect(noReason.body.fields.map((f: { field: string }) => f.field)).toContain('reason');
      const short = await t.http.post(`/api/assignments/${ids[0]}/reject`).set(requester.auth).send({ reason: 'no' }).expect(400);
      expect(short.body.fields[0].field).toBe('reason');
      const rej = await t.http.post(`/api/assignments/${ids[0]}/reject`).set(requester.auth).send({ reason: 'Not what was asked.' }).expect(200);
      expect(rej.body).toMatchObject({ status: 'rejected', rejectReason: 'Not what was asked.' });
      const reopened = await task(c.taskIds[0]);
      expect(reopened).toMatchObject({ status: 'open', taken: 1, answers_count: 1, consensus: null, completed_at: null });
      const audit = await ds.query(`SELECT * FROM audit_events WHERE object_id = $1`, [ids[0]]);
      expect(audit[0]).toMatchObject({ action: 'assignment.rejected', reason: 'Not what was asked.', data: expect.objectContaining({ taskReopened: true }) });
      // A new worker fills the freed slot and the task completes again with a fresh consensus.
      const w = await signUp(t, ['worker']);
      const a = await claim(w, c.id).expect(200);
      expect(a.body.taskId).toBe(c.taskIds[0]);
      await submit(w, a.body.assignmentId, { label: 'dog' }).expect(200);
      expect(await task(c.taskIds[0])).toMatchObject({ status: 'complete', answers_count: 2, consensus: expect.objectContaining({ answers: 2 }) });
    });

    it('reviews in bulk in one transaction and reports per id', async () => {
      const { c, ids } = await answered(3);
      await t.http.post(`/api/assignments/${ids[2]}/approve`).set(requester.auth).expect(200);
      const unknown = '00000000-0000-4000-8000-000000000000';
      const bad = await t.http.post(`/api/campaigns/${c.id}/assignments/review`).set(requester.auth).send({ assignmentIds: ids, decision: 'reject' }).expect(400);
      expect(bad.body.fields[0].field).toBe('reason');
      await t.http.post(`/api/campaigns/${c.id}/assignments/review`).set(requester.auth).send({ assignmentIds: ['x'], decision: 'approve' }).expect(400);
      const res = await t.http
        .post(`/api/campaigns/${c.id}/assignments/review`)
        .set(requester.auth)
        .send({ assignmentIds: [ids[0], ids[1], ids[2], unknown], decision: 'reject', reason: 'Spam answers.' })
        .expect(200);
      expect(res.body).toEqual({
        results: [
          { assignmentId: ids[0], outcome: 'rejected', status: 'rejected' },
          { assignmentId: ids[1], outcome: 'rejected', status: 'rejected' },
          { assignmentId: ids[2], outcome: 'not_submitted', status: 'approved' },
          { assignmentId: unknown, outcome: 'not_found' },
        ],
        approved: 0,
        rejected: 2,
        skipped: 2,
      });
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'assignment.rejected' AND object_id = ANY($1::text[])`, [ids]);
      expect(n).toBe(2);
      const stranger = await signUp(t, ['requester']);
      await t.http.post(`/api/campaigns/${c.id}/assignments/review`).set(stranger.auth).send({ assignmentIds: ids, decision: 'approve' }).expect(404);
    });

    it('auto-approves due submissions in the sweep (reviewed_by null), idempotently', async () => {
      const { ids } = await answered(2);
      await ds.query(`UPDATE assignments SET auto_approve_at = now() - interval '1 second' WHERE id = $1`, [ids[0]]);
      const sweep = t.app.get(AutoApproveUseCase);
      expect(await sweep.execute()).toBeGreaterThanOrEqual(1);
      expect(await assignment(ids[0])).toMatchObject({ status: 'approved', reviewed_by: null });
      expect((await assignment(ids[1])).status).toBe('submitted');
      expect(await sweep.execute()).toBe(0);
      const audit = await ds.query(`SELECT * FROM audit_events WHERE object_id = $1`, [ids[0]]);
      expect(audit).toEqual([expect.objectContaining({ action: 'assignment.auto_approved', actor_id: null })]);
    });
  });

  describe('campaign cancel and admin', () => {
    it('releases every live claim of a cancelled campaign and refuses new claims', async () => {
      const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const c = await seedCampaign(t, requester.id, {}, 2);
      const a1 = await claim(w1, c.id).expect(200);
      await claim(w2, c.id).expect(200);
      await ds.query(`UPDATE campaigns SET status = 'cancelled' WHERE id = $1`, [c.id]);
      expect(await t.app.get(ExpireLeasesUseCase).releaseCampaignClaims(c.id)).toBe(2);
      expect((await assignment(a1.body.assignmentId)).status).toBe('expired');
      const [{ taken }] = await ds.query(`SELECT sum(taken)::int AS taken FROM tasks WHERE campaign_id = $1`, [c.id]);
      expect(taken).toBe(0);
      expect((await claim(w1, c.id).expect(409)).body.code).toBe('CAMPAIGN_NOT_OPEN');
      expect((await submit(w1, a1.body.assignmentId, { label: 'cat' }).expect(409)).body.code).toBe('LEASE_EXPIRED');
    });

    it('the lease sweep also releases claims left on a cancelled campaign', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 1);
      const a = await claim(w, c.id).expect(200);
      await ds.query(`UPDATE campaigns SET status = 'cancelled' WHERE id = $1`, [c.id]);
      await t.app.get(ExpireLeasesUseCase).execute();
      expect((await assignment(a.body.assignmentId)).status).toBe('expired');
    });

    it('lets an admin search assignments by campaign, worker and status', async () => {
      const admin = await createAdmin(t);
      const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
      const c = await seedCampaign(t, requester.id, {}, 2);
      const a1 = await claim(w1, c.id).expect(200);
      await submit(w1, a1.body.assignmentId, { label: 'cat' }).expect(200);
      const a2 = await claim(w2, c.id).expect(200);
      const byCampaign = await t.http.get('/api/admin/assignments').query({ campaignId: c.id }).set(admin.auth).expect(200);
      expect(byCampaign.body.total).toBe(2);
      const byWorker = await t.http.get('/api/admin/assignments').query({ campaignId: c.id, workerId: w2.id }).set(admin.auth).expect(200);
      expect(byWorker.body.items.map((i: { id: string }) => i.id)).toEqual([a2.body.assignmentId]);
      const byStatus = await t.http.get('/api/admin/assignments').query({ campaignId: c.id, status: 'submitted' }).set(admin.auth).expect(200);
      expect(byStatus.body.items).toEqual([expect.objectContaining({ id: a1.body.assignmentId, workerId: w1.id, answer: { label: 'cat' } })]);
      await t.http.get('/api/admin/assignments').query({ workerId: 'nope' }).set(admin.auth).expect(400);
      await t.http.get('/api/admin/assignments').set(w1.auth).expect(403);
    });
  });

  describe('background loop', () => {
    it('runs the sweeps in the API process when RUN_BACKGROUND is on, and stops on close', async () => {
      const w = await signUp(t, ['worker']);
      const c = await seedCampaign(t, requester.id, {}, 1);
      const a = await claim(w, c.id).expect(200);
      await ds.query(`UPDATE assignments SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [a.body.assignmentId]);
      const bg = await createTestApp({ RUN_BACKGROUND: 'true', SWEEP_INTERVAL_MS: '100' });
      // No queries of ours while the loop runs: the embedded PGlite mixes up concurrent
      // autocommit statements of different connections (see work-concurrency.e2e-spec.ts).
      await new Promise((r) => setTimeout(r, 2000));
      await bg.close();
      expect((await assignment(a.body.assignmentId)).status).toBe('expired');
      expect((await task(c.taskIds[0])).taken).toBe(0);
    });
  });
});

