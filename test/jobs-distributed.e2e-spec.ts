import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '@tally/config';
import { runMigrations } from '@tally/database';
import { JobsService, RedisAttemptCounter } from '@tally/jobs';
import { createTestApp, dataSourceOf, onEmbeddedPostgres, seedCampaign, seedUsers, TestApp } from '@tally/testing';
import { SweepsService } from '@tally/work';
import { WorkerModule } from '../apps/worker/src/worker.module';

/**
 * Distributed background work on a REAL Redis (REDIS_TEST_URL, default 127.0.0.1:6379; the suite
 * is skipped when none answers): two apps/worker instances share one BullMQ queue. The sweep is a
 * job scheduler, so it runs once per tick however many workers there are, and an expired lease is
 * released by such a job. On a PostgreSQL server the workers get a private database, so their
 * sweeps cannot touch rows of e2e suites running beside this one.
 */
const REDIS_URL = process.env.REDIS_TEST_URL || 'redis://127.0.0.1:6379';
const redisUp = (() => {
  const u = new URL(REDIS_URL);
  const probe = `const s=require('net').connect(${Number(u.port || 6379)},'${u.hostname}');s.setTimeout(700);s.on('connect',()=>{s.write('PING\\r\\n')});s.on('data',d=>process.exit(String(d).startsWith('+PONG')?0:1));s.on('error',()=>process.exit(1));s.on('timeout',()=>process.exit(1));`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 3000 }).status === 0;
})();
if (!redisUp) console.warn(`jobs-distributed: no Redis at ${REDIS_URL}, suite skipped`);

const INTERVAL = 400;
jest.setTimeout(60_000);

(redisUp ? describe : describe.skip)('background jobs on BullMQ with two worker processes (e2e, real Redis)', () => {
  let databaseUrl: string;
  let privateDb: string | undefined;
  let t: TestApp;
  const prefix = `tally-test-${randomUUID().slice(0, 8)}`;
  const workers: INestApplicationContext[] = [];
  const runs: { worker: number; at: number }[] = [];

  const startWorker = async (index: number) => {
    const config = loadConfig({
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      SWEEP_INTERVAL_MS: String(INTERVAL),
      JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
      DATA_DIR: '/tmp/tally-test',
      LOG_LEVEL: 'silent',
    });
    const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config, databaseUrl), { logger: false });
    const sweeps = app.get(SweepsService);
    const original = sweeps.runOnce.bind(sweeps);
    jest.spyOn(sweeps, 'runOnce').mockImplementation(async () => {
      runs.push({ worker: index, at: Date.now() });
      return original();
    });
    workers.push(app);
    return app;
  };

  beforeAll(async () => {
    databaseUrl = process.env.DATABASE_URL!;
    if (!onEmbeddedPostgres()) {
      privateDb = `tally_jobs_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      const admin = new Client({ connectionString: databaseUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${privateDb}`);
      await admin.end();
      const u = new URL(databaseUrl);
      u.pathname = `/${privateDb}`;
      databaseUrl = u.toString();
      await runMigrations(databaseUrl);
    }
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = databaseUrl;
    try {
      t = await createTestApp();
    } finally {
      process.env.DATABASE_URL = saved;
    }
    await startWorker(1);
    await startWorker(2);
  });

  afterAll(async () => {
    const queue = workers[0]?.get(JobsService).queue;
    for (const w of workers) await w.close();
    if (queue) {
      const { Queue } = await import('bullmq');
      const q = new Queue(queue.name, { connection: { host: new URL(REDIS_URL).hostname, port: Number(new URL(REDIS_URL).port || 6379) }, prefix });
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    await t?.close();
    if (privateDb) {
      const admin = new Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${privateDb} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('runs both workers on BullMQ with one sweep schedule: one sweep per tick, not one per worker', async () => {
    for (const w of workers) expect(w.get(JobsService).mode).toBe('bullmq');
    await new Promise((r) => setTimeout(r, 1000)); // let the schedule settle
    const from = Date.now();
    const window = 4000;
    await new Promise((r) => setTimeout(r, window));
    const inWindow = runs.filter((r) => r.at >= from && r.at < from + window);
    const ticks = window / INTERVAL; // 10
    // One schedule: about one run per tick (two schedules would give about twice as many).
    expect(inWindow.length).toBeGreaterThanOrEqual(ticks - 3);
    expect(inWindow.length).toBeLessThanOrEqual(ticks + 2);
    // No tick ran twice (two workers each running "their" sweep would run within a few ms of each other).
    const at = inWindow.map((r) => r.at).sort((a, b) => a - b);
    for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThan(INTERVAL / 4);
  });

  it('shares one queue: enqueued jobs are spread over both workers, and a jobId is taken once', async () => {
    const jobs = workers[0].get(JobsService);
    const before = runs.length;
    const key = `dedupe-${randomUUID()}`;
    await jobs.enqueue('sweep', {}, { jobId: key });
    await jobs.enqueue('sweep', {}, { jobId: key }); // the same job again: deduplicated
    for (let i = 0; i < 30; i++) await workers[i % 2].get(JobsService).enqueue('sweep', {}, { jobId: `burst-${randomUUID()}` });
    const queue = jobs.queue!;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      const c = await queue.getJobCounts('waiting', 'active', 'prioritized');
      if (c.waiting + c.active + c.prioritized === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const mine = runs.slice(before);
    // 31 enqueued distinct jobs plus the scheduled ticks meanwhile; the duplicate jobId added nothing.
    expect(mine.length).toBeGreaterThanOrEqual(31);
    expect(mine.length).toBeLessThan(31 + 15000 / INTERVAL);
    expect(new Set(mine.map((r) => r.worker))).toEqual(new Set([1, 2]));
    const counts = await queue.getJobCounts('failed');
    expect(counts.failed).toBe(0);
  });

  it('releases an expired lease through the scheduled sweep job (no call from the test)', async () => {
    const [requester, worker] = await seedUsers(t, 2, ['requester', 'worker']);
    const c = await seedCampaign(t, requester.id, { redundancyMin: 1, redundancyMax: 1 }, 1);
    const claim = await t.http.post(`/api/work/campaigns/${c.id}/claim`).set(worker.auth).expect(200);
    const ds = dataSourceOf(t);
    await ds.query(`UPDATE assignments SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [claim.body.assignmentId]);
    const before = runs.length;
    let status = 'claimed';
    const deadline = Date.now() + 10000;
    while (status === 'claimed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      [{ status }] = await ds.query(`SELECT status FROM assignments WHERE id = $1`, [claim.body.assignmentId]);
    }
    expect(status).toBe('expired');
    // The suites share one database, and another suite's direct sweep can release this lease before a
    // worker's tick does (seen once in CI); the scheduled sweep must still have run on a worker.
    for (const until = Date.now() + 5000; runs.length === before && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    expect(runs.length).toBeGreaterThan(before); // a worker's sweep job did it
    const [task] = await ds.query(`SELECT taken FROM tasks WHERE id = $1`, [c.taskIds[0]]);
    expect(Number(task.taken)).toBe(0);
    // The slot is free again: another worker can claim the task.
    const [other] = await seedUsers(t, 1, ['worker']);
    await t.http.post(`/api/work/campaigns/${c.id}/claim`).set(other.auth).expect(200);
  });

  it('an API process on the same Redis reports Redis up in /health and the queue depth in /metrics', async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = databaseUrl;
    const api = await createTestApp({ REDIS_URL, REDIS_PREFIX: prefix }).finally(() => (process.env.DATABASE_URL = saved));
    try {
      const health = await api.http.get('/health').expect(200);
      expect(health.body.checks.redis).toMatchObject({ status: 'up', mode: 'bullmq' });
      const metrics = await api.http.get('/metrics').expect(200);
      expect(metrics.text).toMatch(/tally_queue_jobs\{[^}]*queue="tally-jobs"[^}]*state="waiting"[^}]*\} \d+/);
      // an API with RUN_BACKGROUND=false enqueues; the workers run it
      const before = runs.length;
      await api.app.get(JobsService).enqueue('sweep', {}, { jobId: `from-api-${randomUUID()}` });
      const deadline = Date.now() + 5000;
      while (runs.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(runs.length).toBeGreaterThan(before);
    } finally {
      await api.close();
    }
  });

  it('shares rate limits between processes: two counters on one Redis count one window', async () => {
    const IORedis = (await import('ioredis')).default;
    const a = new IORedis(REDIS_URL);
    const b = new IORedis(REDIS_URL);
    try {
      const ca = new RedisAttemptCounter(a, prefix);
      const cb = new RedisAttemptCounter(b, prefix);
      const key = `login:${randomUUID()}`;
      expect(await ca.peek(key)).toEqual({ count: 0, resetInMs: 0 });
      const counts = [];
      for (let i = 0; i < 6; i++) counts.push((await (i % 2 ? cb : ca).hit(key, 60_000)).count);
      expect(counts).toEqual([1, 2, 3, 4, 5, 6]);
      const seen = await cb.peek(key); // whichever process asks sees the same count
      expect(seen.count).toBe(6);
      expect(seen.resetInMs).toBeGreaterThan(55_000);
      expect((await ca.hit(`${key}-other`, 60_000)).count).toBe(1); // another key is not affected
      await ca.reset(key);
      expect((await cb.peek(key)).count).toBe(0);
      // the window expires by itself
      const short = `${key}-short`;
      await ca.hit(short, 50);
      await new Promise((r) => setTimeout(r, 120));
      expect((await cb.peek(short)).count).toBe(0);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});
