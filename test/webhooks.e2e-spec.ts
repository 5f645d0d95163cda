import {
  CreateHITCommand,
  ListAssignmentsForHITCommand,
  MTurkClient,
  NotifyWorkersCommand,
  RequestError,
  UpdateNotificationSettingsCommand,
} from '@aws-sdk/client-mturk';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { JobsService } from '@tally/jobs';
import { createAdmin, createTestApp, dataSourceOf, seedCampaign, selectionForm, signUp, TestApp, TestUser } from '@tally/testing';
import { CompleteCampaignsUseCase } from '@tally/work';
import { MAX_DELIVERY_ATTEMPTS, recordWebhookEvent, verifySignature, WEBHOOK_DELIVERIES_JOB } from '@tally/webhooks';

/**
 * Requester webhooks end to end, against a real local HTTP receiver: the outbox row written with
 * the state change, signed deliveries through the 'webhook-deliveries' job, retries with backoff,
 * the delivery log, ownership refusals, and MTurk's UpdateNotificationSettings / NotifyWorkers
 * through the unmodified AWS SDK client.
 */
jest.setTimeout(90_000);

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: records every request; answers from a per-path script of status codes (then 200). */
class Receiver {
  readonly requests: Received[] = [];
  readonly script = new Map<string, number[]>();
  delayMs = 0;
  private server!: Server;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.requests.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const codes = this.script.get(path);
        const status = codes?.length ? codes.shift()! : 200;
        setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope'), this.delayMs);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  at(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('requester webhooks (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let admin: TestUser;
  let rx: Receiver;
  let mturkEndpoint: string;

  beforeAll(async () => {
    rx = new Receiver();
    await rx.start();
    t = await createTestApp({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
    ds = dataSourceOf(t);
    await t.app.listen(0, '127.0.0.1');
    mturkEndpoint = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}/api/mturk`;
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
    await rx.stop();
  });

  const deliverNow = () => t.app.get(JobsService).runNow<{ delivered: number; retrying: number; failed: number; cancelled: number }>(WEBHOOK_DELIVERIES_JOB);

  async function claimAndSubmit(worker: TestUser, campaignId: string, label = 'cat'): Promise<{ taskId: string; assignmentId: string }> {
    const claim = await t.http.post(`/api/work/campaigns/${campaignId}/claim`).set(worker.auth).expect(200);
    await t.http.post(`/api/work/assignments/${claim.body.assignmentId}/submit`).set(worker.auth).send({ answer: { label } }).expect(200);
    return { taskId: claim.body.taskId, assignmentId: claim.body.assignmentId };
  }

  async function endpoint(user: TestUser, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const res = await t.http.post('/api/webhooks').set(user.auth).send(body);
    expect(res.status).toBe(201);
    return { id: res.body.id, secret: res.body.secret };
  }

  it('delivers signed task.completed, campaign.completed and worker.blocked events, written with the state change', async () => {
    const req = await signUp(t, ['requester']);
    const [w1, w2] = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
    const c = await seedCampaign(t, req.id, { redundancyMin: 1, redundancyMax: 1 }, 2);
    const path = `/hooks/${c.id}`;
    const created = await t.http.post('/api/webhooks').set(req.auth)
      .send({ url: `${rx.base}${path}`, events: ['task.completed', 'campaign.completed', 'worker.blocked'], campaignId: c.id, description: 'e2e' })
      .expect(201);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ campaignId: c.id, active: true, format: 'tally', secretHint: secret.slice(-4), events: ['campaign.completed', 'task.completed', 'worker.blocked'] });

    // The secret is shown once: never in get or list (nor its ciphertext).
    const got = await t.http.get(`/api/webhooks/${created.body.id}`).set(req.auth).expect(200);
    const listed = await t.http.get('/api/webhooks').set(req.auth).expect(200);
    for (const body of [got.body, listed.body]) {
      expect(JSON.stringify(body)).not.toContain(secret);
      expect(JSON.stringify(body)).not.toMatch(/ciphertext|v1\./);
    }
    expect(got.body.secret).toBeUndefined();
    expect(listed.body.items.map((e: { id: string }) => e.id)).toEqual([created.body.id]);

    // Two tasks complete (one answer each), then the campaign.
    const t1 = await claimAndSubmit(w1, c.id, 'cat');
    const t2 = await claimAndSubmit(w2, c.id, 'dog');
    // The outbox rows exist as soon as the submits committed, before any delivery.
    const outbox = await ds.query(`SELECT e.type, e.data->>'taskId' AS task FROM webhook_events e WHERE e.campaign_id = $1 ORDER BY e.created_at`, [c.id]);
    expect(outbox).toEqual([{ type: 'task.completed', task: t1.taskId }, { type: 'task.completed', task: t2.taskId }]);
    expect(await t.app.get(CompleteCampaignsUseCase).execute()).toContain(c.id);

    // An admin blocks w1 from the campaign (their answer is excluded, the task reopens).
    await t.http.post(`/api/admin/campaigns/${c.id}/blocks`).set(admin.auth).send({ workerId: w1.id, reason: 'copies answers' }).expect(200);

    expect(rx.at(path)).toHaveLength(0);
    const run = await deliverNow();
    expect(run.delivered).toBeGreaterThanOrEqual(4);
    const got4 = rx.at(path);
    expect(got4).toHaveLength(4);
    for (const r of got4) {
      expect(verifySignature(secret, r.body, r.headers['tally-signature'] as string)).toBe(true);
      expect(verifySignature('whsec_wrong', r.body, r.headers['tally-signature'] as string)).toBe(false);
      expect(verifySignature(secret, r.body + ' ', r.headers['tally-signature'] as string)).toBe(false);
      expect(r.headers['tally-signature']).toMatch(/^t=\d{10},v1=[0-9a-f]{64}$/);
      expect(r.headers['content-type']).toBe('application/json');
      const body = JSON.parse(r.body);
      expect(r.headers['tally-event-id']).toBe(body.id);
      expect(r.headers['tally-event-type']).toBe(body.type);
      expect(body.data.campaignId).toBe(c.id);
    }
    const bodies = got4.map((r) => JSON.parse(r.body));
    const byType = (type: string) => bodies.filter((b) => b.type === type);
    expect(byType('task.completed').map((b) => b.data.taskId).sort()).toEqual([t1.taskId, t2.taskId].sort());
    expect(byType('task.completed').find((b) => b.data.taskId === t1.taskId).data).toMatchObject({ lowConfidence: false, consensus: expect.anything() });
    expect(byType('campaign.completed')).toHaveLength(1);
    expect(byType('campaign.completed')[0].data).toMatchObject({ reason: 'all-tasks-complete', completedAt: expect.any(String) });
    const blocked = byType('worker.blocked');
    expect(blocked).toHaveLength(1);
    // The requester sees the worker under the campaign's pseudonym, never the Tally user id.
    expect(blocked[0].data).toMatchObject({ worker: expect.stringMatching(/^W-[0-9a-f]{10}$/), reason: 'copies answers' });
    expect(JSON.stringify(bodies)).not.toContain(w1.id);
    expect(JSON.stringify(bodies)).not.toContain(w2.id);

    // The delivery log.
    const log = await t.http.get(`/api/webhooks/${created.body.id}/deliveries`).set(req.auth).expect(200);
    expect(log.body.total).toBe(4);
    for (const d of log.body.items) expect(d).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null, deliveredAt: expect.any(String) });
    expect(new Set(log.body.items.map((d: { eventId: string }) => d.eventId))).toEqual(new Set(bodies.map((b) => b.id)));

    // Nothing is sent twice.
    await deliverNow();
    expect(rx.at(path)).toHaveLength(4);
  });

  it('writes no outbox row when nobody listens, and none when the transaction rolls back', async () => {
    const req = await signUp(t, ['requester']);
    const w = await signUp(t, ['worker']);
    const quiet = await seedCampaign(t, req.id, { redundancyMin: 1, redundancyMax: 1 }, 1);
    await claimAndSubmit(w, quiet.id);
    expect((await ds.query(`SELECT count(*)::int AS n FROM webhook_events WHERE campaign_id = $1`, [quiet.id]))[0].n).toBe(0);

    // An endpoint for all of the requester's campaigns; an event recorded in a transaction that fails leaves nothing.
    await endpoint(req, { url: `${rx.base}/all/${req.id}`, events: ['task.completed'] });
    await expect(
      ds.transaction(async (em) => {
        expect(await recordWebhookEvent(em, 'task.completed', quiet.id, { taskId: quiet.taskIds[0] })).toEqual(expect.any(String));
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    expect((await ds.query(`SELECT count(*)::int AS n FROM webhook_events WHERE campaign_id = $1`, [quiet.id]))[0].n).toBe(0);
    // Committed: one event, one delivery; an event type the endpoint does not want: nothing.
    await ds.transaction((em) => recordWebhookEvent(em, 'task.completed', quiet.id, { taskId: quiet.taskIds[0] }));
    expect(await ds.transaction((em) => recordWebhookEvent(em, 'worker.blocked', quiet.id, {}))).toBeNull();
    expect((await ds.query(`SELECT count(*)::int AS n FROM webhook_events e JOIN webhook_deliveries d ON d.event_id = e.id WHERE e.campaign_id = $1`, [quiet.id]))[0].n).toBe(1);
    await deliverNow();
    expect(rx.at(`/all/${req.id}`)).toHaveLength(1);
  });

  it('retries a receiver that answers 500 with backoff until it answers 2xx, and gives up after the cap', async () => {
    const req = await signUp(t, ['requester']);
    const w = await signUp(t, ['worker']);
    const c = await seedCampaign(t, req.id, { redundancyMin: 1, redundancyMax: 1 }, 1);
    const path = `/flaky/${c.id}`;
    rx.script.set(path, [500, 503]);
    const ep = await endpoint(req, { url: `${rx.base}${path}`, events: ['task.completed'], campaignId: c.id });
    await claimAndSubmit(w, c.id);

    await deliverNow();
    expect(rx.at(path)).toHaveLength(1);
    const [first] = (await t.http.get(`/api/webhooks/${ep.id}/deliveries`).set(req.auth).expect(200)).body.items;
    expect(first).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500', deliveredAt: null });
    // Backoff: the next attempt is about a minute away, and nothing is sent before it.
    const wait = new Date(first.nextAttemptAt).getTime() - Date.now();
    expect(wait).toBeGreaterThan(50_000);
    expect(wait).toBeLessThan(70_000);
    await deliverNow();
    expect(rx.at(path)).toHaveLength(1);

    // Time passes (moved instead of waited): 503, then the doubled delay, then 200.
    const due = () => ds.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = $1`, [first.id]);
    await due();
    await deliverNow();
    expect(rx.at(path)).toHaveLength(2);
    const [second] = (await t.http.get(`/api/webhooks/${ep.id}/deliveries`).set(req.auth).expect(200)).body.items;
    expect(second).toMatchObject({ attempts: 2, lastStatusCode: 503 });
    expect(new Date(second.nextAttemptAt).getTime() - Date.now()).toBeGreaterThan(110_000);
    await due();
    await deliverNow();
    const sent = rx.at(path);
    expect(sent).toHaveLength(3);
    // Every attempt carries the same event id and body, freshly signed.
    expect(new Set(sent.map((r) => r.headers['tally-event-id'])).size).toBe(1);
    expect(new Set(sent.map((r) => r.body)).size).toBe(1);
    expect(sent.map((r) => r.headers['tally-delivery-attempt'])).toEqual(['1', '2', '3']);
    for (const r of sent) expect(verifySignature(ep.secret, r.body, r.headers['tally-signature'] as string)).toBe(true);
    const [done] = (await t.http.get(`/api/webhooks/${ep.id}/deliveries?status=delivered`).set(req.auth).expect(200)).body.items;
    expect(done).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });

    // A receiver that never recovers: after MAX_DELIVERY_ATTEMPTS the delivery is failed and left alone.
    const c2 = await seedCampaign(t, req.id, { redundancyMin: 1, redundancyMax: 1 }, 1);
    const down = `/down/${c2.id}`;
    rx.script.set(down, Array(20).fill(500));
    const ep2 = await endpoint(req, { url: `${rx.base}${down}`, events: ['task.completed'], campaignId: c2.id });
    await claimAndSubmit(w, c2.id);
    for (let i = 0; i < MAX_DELIVERY_ATTEMPTS; i++) {
      await ds.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1 AND status = 'pending'`, [ep2.id]);
      await deliverNow();
    }
    const [failed] = (await t.http.get(`/api/webhooks/${ep2.id}/deliveries`).set(req.auth).expect(200)).body.items;
    expect(failed).toMatchObject({ status: 'failed', attempts: MAX_DELIVERY_ATTEMPTS, lastStatusCode: 500, nextAttemptAt: null });
    await ds.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1`, [ep2.id]);
    await deliverNow();
    expect(rx.at(down)).toHaveLength(MAX_DELIVERY_ATTEMPTS);
  });

  it('never sends one delivery twice when several runners work at once', async () => {
    const req = await signUp(t, ['requester']);
    const c = await seedCampaign(t, req.id, { redundancyMin: 1, redundancyMax: 1 }, 8);
    const path = `/race/${c.id}`;
    await endpoint(req, { url: `${rx.base}${path}`, events: ['task.completed'], campaignId: c.id });
    const workers = await Promise.all(Array.from({ length: 8 }, () => signUp(t, ['worker'])));
    for (const w of workers) await claimAndSubmit(w, c.id);
    rx.delayMs = 150;
    try {
      const runs = await Promise.all([deliverNow(), deliverNow(), deliverNow()]);
      expect(runs.reduce((n, r) => n + r.delivered, 0)).toBe(8);
    } finally {
      rx.delayMs = 0;
    }
    const ids = rx.at(path).map((r) => r.headers['tally-event-id']);
    expect(ids).toHaveLength(8);
    expect(new Set(ids).size).toBe(8);
  });

  it('refuses other requesters, workers, bad fields and unsafe URLs', async () => {
    const owner = await signUp(t, ['requester']);
    const other = await signUp(t, ['requester']);
    const worker = await signUp(t, ['worker']);
    const c = await seedCampaign(t, owner.id, {}, 1);
    const ep = await endpoint(owner, { url: `${rx.base}/owned`, events: ['task.completed'], campaignId: c.id });

    // Someone else's endpoint is a 404 for every verb; someone else's campaign too.
    await t.http.get(`/api/webhooks/${ep.id}`).set(other.auth).expect(404);
    await t.http.patch(`/api/webhooks/${ep.id}`).set(other.auth).send({ active: false }).expect(404);
    await t.http.delete(`/api/webhooks/${ep.id}`).set(other.auth).expect(404);
    await t.http.post(`/api/webhooks/${ep.id}/rotate-secret`).set(other.auth).expect(404);
    const log = await t.http.get(`/api/webhooks/${ep.id}/deliveries`).set(other.auth).expect(404);
    expect(log.body.code).toBe('WEBHOOK_NOT_FOUND');
    expect((await t.http.get('/api/webhooks').set(other.auth).expect(200)).body.total).toBe(0);
    const foreign = await t.http.post('/api/webhooks').set(other.auth).send({ url: `${rx.base}/x`, events: ['task.completed'], campaignId: c.id }).expect(404);
    expect(foreign.body.code).toBe('CAMPAIGN_NOT_FOUND');
    // Other roles and anonymous callers.
    await t.http.post('/api/webhooks').set(worker.auth).send({ url: `${rx.base}/x`, events: ['task.completed'] }).expect(403);
    await t.http.get('/api/webhooks').expect(401);
    await t.http.get('/api/me/notifications').set(owner.auth).expect(403);

    // Validation names the field.
    const bad = async (body: Record<string, unknown>, field: string, status = 400) => {
      const res = await t.http.post('/api/webhooks').set(owner.auth).send(body);
      expect(res.status).toBe(status);
      expect(res.body.message).toContain(field);
    };
    await bad({ url: `${rx.base}/x`, events: ['task.exploded'] }, 'events');
    await bad({ url: `${rx.base}/x`, events: [] }, 'events');
    await bad({ url: `${rx.base}/x` }, 'events');
    await bad({ url: 'not a url at all', events: ['task.completed'] }, 'url');
    await bad({ url: 'ftp://example.org/hook', events: ['task.completed'] }, 'url');
    await bad({ url: 'http://example.org/hook', events: ['task.completed'] }, 'url'); // plain http only for WEBHOOK_ALLOW_HOSTS
    await bad({ url: 'https://10.1.2.3/hook', events: ['task.completed'] }, 'url'); // a private address
    await bad({ url: 'https://[::1]:8443/hook', events: ['task.completed'] }, 'url');
    await bad({ url: `${rx.base}/x`, events: ['task.completed'], secret: 'mine' }, 'secret'); // Tally makes the secret
    await bad({ url: `${rx.base}/x`, events: ['task.completed'], campaignId: 'nope' }, 'campaignId');

    // Rotation shows a new secret once; the owner deletes; pending deliveries are cancelled, the log stays.
    const rotated = await t.http.post(`/api/webhooks/${ep.id}/rotate-secret`).set(owner.auth).expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(ep.secret);
    await t.http.patch(`/api/webhooks/${ep.id}`).set(owner.auth).send({ active: 'yes' }).expect(400);
    expect((await t.http.patch(`/api/webhooks/${ep.id}`).set(owner.auth).send({ events: ['worker.blocked'] }).expect(200)).body.events).toEqual(['worker.blocked']);
    await t.http.delete(`/api/webhooks/${ep.id}`).set(owner.auth).expect(204);
    await t.http.get(`/api/webhooks/${ep.id}`).set(owner.auth).expect(404);
    await t.http.get(`/api/webhooks/${ep.id}/deliveries`).set(owner.auth).expect(200);
  });

  describe('MTurk UpdateNotificationSettings and NotifyWorkers (AWS SDK)', () => {
    const QUESTION = selectionForm('Cat or dog?');

    async function requesterWithKey(): Promise<{ user: TestUser; mturk: MTurkClient }> {
      const user = await signUp(t, ['requester']);
      await t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId: user.id, amountMinor: 10_000, currency: 'usd', reason: 'webhook test funds' }).expect(201);
      const key = (await t.http.post('/api/mturk/keys').set(user.auth).send({ label: 'webhooks' }).expect(201)).body;
      const mturk = new MTurkClient({ endpoint: mturkEndpoint, region: 'us-east-1', credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
      return { user, mturk };
    }

    const rejects = async (p: Promise<unknown>): Promise<RequestError & { TurkErrorCode?: string }> => {
      const err = await p.then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(RequestError);
      return err as RequestError & { TurkErrorCode?: string };
    };

    it('maps a HIT type notification to a signed webhook in MTurk event format, and refuses SQS / SNS / Email saying what Tally supports', async () => {
      const { user, mturk } = await requesterWithKey();
      const { mturk: stranger } = await requesterWithKey();
      const hit = (await mturk.send(new CreateHITCommand({ Title: 'Pets', Description: 'd', Reward: '0.05', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 3600, MaxAssignments: 1, Question: QUESTION }))).HIT!;
      const path = `/mturk/${hit.HITTypeId}`;
      const notification = { Destination: `${rx.base}${path}`, Transport: 'HTTPS' as never, Version: '2006-05-05', EventTypes: ['HITReviewable' as const] };

      for (const transport of ['SQS', 'SNS', 'Email']) {
        const err = await rejects(mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId: hit.HITTypeId, Notification: { ...notification, Transport: transport as never } })));
        expect(err.message).toContain(`"${transport}" is not supported by Tally`);
        expect(err.message).toContain('Transport "HTTPS"');
      }
      const unsupportedEvent = await rejects(mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId: hit.HITTypeId, Notification: { ...notification, EventTypes: ['AssignmentSubmitted'] } })));
      expect(unsupportedEvent.message).toContain('supported: HITReviewable');
      const badUrl = await rejects(mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId: hit.HITTypeId, Notification: { ...notification, Destination: 'https://192.168.1.10/hook' } })));
      expect(badUrl.message).toContain('Notification.Destination');
      const foreign = await rejects(stranger.send(new UpdateNotificationSettingsCommand({ HITTypeId: hit.HITTypeId, Notification: notification })));
      expect(foreign.TurkErrorCode).toBe('AWS.MechanicalTurk.HITTypeDoesNotExist');
      await rejects(mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId: hit.HITTypeId, Active: true }))); // nothing to activate yet

      expect(await mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId: hit.HITTypeId, Notification: notification, Active: true }))).toBeDefined();
      // Calling again replaces the settings: still one endpoint, visible (without secret) in the REST list.
      await mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId: hit.HITTypeId, Notification: notification }));
      const listed = (await t.http.get('/api/webhooks').set(user.auth).expect(200)).body.items;
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ hitTypeId: hit.HITTypeId, format: 'mturk', events: ['task.completed'], active: true });
      // MTurk has no place for a secret: the requester takes one with rotate-secret.
      const { secret } = (await t.http.post(`/api/webhooks/${listed[0].id}/rotate-secret`).set(user.auth).expect(200)).body;

      // A worker answers the HIT's one assignment: the HIT becomes reviewable → one MTurk-format event.
      const worker = await signUp(t, ['worker']);
      const [{ campaign_id }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [hit.HITId]);
      await claimAndSubmit(worker, campaign_id);
      await deliverNow();
      const [r] = rx.at(path);
      expect(verifySignature(secret, r.body, r.headers['tally-signature'] as string)).toBe(true);
      const doc = JSON.parse(r.body);
      expect(doc).toMatchObject({ EventDocId: r.headers['tally-event-id'], EventDocVersion: '2014-08-15', Events: [{ EventType: 'HITReviewable', HITId: hit.HITId, HITTypeId: hit.HITTypeId }] });

      // Active=false turns it off: the next HIT of the type completes without a delivery.
      await mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId: hit.HITTypeId, Active: false }));
      const hit2 = (await mturk.send(new CreateHITCommand({ Title: 'Pets', Description: 'd', Reward: '0.05', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 3600, MaxAssignments: 1, Question: QUESTION }))).HIT!;
      expect(hit2.HITTypeId).toBe(hit.HITTypeId);
      await claimAndSubmit(await signUp(t, ['worker']), campaign_id);
      await deliverNow();
      expect(rx.at(path)).toHaveLength(1);
    });

    it('NotifyWorkers stores a message for workers who worked for the requester and reports the others', async () => {
      const { user, mturk } = await requesterWithKey();
      const hit = (await mturk.send(new CreateHITCommand({ Title: 'Notify', Description: 'd', Reward: '0.05', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 3600, MaxAssignments: 1, Question: QUESTION }))).HIT!;
      const worker = await signUp(t, ['worker']);
      const stranger = await signUp(t, ['worker']);
      const [{ campaign_id }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [hit.HITId]);
      await claimAndSubmit(worker, campaign_id);
      const [assignment] = (await mturk.send(new ListAssignmentsForHITCommand({ HITId: hit.HITId }))).Assignments!;
      const workerId = assignment.WorkerId!;

      const res = await mturk.send(new NotifyWorkersCommand({ Subject: 'Thanks!', MessageText: 'A bonus batch opens tomorrow.', WorkerIds: [workerId, 'A0000000000000', workerId] }));
      expect(res.NotifyWorkersFailureStatuses).toEqual([
        { NotifyWorkersFailureCode: 'HardFailure', NotifyWorkersFailureMessage: expect.stringContaining('has not worked for you'), WorkerId: 'A0000000000000' },
      ]);
      const inbox = (await t.http.get('/api/me/notifications').set(worker.auth).expect(200)).body;
      expect(inbox).toMatchObject({ total: 1, unread: 1 });
      expect(inbox.items[0]).toMatchObject({ subject: 'Thanks!', message: 'A bonus batch opens tomorrow.', from: 'requester', readAt: null });
      expect((await t.http.get('/api/me/notifications').set(stranger.auth).expect(200)).body.total).toBe(0);
      await t.http.post(`/api/me/notifications/${inbox.items[0].id}/read`).set(stranger.auth).expect(404);
      await t.http.post(`/api/me/notifications/${inbox.items[0].id}/read`).set(worker.auth).expect(204);
      expect((await t.http.get('/api/me/notifications?unread=true').set(worker.auth).expect(200)).body).toMatchObject({ total: 0, unread: 0 });
      void user;

      // MTurk's limits.
      expect((await rejects(mturk.send(new NotifyWorkersCommand({ Subject: 'x'.repeat(201), MessageText: 'm', WorkerIds: [workerId] })))).message).toContain('Subject');
      expect((await rejects(mturk.send(new NotifyWorkersCommand({ Subject: 's', MessageText: 'x'.repeat(4097), WorkerIds: [workerId] })))).message).toContain('MessageText');
      expect((await rejects(mturk.send(new NotifyWorkersCommand({ Subject: 's', MessageText: 'm', WorkerIds: Array.from({ length: 101 }, (_, i) => `A${i}`) })))).message).toContain('WorkerIds');
      expect((await ds.query(`SELECT count(*)::int AS n FROM worker_notifications WHERE sender_id = $1`, [user.id]))[0].n).toBe(1);
    });
  });
});
