import { createAdmin, createTestApp, signUp, TestApp } from '@tally/testing';

describe('accounts and auth (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('signs up, logs in and never returns the password hash', async () => {
    const w = await signUp(t, ['worker']);
    const login = await t.http.post('/api/auth/login').send({ email: w.email.toUpperCase(), password: 'correct horse battery' }).expect(200);
    expect(login.body.user).toMatchObject({ id: w.id, roles: ['worker'], blocked: false });
    expect(JSON.stringify(login.body)).not.toMatch(/argon2|passwordHash/);
    const me = await t.http.get('/api/auth/me').set(w.auth).expect(200);
    expect(me.body.email).toBe(w.email);
  });

  it('refuses a wrong password, a duplicate email and bad payloads with the field named', async () => {
    const w = await signUp(t, ['worker']);
    await t.http.post('/api/auth/login').send({ email: w.email, password: 'nope nope nope' }).expect(401);
    const dup = await t.http.post('/api/auth/signup').send({ email: w.email, password: 'correct horse battery', displayName: 'x', roles: ['worker'] }).expect(409);
    expect(dup.body.code).toBe('EMAIL_TAKEN');
    const bad = await t.http.post('/api/auth/signup').send({ email: 'not-an-email', password: 'short', displayName: 'x', roles: ['admin'] }).expect(400);
    const fields = bad.body.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['email', 'password', 'roles']));
    const extra = await t.http.post('/api/auth/signup').send({ email: 'x@y.co', password: 'correct horse battery', displayName: 'x', roles: ['worker'], isAdmin: true }).expect(400);
    expect(extra.body.message).toContain('isAdmin');
  });

  it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
    const w = await signUp(t, ['worker']);
    const r1 = await t.http.post('/api/auth/refresh').send({ refreshToken: w.refreshToken }).expect(200);
    expect(r1.body.refreshToken).not.toBe(w.refreshToken);
    // The old token again: theft. It fails, and so does the newest one of its family.
    await t.http.post('/api/auth/refresh').send({ refreshToken: w.refreshToken }).expect(401);
    await t.http.post('/api/auth/refresh').send({ refreshToken: r1.body.refreshToken }).expect(401);
  });

  it('requires a valid token and the right role', async () => {
    await t.http.get('/api/auth/me').expect(401);
    await t.http.get('/api/auth/me').set({ Authorization: 'Bearer nonsense' }).expect(401);
    const w = await signUp(t, ['worker']);
    const forbidden = await t.http.get('/api/admin/users').set(w.auth).expect(403);
    expect(forbidden.body.code).toBe('FORBIDDEN_ROLE');
  });

  it('lets an admin search users and block / unblock with a reason in the audit log', async () => {
    const admin = await createAdmin(t);
    const w = await signUp(t, ['worker'], 'blockme');
    const found = await t.http.get('/api/admin/users').query({ q: w.email, role: 'worker' }).set(admin.auth).expect(200);
    expect(found.body.items.map((u: { id: string }) => u.id)).toEqual([w.id]);
    await t.http.post(`/api/admin/users/${w.id}/block`).set(admin.auth).send({}).expect(400);
    const blocked = await t.http.post(`/api/admin/users/${w.id}/block`).set(admin.auth).send({ reason: 'spam answers' }).expect(200);
    expect(blocked.body).toMatchObject({ blocked: true, blockedReason: 'spam answers' });
    const audit = await t.http.get('/api/admin/audit').query({ objectType: 'user', objectId: w.id }).set(admin.auth).expect(200);
    expect(audit.body.items[0]).toMatchObject({ action: 'user.blocked', reason: 'spam answers', actorId: admin.id });
    await t.http.post(`/api/admin/users/${w.id}/unblock`).set(admin.auth).send({}).expect(200);
    await t.http.post(`/api/admin/users/00000000-0000-0000-0000-000000000000/block`).set(admin.auth).send({ reason: 'nobody' }).expect(404);
    await t.http.post(`/api/admin/users/not-a-uuid/block`).set(admin.auth).send({ reason: 'nobody' }).expect(400);
  });

  it('serves health and the OpenAPI document', async () => {
    const h = await t.http.get('/health').expect(200);
    expect(h.body.checks.database.status).toBe('up');
    const doc = await t.http.get('/api/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/auth/signup', '/api/auth/login']));
  });
});
