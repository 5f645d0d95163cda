import { createHmac } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { createTestApp, seedCampaign, signUp, TestApp } from '@tally/testing';

/**
 * Auth hardening and hostile input on the real app (issue 6, part 6): failed-login throttling,
 * forged access tokens, body limits and malformed JSON, security headers, CORS, pagination caps,
 * and the image proxy that keeps item URLs from reaching internal addresses.
 */
const SECRET = 'test-secret-test-secret-test-secret-0123'; // createTestApp's JWT_SECRET
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const hmac = (alg: 'sha256' | 'sha512', data: string, secret = SECRET) => createHmac(alg, secret).update(data).digest('base64url');
function jwt(claims: Record<string, unknown>, opts: { alg?: string; secret?: string } = {}): string {
  const alg = opts.alg ?? 'HS256';
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  if (alg === 'none') return `${head}.`;
  return `${head}.${hmac(alg === 'HS512' ? 'sha512' : 'sha256', head, opts.secret)}`;
}

describe('security hardening (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOGIN_MAX_FAILURES: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '6', LOGIN_MAX_FAILURES_PER_IP: '10', CORS_ORIGINS: 'https://app.example.com', BODY_LIMIT: '64kb' });
  });
  afterAll(() => t?.close());

  const login = (email: string, password: string, ip: string) => t.http.post('/api/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  describe('failed-login throttling', () => {
    it('refuses an account from an address after 3 failures, even with the right password, with Retry-After', async () => {
      const w = await signUp(t, ['worker']);
      for (let i = 0; i < 3; i++) expect((await login(w.email, 'wrong password!', '203.0.113.1')).status).toBe(401);
      const res = await login(w.email, 'correct horse battery', '203.0.113.1');
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ code: 'TOO_MANY_LOGIN_ATTEMPTS', message: expect.stringMatching(/try again in \d+ seconds/) });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(800); // the 15-minute window
      // the same account from another address still logs in; successes do not count
      expect((await login(w.email, 'correct horse battery', '203.0.113.2')).status).toBe(200);
      expect((await login(w.email, 'correct horse battery', '203.0.113.2')).status).toBe(200);
    });

    it('a success clears the account-and-address count', async () => {
      const w = await signUp(t, ['worker']);
      for (let round = 0; round < 2; round++) { // 4 failures in all: over the pair limit (3), under the account one (6)
        for (let i = 0; i < 2; i++) expect((await login(w.email, 'wrong password!', '203.0.113.9')).status).toBe(401);
        expect((await login(w.email, 'correct horse battery', '203.0.113.9')).status).toBe(200);
      }
    });

    it('limits one account across addresses (distributed guessing)', async () => {
      const w = await signUp(t, ['worker']);
      for (let i = 0; i < 6; i++) expect((await login(w.email, 'wrong password!', `198.51.100.${i + 1}`)).status).toBe(401);
      expect((await login(w.email, 'correct horse battery', '198.51.100.77')).status).toBe(429);
    });

    it('limits one address across accounts (credential stuffing), unknown emails included', async () => {
      for (let i = 0; i < 10; i++) expect((await login(`nobody-${i}@example.com`, 'wrong password!', '192.0.2.50')).status).toBe(401);
      const w = await signUp(t, ['worker']);
      expect((await login(w.email, 'correct horse battery', '192.0.2.50')).status).toBe(429);
      expect((await login(w.email, 'correct horse battery', '192.0.2.51')).status).toBe(200);
    });

    it('does not count malformed requests as failed logins', async () => {
      const w = await signUp(t, ['worker']);
      for (let i = 0; i < 5; i++) await t.http.post('/api/auth/login').set('X-Forwarded-For', '192.0.2.60').send({ email: w.email }).expect(400);
      expect((await login(w.email, 'correct horse battery', '192.0.2.60')).status).toBe(200);
    });
  });

  describe('access tokens', () => {
    let user: { id: string; email: string };
    let good: string;
    beforeAll(async () => {
      const w = await signUp(t, ['worker']);
      user = { id: w.id, email: w.email };
      good = w.token;
    });
    const now = () => Math.floor(Date.now() / 1000);
    const claims = (over: Record<string, unknown> = {}) => ({ sub: user.id, email: user.email, roles: ['worker'], iss: 'tally', aud: 'tally-api', iat: now(), exp: now() + 600, ...over });
    const me = (token: string) => t.http.get('/api/auth/me').set('Authorization', `Bearer ${token}`);

    it('accepts a token Tally signed, and one forged the same way with the same secret (the test knows it)', async () => {
      await me(good).expect(200);
      await me(jwt(claims())).expect(200); // proves the forgeries below fail for the reason they name
    });

    it.each([
      ['alg none', () => jwt(claims({ roles: ['admin'] }), { alg: 'none' })],
      ['HS512 with the right secret', () => jwt(claims(), { alg: 'HS512' })],
      ['another secret', () => jwt(claims(), { secret: 'someone-elses-secret-someone-elses-secret' })],
      ['a wrong issuer', () => jwt(claims({ iss: 'evil' }))],
      ['a wrong audience', () => jwt(claims({ aud: 'other-api' }))],
      ['no audience', () => jwt(claims({ aud: undefined }))],
      ['an expired token', () => jwt(claims({ iat: now() - 7200, exp: now() - 3600 }))],
      ['a payload edited after signing', () => {
        const [h, , s] = jwt(claims()).split('.');
        return `${h}.${b64(claims({ roles: ['admin'] }))}.${s}`;
      }],
      ['garbage', () => 'a.b.c'],
    ])('refuses %s with 401', async (_name, make) => {
      const res = await me(make()).expect(401);
      expect(res.body.statusCode).toBe(401);
      await t.http.get('/api/admin/users').set('Authorization', `Bearer ${make()}`).expect(401);
    });
  });

  describe('bodies, headers, CORS and pages', () => {
    it('answers 413 naming the limit for a body over BODY_LIMIT, and 400 for malformed JSON', async () => {
      const big = await t.http.post('/api/auth/signup').set('Content-Type', 'application/json').send(JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(70_000), displayName: 'x', roles: ['worker'] })).expect(413);
      expect(big.body).toMatchObject({ statusCode: 413, code: 'ENTITY_TOO_LARGE', message: 'body: larger than the 65536 bytes this endpoint accepts' });
      const bad = await t.http.post('/api/auth/login').set('Content-Type', 'application/json').send('{"email": "a@b.co", "password": ').expect(400);
      expect(bad.body).toMatchObject({ code: 'ENTITY_PARSE_FAILED', message: expect.stringContaining('body: not valid JSON') });
    });

    it('sends security headers with a Content-Security-Policy that allows no inline script', async () => {
      const res = await t.http.get('/health').expect(200);
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).toContain("frame-ancestors 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toBeDefined();
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('allows configured origins only (CORS_ORIGINS)', async () => {
      const ok = await t.http.options('/api/auth/me').set('Origin', 'https://app.example.com').set('Access-Control-Request-Method', 'GET').set('Access-Control-Request-Headers', 'authorization');
      expect(ok.status).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
      const other = await t.http.options('/api/auth/me').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'GET');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const plain = await t.http.get('/health').set('Origin', 'https://evil.example');
      expect(plain.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('caps page sizes: limit over 200 is refused naming the field', async () => {
      const w = await signUp(t, ['worker']);
      const res = await t.http.get('/api/work/assignments').query({ limit: 10_000 }).set(w.auth).expect(400);
      expect(res.body.message).toContain('limit');
      const ok = await t.http.get('/api/work/assignments').query({ limit: 200 }).set(w.auth).expect(200);
      expect(ok.body.limit).toBe(200);
    });
  });

  describe('image proxy (no server-side request forgery)', () => {
    let images: http.Server;
    let base: string;
    let proxied: TestApp;
    beforeAll(async () => {
      images = http.createServer((req, res) => {
        if (req.url === '/cat.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        if (req.url === '/page.html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<script>alert(1)</script>');
        if (req.url === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        res.writeHead(404).end();
      });
      await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
      const port = (images.address() as AddressInfo).port;
      base = `http://127.0.0.1:${port}`;
      // The test's image server is on loopback, so it is allowed explicitly, as a self-hosted image server would be.
      proxied = await createTestApp({ IMAGE_PROXY_ALLOW_HOSTS: `127.0.0.1:${port}` });
    });
    afterAll(async () => {
      images?.close();
      await proxied?.close();
    });

    it('gives workers a signed same-origin link that serves the image', async () => {
      const [req, w] = [await signUp(proxied, ['requester']), await signUp(proxied, ['worker'])];
      const c = await seedCampaign(proxied, req.id, { taskType: 'boxes', labels: ['cat'] }, [{ payload: { imageUrl: `${base}/cat.png`, width: 10, height: 10 } }]);
      const claim = await proxied.http.post(`/api/work/campaigns/${c.id}/claim`).set(w.auth).expect(200);
      expect(claim.body.payload.imageUrl).toBe(`${base}/cat.png`);
      expect(claim.body.imageSrc).toMatch(/^\/api\/images\/[\w-]{32}\?url=/);
      const img = await proxied.http.get(claim.body.imageSrc).expect(200);
      expect(img.headers['content-type']).toBe('image/png');
      expect(img.headers['content-security-policy']).toContain('sandbox');
      expect(Buffer.from(img.body).subarray(1, 4).toString()).toBe('PNG');
      const tasks = await proxied.http.get(`/api/campaigns/${c.id}/tasks`).set(req.auth).expect(200);
      expect(tasks.body.items[0].imageSrc).toBe(claim.body.imageSrc);
    });

    it('refuses unsigned or re-targeted links, private addresses, redirects to them, and non-images', async () => {
      const links = (await import('../apps/api/src/media/image-proxy')).ImageLinks;
      const sign = (url: string) => proxied.app.get(links).src({ imageUrl: url })!;
      const forged = sign(`${base}/cat.png`).replace(encodeURIComponent(`${base}/cat.png`), encodeURIComponent('http://169.254.169.254/'));
      expect((await proxied.http.get(forged).expect(403)).body.code).toBe('BAD_SIGNATURE');
      await proxied.http.get('/api/images/abc').expect(400);
      const meta = await proxied.http.get(sign('http://169.254.169.254/latest/meta-data/')).expect(400);
      expect(meta.body).toMatchObject({ code: 'UNSAFE_URL', message: expect.stringContaining('non-public address (169.254.169.254)') });
      await proxied.http.get(sign('http://localhost:5432/')).expect(400);
      await proxied.http.get(sign('http://[::1]:6379/')).expect(400);
      expect((await proxied.http.get(sign(`${base}/to-metadata`)).expect(400)).body.code).toBe('UNSAFE_URL');
      expect((await proxied.http.get(sign(`${base}/page.html`)).expect(422)).body.code).toBe('NOT_AN_IMAGE');
      // the first app has no allowlist: the loopback image server is off limits there
      const plain = t.app.get(links).src({ imageUrl: `${base}/cat.png` })!;
      await t.http.get(plain).expect(400);
    });
  });
});
