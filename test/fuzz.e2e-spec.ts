import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { expectedSignature, MturkRequesterService, toAmzDate } from '@tally/mturk';
import { createAdmin, createTestApp, FakeStripe, seedCampaign, signUp, startFakeStripe, TestApp, TestUser } from '@tally/testing';
import { GlobalExceptionFilter } from '../apps/api/src/common/exception.filter';
import { LocalClient, openApiDocument, openApiPath, RawRequest, Reply, Route, routeTable } from './route-table';

/**
 * Bad input across every endpoint (issue 6 item 4). The routes come from the running app's router
 * and the request shapes from its OpenAPI document, so a new route is fuzzed without being listed
 * here. Requests are generated with fast-check from a fixed seed (FUZZ_SEED to vary it, FUZZ_REQUESTS
 * to change the count) and sent 8 at a time over keep-alive connections; every failure is printed
 * with the request that caused it.
 *
 * Checked on every response:
 *  - no status >= 500;
 *  - a 4xx JSON body says what is wrong: a non-empty message (never a generic fallback), and a
 *    validation error names each field it lists;
 *  - the MTurk-compatible endpoint answers in AWS's error shape ({__type, message|Message});
 *  - a body smuggling role / balance / status / gold / reward / ... is never accepted (2xx).
 * And, deterministically: each such field on each JSON body is refused with a 400 naming it.
 */
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 11_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const CONCURRENCY = 8;

/** Fields a client must never be able to set through a create / update body it does not declare. */
const SMUGGLED = [
  'role', 'roles', 'admin', 'isAdmin', 'balance', 'balanceMinor', 'status', 'gold', 'goldAnswer', 'isGold', 'reward', 'rewardMinor',
  'workerId', 'requesterId', 'ownerId', 'userId', 'id', 'createdAt', 'passwordHash', 'escrowMinor', 'amountMinor', 'feeBps', 'exposures',
];

type Principal = 'anonymous' | 'garbage' | 'worker' | 'requester' | 'admin';
const REAL: Principal[] = ['worker', 'requester', 'admin'];

// ------------------------------------------------------------------------ hostile values
const HUGE = 'x'.repeat(100_000);
const DEEP_ARRAY = JSON.parse('['.repeat(3000) + ']'.repeat(3000));
const DEEP_OBJECT = Array.from({ length: 500 }).reduce<unknown>((acc) => ({ a: acc }), {});
const nastyStrings = fc.constantFrom(
  '', ' ', '\u0000', 'null', 'undefined', 'NaN', 'true', '-1', '1e309', '0x1f', '1.5', "' OR 1=1 --", '"; DROP TABLE users; --',
  '<script>alert(1)</script>', '../../../../etc/passwd', '%00', '%E0%A4%A', '\uD800', '\uFEFF', '\u202Eevil', '🙂'.repeat(300),
  'Ω≈ç√∫˜µ≤≥÷', '𝕿𝖆𝖑𝖑𝖞', '${jndi:ldap://x}', '{{7*7}}', 'a'.repeat(5000), HUGE, '__proto__', 'constructor',
);
const badUuids = fc.constantFrom(
  'not-a-uuid', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '123', '-1', '0', 'null',
  'e3b0c442-98fc-1c14-9afb-f4c8996fb924x', 'E3B0C44298FC1C149AFBF4C8996FB924', '{e3b0c442-98fc-1c14-9afb-f4c8996fb924}',
  'e3b0c442-98fc-1c14-9afb-f4c8996fb92', "e3b0c442-98fc-1c14-9afb-f4c8996fb924' OR '1'='1", '%2e%2e', '..', 'undefined',
);
const anyString = fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }, { weight: 3, arbitrary: nastyStrings });
const hostileNumber = fc.oneof(
  fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(-1, 0, -0, 0.5, 1.0000001, -0.01, 1e21, 1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 2 ** 31, -(2 ** 31) - 1, 2 ** 63, 99_999_999.5),
);
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: anyString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 1, arbitrary: badUuids },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], JSON.parse('{"__proto__":{"admin":true}}'), DEEP_ARRAY, DEEP_OBJECT, [HUGE, HUGE], { $gt: '' }, { toString: 'x' }) },
);

// ------------------------------------------------------------------------ OpenAPI-driven values
type Schema = { $ref?: string; type?: string; format?: string; enum?: unknown[]; items?: Schema; properties?: Record<string, Schema>; required?: string[];
  minimum?: number; maximum?: number; example?: unknown; nullable?: boolean; allOf?: Schema[]; oneOf?: Schema[]; anyOf?: Schema[] };

interface World {
  ids: string[];
  schemas: Record<string, Schema>;
}

const deref = (s: Schema | undefined, w: World): Schema => {
  let cur = s ?? {};
  for (let i = 0; cur.$ref && i < 10; i++) cur = w.schemas[cur.$ref.split('/').pop()!] ?? {};
  if (cur.allOf?.length === 1) return deref(cur.allOf[0], w);
  return cur;
};

/** A value the schema would accept (as far as OpenAPI tells: class-validator limits are not all in it). */
function validValue(s0: Schema | undefined, w: World, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(s0, w);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  if (s.example !== undefined && depth > 0) return fc.oneof(fc.constant(s.example), plain(s, w, depth));
  return plain(s, w, depth);
}
function plain(s: Schema, w: World, depth: number): fc.Arbitrary<unknown> {
  switch (s.type) {
    case 'string':
      if (s.format === 'uuid') return fc.constantFrom(...w.ids);
      if (s.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      return fc.oneof(fc.constantFrom(...w.ids), fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom('usd', 'eur', 'a valid reason', 'http://localhost/x'));
    case 'integer':
    case 'number':
      return fc.integer({ min: Math.ceil(s.minimum ?? 0), max: Math.floor(Math.min(s.maximum ?? 10_000, 10_000_000)) });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(depth > 3 ? fc.string() : validValue(s.items, w, depth + 1), { maxLength: 4 });
    case 'object':
    default:
      if (s.properties && depth < 4) return objectOf(s, w, depth, false);
      return fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.constantFrom({ label: 'cat' }, { text: 'hello' }, { labels: ['cat'] }));
  }
}
/** The schema's value, or (1 in 4) something hostile in its place. */
function fuzzValue(s: Schema | undefined, w: World, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: validValue(s, w, depth) }, { weight: 1, arbitrary: junk });
}
function objectOf(s: Schema, w: World, depth: number, hostile: boolean): fc.Arbitrary<Record<string, unknown>> {
  const props = Object.entries(s.properties ?? {});
  const required = new Set(s.required ?? []);
  const model = Object.fromEntries(props.map(([k, v]) => [k, hostile ? fuzzValue(v, w, depth + 1) : validValue(v, w, depth + 1)]));
  // valid-looking: required keys present; hostile: any subset (missing fields) plus smuggled or junk keys
  const rec = fc.record(model, { requiredKeys: hostile ? [] : props.map(([k]) => k).filter((k) => required.has(k)) });
  if (!hostile) return rec;
  return fc.tuple(rec, fc.option(fc.dictionary(fc.oneof(fc.constantFrom(...SMUGGLED), fc.string({ maxLength: 12 })), junk, { maxKeys: 3 }), { freq: 3 })).map(([r, extra]) => ({ ...r, ...(extra ?? {}) }));
}

// ------------------------------------------------------------------------ requests
interface FuzzRequest extends RawRequest {
  route: string;
  principal: Principal | 'sigv4';
  /** the JSON object body carried one of SMUGGLED at its top level */
  smuggled?: string;
}

const JSON_TYPES = fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain',
  'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/xml', 'multipart/form-data; boundary=x', '');

/** Encodes a body the way a client (or an attacker) might send it. */
const bodyEncoding = (value: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 12, arbitrary: value.map((v) => ({ body: JSON.stringify(v) ?? 'null', type: 'application/json', value: v })) },
    { weight: 1, arbitrary: fc.tuple(value, JSON_TYPES).map(([v, type]) => ({ body: JSON.stringify(v) ?? '', type, value: undefined as unknown })) },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '{"a":1,}', "{'a':1}", 'NaN', '[1,2', '\u0000', '{"a":"\\uZZZZ"}', '{"__proto__":{"admin":true}}', '').map((body) => ({ body, type: 'application/json', value: undefined as unknown })) },
    { weight: 1, arbitrary: junk.map((v) => ({ body: JSON.stringify(v) ?? 'null', type: 'application/json', value: v })) },
  );

function queryString(params: { name: string; schema?: Schema }[], w: World): fc.Arbitrary<string> {
  const known = params.map((p) => fc.option(fc.oneof({ weight: 3, arbitrary: validValue(p.schema, w) }, { weight: 2, arbitrary: junk }).map((v) => [p.name, v] as const), { freq: 2 }));
  const extra = fc.option(fc.array(fc.tuple(fc.oneof(fc.constantFrom(...SMUGGLED, 'limit', 'offset', '__proto__', 'constructor[prototype]', 'a[b]', ''), fc.string({ maxLength: 8 })), junk), { maxLength: 3 }), { freq: 4 });
  return fc.tuple(fc.tuple(...known), extra, fc.boolean()).map(([pairs, more, repeat]) => {
    const q = new URLSearchParams();
    for (const pv of [...pairs, ...(more ?? [])]) {
      if (!pv) continue;
      const [k, v] = pv;
      const s = typeof v === 'string' ? v : JSON.stringify(v) ?? '';
      q.append(k, s.length > 5000 ? s.slice(0, 5000) : s);
      if (repeat && k === 'limit') q.append(k, s); // ?limit=1&limit=2 arrives as an array
    }
    const str = q.toString();
    return str ? `?${str}` : '';
  });
}

const pathValue = (w: World) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...w.ids) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: badUuids },
    { weight: 2, arbitrary: anyString.filter((s) => s.length < 3000) },
  ).map(encodePathSegment);

/** encodeURIComponent, except that a lone surrogate goes out as the invalid UTF-8 bytes %ED%A0%80. */
function encodePathSegment(v: string): string {
  return [...v].map((ch) => {
    try {
      return encodeURIComponent(ch);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

describe('fuzz: malformed and random requests against every endpoint (e2e)', () => {
  let t: TestApp;
  let fake: FakeStripe;
  let client: LocalClient;
  let routes: Route[];
  let doc: ReturnType<typeof openApiDocument>;
  const users = {} as Record<'worker' | 'requester' | 'admin' | 'requester2' | 'worker2', TestUser>;
  let world: World;
  let mturkKey: { accessKeyId: string; secretAccessKey: string };
  let mturkOps: string[];
  const admitted = new Map<string, Principal[]>();
  const stripeSigner = new Stripe('sk_test_signer');

  const tokenHeader = (p: Principal): Record<string, string> =>
    // 'garbage' is an unsigned ("alg": "none") token claiming the admin role
    p === 'anonymous' ? {} : p === 'garbage' ? { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZXMiOlsiYWRtaW4iXX0.' } : { authorization: users[p].auth.Authorization };

  /** The server-side cause of each 500, by the errorId the response carries (the app's logger is silent in tests). */
  const causes = new Map<string, string>();
  const toBody = GlobalExceptionFilter.prototype.toBody;
  jest.spyOn(GlobalExceptionFilter.prototype, 'toBody').mockImplementation(function (this: GlobalExceptionFilter, err: unknown) {
    const body = toBody.call(this, err);
    if (body.errorId) causes.set(body.errorId, String((err as Error)?.stack ?? err).split('\n').slice(0, 6).join('\n      '));
    return body;
  });

  beforeAll(async () => {
    fake = await startFakeStripe();
    t = await createTestApp(fake.env({ STRIPE_TIMEOUT_MS: '2000' }));
    client = await LocalClient.listen(t.app);
    routes = routeTable(t.app);
    doc = openApiDocument(t.app);
    users.requester = await signUp(t, ['requester']);
    users.requester2 = await signUp(t, ['requester']);
    users.worker = await signUp(t, ['worker']);
    users.worker2 = await signUp(t, ['worker']);
    users.admin = await createAdmin(t);
    // objects to aim at: real ids make requests reach past "not found" into the use cases
    const open = await seedCampaign(t, users.requester.id, { taskType: 'text', labels: [] }, [
      ...Array.from({ length: 6 }, (_, i) => ({ payload: { text: `t${i}` } })),
      { payload: { text: 'g' }, gold: { text: 'SECRET-GOLD' } },
    ]);
    const draft = await seedCampaign(t, users.requester.id, { status: 'draft' }, 2);
    const other = await seedCampaign(t, users.requester2.id, {}, 3);
    const ids = [open.id, draft.id, other.id, ...open.taskIds.slice(0, 2), ...Object.values(users).map((u) => u.id)];
    for (const w of [users.worker, users.worker2]) {
      const claim = await t.http.post(`/api/work/campaigns/${open.id}/claim`).set(w.auth).expect(200);
      ids.push(claim.body.assignmentId);
      await t.http.post(`/api/work/assignments/${claim.body.assignmentId}/submit`).set(w.auth).send({ answer: { text: 'an answer' } }).expect(200);
      ids.push((await t.http.post(`/api/work/campaigns/${open.id}/claim`).set(w.auth).expect(200)).body.assignmentId);
    }
    const q = await t.http.post('/api/qualifications').set(users.requester.auth).send({ name: `fuzz-${randomUUID().slice(0, 8)}` }).expect(201);
    ids.push(q.body.id);
    const key = await t.http.post('/api/mturk/keys').set(users.requester.auth).send({ label: 'fuzz' }).expect(201);
    mturkKey = { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey };
    mturkOps = Object.keys(t.app.get(MturkRequesterService).operations);
    world = { ids, schemas: (doc.components?.schemas ?? {}) as Record<string, Schema> };
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await t?.close();
    await fake?.stop();
  });

  const operationOf = (r: Route) => (doc.paths[openApiPath(r.path)] as Record<string, { parameters?: { name: string; in: string; schema?: Schema }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }> | undefined)?.[r.method.toLowerCase()];
  const bodySchemaOf = (r: Route): Schema | undefined => operationOf(r)?.requestBody?.content?.['application/json']?.schema;
  const isMturkRpc = (r: Route) => r.method === 'POST' && /\/mturk$/.test(r.path);
  const isStripeWebhook = (r: Route) => /\/stripe\/webhook$/.test(r.path);
  const isStreamedImport = (r: Route) => r.method === 'POST' && /\/items$/.test(r.path);

  /** A signed (or, 1 in 5, wrongly signed) MTurk JSON-1.1 call. */
  const mturkRequest = (r: Route): fc.Arbitrary<FuzzRequest> => {
    const input = fc.dictionary(
      fc.oneof(fc.constantFrom('HITId', 'HITTypeId', 'AssignmentId', 'WorkerId', 'Reward', 'MaxAssignments', 'LifetimeInSeconds', 'AssignmentDurationInSeconds', 'Question', 'Title',
        'Description', 'Keywords', 'UniqueRequestToken', 'MaxResults', 'NextToken', 'AssignmentStatuses', 'BonusAmount', 'Reason', 'RequesterFeedback', 'QualificationTypeId',
        'Status', 'ExpireAt', 'NumberOfAdditionalAssignments', 'OverrideRejection', 'HITLayoutId', 'AutoApprovalDelayInSeconds', 'QualificationRequirements'), fc.string({ maxLength: 10 })),
      fc.oneof({ weight: 2, arbitrary: junk }, { weight: 1, arbitrary: fc.constantFrom(...world.ids) }, { weight: 1, arbitrary: fc.constantFrom('0.05', '-1', '1e9', '0.001', 'abc', '<QuestionForm/>', '<HTMLQuestion><HTMLContent>x</HTMLContent></HTMLQuestion>') }),
      { maxKeys: 6 },
    );
    const body = fc.oneof({ weight: 8, arbitrary: input.map((v) => JSON.stringify(v)) }, { weight: 1, arbitrary: junk.map((v) => JSON.stringify(v) ?? '') }, { weight: 1, arbitrary: fc.constantFrom('{', 'not json', '') });
    const target = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...mturkOps).map((op) => `MTurkRequesterServiceV20170117.${op}`) }, { weight: 1, arbitrary: anyString.map((s) => s.replace(/[^\x20-\x7e]/g, '')) });
    const signing = fc.constantFrom('good', 'good', 'good', 'good', 'bad-signature', 'none', 'garbage-header');
    return fc.tuple(body, target, signing, fc.constantFrom('application/x-amz-json-1.1', 'application/x-amz-json-1.1', 'application/json')).map(([b, tgt, how, type]) => ({
      route: r.key, principal: 'sigv4' as const, method: 'POST', url: r.path, headers: mturkHeaders(r.path, b, tgt, type, how), body: b,
    }));
  };

  /** SigV4 headers as an AWS SDK sends them (or deliberately wrong / missing). */
  const mturkHeaders = (path: string, body: string, target: string, type: string, how: string): Record<string, string> => {
    const headers: Record<string, string> = { 'content-type': type, 'x-amz-target': target, 'x-amz-date': toAmzDate(new Date()), host: client.host };
    if (how === 'garbage-header') headers.authorization = 'AWS4-HMAC-SHA256 Credential=nonsense';
    else if (how !== 'none') {
      const parsed = { accessKeyId: mturkKey.accessKeyId, scopeDate: headers['x-amz-date'].slice(0, 8), region: 'us-east-1', service: 'mturk-requester',
        signedHeaders: ['content-type', 'host', 'x-amz-date', 'x-amz-target'], signature: '', amzDate: headers['x-amz-date'], requestTime: new Date() };
      const sig = expectedSignature({ method: 'POST', path, query: '', headers, body: Buffer.from(body) }, parsed, mturkKey.secretAccessKey);
      headers.authorization = `AWS4-HMAC-SHA256 Credential=${mturkKey.accessKeyId}/${parsed.scopeDate}/us-east-1/mturk-requester/aws4_request, SignedHeaders=${parsed.signedHeaders.join(';')}, Signature=${how === 'bad-signature' ? sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) : sig}`;
    }
    return headers;
  };

  /** Stripe deliveries: junk events, signed right or wrong, stale or fresh. */
  const stripeRequest = (r: Route): fc.Arbitrary<FuzzRequest> => {
    const event = fc.record({
      id: fc.oneof(fc.constant(`evt_${randomUUID()}`), anyString),
      type: fc.oneof(fc.constantFrom('checkout.session.completed', 'payment_intent.succeeded', 'account.updated', 'transfer.created', 'transfer.reversed', 'payout.failed', 'charge.refunded'), anyString),
      object: fc.constant('event'),
      created: fc.oneof({ weight: 4, arbitrary: fc.constant(Math.floor(Date.now() / 1000)) }, { weight: 1, arbitrary: junk }),
      data: fc.record({
        object: fc.record({
          id: fc.oneof(fc.constant(`cs_${randomUUID()}`), anyString),
          mode: fc.constantFrom('payment', 'setup', 7),
          payment_status: fc.constantFrom('paid', 'unpaid', null),
          payment_intent: fc.oneof(fc.constant(`pi_${randomUUID()}`), junk),
          metadata: fc.oneof(fc.record({ userId: fc.oneof(fc.constantFrom(...world.ids), junk) }), junk),
          amount_total: fc.oneof(fc.integer({ min: 1, max: 100_000 }), hostileNumber, junk),
          amount: fc.oneof(fc.integer({ min: 1, max: 100_000 }), hostileNumber),
          currency: fc.oneof(fc.constantFrom('usd', 'eur', 'USD'), anyString),
          object: fc.constantFrom('checkout.session', 'payment_intent', 'charge', 'account', 'transfer', 'x'),
          destination: anyString,
        }, { requiredKeys: [] }),
      }),
    }, { requiredKeys: ['id', 'type', 'created', 'data'] });
    return fc.tuple(fc.oneof({ weight: 4, arbitrary: event.map((e) => JSON.stringify(e)) }, { weight: 1, arbitrary: junk.map((v) => JSON.stringify(v) ?? '') }),
      fc.constantFrom('good', 'good', 'stale', 'wrong-secret', 'none', 'garbage')).map(([body, how]) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (how === 'garbage') headers['stripe-signature'] = 't=abc,v1=zzz';
      else if (how !== 'none')
        headers['stripe-signature'] = stripeSigner.webhooks.generateTestHeaderString({ payload: body, secret: how === 'wrong-secret' ? 'whsec_wrong' : fake.webhookSecret,
          timestamp: how === 'stale' ? Math.floor(Date.now() / 1000) - 3600 : undefined });
      return { route: r.key, principal: 'anonymous' as const, method: 'POST', url: r.path, headers, body };
    });
  };

  /** Bulk item files: JSON, JSONL and CSV with junk rows, wrong types, huge cells. */
  const importBody = fc.oneof(
    fc.array(fc.oneof(fc.record({ payload: fc.oneof(fc.constant({ text: 'x' }), junk), gold: junk }, { requiredKeys: [] }), junk), { maxLength: 6 }).map((rows) => ({ body: JSON.stringify(rows), type: 'application/json' })),
    fc.array(junk, { maxLength: 6 }).map((rows) => ({ body: rows.map((r) => JSON.stringify(r)).join('\n'), type: 'application/x-ndjson' })),
    fc.array(fc.array(anyString.filter((s) => s.length < 2000), { maxLength: 4 }), { maxLength: 5 }).map((rows) => ({ body: ['text,gold', ...rows.map((r) => r.join(','))].join('\n'), type: 'text/csv' })),
    fc.tuple(anyString, JSON_TYPES).map(([body, type]) => ({ body, type })),
  );

  const requestFor = (r: Route): fc.Arbitrary<FuzzRequest> => {
    if (isMturkRpc(r)) return mturkRequest(r);
    if (isStripeWebhook(r)) return stripeRequest(r);
    const op = operationOf(r);
    const query = queryString((op?.parameters ?? []).filter((p) => p.in === 'query'), world);
    const path = fc.tuple(...r.params.map(() => pathValue(world))).map((vals) => {
      let i = 0;
      return r.path.replace(/:(\w+)/g, () => vals[i++]);
    });
    const ok = admitted.get(r.key) ?? REAL;
    const principal = fc.oneof(
      { weight: 15, arbitrary: fc.constantFrom(...(ok.length ? ok : REAL)) },
      { weight: 2, arbitrary: fc.constantFrom(...REAL) },
      { weight: 1, arbitrary: fc.constant<Principal>('anonymous') },
      { weight: 1, arbitrary: fc.constant<Principal>('garbage') },
    );
    const schema = bodySchemaOf(r);
    const body =
      r.method === 'GET'
        ? fc.constant(undefined)
        : isStreamedImport(r)
          ? importBody.map((b) => ({ ...b, value: undefined as unknown }))
          : bodyEncoding(schema ? objectOf(deref(schema, world), world, 0, true) : fc.oneof(fc.constant({}), fc.dictionary(fc.oneof(fc.constantFrom(...SMUGGLED), fc.string({ maxLength: 8 })), junk, { maxKeys: 3 })));
    return fc.tuple(path, query, principal, body).map(([p, q, who, b]) => {
      const headers: Record<string, string> = { ...tokenHeader(who) };
      if (b) headers['content-type'] = b.type;
      const value = b?.value;
      const smuggled = value && typeof value === 'object' && !Array.isArray(value) && b?.type === 'application/json' && schema
        ? Object.keys(value).find((k) => SMUGGLED.includes(k) && !(k in (deref(schema, world).properties ?? {})))
        : undefined;
      return { route: r.key, principal: who, method: r.method, url: p + q, headers, body: b?.body, smuggled };
    });
  };

  /** Which roles get past each route's guard (a 403 FORBIDDEN_ROLE says not), probed once. */
  const probeRoles = async (record: (req: FuzzRequest, res: Reply) => void = () => undefined) => {
    if (admitted.size) return;
    await Promise.all(
      routes.map(async (r) => {
        const ok: Principal[] = [];
        for (const p of REAL) {
          const req: FuzzRequest = { route: r.key, principal: p, method: r.method, url: r.path.replace(/:(\w+)/g, () => randomUUID()), headers: { ...tokenHeader(p), 'content-type': 'application/json' }, body: r.method === 'GET' ? undefined : '{}' };
          const res = await client.send(req);
          record(req, res);
          if (!(res.status === 403 && (res.json as { code?: string })?.code === 'FORBIDDEN_ROLE')) ok.push(p);
        }
        admitted.set(r.key, ok);
      }),
    );
  };

  /** What is wrong with this response, if anything. */
  const problemWith = (req: FuzzRequest, res: Reply): string | undefined => {
    if (res.status >= 500) return `status ${res.status}`;
    if (req.smuggled && res.status < 300) return `accepted the smuggled field "${req.smuggled}"`;
    if (res.status < 400) return undefined;
    if (res.status === 431 || res.status === 414) return undefined; // Node's HTTP parser: headers / URL too long, before any app code
    if (req.route.endsWith(' /api/mturk')) {
      const b = res.json as { __type?: string; message?: string; Message?: string } | undefined;
      if (!b?.__type || !(b.message ?? b.Message)) return 'MTurk error without __type and message';
      return undefined;
    }
    if (res.json === undefined) return /^\/(api|health|metrics)/.test(req.url) ? `non-JSON ${res.status} (${String(res.headers['content-type'])}): ${res.text.slice(0, 120)}` : undefined;
    const b = res.json as { statusCode?: number; code?: string; message?: unknown; fields?: { field: string; problem: string }[] };
    if (typeof b.message !== 'string' || b.message.trim().length < 8) return 'no message saying what is wrong';
    if (b.statusCode !== res.status) return `statusCode ${b.statusCode} in a ${res.status} response`;
    if (b.code === 'INVALID_VALUE' || /^(Bad Request|Something went wrong|Validation failed)/i.test(b.message)) return `generic message "${b.message}": which value?`;
    if (b.code === 'VALIDATION_FAILED') {
      if (!b.fields?.length) return 'validation error without fields';
      const message = b.message;
      const unnamed = b.fields.find((f) => !message.includes(f.field));
      if (unnamed) return `validation message does not name ${unnamed.field}`;
    }
    return undefined;
  };

  const describeRequest = (req: FuzzRequest) => {
    const body = req.body === undefined ? '' : ` body(${String(req.headers?.['content-type'])})=${String(req.body).slice(0, 300)}${String(req.body).length > 300 ? `… (${String(req.body).length} chars)` : ''}`;
    return `${req.principal} ${req.method} ${req.url.slice(0, 300)}${body}`;
  };

  it(`sends ${TOTAL} hostile requests across every route: no 5xx, every 4xx says what is wrong, nothing smuggled is accepted`, async () => {
    const started = Date.now();
    const histogram = new Map<number, number>();
    const perRoute = new Map<string, number>();
    const failures = new Map<string, string>();
    let sent = 0;
    const timeByRoute = new Map<string, number>();
    const record = (req: FuzzRequest, res: Reply, ms = 0) => {
      sent++;
      timeByRoute.set(req.route, (timeByRoute.get(req.route) ?? 0) + ms);
      histogram.set(res.status, (histogram.get(res.status) ?? 0) + 1);
      perRoute.set(req.route, (perRoute.get(req.route) ?? 0) + 1);
      const p = problemWith(req, res);
      const key = `${req.route} ${res.status} ${p}`;
      const cause = causes.get(String((res.json as { errorId?: string } | undefined)?.errorId));
      if (p && !failures.has(key)) failures.set(key, `${p}\n    request:  ${describeRequest(req)}\n    response: ${res.status} ${res.text.slice(0, 400)}${cause ? `\n    cause:    ${cause}` : ''}`);
    };

    // 1. which roles get past each route's guard (a 403 FORBIDDEN_ROLE says not): the fuzz then
    //    mostly sends callers that reach validation and the use case
    await probeRoles(record);

    // 2. the fuzz proper, routes interleaved
    const perRouteCount = Math.ceil((TOTAL - sent) / routes.length);
    const perRouteRequests = routes.map((r, i) => fc.sample(requestFor(r), { numRuns: perRouteCount, seed: SEED + i }));
    // interleaved, so that no route's run of requests sees only the state another left behind
    const requests = Array.from({ length: perRouteCount }, (_, k) => perRouteRequests.map((list) => list[k])).flat();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const req = requests[next++];
          try {
            const t0 = Date.now();
            const res = await client.send(req);
            record(req, res, Date.now() - t0);
          } catch (err) {
            failures.set(`${req.route} transport`, `transport error ${(err as Error).message}\n    request: ${describeRequest(req)}`);
          }
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;

    const hist = [...histogram.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ');
    console.log(
      `fuzz: seed ${SEED}, ${sent} requests over ${routes.length} routes in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s)\n` +
        `status histogram: ${hist}\n` +
        `slowest routes (total ms): ${[...timeByRoute.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${k} ${n}`).join('; ')}\n` +
        `fewest per route: ${[...perRoute.entries()].sort((a, b) => a[1] - b[1]).slice(0, 3).map(([k, n]) => `${k} ${n}`).join('; ')}`,
    );
    if (failures.size) throw new Error(`${failures.size} kinds of failure (seed ${SEED}):\n\n${[...failures.values()].slice(0, 40).join('\n\n')}`);
    expect(routes.length).toBeGreaterThan(50);
    expect(sent).toBeGreaterThanOrEqual(Math.min(TOTAL, 10_000));
    expect(routes.filter((r) => (perRoute.get(r.key) ?? 0) < Math.min(50, TOTAL / routes.length / 2)).map((r) => r.key)).toEqual([]);
  }, 600_000);

  it('refuses role, balance, status, gold, reward, ids ... on every JSON body with a 400 naming the field', async () => {
    await probeRoles();
    const refusals: string[] = [];
    let checked = 0;
    for (const r of routes) {
      const schema = bodySchemaOf(r);
      if (!schema || isMturkRpc(r) || isStripeWebhook(r) || isStreamedImport(r)) continue;
      const s = deref(schema, world);
      const who = (admitted.get(r.key) ?? REAL)[0] ?? 'admin';
      const base = fc.sample(objectOf(s, world, 0, false), { numRuns: 1, seed: SEED })[0];
      // nested objects (e.g. a campaign's qualification) are whitelisted too
      const nested = Object.entries(s.properties ?? {}).filter(([, v]) => deref(v, world).properties).map(([k]) => k);
      for (const field of SMUGGLED.filter((f) => !(f in (s.properties ?? {})))) {
        for (const where of [undefined, ...nested]) {
          const body = where ? { ...base, [where]: { ...(base[where] as object), [field]: 'x' } } : { ...base, [field]: field === 'roles' ? ['admin'] : 1 };
          const name = where ? `${where}.${field}` : field;
          const url = r.path.replace(/:(\w+)/g, () => randomUUID());
          const res = await client.send({ method: r.method, url, headers: { ...tokenHeader(who), 'content-type': 'application/json' }, body: JSON.stringify(body) });
          checked++;
          const b = res.json as { fields?: { field: string }[]; message?: string } | undefined;
          if (res.status !== 400 || !b?.fields?.some((f) => f.field === name) || !b.message?.includes(name))
            refusals.push(`${who} ${r.key} with "${name}": ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
    }
    console.log(`smuggled fields: ${checked} requests`);
    expect(checked).toBeGreaterThan(200);
    expect(refusals).toEqual([]);
  }, 120_000);

  it('still accepts what is well formed, and names what is not (the oracles above are not vacuous)', async () => {
    const json = { 'content-type': 'application/json' };
    const mturk = routes.find(isMturkRpc)!;
    const balance = await client.send({ method: 'POST', url: mturk.path, headers: mturkHeaders(mturk.path, '{}', 'MTurkRequesterServiceV20170117.GetAccountBalance', 'application/x-amz-json-1.1', 'good'), body: '{}' });
    expect(balance.status).toBe(200);
    expect(balance.json).toHaveProperty('AvailableBalance');

    const event = fake.event('charge.dispute.closed', { id: 'dp_1', object: 'dispute' });
    const signed = fake.sign(event);
    expect((await client.send({ method: 'POST', url: '/api/stripe/webhook', headers: { ...json, 'stripe-signature': signed.signature }, body: signed.body })).status).toBe(200);
    const { created: _created, ...undated } = event;
    const bad = fake.sign(undated);
    const refused = await client.send({ method: 'POST', url: '/api/stripe/webhook', headers: { ...json, 'stripe-signature': bad.signature }, body: bad.body });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: 'STRIPE_EVENT_MALFORMED', message: expect.stringMatching(/created/) });

    // found by the fuzz (seed 2): an account.updated naming a user that does not exist was a foreign-key 500
    const deliver = async (type: string, object: Record<string, unknown>) => {
      const d = fake.sign(fake.event(type, object));
      return client.send({ method: 'POST', url: '/api/stripe/webhook', headers: { ...json, 'stripe-signature': d.signature }, body: d.body });
    };
    expect((await deliver('account.updated', { id: `acct_${randomUUID()}`, object: 'account', metadata: { userId: randomUUID() } })).json).toMatchObject({ outcome: 'ignored: metadata.userId is not a user' });
    expect((await deliver('checkout.session.completed', { id: `cs_${randomUUID()}`, object: 'checkout.session', mode: 'payment', payment_status: 'paid', amount_total: 500, currency: 'usd', metadata: { userId: 'not-a-user' } })).json)
      .toMatchObject({ outcome: expect.stringMatching(/^ignored: USER_NOT_FOUND/) });

    const nothing = stripeSigner.webhooks.generateTestHeaderString({ payload: 'null', secret: fake.webhookSecret });
    expect((await client.send({ method: 'POST', url: '/api/stripe/webhook', headers: { ...json, 'stripe-signature': nothing }, body: 'null' })).json).toMatchObject({ statusCode: 400, code: 'STRIPE_EVENT_MALFORMED' });

    const auth = { ...json, authorization: users.requester.auth.Authorization };
    const badId = await client.send({ method: 'GET', url: '/api/campaigns/not-a-uuid', headers: auth });
    expect(badId.json).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', message: 'id: must be a UUID', fields: [{ field: 'id', problem: 'must be a UUID' }] });
    const deep = await client.send({ method: 'POST', url: '/api/campaigns', headers: auth, body: JSON.stringify({ name: DEEP_ARRAY }) });
    expect(deep.json).toMatchObject({ statusCode: 400, code: 'ENTITY_TOO_DEEP', message: expect.stringMatching(/^body\.name(\[0\])+: nested deeper than 64 levels$/) });
    const lone = await client.send({ method: 'POST', url: '/api/campaigns', headers: auth, body: '{"name":"ok","labels":["a","\\ud800"]}' });
    expect(lone.json).toMatchObject({ statusCode: 400, code: 'ENTITY_INVALID_UNICODE', message: 'body.labels[1]: contains an unpaired UTF-16 surrogate (not valid Unicode)' });
    // found by the fuzz (seed 5): a NUL character reached PostgreSQL from a path parameter (and a signed webhook event)
    const nul = await client.send({ method: 'POST', url: '/api/mturk/keys/%00/revoke', headers: auth, body: '{}' });
    expect(nul.json).toMatchObject({ statusCode: 400, code: 'URL_INVALID', message: expect.stringMatching(/^url: contains a NUL character/) });
    const nulBody = await client.send({ method: 'POST', url: '/api/campaigns', headers: auth, body: '{"name":"a\\u0000b"}' });
    expect(nulBody.json).toMatchObject({ statusCode: 400, message: 'body.name: contains a NUL character (\\u0000), which cannot be stored' });
    const far = await client.send({ method: 'GET', url: '/api/campaigns?offset=9223372036854775807', headers: auth });
    expect(far.json).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', fields: [expect.objectContaining({ field: 'offset' })] });
  });
});
