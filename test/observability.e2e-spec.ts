import request from 'supertest';
import { createTestApp, seedCampaign, seedUsers, TestApp } from '@tally/testing';

/** GET /metrics (Prometheus), GET /health, and request ids, on the real app. */
describe('observability: /metrics, /health, request ids (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  /** Value of one sample line `name{labels} value` (labels given as a substring that must match). */
  const sample = (text: string, name: string, labels: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line ? Number(line.split(' ').pop()) : undefined;
  };

  it('serves Prometheus text with HTTP latency by route pattern, claims, submissions, DB pool and job metrics', async () => {
    const [requester, worker] = await seedUsers(t, 2, ['requester', 'worker']);
    const c = await seedCampaign(t, requester.id, { redundancyMin: 1, redundancyMax: 1 }, 2);
    const before = (await t.http.get('/metrics').expect(200)).text;
    const claims0 = sample(before, 'tally_claims_total', 'outcome="claimed"') ?? 0;
    const stored0 = sample(before, 'tally_submissions_total', 'outcome="stored"') ?? 0;

    const claim = await t.http.post(`/api/work/campaigns/${c.id}/claim`).set(worker.auth).expect(200);
    await t.http.post(`/api/work/assignments/${claim.body.assignmentId}/submit`).set(worker.auth).send({ answer: { label: 'cat' } }).expect(200);
    await t.http.post(`/api/work/assignments/${claim.body.assignmentId}/submit`).set(worker.auth).send({ answer: { label: 'cat' } }).expect(200); // a retry
    await t.http.post(`/api/work/assignments/${claim.body.assignmentId}/submit`).set(worker.auth).send({ answer: { label: 'nope' } }).expect(409);
    await t.app.get((await import('@tally/jobs')).JobsService).runNow('sweep');

    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const m = res.text;
    expect(m).toContain('# TYPE tally_http_request_duration_seconds histogram');
    // labelled by the route pattern, never by ids
    expect(sample(m, 'tally_http_request_duration_seconds_count', 'route="/api/work/campaigns/:id/claim"')).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'tally_http_request_duration_seconds_count', 'route="/api/work/assignments/:id/submit",status="200"')).toBeGreaterThanOrEqual(2);
    expect(m).not.toContain(claim.body.assignmentId);
    expect(sample(m, 'tally_claims_total', 'outcome="claimed"')).toBe(claims0 + 1);
    expect(sample(m, 'tally_submissions_total', 'outcome="stored"')).toBe(stored0 + 1);
    expect(sample(m, 'tally_submissions_total', 'outcome="retry"')).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'tally_submissions_total', 'outcome="refused"')).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'tally_db_pool_connections', 'state="total"')).toBeGreaterThanOrEqual(1);
    expect(sample(m, 'tally_jobs_total', 'job="sweep",outcome="completed"')).toBeGreaterThanOrEqual(1);
    expect(m).toContain('tally_job_duration_seconds_bucket');
    expect(m).toContain('# TYPE tally_payouts_total counter');
    expect(m).toContain('tally_process_resident_memory_bytes');
    expect(m).toContain('tally_nodejs_eventloop_lag_p99_seconds');
    // /metrics is not under /api and needs no token when METRICS_TOKEN is unset
    await t.http.get('/api/metrics').expect(404);
  });

  it('protects /metrics with METRICS_TOKEN when set', async () => {
    const secured = await createTestApp({ METRICS_TOKEN: 'scrape-token-123' });
    try {
      const http = request(secured.app.getHttpServer());
      const denied = await http.get('/metrics').expect(401);
      expect(denied.body.message).toMatch(/METRICS_TOKEN/);
      await http.get('/metrics').set('Authorization', 'Bearer wrong-token-xyz').expect(401);
      const ok = await http.get('/metrics').set('Authorization', 'Bearer scrape-token-123').expect(200);
      expect(ok.text).toContain('tally_http_request_duration_seconds');
    } finally {
      await secured.close();
    }
  });

  it('moves /metrics off the API port when METRICS_PORT is set', async () => {
    const separate = await createTestApp({ METRICS_PORT: '39191' });
    try {
      await request(separate.app.getHttpServer()).get('/metrics').expect(404);
    } finally {
      await separate.close();
    }
  });

  it('/health reports PostgreSQL up and Redis disabled without REDIS_URL', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.checks.database.status).toBe('up');
    expect(res.body.checks.redis).toMatchObject({ status: 'disabled', mode: 'in-process' });
  });

  it('/health answers 503 naming the failed check when Redis is configured but unreachable', async () => {
    const broken = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: 'tally-unreachable' });
    try {
      const res = await request(broken.app.getHttpServer()).get('/health').expect(503);
      expect(res.body.status).toBe('error');
      expect(res.body.checks.database.status).toBe('up');
      expect(res.body.checks.redis.status).toBe('down');
    } finally {
      await broken.close();
    }
  });

  it('gives every response a request id, keeping one the caller sent', async () => {
    const a = await t.http.get('/health');
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const b = await t.http.get('/health').set('x-request-id', 'trace-abc-123');
    expect(b.headers['x-request-id']).toBe('trace-abc-123');
  });
});
