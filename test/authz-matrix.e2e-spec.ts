import { randomUUID } from 'node:crypto';
import { createAdmin, createTestApp, dataSourceOf, FakeStripe, seedCampaign, seedUsers, signUp, startFakeStripe, TestApp, TestUser } from '@tally/testing';
import { Owned, POLICY, Policy, Role } from './authz-policy';
import { LocalClient, Reply, Route, routeTable } from './route-table';

/**
 * The authorization matrix (issue 6 item 5), generated from the route table: every route of the
 * running app × (anonymous, worker, requester, admin) × (own object, another user's object where
 * the route acts on an owned object), checked against the policy in test/authz-policy.ts.
 *
 * - a route missing from the policy fails the test: a new route must be classified;
 * - no token → 401 UNAUTHENTICATED; a role the route does not allow → 403 FORBIDDEN_ROLE;
 * - the allowed role on its own object → the policy's ok status (a 2xx unless said otherwise);
 * - the allowed role on another user's object → 404 (never a 2xx, never a different refusal);
 * - no response to a worker ever carries a gold answer or another worker's answer, and no
 *   response to anyone carries a password hash.
 */
const GOLD = `SECRET-GOLD-${randomUUID()}`;
const OTHERS_ANSWER = `OTHER-WORKERS-ANSWER-${randomUUID()}`;
const PRINCIPALS = ['anonymous', 'worker', 'requester', 'admin'] as const;
type Principal = (typeof PRINCIPALS)[number];

interface Obj {
  id: string;
  campaignId?: string;
  workerId?: string;
}
interface Call {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  type?: string;
}
interface Ctx {
  obj?: Obj;
  me: Principal;
}

describe('authorization matrix: every route × role × own / another’s object (e2e)', () => {
  let t: TestApp;
  let fake: FakeStripe;
  let client: LocalClient;
  let routes: Route[];
  const u = {} as Record<'worker' | 'worker2' | 'requester' | 'requester2' | 'admin', TestUser>;
  let openCampaign: string;

  beforeAll(async () => {
    fake = await startFakeStripe();
    t = await createTestApp(fake.env({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1' }));
    client = await LocalClient.listen(t.app);
    routes = routeTable(t.app);
    [u.worker, u.worker2, u.requester, u.requester2] = await Promise.all([signUp(t, ['worker']), signUp(t, ['worker']), signUp(t, ['requester']), signUp(t, ['requester'])]);
    u.admin = await createAdmin(t);
    for (const r of [u.requester, u.requester2]) {
      await t.http.post('/api/admin/ledger/credits').set(u.admin.auth).send({ userId: r.id, amountMinor: 10_000_000, currency: 'usd', reason: 'authz matrix funds' }).expect(201);
    }
    openCampaign = (await campaign(u.requester2)).id;
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await t?.close();
    await fake?.stop();
  });

  // ------------------------------------------------------------------ fixtures
  const ds = () => dataSourceOf(t);
  const owner = (kind: Owned, mine: boolean): TestUser =>
    kind === 'claimed' || kind === 'notification' ? (mine ? u.worker : u.worker2) : mine ? u.requester : u.requester2;

  /** A published text campaign with a hidden gold item, on which worker2 submitted an answer. */
  async function campaign(by: TestUser, status: 'published' | 'draft' | 'paused' = 'published'): Promise<Obj & { submitted?: string }> {
    const c = await seedCampaign(t, by.id, { taskType: 'text', labels: [], status, redundancyMin: 2, redundancyMax: 3 }, [
      { payload: { text: 'real item one' } },
      { payload: { text: 'real item two' } },
      { payload: { text: 'control item' }, gold: { text: GOLD } },
    ]);
    if (status !== 'published') return { id: c.id };
    const claim = await t.http.post(`/api/work/campaigns/${c.id}/claim`).set(u.worker2.auth).expect(200);
    await t.http.post(`/api/work/assignments/${claim.body.assignmentId}/submit`).set(u.worker2.auth).send({ answer: { text: OTHERS_ANSWER } }).expect(200);
    return { id: c.id, submitted: claim.body.assignmentId };
  }

  async function make(kind: Owned, by: TestUser): Promise<Obj> {
    switch (kind) {
      case 'campaign':
        return campaign(by);
      case 'draft':
      case 'paused':
        return campaign(by, kind);
      case 'submitted': {
        const c = await campaign(by);
        return { id: c.submitted!, campaignId: c.id, workerId: u.worker2.id };
      }
      case 'claimed': {
        const c = await campaign(u.requester);
        const claim = await t.http.post(`/api/work/campaigns/${c.id}/claim`).set(by.auth).expect(200);
        return { id: claim.body.assignmentId, campaignId: c.id };
      }
      case 'qualification': {
        const q = await t.http.post('/api/qualifications').set(by.auth).send({ name: `q-${randomUUID().slice(0, 12)}` }).expect(201);
        return { id: q.body.id };
      }
      case 'access-key': {
        const k = await t.http.post('/api/mturk/keys').set(by.auth).send({ label: 'matrix' }).expect(201);
        return { id: k.body.accessKeyId };
      }
      case 'webhook': {
        const w = await t.http.post('/api/webhooks').set(by.auth).send({ url: 'http://127.0.0.1:9/hook', events: ['task.completed'] }).expect(201);
        return { id: w.body.id };
      }
      case 'notification': {
        const [row] = await ds().query(`INSERT INTO worker_notifications (worker_id, sender_id, subject, message) VALUES ($1, $2, 'hello', 'a message') RETURNING id`, [by.id, u.requester.id]);
        return { id: row.id };
      }
    }
  }

  // ------------------------------------------------------------------ valid inputs per route
  /** What a valid call sends, where the default (every path parameter = the object's id, empty body) is not enough. */
  const INPUT: Record<string, (c: Ctx) => Call | Promise<Call>> = {
    'POST /api/auth/signup': () => ({ body: { email: `m-${randomUUID()}@test.tally`, password: 'correct horse battery', displayName: 'M', roles: ['worker'] } }),
    'POST /api/auth/login': () => ({ body: { email: u.requester.email, password: 'correct horse battery' } }),
    'POST /api/auth/refresh': () => ({ body: { refreshToken: `not-a-token-${randomUUID()}` } }),
    'POST /api/auth/logout': () => ({ body: { refreshToken: `not-a-token-${randomUUID()}` } }),
    'POST /api/stripe/webhook': () => ({ body: { id: 'evt_1', type: 'charge.refunded' } }),
    'POST /api/mturk': () => ({ body: {}, type: 'application/x-amz-json-1.1' }),
    'GET /api/mturk/frame/:token': () => ({ params: { token: 'not-a-token' } }),
    'POST /api/mturk/submit/:token/mturk/externalSubmit': () => ({ params: { token: 'not-a-token' }, body: 'answer=1', type: 'application/x-www-form-urlencoded' }),
    'GET /api/mturk/submit/:token/mturk/externalSubmit': () => ({ params: { token: 'not-a-token' }, query: { answer: '1' } }),
    'GET /api/images/:signature': () => ({ params: { signature: 'AAAA' }, query: { url: 'http://127.0.0.1:9/cat.png' } }),
    'POST /api/campaigns': () => ({ body: { name: 'matrix', taskType: 'single-label', labels: ['a', 'b'], rewardMinor: 5, currency: 'usd' } }),
    'PATCH /api/campaigns/:id': () => ({ body: { name: 'renamed' } }),
    'POST /api/campaigns/:id/items': () => ({ body: JSON.stringify([{ text: `new item ${randomUUID()}` }]), type: 'application/json' }),
    'POST /api/campaigns/:id/assignments/review': ({ obj }) => ({ params: { id: obj?.campaignId ?? randomUUID() }, body: { assignmentIds: [obj?.id ?? randomUUID()], decision: 'approve' } }),
    'POST /api/assignments/:id/reject': () => ({ body: { reason: 'not what was asked' } }),
    'PATCH /api/campaigns/:id/quality-rules': () => ({ body: { goldAction: 'flag' } }),
    'POST /api/funding/checkout': () => ({ body: { amountMinor: 500, currency: 'usd' } }),
    'POST /api/bonuses': ({ obj }) => ({ body: { campaignId: obj?.campaignId ?? randomUUID(), workerId: obj?.workerId ?? randomUUID(), amountMinor: 1, reason: 'great work', idempotencyKey: randomUUID() } }),
    'POST /api/mturk/keys': () => ({ body: { label: 'matrix' } }),
    'POST /api/webhooks': () => ({ body: { url: 'http://127.0.0.1:9/hook', events: ['task.completed'] } }),
    'PATCH /api/webhooks/:id': () => ({ body: { description: 'changed' } }),
    'POST /api/qualifications': () => ({ body: { name: `q-${randomUUID().slice(0, 12)}` } }),
    'POST /api/qualifications/:id/grants': ({ me }) => ({ body: me === 'admin' ? { workerId: u.worker.id } : { workerId: undefined, campaignId: openCampaign, pseudonym: 'W-unknown00' } }),
    'POST /api/qualifications/:id/revocations': ({ me }) => ({ body: me === 'admin' ? { workerId: u.worker.id } : { campaignId: openCampaign, pseudonym: 'W-unknown00' } }),
    'POST /api/work/campaigns/:id/claim': () => ({ params: { id: openCampaign } }),
    'POST /api/work/assignments/:id/submit': () => ({ body: { answer: { text: 'my answer' } } }),
    'POST /api/payouts/account': () => ({ body: { returnUrl: 'http://localhost/back', refreshUrl: 'http://localhost/again' } }),
    'GET /api/admin/users/:id': () => ({ params: { id: u.worker.id } }),
    'POST /api/admin/users/:id/block': async () => ({ params: { id: (await seedUsers(t, 1))[0].id }, body: { reason: 'matrix test' } }),
    'POST /api/admin/users/:id/unblock': async () => ({ params: { id: (await seedUsers(t, 1))[0].id }, body: {} }),
    'GET /api/admin/campaigns/:id': () => ({ params: { id: openCampaign } }),
    'POST /api/admin/ledger/credits': () => ({ body: { userId: u.requester.id, amountMinor: 1, currency: 'usd', reason: 'matrix credit' } }),
    'GET /api/admin/ledger/campaigns/:id': () => ({ params: { id: openCampaign } }),
    'GET /api/admin/ledger/users/:id/statement': () => ({ params: { id: u.requester.id } }),
    'GET /api/admin/campaigns/:id/agreement-audit': () => ({ params: { id: openCampaign } }),
    'GET /api/admin/workers/:id/quality': () => ({ params: { id: u.worker2.id } }),
    'GET /api/admin/campaigns/:id/workers': () => ({ params: { id: openCampaign } }),
    'POST /api/admin/quality/flags/:flagId/resolve': () => ({ params: { flagId: randomUUID() }, body: { reason: 'looked at it' } }),
    'POST /api/admin/campaigns/:id/blocks': async () => ({ params: { id: (await campaign(u.requester2)).id }, body: { workerId: u.worker2.id, reason: 'matrix block' } }),
    'POST /api/admin/campaigns/:id/blocks/:workerId/unblock': async () => {
      const c = await campaign(u.requester2);
      await t.http.post(`/api/admin/campaigns/${c.id}/blocks`).set(u.admin.auth).send({ workerId: u.worker2.id, reason: 'to be lifted' }).expect(200);
      return { params: { id: c.id, workerId: u.worker2.id }, body: { reason: 'lifted' } };
    },
  };

  const tokenOf = (p: Principal): Record<string, string> => (p === 'anonymous' ? {} : { authorization: u[p].auth.Authorization });

  async function send(route: Route, me: Principal, obj?: Obj): Promise<{ res: Reply; what: string }> {
    const call = (await INPUT[route.key]?.({ obj, me })) ?? {};
    const url =
      route.path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(call.params?.[name] ?? obj?.id ?? randomUUID())) +
      (call.query ? `?${new URLSearchParams(call.query)}` : '');
    const body = route.method === 'GET' ? undefined : typeof call.body === 'string' ? call.body : JSON.stringify(call.body ?? {});
    const res = await client.send({ method: route.method, url, headers: { ...tokenOf(me), ...(body !== undefined ? { 'content-type': call.type ?? 'application/json' } : {}) }, body });
    return { res, what: `${me} ${route.method} ${url}${body ? ` ${body.slice(0, 200)}` : ''} → ${res.status} ${res.text.slice(0, 300)}` };
  }

  const allows = (p: Policy, me: Principal) => p.allow === 'public' || (me !== 'anonymous' && (p.allow === 'authenticated' || p.allow.includes(me as Role)));
  const isOk = (p: Policy, status: number) => (p.ok ? p.ok.includes(status) : status >= 200 && status < 300);

  it('classifies every route of the app (a new route must be added to test/authz-policy.ts)', () => {
    const keys = routes.map((r) => r.key);
    expect(keys.filter((k) => !POLICY[k])).toEqual([]);
    expect(Object.keys(POLICY).filter((k) => !keys.includes(k))).toEqual([]); // nothing stale
  });

  it('answers each route × role × own / another’s object as the policy says, and never leaks gold, others’ answers or hashes', async () => {
    const wrong: string[] = [];
    let checks = 0;
    const leaks = (me: Principal, res: Reply, what: string) => {
      if (/\$argon2|passwordHash|password_hash/.test(res.text)) wrong.push(`password hash in the response: ${what}`);
      if (me === 'worker' && res.text.includes(GOLD)) wrong.push(`gold answer shown to a worker: ${what}`);
      if (me === 'worker' && res.text.includes(OTHERS_ANSWER)) wrong.push(`another worker's answer shown to a worker: ${what}`);
    };
    for (const route of routes) {
      const p = POLICY[route.key];
      if (!p) continue; // reported by the test above
      for (const me of PRINCIPALS) {
        const mayCall = allows(p, me);
        const obj = mayCall && p.owned && me !== 'anonymous' ? await make(p.owned, me === 'admin' ? owner(p.owned, true) : u[me]) : undefined;
        const { res, what } = await send(route, me, obj);
        checks++;
        leaks(me, res, what);
        const code = (res.json as { code?: string } | undefined)?.code;
        if (res.status >= 500) wrong.push(`server error: ${what}`);
        else if (!mayCall && me === 'anonymous') {
          if (res.status !== 401 || code !== 'UNAUTHENTICATED') wrong.push(`expected 401 UNAUTHENTICATED: ${what}`);
        } else if (!mayCall) {
          if (res.status !== 403 || code !== 'FORBIDDEN_ROLE') wrong.push(`expected 403 FORBIDDEN_ROLE: ${what}`);
        } else if (!isOk(p, res.status)) wrong.push(`expected ${p.ok?.join(' or ') ?? '2xx'} for ${p.owned ? 'its own object' : 'an allowed caller'}: ${what}`);

        // the same role on someone else's object (admins may act on any, so only requesters and workers)
        if (mayCall && p.owned && (me === 'requester' || me === 'worker')) {
          const theirs = await make(p.owned, owner(p.owned, false));
          const other = await send(route, me, theirs);
          checks++;
          leaks(me, other.res, other.what);
          if (other.res.status !== (p.other ?? 404)) wrong.push(`expected ${p.other ?? 404} for another's ${p.owned}: ${other.what}`);
        }
      }
    }
    console.log(`authz matrix: ${routes.length} routes, ${checks} checks`);
    expect(wrong).toEqual([]);
  }, 300_000);
});
