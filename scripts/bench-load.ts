/**
 * Load benchmark of the worker loop: `npm run bench:load [-- --workers 200 --seconds 20 ...]`.
 *
 * 1. Prepares a PostgreSQL database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/tally_bench,
 *    created if missing), applies migrations and seeds one published single-label campaign with
 *    --tasks tasks × --redundancy answers, and --workers worker accounts (rows + signed tokens).
 * 2. Starts --api-procs Tally API processes on it (or uses --url of a running Tally that shares
 *    this database and JWT_SECRET) and drives --workers simulated workers, each looping
 *    claim → submit over keep-alive HTTP for --seconds.
 * 3. Prints answers/s, p50/p95/p99 of claim and submit, errors by status, and the invariants
 *    counted in the database afterwards (over-assignments, duplicate answers: must be 0).
 * 4. Runs the SAME use-cases (same SQL, same pool code) with no HTTP in front, --db-clients at
 *    once, for the ratio to what the database itself gives (skip with --no-db).
 *
 * Shortened run for CI: `npm run bench:load -- --workers 40 --seconds 4 --tasks 2000`.
 */
import { fork, ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import jwt from 'jsonwebtoken';
import { Client } from 'pg';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const argStr = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const WORKERS = arg('workers', 200);
const SECONDS = arg('seconds', 20);
const TASKS = arg('tasks', 40_000);
const REDUNDANCY = arg('redundancy', 3);
const API_PROCS = arg('api-procs', 2);
const DB_CLIENTS = arg('db-clients', 32);
const BASE_PORT = arg('port', 3900);
const EXTERNAL_URL = argStr('url');
const NO_DB = process.argv.includes('--no-db');
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tally_bench';
const JWT_SECRET = process.env.JWT_SECRET || 'bench-secret-bench-secret-bench-secret-0123';
const LABELS = ['cat', 'dog', 'bird'];

interface Seeded {
  campaignId: string;
  workers: { id: string; token: string }[];
}

async function ensureDatabase(): Promise<void> {
  const u = new URL(DATABASE_URL);
  const name = u.pathname.slice(1);
  u.pathname = '/postgres';
  const admin = new Client({ connectionString: u.toString() });
  await admin.connect();
  const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!rows.length) await admin.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  await admin.end();
  const { runMigrations } = await import('@tally/database');
  await runMigrations(DATABASE_URL);
}

async function seed(db: Client, label: string): Promise<Seeded> {
  const { rows: owner } = await db.query(
    `INSERT INTO users (email, display_name, password_hash, roles) VALUES ($1, 'bench requester', 'not-a-password-hash', '{requester}') RETURNING id`,
    [`bench-requester-${randomUUID()}@bench.tally`],
  );
  const { rows: camp } = await db.query(
    `INSERT INTO campaigns (owner_id, name, task_type, labels, instructions, reward_minor, currency, redundancy_min, redundancy_max,
       confidence_target, lease_seconds, deadline, auto_approve_seconds, max_text_length, status, published_at)
     VALUES ($1, $2, 'single-label', $3, 'Pick the animal.', 5, 'usd', $4, $4, 0.9, 600, NULL, 259200, 2000, 'published', now()) RETURNING id`,
    [owner[0].id, `bench ${label} ${new Date().toISOString()}`, JSON.stringify(LABELS), REDUNDANCY],
  );
  const campaignId = camp[0].id as string;
  await db.query(
    `INSERT INTO tasks (campaign_id, payload, content_hash, needed)
     SELECT $1::uuid, jsonb_build_object('text', 'item ' || i), md5($1::text || i), $2 FROM generate_series(1, $3) AS i`,
    [campaignId, REDUNDANCY, TASKS],
  );
  const { rows: users } = await db.query(
    `INSERT INTO users (email, display_name, password_hash, roles)
     SELECT 'bench-worker-' || gen_random_uuid() || '@bench.tally', 'bench worker', 'not-a-password-hash', '{worker}'
       FROM generate_series(1, $1) RETURNING id, email`,
    [WORKERS],
  );
  const workers = users.map((u: { id: string; email: string }) => ({
    id: u.id,
    token: jwt.sign({ sub: u.id, email: u.email, roles: ['worker'] }, JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 3600,
      issuer: process.env.JWT_ISSUER || 'tally',
      audience: process.env.JWT_AUDIENCE || 'tally-api',
    }),
  }));
  await db.query('ANALYZE tasks; ANALYZE assignments; ANALYZE users; ANALYZE campaigns');
  return { campaignId, workers };
}

function startApi(port: number): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'run-ts.js'), [join(__dirname, '..', 'apps/api/src/main.ts')], {
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL,
      JWT_SECRET,
      RUN_BACKGROUND: 'false',
      LOG_LEVEL: process.env.LOG_LEVEL || 'info',
      DATA_DIR: '/tmp/tally-bench',
      TALLY_SERVICE_NAME: `bench-api-${port}`,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return waitReady(`http://127.0.0.1:${port}`, 60_000).then(() => child);
}

async function waitReady(url: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become healthy in ${ms} ms`);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function post(base: URL, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : { 'content-length': 0 }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/**
 * CPU seconds (user + system) used so far by the given pids, and by every postgres process: the
 * live ones, plus what the postmaster's exited children used (its cutime + cstime), so backends
 * that come and go during a measurement (pgbench's connections) are counted too.
 */
function cpuSeconds(pids: number[]): { api: number; pg: number } {
  const read = (pid: number | string, withChildren = false) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      // utime + stime (+ cutime + cstime), in clock ticks (100/s)
      return (Number(rest[11]) + Number(rest[12]) + (withChildren ? Number(rest[13]) + Number(rest[14]) : 0)) / 100;
    } catch {
      return 0;
    }
  };
  let pg = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') pg += read(d, true);
    } catch {
      // gone
    }
  }
  return { api: pids.reduce((s, p) => s + read(p), 0), pg };
}

/** CPU seconds used by this process's waited-for children (pgbench, run with spawnSync). */
function childrenCpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[13]) + Number(rest[14])) / 100; // cutime + cstime, in clock ticks (100/s)
}

function percentiles(xs: number[]): { p50: number; p95: number; p99: number; max: number; n: number } {
  const s = Float64Array.from(xs).sort();
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN, n: s.length };
}

const fmt = (p: ReturnType<typeof percentiles>) =>
  `n=${p.n}  p50=${p.p50.toFixed(1)} ms  p95=${p.p95.toFixed(1)} ms  p99=${p.p99.toFixed(1)} ms  max=${p.max.toFixed(1)} ms`;

async function driveHttp(urls: URL[], s: Seeded): Promise<{ answers: number; seconds: number; claim: number[]; submit: number[]; errors: Record<string, number> }> {
  const claim: number[] = [];
  const submit: number[] = [];
  const errors: Record<string, number> = {};
  let answers = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  const loop = async (i: number) => {
    const w = s.workers[i];
    const base = urls[i % urls.length];
    while (performance.now() < until) {
      let t0 = performance.now();
      let r = await post(base, `/api/work/campaigns/${s.campaignId}/claim`, w.token);
      claim.push(performance.now() - t0);
      if (r.status !== 200) {
        const key = `claim ${r.status} ${r.body?.code ?? r.body?.error ?? ''}`;
        errors[key] = (errors[key] ?? 0) + 1;
        if (r.body?.code === 'NO_TASK_AVAILABLE') return;
        continue;
      }
      t0 = performance.now();
      r = await post(base, `/api/work/assignments/${r.body.assignmentId}/submit`, w.token, { answer: { label: LABELS[(i + answers) % 3] } });
      submit.push(performance.now() - t0);
      if (r.status === 200) answers++;
      else {
        const key = `submit ${r.status} ${r.body?.code ?? ''}`;
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(s.workers.map((_, i) => loop(i)));
  return { answers, seconds: (performance.now() - started) / 1000, claim, submit, errors };
}

async function invariants(db: Client, campaignId: string) {
  const { rows } = await db.query(
    `SELECT
       (SELECT count(*) FROM tasks WHERE campaign_id = $1 AND taken > needed)::int AS tasks_over_taken,
       (SELECT count(*) FROM tasks t WHERE t.campaign_id = $1 AND t.needed <
          (SELECT count(*) FROM assignments a WHERE a.task_id = t.id AND a.status NOT IN ('expired', 'returned', 'rejected')))::int AS over_assigned_tasks,
       (SELECT count(*) FROM (SELECT 1 FROM assignments WHERE campaign_id = $1 GROUP BY task_id, worker_id HAVING count(*) > 1) d)::int AS duplicate_answers,
       (SELECT count(*) FROM tasks t WHERE t.campaign_id = $1 AND t.answers_count <> (SELECT count(*) FROM assignments a WHERE a.task_id = t.id AND a.submitted_at IS NOT NULL))::int AS answer_count_mismatch,
       (SELECT count(*) FROM assignments WHERE campaign_id = $1 AND submitted_at IS NOT NULL)::int AS stored_answers`,
    [campaignId],
  );
  return rows[0];
}

/** The same use-cases (same SQL and pool code) without HTTP, JWT and Nest's request pipeline. */
async function driveDirect(s: Seeded): Promise<{ answers: number; seconds: number; claim: number[]; submit: number[]; nodeCpu: number; pgCpu: number }> {
  const { NestFactory } = await import('@nestjs/core');
  const { loadConfig } = await import('@tally/config');
  const { AppModule } = await import('../apps/api/src/app.module');
  const { ClaimTaskUseCase, SubmitAnswerUseCase } = await import('@tally/work');
  const config = loadConfig({ DATABASE_URL, JWT_SECRET, RUN_BACKGROUND: 'false', LOG_LEVEL: 'silent', DATA_DIR: '/tmp/tally-bench' });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot({ config, databaseUrl: DATABASE_URL }), { logger: false });
  const claimUc = app.get(ClaimTaskUseCase);
  const submitUc = app.get(SubmitAnswerUseCase);
  const claim: number[] = [];
  const submit: number[] = [];
  let answers = 0;
  const started = performance.now();
  const until = started + Math.min(SECONDS, 10) * 1000;
  const n = Math.min(DB_CLIENTS, s.workers.length);
  const pg0 = cpuSeconds([]).pg;
  const me0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const w = s.workers[i];
      while (performance.now() < until) {
        let t0 = performance.now();
        let c;
        try {
          c = await claimUc.execute({ workerId: w.id, campaignId: s.campaignId });
        } catch {
          return;
        }
        claim.push(performance.now() - t0);
        t0 = performance.now();
        await submitUc.execute({ workerId: w.id, assignmentId: c.assignmentId, answer: { label: LABELS[i % 3] } });
        submit.push(performance.now() - t0);
        answers++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const me = process.cpuUsage(me0);
  const pgCpu = cpuSeconds([]).pg - pg0;
  await app.close();
  return { answers, seconds, claim, submit, nodeCpu: (me.user + me.system) / 1e6, pgCpu };
}

/**
 * The claim + submit statements straight on PostgreSQL with pgbench (no Node at all): the same
 * three statements the use-cases send per answer in the common case (context + claim in one
 * statement, submit target, submit update; without the completion transaction every `needed`
 * answers). Copied here, so keep them in step with claim-task.use-case.ts (CONTEXT_SQL,
 * contextAndClaim) and submit-answer.use-case.ts. Skipped when pgbench is not installed.
 */
function pgbenchScript(): string {
  const context = `SELECT c.owner_id, c.status, (c.deadline IS NOT NULL AND c.deadline <= now()) AS past_deadline, c.lease_seconds, c.task_type, c.labels, c.instructions, (u.blocked_at IS NOT NULL) AS blocked, u.blocked_reason, la.id AS last_id, la.task_id AS last_task_id, la.lease_expires_at AS last_lease, (la.status = 'claimed' AND la.lease_expires_at > now()) AS last_live, lt.seq AS last_seq, lt.payload AS last_payload, tally_claim_refusal(c.id, :wid) AS refusal, c.gold_rate, coalesce((c.quality_rules->>'goldMaxExposures')::int, c.redundancy_max) AS gold_max, coalesce((c.qualification->>'qualificationTestSize')::int, 0) AS test_size, c.model_labels FROM campaigns c LEFT JOIN users u ON u.id = :wid LEFT JOIN LATERAL (SELECT a.id, a.task_id, a.status, a.lease_expires_at FROM assignments a WHERE a.worker_id = :wid AND a.campaign_id = c.id ORDER BY a.created_at DESC LIMIT 1) la ON true LEFT JOIN tasks lt ON lt.id = la.task_id WHERE c.id = :cid`;
  return `SELECT id AS wid FROM bench_workers WHERE n = :client_id \\gset
WITH ctx AS (${context}), go AS (SELECT coalesce(ctx.last_seq, 0) AS after_seq, ctx.lease_seconds FROM ctx WHERE NOT ctx.blocked AND ctx.owner_id <> :wid AND ctx.status = 'published' AND NOT ctx.past_deadline AND ctx.refusal IS NULL AND ctx.last_live IS NOT TRUE AND NOT (ctx.gold_rate > 0) AND NOT (ctx.test_size > 0)), pick AS (SELECT t.id FROM tasks t WHERE t.campaign_id = :cid AND t.status = 'open' AND t.seq > (SELECT go.after_seq FROM go) AND t.taken < t.needed AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.worker_id = :wid) ORDER BY t.seq LIMIT 1 FOR UPDATE OF t SKIP LOCKED), bump AS (UPDATE tasks t SET taken = t.taken + 1 FROM pick WHERE t.id = pick.id AND t.taken < t.needed AND t.status = 'open' AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = :cid AND c.status = 'published') RETURNING t.id, t.payload), ins AS (INSERT INTO assignments (task_id, campaign_id, worker_id, lease_expires_at) SELECT bump.id, :cid, :wid, now() + make_interval(secs => (SELECT go.lease_seconds FROM go)) FROM bump RETURNING id, task_id, lease_expires_at) SELECT ctx.owner_id, coalesce(ins.id, '00000000-0000-0000-0000-000000000000') AS aid, bump.payload AS claimed_payload, EXISTS (SELECT 1 FROM go) AS scanned, set_config('synchronous_commit', 'off', true) AS _async FROM ctx LEFT JOIN ins ON true LEFT JOIN bump ON bump.id = ins.task_id \\gset
SELECT a.status, (a.lease_expires_at > now()) AS lease_live, a.answer, t.payload, c.task_type, c.labels, c.max_text_length, c.auto_approve_seconds, (u.blocked_at IS NOT NULL) AS blocked, u.blocked_reason, c.gold_pass_mark, c.quality_rules, c.qualification FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN campaigns c ON c.id = a.campaign_id JOIN users u ON u.id = a.worker_id WHERE a.id = :aid AND a.worker_id = :wid;
WITH s AS (UPDATE assignments a SET status = 'submitted', answer = '{"label":"cat"}', duration_ms = NULL, submitted_at = now(), auto_approve_at = now() + make_interval(secs => 259200) WHERE a.id = :aid AND a.worker_id = :wid AND a.status = 'claimed' AND a.lease_expires_at > now() RETURNING a.id, a.task_id AS "taskId", a.claimed_at AS "claimedAt", a.submitted_at AS "submittedAt") UPDATE tasks t SET answers_count = t.answers_count + 1 FROM s WHERE t.id = s."taskId" RETURNING s.*, (t.status = 'open' AND t.answers_count >= t.needed) AS full, t.status AS task_status, t.gold, (extract(epoch FROM (s."submittedAt" - s."claimedAt")) * 1000)::int AS elapsed_ms;
`;
}

async function drivePgbench(db: Client, s: Seeded, clients: number, seconds: number): Promise<{ answers: number; seconds: number; output: string } | null> {
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  if (spawnSync('pgbench', ['--version']).status !== 0) return null;
  await db.query(`DROP TABLE IF EXISTS bench_workers`);
  await db.query(`CREATE TABLE bench_workers (n int PRIMARY KEY, id uuid NOT NULL)`);
  await db.query(`INSERT INTO bench_workers SELECT i - 1, (($1::uuid[])[i]) FROM generate_subscripts($1::uuid[], 1) AS i`, [s.workers.map((w) => w.id)]);
  const file = `/tmp/tally-bench-${process.pid}.pgbench`;
  writeFileSync(file, pgbenchScript());
  const u = new URL(DATABASE_URL);
  const before = (await db.query(`SELECT count(*)::int AS n FROM assignments WHERE campaign_id = $1 AND submitted_at IS NOT NULL`, [s.campaignId])).rows[0].n;
  const t0 = performance.now();
  const r = spawnSync(
    'pgbench',
    ['-n', '-M', 'prepared', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', file, '-D', `cid=${s.campaignId}`, '-D', 'aid=00000000-0000-0000-0000-000000000000',
      '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres'), u.pathname.slice(1)],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password || '') } },
  );
  const elapsed = (performance.now() - t0) / 1000;
  const after = (await db.query(`SELECT count(*)::int AS n FROM assignments WHERE campaign_id = $1 AND submitted_at IS NOT NULL`, [s.campaignId])).rows[0].n;
  await db.query(`DROP TABLE IF EXISTS bench_workers`);
  return { answers: after - before, seconds: Math.min(elapsed, seconds), output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

async function main(): Promise<void> {
  await ensureDatabase();
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  console.log(`bench:load  workers=${WORKERS} seconds=${SECONDS} tasks=${TASKS}×${REDUNDANCY} api-procs=${EXTERNAL_URL ? 'external' : API_PROCS}  db=${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}`);
  const s = await seed(db, 'http');
  const children: ChildProcess[] = [];
  try {
    const urls: URL[] = [];
    if (EXTERNAL_URL) urls.push(new URL(EXTERNAL_URL));
    else {
      for (let i = 0; i < API_PROCS; i++) children.push(await startApi(BASE_PORT + i));
      for (let i = 0; i < API_PROCS; i++) urls.push(new URL(`http://127.0.0.1:${BASE_PORT + i}`));
    }
    // Warm-up before the clock starts: one keep-alive connection per simulated worker (opening
    // hundreds of TCP connections at once is not the steady state being measured: it put the
    // slowest 1-5 % of claims, the first request of each worker, in the percentiles), and a few
    // claims so JIT, pools and prepared statements are warm.
    await Promise.all(s.workers.map((w, i) => post(urls[i % urls.length], '/api/auth/warm-up-connection', w.token).catch(() => undefined)));
    await Promise.all(s.workers.slice(0, 20).map((w, i) => post(urls[i % urls.length], `/api/work/campaigns/${s.campaignId}/claim`, w.token)));
    const cpu0 = cpuSeconds(children.map((c) => c.pid!));
    const me0 = process.cpuUsage();
    const r = await driveHttp(urls, s);
    const cpu1 = cpuSeconds(children.map((c) => c.pid!));
    const me1 = process.cpuUsage(me0);
    const inv = await invariants(db, s.campaignId);
    const rate = r.answers / r.seconds;
    console.log(`\nHTTP (${urls.length} api process(es), ${WORKERS} workers, ${r.seconds.toFixed(1)} s)`);
    console.log(`  answers/s       ${rate.toFixed(0)}   (${r.answers} answers)`);
    console.log(`  claim           ${fmt(percentiles(r.claim))}`);
    console.log(`  submit          ${fmt(percentiles(r.submit))}`);
    console.log(`  errors          ${Object.keys(r.errors).length ? JSON.stringify(r.errors) : 'none'}`);
    {
      const per = (sec: number) => ((sec * 1000) / Math.max(1, r.answers)).toFixed(2);
      const apiS = cpu1.api - cpu0.api;
      const pgS = cpu1.pg - cpu0.pg;
      const drvS = (me1.user + me1.system) / 1e6;
      const totalMs = ((apiS + pgS + drvS) * 1000) / Math.max(1, r.answers);
      console.log(`  CPU per answer  api ${per(apiS)} ms + postgres ${per(pgS)} ms + load driver ${per(drvS)} ms = ${totalMs.toFixed(2)} ms` +
        (EXTERNAL_URL ? ' (external api not counted)' : '') + `  → CPU-bound ceiling on ${cpus().length} dedicated cores ≈ ${((cpus().length * 1000) / totalMs).toFixed(0)} answers/s`);
      console.log(`  machine load    ${loadavg().map((l) => l.toFixed(1)).join(' ')} (1/5/15 min; other processes share these cores)`);
    }
    console.log(`  invariants      over-assigned tasks=${inv.over_assigned_tasks}  taken>needed=${inv.tasks_over_taken}  duplicate answers=${inv.duplicate_answers}  answers_count mismatches=${inv.answer_count_mismatch}  stored answers=${inv.stored_answers}`);
    for (const c of children) c.kill('SIGTERM');
    children.length = 0;
    let ok = inv.over_assigned_tasks === 0 && inv.tasks_over_taken === 0 && inv.duplicate_answers === 0;
    if (!NO_DB) {
      const s2 = await seed(db, 'direct');
      const d = await driveDirect(s2);
      const inv2 = await invariants(db, s2.campaignId);
      const drate = d.answers / d.seconds;
      console.log(`\nSame use-cases straight on PostgreSQL, no HTTP (${Math.min(DB_CLIENTS, WORKERS)} clients, ${d.seconds.toFixed(1)} s)`);
      console.log(`  answers/s       ${drate.toFixed(0)}   (${d.answers} answers)`);
      console.log(`  claim           ${fmt(percentiles(d.claim))}`);
      console.log(`  submit          ${fmt(percentiles(d.submit))}`);
      console.log(`  CPU per answer  node ${((d.nodeCpu * 1000) / Math.max(1, d.answers)).toFixed(2)} ms (use-cases and the loop driving them) + postgres ${((d.pgCpu * 1000) / Math.max(1, d.answers)).toFixed(2)} ms`);
      console.log(`  invariants      over-assigned tasks=${inv2.over_assigned_tasks}  duplicate answers=${inv2.duplicate_answers}`);
      console.log(`\nHTTP / database-only ratio: ${((rate / drate) * 100).toFixed(0)}%`);
      const s3 = await seed(db, 'pgbench');
      const pgBefore = cpuSeconds([]).pg;
      const pbBefore = childrenCpuSeconds();
      const pb = await drivePgbench(db, s3, Math.min(DB_CLIENTS, WORKERS), Math.min(SECONDS, 10));
      const pgbenchCpu = { pg: cpuSeconds([]).pg - pgBefore, client: childrenCpuSeconds() - pbBefore };
      if (pb) {
        const prate = pb.answers / pb.seconds;
        const latency = /latency average = ([\d.]+ ms)/.exec(pb.output)?.[1] ?? '?';
        const aborted = /number of failed transactions: (\d+)/.exec(pb.output)?.[1] ?? /aborted[^\n]*/.exec(pb.output)?.[0] ?? '0';
        console.log(`\nThe claim + submit statements with pgbench, no Node (${Math.min(DB_CLIENTS, WORKERS)} clients, ${pb.seconds.toFixed(1)} s, without task completion)`);
        console.log(`  answers/s       ${prate.toFixed(0)}   (${pb.answers} answers, latency average ${latency} per loop, failed ${aborted})`);
        const perPb = (sec: number) => ((sec * 1000) / Math.max(1, pb.answers)).toFixed(2);
        console.log(`  CPU per answer  pgbench ${perPb(pgbenchCpu.client)} ms + postgres ${perPb(pgbenchCpu.pg)} ms`);
        console.log(`HTTP / pgbench ratio: ${((rate / prate) * 100).toFixed(0)}%`);
        if (pb.answers === 0) console.log(pb.output.split('\n').slice(-15).join('\n'));
      } else console.log('\n(pgbench not installed: the straight-SQL figure is skipped)');
      ok = ok && inv2.over_assigned_tasks === 0 && inv2.duplicate_answers === 0;
    }
    const p99 = Math.max(percentiles(r.claim).p99, percentiles(r.submit).p99);
    console.log(
      `\ntarget >= 1500 answers/s at 200 workers with p99 < 150 ms: ${rate >= 1500 && p99 < 150 ? 'MET' : 'not met'} (${rate.toFixed(0)}/s, worst p99 ${p99.toFixed(1)} ms` +
        `${WORKERS === 200 ? '' : `; this run used ${WORKERS} workers`})`,
    );
    console.log(`invariants: ${ok ? 'OK (0 over-assignments, 0 duplicate answers)' : 'VIOLATED'}`);
    if (!ok) process.exitCode = 1;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await db.end();
    agent.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
