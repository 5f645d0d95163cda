import { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { loadConfig, TallyConfig } from '@tally/config';
import { createApp } from '../../../apps/api/src/bootstrap';

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  config: TallyConfig;
  close(): Promise<void>;
}

/**
 * The real app (same module, pipes and filter as production) on the test PostgreSQL that
 * test/global-setup.ts prepared. Background sweeps are off; tests call them directly.
 */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: run e2e tests through jest (test/global-setup.ts)');
  const config = loadConfig({
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    DATA_DIR: '/tmp/tally-test',
    RUN_BACKGROUND: 'false',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl,
    ...env,
  });
  const app = await createApp(config, databaseUrl, { logger: false });
  return { app, http: request(app.getHttpServer()), config, close: () => app.close() };
}

/** Whether the tests run on the embedded PGlite (transactions serialised) rather than a server. */
export const onEmbeddedPostgres = () => process.env.TALLY_TEST_EMBEDDED === '1';

export interface TestUser {
  id: string;
  email: string;
  token: string;
  refreshToken: string;
  auth: { Authorization: string };
}

/** Signs up a fresh user with a unique email over HTTP. */
export async function signUp(t: TestApp, roles: ('requester' | 'worker')[], name = roles.join('-')): Promise<TestUser> {
  const email = `${name}-${randomUUID()}@test.tally`;
  const res = await t.http.post('/api/auth/signup').send({ email, password: 'correct horse battery', displayName: name, roles });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, email, token: res.body.accessToken, refreshToken: res.body.refreshToken, auth: { Authorization: `Bearer ${res.body.accessToken}` } };
}

/** Creates an admin directly (as the CLI does) and logs in over HTTP. */
export async function createAdmin(t: TestApp): Promise<TestUser> {
  const { AuthService } = await import('@tally/auth');
  const email = `admin-${randomUUID()}@test.tally`;
  await t.app.get(AuthService).ensureAdmin(email, 'correct horse battery');
  const res = await t.http.post('/api/auth/login').send({ email, password: 'correct horse battery' });
  if (res.status !== 200) throw new Error(`admin login failed: ${res.status}`);
  return { id: res.body.user.id, email, token: res.body.accessToken, refreshToken: res.body.refreshToken, auth: { Authorization: `Bearer ${res.body.accessToken}` } };
}
