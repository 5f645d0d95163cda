import { DataSource } from 'typeorm';
import { createAdmin, createTestApp, dataSourceOf, signUp, TestApp, TestUser } from '@tally/testing';

/**
 * Models as annotators (issue 3, item 8), through the real API: items carry a model's pre-label
 * (with its model name and confidence) at import; the campaign setting `modelLabels` decides what
 * happens with it.
 * - off: the pre-label stays with the requester; the worker never sees it.
 * - suggest: the worker's claim carries it as `suggestion`.
 * - annotator: the worker does not see it; the model is one more annotator in the task's
 *   consensus (and Dawid-Skene learns its confusion matrix), but it is never paid, never counted
 *   as an answer toward redundancy, and never in the worker tables.
 */
describe('models as annotators (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let requester: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    ds = dataSourceOf(t);
    requester = await signUp(t, ['requester']);
    admin = await createAdmin(t);
    await t.http
      .post('/api/admin/ledger/credits')
      .set(admin.auth)
      .send({ userId: requester.id, amountMinor: 1_000_000, currency: 'usd', reason: 'model labels test' })
      .expect((r) => expect(r.status).toBeLessThan(300));
  });
  afterAll(() => t.close());

  const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

  async function campaign(settings: Record<string, unknown>, rows: unknown[]): Promise<string> {
    const c = await t.http
      .post('/api/campaigns')
      .set(requester.auth)
      .send({ name: `models ${settings.modelLabels}`, taskType: 'single-label', labels: ['cat', 'dog', 'bird'], rewardMinor: 10, currency: 'usd', redundancyMin: 2, redundancyMax: 2, ...settings })
      .expect(201);
    expect(c.body.modelLabels).toBe(settings.modelLabels ?? 'off');
    const imp = await t.http.post(`/api/campaigns/${c.body.id}/items`).set(requester.auth).set('content-type', 'application/x-ndjson').send(jsonl(rows)).expect(201);
    expect(imp.body.rejected).toBe(0);
    await t.http.post(`/api/campaigns/${c.body.id}/publish`).set(requester.auth).expect(200);
    return c.body.id;
  }

  async function claim(w: TestUser, campaignId: string) {
    const c = await t.http.post(`/api/work/campaigns/${campaignId}/claim`).set(w.auth).expect(200);
    return c.body;
  }

  it('validates modelLabels on the campaign DTO and the pre-label fields at import, naming the field', async () => {
    const bad = await t.http
      .post('/api/campaigns')
      .set(requester.auth)
      .send({ name: 'x', taskType: 'single-label', labels: ['a', 'b'], rewardMinor: 1, currency: 'usd', modelLabels: 'sometimes' })
      .expect(400);
    expect(JSON.stringify(bad.body)).toContain('modelLabels');
    const c = await t.http.post('/api/campaigns').set(requester.auth).send({ name: 'x', taskType: 'single-label', labels: ['cat', 'dog'], rewardMinor: 1, currency: 'usd' }).expect(201);
    expect(c.body.modelLabels).toBe('off');
    const patched = await t.http.patch(`/api/campaigns/${c.body.id}`).set(requester.auth).send({ modelLabels: 'annotator' }).expect(200);
    expect(patched.body.modelLabels).toBe('annotator');
    await t.http.patch(`/api/campaigns/${c.body.id}`).set(requester.auth).send({ modelLabels: 7 }).expect(400);
    const imp = await t.http
      .post(`/api/campaigns/${c.body.id}/items`)
      .set(requester.auth)
      .set('content-type', 'application/x-ndjson')
      .send(
        jsonl([
          { payload: { text: 'ok' }, prelabel: { label: 'cat' }, prelabelModel: 'resnet-50', prelabelConfidence: 0.9 },
          { text: 'too sure', prelabel: { label: 'cat' }, prelabelConfidence: 1.2 },
          { text: 'no prelabel', prelabelModel: 'resnet-50' },
        ]),
      )
      .expect(201);
    expect(imp.body.inserted).toBe(1);
    expect(imp.body.errors).toEqual([
      { line: 2, field: 'prelabelConfidence', problem: 'must be a number from 0 to 1' },
      { line: 3, field: 'prelabelModel', problem: 'describes a pre-label, but the row has no prelabel' },
    ]);
    const tasks = await t.http.get(`/api/campaigns/${c.body.id}/tasks`).set(requester.auth).expect(200);
    expect(tasks.body.items[0]).toMatchObject({ prelabel: { label: 'cat' }, prelabelModel: 'resnet-50', prelabelConfidence: 0.9 });
  });

  it('off: the worker never sees the pre-label; suggest: the claim carries it as a suggestion', async () => {
    const rows = [{ payload: { text: 'a furry thing' }, prelabel: { label: 'cat' }, prelabelModel: 'resnet-50', prelabelConfidence: 0.83 }, { payload: { text: 'no model here' } }];
    const off = await campaign({ modelLabels: 'off' }, rows);
    const suggest = await campaign({ modelLabels: 'suggest' }, rows);
    const w = await signUp(t, ['worker']);

    const a = await t.http.post(`/api/work/campaigns/${off}/claim`).set(w.auth).expect(200);
    expect(a.body.suggestion).toBeUndefined();
    expect(JSON.stringify(a.body)).not.toMatch(/prelabel|resnet|suggestion/);

    const s1 = await claim(w, suggest);
    expect(s1.payload).toEqual({ text: 'a furry thing' });
    expect(s1.suggestion).toEqual({ answer: { label: 'cat' }, model: 'resnet-50', confidence: 0.83 });
    // a resumed claim shows it too
    expect((await claim(w, suggest)).suggestion).toEqual(s1.suggestion);
    await t.http.post(`/api/work/assignments/${s1.assignmentId}/submit`).set(w.auth).send({ answer: { label: 'dog' } }).expect(200);
    // an item without a pre-label has no suggestion
    const s2 = await claim(w, suggest);
    expect(s2.payload).toEqual({ text: 'no model here' });
    expect(s2.suggestion).toBeUndefined();
  });

  it('suggest: gold must carry a pre-label like real items, so a missing suggestion never gives gold away', async () => {
    const c = await t.http
      .post('/api/campaigns')
      .set(requester.auth)
      .send({ name: 'gold suggest', taskType: 'single-label', labels: ['cat', 'dog'], rewardMinor: 10, currency: 'usd', redundancyMin: 1, redundancyMax: 1, goldRate: 1 })
      .expect(201);
    const items = (rows: unknown[]) => t.http.post(`/api/campaigns/${c.body.id}/items`).set(requester.auth).set('content-type', 'application/x-ndjson').send(jsonl(rows));
    // off (for now): a bare gold row is fine
    expect((await items([{ payload: { text: 'gold, no model' }, gold: { label: 'cat' } }, { payload: { text: 'real' }, prelabel: { label: 'dog' }, prelabelModel: 'm' }]).expect(201)).body.inserted).toBe(2);
    // switched to suggest on the draft: the publish refuses, naming how many gold items are bare; nothing is reserved
    await t.http.patch(`/api/campaigns/${c.body.id}`).set(requester.auth).send({ modelLabels: 'suggest' }).expect(200);
    const refused = await t.http.post(`/api/campaigns/${c.body.id}/publish`).set(requester.auth).expect(422);
    expect(refused.body).toMatchObject({ code: 'CAMPAIGN_GOLD_WITHOUT_PRELABEL', message: expect.stringMatching(/^1 gold item\(s\) have no prelabel/) });
    expect((await t.http.get(`/api/campaigns/${c.body.id}`).set(requester.auth).expect(200)).body.status).toBe('draft');
    // in suggest mode an import refuses the bare gold row, naming the field; a pre-labelled gold row goes in
    const imp = await items([{ payload: { text: 'gold 2' }, gold: { label: 'dog' } }, { payload: { text: 'gold 3' }, gold: { label: 'dog' }, prelabel: { label: 'dog' }, prelabelModel: 'm', prelabelConfidence: 0.7 }]).expect(201);
    expect(imp.body).toMatchObject({ inserted: 1, rejected: 1, errors: [{ line: 1, field: 'prelabel', problem: expect.stringMatching(/gold item needs a prelabel .*could tell it from real items/) }] });
    await ds.query(`UPDATE tasks SET prelabel = '{"label":"dog"}', prelabel_model = 'm' WHERE campaign_id = $1 AND prelabel IS NULL`, [c.body.id]);
    await t.http.post(`/api/campaigns/${c.body.id}/publish`).set(requester.auth).expect(200);
    // every claim, gold or real, carries a suggestion of the same shape
    const w = await signUp(t, ['worker']);
    const taskIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await claim(w, c.body.id);
      expect(Object.keys(a.suggestion ?? {}).sort()).toEqual(['answer', 'confidence', 'model']);
      taskIds.push(a.taskId);
      await t.http.post(`/api/work/assignments/${a.assignmentId}/submit`).set(w.auth).send({ answer: { label: 'dog' } }).expect(200);
    }
    const kinds = await ds.query(`SELECT status = 'gold' AS gold, count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) GROUP BY 1 ORDER BY 1`, [taskIds]);
    expect(kinds).toEqual([{ gold: false, n: 1 }, { gold: true, n: 2 }]);
  });

  it('annotator: the model is one more vote in consensus, but never paid, never an answer, never in worker tables', async () => {
    // Two workers split cat / dog; the model says dog. Plain majority over the humans alone is a
    // tie that goes to the label listed first (cat); with the model as an annotator it is dog.
    const rows = [{ payload: { text: 'split decision' }, prelabel: { label: 'dog' }, prelabelModel: 'vit-b' }];
    const off = await campaign({ modelLabels: 'off' }, rows);
    const annotator = await campaign({ modelLabels: 'annotator' }, rows);
    const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
    for (const id of [off, annotator]) {
      for (const [w, label] of [
        [w1, 'cat'],
        [w2, 'dog'],
      ] as const) {
        const c = await claim(w, id);
        expect(c.suggestion).toBeUndefined();
        expect(JSON.stringify(c)).not.toMatch(/vit-b|prelabel/);
        await t.http.post(`/api/work/assignments/${c.assignmentId}/submit`).set(w.auth).send({ answer: { label } }).expect(200);
      }
    }
    const result = async (id: string) => JSON.parse((await t.http.get(`/api/campaigns/${id}/results`).set(requester.auth).expect(200)).text.trim());
    const [r0, r1] = [await result(off), await result(annotator)];
    expect(r0).toMatchObject({ status: 'complete', label: 'cat', answers: 2 });
    expect(r1).toMatchObject({ status: 'complete', label: 'dog', answers: 2 });
    const [task] = await ds.query(`SELECT answers_count, needed, taken, consensus FROM tasks WHERE campaign_id = $1`, [annotator]);
    expect(task).toMatchObject({ answers_count: 2, needed: 2, taken: 2 });
    expect(task.consensus).toMatchObject({ label: 'dog', answers: 2, modelAnswers: 1 });
    expect(task.consensus.confidence).toBeCloseTo(2 / 3, 6);

    // never in worker tables, the answer list, or the summary's answer count
    const workers = await t.http.get(`/api/campaigns/${annotator}/workers`).set(requester.auth).expect(200);
    expect(workers.body.items).toHaveLength(2);
    const answers = await t.http.get(`/api/campaigns/${annotator}/answers`).set(requester.auth).expect(200);
    expect(answers.body.items).toHaveLength(2);
    expect((await t.http.get(`/api/campaigns/${annotator}/results/summary`).set(requester.auth).expect(200)).body).toMatchObject({ answers: 2, complete: 1 });
    const adminWorkers = await t.http.get(`/api/admin/campaigns/${annotator}/workers`).set(admin.auth).expect(200);
    expect(adminWorkers.body.items.map((r: { worker: string }) => r.worker).sort()).toEqual([w1.id, w2.id].sort());

    // never paid: approving everything pays exactly the two human answers
    const before = async (w: TestUser) => (await t.http.get('/api/me/balance').set(w.auth).expect(200)).body.balances.find((b: { currency: string }) => b.currency === 'usd')?.payableMinor ?? 0;
    const [p1, p2] = [await before(w1), await before(w2)];
    for (const a of answers.body.items) await t.http.post(`/api/assignments/${a.id}/approve`).set(requester.auth).expect(200);
    expect((await before(w1)) - p1).toBe(10);
    expect((await before(w2)) - p2).toBe(10);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM assignments WHERE campaign_id = $1`, [annotator]);
    expect(n).toBe(2);
  });

  it('annotator with Dawid-Skene: the job learns the model\'s confusion matrix next to the workers\'', async () => {
    // The model systematically calls cats "dog". Gold items teach Dawid-Skene that; afterwards a
    // "dog" from the model is evidence for cat.
    const gold = Array.from({ length: 6 }, (_, i) => ({ payload: { text: `gold cat ${i}` }, gold: { label: 'cat' }, prelabel: { label: 'dog' }, prelabelModel: 'biased' }));
    const real = Array.from({ length: 4 }, (_, i) => ({ payload: { text: `real cat ${i}` }, prelabel: { label: 'dog' }, prelabelModel: 'biased' }));
    const id = await campaign({ modelLabels: 'annotator', aggregationMethod: 'ds', redundancyMin: 2, redundancyMax: 4, confidenceTarget: 0.9, goldRate: 1 }, [...gold, ...real]);
    await t.http.patch(`/api/campaigns/${id}/quality-rules`).set(requester.auth).send({ dynamicOverlap: true, goldMaxExposures: 10 }).expect(200);
    const crowd = [await signUp(t, ['worker']), await signUp(t, ['worker']), await signUp(t, ['worker'])];
    // everyone answers cat (the truth); gold rate 1 hands out gold while real work is left
    for (let round = 0; round < 30; round++) {
      let any = false;
      for (const w of crowd) {
        const c = await t.http.post(`/api/work/campaigns/${id}/claim`).set(w.auth);
        if (c.status !== 200) continue;
        any = true;
        await t.http.post(`/api/work/assignments/${c.body.assignmentId}/submit`).set(w.auth).send({ answer: { label: 'cat' } }).expect(200);
      }
      if (!any) break;
    }
    const report = await t.http.post(`/api/campaigns/${id}/quality/reestimate`).set(requester.auth).expect(200);
    expect(report.body).toMatchObject({ method: 'ds', models: 1, workers: 3 });
    const [skill] = await ds.query(`SELECT classes, confusion, accuracy FROM model_skills WHERE campaign_id = $1 AND model = 'biased'`, [id]);
    const cat = skill.classes.indexOf('cat');
    const dog = skill.classes.indexOf('dog');
    // P(model says dog | truth cat) is learnt high, P(says cat | cat) low
    expect(skill.confusion[cat][dog]).toBeGreaterThan(0.7);
    expect(skill.confusion[cat][cat]).toBeLessThan(0.2);
    // the model is not a worker: no worker_skills row, not in the worker table
    const [{ ws }] = await ds.query(`SELECT count(*)::int AS ws FROM worker_skills WHERE campaign_id = $1`, [id]);
    expect(ws).toBe(3);
    expect((await t.http.get(`/api/campaigns/${id}/workers`).set(requester.auth).expect(200)).body.items).toHaveLength(3);
    // completed real tasks: cat, with human answers only in the count
    const results = (await t.http.get(`/api/campaigns/${id}/results`).set(requester.auth).expect(200)).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(results).toHaveLength(4);
    for (const r of results) {
      expect(r.label).toBe('cat');
      expect(r.answers).toBeGreaterThanOrEqual(2);
    }
  });
});
