import { createAdmin, createTestApp, signUp, TestApp, TestUser } from '@tally/testing';

/** A valid single-label campaign body; override any field. */
const campaignBody = (over: Record<string, unknown> = {}) => ({
  name: 'Review sentiment',
  taskType: 'single-label',
  labels: ['pos', 'neg'],
  rewardMinor: 7,
  currency: 'USD',
  ...over,
});

describe('campaigns (e2e)', () => {
  let t: TestApp;
  let req: TestUser;
  let funder: TestUser;
  /** Publishing reserves escrow (test/money-lifecycle covers the money): give requesters cash by hand. */
  const fund = (u: TestUser, amountMinor = 1_000_000) =>
    t.http.post('/api/admin/ledger/credits').set(funder.auth).send({ userId: u.id, amountMinor, currency: 'usd', reason: 'test funds' }).expect(201);
  beforeAll(async () => {
    t = await createTestApp();
    req = await signUp(t, ['requester']);
    funder = await createAdmin(t);
    await fund(req);
  });
  afterAll(() => t.close());

  const create = async (owner: TestUser, over: Record<string, unknown> = {}) => {
    const res = await t.http.post('/api/campaigns').set(owner.auth).send(campaignBody(over));
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string; status: string };
  };
  const addItems = (owner: TestUser, id: string, lines: unknown[]) =>
    t.http.post(`/api/campaigns/${id}/items`).set(owner.auth).set('Content-Type', 'application/x-ndjson').send(lines.map((l) => JSON.stringify(l)).join('\n'));

  it('creates a draft with every setting and defaults for the rest', async () => {
    const deadline = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const res = await t.http
      .post('/api/campaigns')
      .set(req.auth)
      .send(
        campaignBody({
          instructions: 'Pick one',
          redundancyMin: 2,
          redundancyMax: 6,
          confidenceTarget: 0.9,
          leaseSeconds: 300,
          deadline,
          autoApproveSeconds: 3600,
          maxTextLength: 500,
          goldRate: 0.1,
          goldPassMark: 0.7,
          qualification: { minReliability: 0.6, minApprovedCount: 10, minApprovalRate: 0.9, qualificationTestSize: 5, qualificationRetryDelaySeconds: 86400, requiredQualifications: ['english'] },
          aggregationMethod: 'ds',
        }),
      )
      .expect(201);
    expect(res.body).toMatchObject({
      ownerId: req.id,
      status: 'draft',
      currency: 'usd',
      rewardMinor: 7,
      redundancyMin: 2,
      redundancyMax: 6,
      confidenceTarget: 0.9,
      deadline,
      goldRate: 0.1,
      qualification: { minReliability: 0.6, requiredQualifications: ['english'] },
      aggregationMethod: 'ds',
      publishedAt: null,
    });
    const minimal = await create(req, { taskType: 'text', labels: undefined });
    expect(minimal).toMatchObject({ labels: [], redundancyMin: 3, redundancyMax: 5, leaseSeconds: 600, aggregationMethod: 'mv', deadline: null });
    const got = await t.http.get(`/api/campaigns/${minimal.id}`).set(req.auth).expect(200);
    expect(got.body.id).toBe(minimal.id);
  });

  it('refuses bad settings with 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ labels: undefined }, 'labels'],
      [{ labels: [] }, 'labels'],
      [{ labels: ['a', 'a'] }, 'labels'],
      [{ taskType: 'text', labels: ['a'] }, 'labels'],
      [{ taskType: 'video' }, 'taskType'],
      [{ rewardMinor: 1.5 }, 'rewardMinor'],
      [{ rewardMinor: -1 }, 'rewardMinor'],
      [{ currency: 'dollars' }, 'currency'],
      [{ redundancyMin: 0 }, 'redundancyMin'],
      [{ redundancyMax: 51 }, 'redundancyMax'],
      [{ redundancyMin: 4, redundancyMax: 3 }, 'redundancyMax'],
      [{ confidenceTarget: 0 }, 'confidenceTarget'],
      [{ confidenceTarget: 1.01 }, 'confidenceTarget'],
      [{ leaseSeconds: 10 }, 'leaseSeconds'],
      [{ deadline: '2020-01-01T00:00:00Z' }, 'deadline'],
      [{ deadline: 'tomorrow' }, 'deadline'],
      [{ autoApproveSeconds: 31 * 86400 }, 'autoApproveSeconds'],
      [{ goldRate: 2 }, 'goldRate'],
      [{ goldPassMark: -0.1 }, 'goldPassMark'],
      [{ qualification: { minReliability: 3 } }, 'qualification.minReliability'],
      [{ qualification: { bogus: 1 } }, 'qualification.bogus'],
      [{ aggregationMethod: 'median' }, 'aggregationMethod'],
      [{ status: 'published' }, 'status'],
    ];
    for (const [over, field] of cases) {
      const res = await t.http.post('/api/campaigns').set(req.auth).send(campaignBody(over));
      expect({ over, status: res.status }).toEqual({ over, status: 400 });
      expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
  });

  it('keeps campaigns to their owner: 403 for a worker, 404 for another requester', async () => {
    const c = await create(req);
    const worker = await signUp(t, ['worker']);
    const other = await signUp(t, ['requester']);
    const forbidden = await t.http.post('/api/campaigns').set(worker.auth).send(campaignBody()).expect(403);
    expect(forbidden.body.code).toBe('FORBIDDEN_ROLE');
    await t.http.get(`/api/campaigns/${c.id}`).set(worker.auth).expect(403);
    for (const [method, path] of [
      ['get', ''],
      ['get', '/progress'],
      ['get', '/tasks'],
      ['get', '/imports'],
      ['patch', ''],
      ['post', '/publish'],
      ['post', '/cancel'],
    ] as const) {
      const res = await t.http[method](`/api/campaigns/${c.id}${path}`).set(other.auth).send({ name: 'mine now' });
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 404, code: 'CAMPAIGN_NOT_FOUND' });
    }
    await addItems(other, c.id, [{ text: 'x' }]).expect(404);
    const list = await t.http.get('/api/campaigns').set(other.auth).expect(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).not.toContain(c.id);
    await t.http.get('/api/campaigns/not-a-uuid').set(req.auth).expect(400);
  });

  it('edits a draft, merging cross-field rules with the stored values', async () => {
    const c = await create(req, { redundancyMin: 2, redundancyMax: 4 });
    const res = await t.http.patch(`/api/campaigns/${c.id}`).set(req.auth).send({ name: 'Renamed', currency: 'EUR', deadline: null }).expect(200);
    expect(res.body).toMatchObject({ name: 'Renamed', currency: 'eur', redundancyMin: 2, labels: ['pos', 'neg'] });
    const bad = await t.http.patch(`/api/campaigns/${c.id}`).set(req.auth).send({ redundancyMin: 5 }).expect(400);
    expect(bad.body).toMatchObject({ code: 'CAMPAIGN_INVALID', fields: [{ field: 'redundancyMax' }] });
    // with items: labels may grow but not lose a member; redundancyMin moves every task's `needed`
    await addItems(req, c.id, [{ text: 'one' }, { text: 'two' }]).expect(201);
    const shrink = await t.http.patch(`/api/campaigns/${c.id}`).set(req.auth).send({ labels: ['pos'] }).expect(409);
    expect(shrink.body.code).toBe('CAMPAIGN_HAS_ITEMS');
    await t.http.patch(`/api/campaigns/${c.id}`).set(req.auth).send({ taskType: 'multi-label' }).expect(409);
    await t.http.patch(`/api/campaigns/${c.id}`).set(req.auth).send({ labels: ['pos', 'neg', 'mixed'], redundancyMin: 3 }).expect(200);
    const tasks = await t.http.get(`/api/campaigns/${c.id}/tasks`).set(req.auth).expect(200);
    expect(tasks.body.items.map((x: { needed: number }) => x.needed)).toEqual([3, 3]);
  });

  it('runs the lifecycle with conditional transitions and 409s naming the current status', async () => {
    const c = await create(req, { redundancyMin: 2, redundancyMax: 3 });
    const empty = await t.http.post(`/api/campaigns/${c.id}/publish`).set(req.auth).expect(422);
    expect(empty.body.code).toBe('CAMPAIGN_HAS_NO_ITEMS');
    for (const action of ['pause', 'resume']) {
      const r = await t.http.post(`/api/campaigns/${c.id}/${action}`).set(req.auth).expect(409);
      expect(r.body).toMatchObject({ code: 'CAMPAIGN_STATUS_CONFLICT', status: 'draft' });
    }
    await addItems(req, c.id, [{ text: 'a' }, { text: 'b' }, { text: 'c' }]).expect(201);
    const pub = await t.http.post(`/api/campaigns/${c.id}/publish`).set(req.auth).expect(200);
    expect(pub.body.status).toBe('published');
    expect(Date.parse(pub.body.publishedAt)).toBeGreaterThan(Date.now() - 60_000);
    const edit = await t.http.patch(`/api/campaigns/${c.id}`).set(req.auth).send({ name: 'late' }).expect(409);
    expect(edit.body).toMatchObject({ code: 'CAMPAIGN_STATUS_CONFLICT', status: 'published' });
    expect((await t.http.post(`/api/campaigns/${c.id}/publish`).set(req.auth).expect(409)).body.status).toBe('published');
    await t.http.post(`/api/campaigns/${c.id}/resume`).set(req.auth).expect(409);
    expect((await t.http.post(`/api/campaigns/${c.id}/pause`).set(req.auth).expect(200)).body.status).toBe('paused');
    // items may still be added to a paused (or running) campaign
    await addItems(req, c.id, [{ text: 'd' }]).expect(201);
    expect((await t.http.post(`/api/campaigns/${c.id}/resume`).set(req.auth).expect(200)).body.status).toBe('published');
    const cancelled = await t.http.post(`/api/campaigns/${c.id}/cancel`).set(req.auth).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', publishedAt: pub.body.publishedAt });
    for (const action of ['publish', 'pause', 'resume', 'cancel']) {
      const r = await t.http.post(`/api/campaigns/${c.id}/${action}`).set(req.auth).expect(409);
      expect(r.body).toMatchObject({ code: 'CAMPAIGN_STATUS_CONFLICT', status: 'cancelled' });
    }
    const closed = await addItems(req, c.id, [{ text: 'e' }]).expect(409);
    expect(closed.body).toMatchObject({ code: 'CAMPAIGN_STATUS_CONFLICT', status: 'cancelled' });

    const admin = await createAdmin(t);
    const audit = await t.http.get('/api/admin/audit').query({ objectType: 'campaign', objectId: c.id }).set(admin.auth).expect(200);
    const actions = audit.body.items.map((e: { action: string }) => e.action).reverse();
    expect(actions).toEqual(['campaign.created', 'campaign.items_imported', 'campaign.publish', 'campaign.pause', 'campaign.items_imported', 'campaign.resume', 'campaign.cancel']);
    expect(audit.body.items[0]).toMatchObject({ actorId: req.id, data: { from: 'published', to: 'cancelled' } });
  });

  it('resolves racing transitions: exactly one of several concurrent publishes wins', async () => {
    const c = await create(req);
    await addItems(req, c.id, [{ text: 'a' }]).expect(201);
    const results = await Promise.all(Array.from({ length: 6 }, () => t.http.post(`/api/campaigns/${c.id}/publish`).set(req.auth)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const racers = await Promise.all([t.http.post(`/api/campaigns/${c.id}/pause`).set(req.auth), t.http.post(`/api/campaigns/${c.id}/cancel`).set(req.auth)]);
    const final = (await t.http.get(`/api/campaigns/${c.id}`).set(req.auth).expect(200)).body.status;
    // either order is legal (pause then cancel, or cancel then a refused pause); never a lost update
    expect(final).toBe('cancelled');
    expect(racers[1].status).toBe(200);
  });

  it('refuses to publish past the deadline', async () => {
    const c = await create(req, { deadline: new Date(Date.now() + 1500).toISOString() });
    await addItems(req, c.id, [{ text: 'a' }]).expect(201);
    await new Promise((r) => setTimeout(r, 1600));
    const res = await t.http.post(`/api/campaigns/${c.id}/publish`).set(req.auth).expect(422);
    expect(res.body.code).toBe('CAMPAIGN_DEADLINE_PASSED');
  });

  it('lists own campaigns with a status filter and paging, and reports progress', async () => {
    const owner = await signUp(t, ['requester', 'worker']);
    await fund(owner);
    const a = await create(owner, { rewardMinor: 11 });
    const b = await create(owner);
    await addItems(owner, a.id, [{ text: '1' }, { text: '2' }]).expect(201);
    await t.http.post(`/api/campaigns/${a.id}/publish`).set(owner.auth).expect(200);
    const all = await t.http.get('/api/campaigns').set(owner.auth).expect(200);
    expect(all.body).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(all.body.items.map((x: { id: string }) => x.id)).toEqual([b.id, a.id]);
    const drafts = await t.http.get('/api/campaigns').query({ status: 'draft' }).set(owner.auth).expect(200);
    expect(drafts.body.items.map((x: { id: string }) => x.id)).toEqual([b.id]);
    const page = await t.http.get('/api/campaigns').query({ limit: 1, offset: 1 }).set(owner.auth).expect(200);
    expect(page.body.items.map((x: { id: string }) => x.id)).toEqual([a.id]);
    await t.http.get('/api/campaigns').query({ status: 'done' }).set(owner.auth).expect(400);
    await t.http.get('/api/campaigns').query({ limit: 1000 }).set(owner.auth).expect(400);
    const progress = await t.http.get(`/api/campaigns/${a.id}/progress`).set(owner.auth).expect(200);
    expect(progress.body).toEqual({
      tasks: 2,
      tasksComplete: 0,
      answersSubmitted: 0,
      answersApproved: 0,
      answersRejected: 0,
      liveAssignments: 0,
      spendMinor: 0,
      currency: 'usd',
      percentComplete: 0,
    });
  });

  it('lets an admin search every campaign and inspect one; others get 403', async () => {
    const admin = await createAdmin(t);
    const owner = await signUp(t, ['requester'], 'searchable-owner');
    const name = `Needle ${Date.now()}`;
    const c = await create(owner, { name });
    await create(owner, { name: 'Haystack' });
    const byName = await t.http.get('/api/admin/campaigns').query({ q: name.slice(0, 12).toLowerCase() }).set(admin.auth).expect(200);
    expect(byName.body.items.map((x: { id: string }) => x.id)).toContain(c.id);
    expect(byName.body.items.find((x: { id: string }) => x.id === c.id)).toMatchObject({ ownerEmail: owner.email, name });
    const byOwner = await t.http.get('/api/admin/campaigns').query({ owner: owner.email, status: 'draft' }).set(admin.auth).expect(200);
    expect(byOwner.body.total).toBe(2);
    const byOwnerId = await t.http.get('/api/admin/campaigns').query({ ownerId: owner.id, q: 'hay' }).set(admin.auth).expect(200);
    expect(byOwnerId.body.items.map((x: { name: string }) => x.name)).toEqual(['Haystack']);
    const one = await t.http.get(`/api/admin/campaigns/${c.id}`).set(admin.auth).expect(200);
    expect(one.body).toMatchObject({ id: c.id, ownerEmail: owner.email, progress: { tasks: 0 } });
    await t.http.get('/api/admin/campaigns/00000000-0000-0000-0000-000000000000').set(admin.auth).expect(404);
    await t.http.get('/api/admin/campaigns').set(owner.auth).expect(403);
  });

  it('documents the campaign endpoints in OpenAPI', async () => {
    const doc = await t.http.get('/api/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/campaigns', '/api/campaigns/{id}', '/api/campaigns/{id}/items', '/api/campaigns/{id}/publish', '/api/admin/campaigns']),
    );
  });
});
