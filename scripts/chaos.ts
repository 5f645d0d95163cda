/**
 * Chaos test: `npm run chaos [-- --seconds 60 --workers 30 --tasks 400 --kill-every 1500]`.
 *
 * Runs 2 API and 2 worker processes (apps/api, apps/worker from the sources) on a fresh PostgreSQL
 * database (CHAOS_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/tally_chaos, dropped and
 * re-created) and, when reachable, Redis (REDIS_URL, default redis://127.0.0.1:6379, with a private
 * prefix: background jobs on BullMQ; else each worker runs them in-process), with payouts through the
 * fake Stripe (libs/testing/src/fake-stripe.ts) and the real stripe SDK.
 *
 * A funded campaign (auto-approval after 1 s, payouts from 10 cents) is worked by simulated
 * workers (claim → submit, over whichever API is up) while, again and again, a random API or worker
 * process is killed with SIGKILL (and restarted), and PostgreSQL connections of the database are
 * dropped with pg_terminate_backend. So processes die mid-claim, mid-submit, mid-sweep, mid-approval
 * and mid-payout. Then the killing stops, everything settles, and the script checks:
 *   - no over-assignment (active assignments per task ≤ needed; taken ≤ needed),
 *   - no lost submission: every submit answered 2xx is stored with that answer,
 *   - the ledger is balanced (trial balance over HTTP + the cached balances),
 *   - no duplicate transfer: one Stripe transfer per payout at most, and paid payouts = transfers.
 * Prints the figures and exits non-zero on any violation. CI runs it shortened (--seconds 15).
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { startFakeStripe } from '../libs/testing/src/fake-stripe';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 60);
const WORKERS = arg('workers', 30);
const TASKS = arg('tasks', 400);
const KILL_EVERY = arg('kill-every', 1500);
const DROP_EVERY = arg('drop-every', 2500);
// Long enough by default for a payout locked by a killed runner (2-minute lock) to be finished by
// another: the settle loop ends as soon as nothing is left to do.
const SETTLE_SECONDS = arg('settle', 150);
const MIN_UP = arg('min-up', 2000);
const BASE_PORT = arg('port', 3870);
const DATABASE_URL = process.env.CHAOS_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tally_chaos';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const JWT_SECRET = 'chaos-secret-chaos-secret-chaos-secret-0123';
const ADMIN = { email: 'chaos-admin@chaos.tally', password: 'chaos admin password' };
const root = join(__dirname, '..');
const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...a);

async function redisReachable(): Promise<boolean> {
  const { default: IORedis } = await import('ioredis');
  const r = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 700, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function freshDatabase(): Promise<void> {
  const u = new URL(DATABASE_URL);
  const name = u.pathname.slice(1).replace(/[^\w]/g, '');
  u.pathname = '/postgres';
  const admin = new Client({ connectionString: u.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const { runMigrations } = await import('@tally/database');
  await runMigrations(DATABASE_URL);
}

interface Proc {
  name: string;
  kind: 'api' | 'worker';
  /** API port, or the worker's METRICS_PORT (its /health). */
  port: number;
  child?: ChildProcess;
  upSince?: number;
  /** When /health first answered 200 since the last (re)start. */
  readySince?: number;
  kills: number;
  restarts: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  await freshDatabase();
  const fake = await startFakeStripe();
  const useRedis = await redisReachable();
  const prefix = `tally-chaos-${randomUUID().slice(0, 8)}`;
  log(`chaos: ${SECONDS}s of kills, ${WORKERS} workers, ${TASKS} tasks, ${useRedis ? `BullMQ on ${REDIS_URL} (prefix ${prefix})` : 'no Redis: in-process jobs'}`);

  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
    ...process.env,
    ...fake.env({ PAYOUT_MINIMUM_MINOR: '10', PLATFORM_FEE_BPS: '2000' }),
    DATABASE_URL,
    JWT_SECRET,
    DATA_DIR: '/tmp/tally-chaos',
    LOG_LEVEL: 'warn',
    SWEEP_INTERVAL_MS: '300',
    ...(useRedis ? { REDIS_URL, REDIS_PREFIX: prefix } : { REDIS_URL: '' }),
    ...extra,
  });
  const procs: Proc[] = [
    { name: 'api-1', kind: 'api', port: BASE_PORT, kills: 0, restarts: 0 },
    { name: 'api-2', kind: 'api', port: BASE_PORT + 1, kills: 0, restarts: 0 },
    { name: 'worker-1', kind: 'worker', port: BASE_PORT + 2, kills: 0, restarts: 0 },
    { name: 'worker-2', kind: 'worker', port: BASE_PORT + 3, kills: 0, restarts: 0 },
  ];
  let stopping = false;
  const start = (p: Proc) => {
    const entry = p.kind === 'api' ? 'apps/api/src/main.ts' : 'apps/worker/src/main.ts';
    const extra: Record<string, string> =
      p.kind === 'api' ? { PORT: String(p.port), RUN_BACKGROUND: 'false', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } : { METRICS_PORT: String(p.port) };
    const child = fork(join(root, 'scripts/run-ts.js'), [join(root, entry)], { env: env(extra), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString().trim();
      if (text && !/ECONNRESET|terminating connection|Connection terminated|57P01/.test(text)) process.stderr.write(`  ${p.name}: ${text.slice(0, 300)}\n`);
    });
    p.child = child;
    p.upSince = Date.now();
    p.readySince = undefined;
    child.once('exit', () => {
      if (p.child === child) {
        p.child = undefined;
        p.readySince = undefined;
      }
      if (!stopping) {
        p.restarts++;
        setTimeout(() => !stopping && !p.child && start(p), 200 + Math.random() * 500);
      }
    });
  };
  for (const p of procs) start(p);

  const apis = procs.filter((p) => p.kind === 'api');
  const url = (p: Proc) => `http://127.0.0.1:${p.port}`;
  const healthy = async (p: Proc) => {
    try {
      return (await fetch(`${url(p)}/health`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  };
  const waitHealthy = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if ((await Promise.all(apis.map(healthy))).every(Boolean)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('the APIs did not become healthy');
  };
  await waitHealthy(90_000);
  log('all processes up');
  // Readiness of every process (APIs and workers), so a process is killed only after doing some work.
  const watch = setInterval(() => {
    for (const p of procs) {
      if (!p.child || p.readySince) continue;
      fetch(`http://127.0.0.1:${p.port}/health`, { signal: AbortSignal.timeout(500) }).then(
        (r) => {
          if (r.ok && p.child && !p.readySince) p.readySince = Date.now();
        },
        () => undefined,
      );
    }
  }, 200);

  /** One HTTP call on any API that answers; retried on connection errors (a killed process). */
  const call = async (method: string, path: string, token?: string, body?: unknown, tries = 40): Promise<{ status: number; body: any }> => {
    let lastErr: unknown;
    for (let i = 0; i < tries; i++) {
      const p = apis[(i + Math.floor(Math.random() * 2)) % 2];
      try {
        const res = await fetch(`${url(p)}${path}`, {
          method,
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        return { status: res.status, body: parsed };
      } catch (err) {
        lastErr = err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw lastErr;
  };
  const must = async (method: string, path: string, token: string | undefined, body: unknown, expect: number) => {
    const r = await call(method, path, token, body);
    if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  // --- setup over HTTP, before any kill -------------------------------------------------------
  const admin = (await must('POST', '/api/auth/login', undefined, ADMIN, 200)).accessToken as string;
  const signup = async (roles: string[], name: string) => {
    const email = `${name}-${randomUUID()}@chaos.tally`;
    const r = await must('POST', '/api/auth/signup', undefined, { email, password: 'correct horse battery', displayName: name, roles }, 201);
    return { id: r.user.id as string, token: r.accessToken as string };
  };
  const requester = await signup(['requester'], 'requester');
  await must('POST', '/api/admin/ledger/credits', admin, { userId: requester.id, amountMinor: 10_000_000, currency: 'usd', reason: 'chaos funds' }, 201);
  const campaign = await must(
    'POST',
    '/api/campaigns',
    requester.token,
    { name: 'Chaos', taskType: 'single-label', labels: ['cat', 'dog'], rewardMinor: 10, currency: 'usd', redundancyMin: 3, redundancyMax: 3, autoApproveSeconds: 1, leaseSeconds: 30 },
    201,
  );
  const items = Array.from({ length: TASKS }, (_, i) => JSON.stringify({ text: `item ${i}` })).join('\n');
  const imp = await fetch(`${url(apis[0])}/api/campaigns/${campaign.id}/items`, {
    method: 'POST',
    headers: { authorization: `Bearer ${requester.token}`, 'content-type': 'application/x-ndjson' },
    body: items,
  });
  if (imp.status !== 201) throw new Error(`import: ${imp.status} ${await imp.text()}`);
  await must('POST', `/api/campaigns/${campaign.id}/publish`, requester.token, {}, 200);
  const workers = [];
  for (let i = 0; i < WORKERS; i++) workers.push(await signup(['worker'], `worker${i}`));
  // Onboard every worker to Stripe Connect (fake): account, then the signed account.updated webhook.
  for (const w of workers) {
    const acct = await must('POST', '/api/payouts/account', w.token, {}, 200);
    const { body, signature } = fake.sign(fake.enableAccount(acct.accountId));
    const r = await fetch(`${url(apis[0])}/api/stripe/webhook`, { method: 'POST', headers: { 'stripe-signature': signature, 'content-type': 'application/json' }, body });
    if (!r.ok) throw new Error(`webhook: ${r.status} ${await r.text()}`);
  }
  log(`setup done: campaign ${campaign.id}, ${workers.length} onboarded workers`);

  // --- chaos -------------------------------------------------------------------------------------
  const acknowledged = new Map<string, string>(); // assignmentId -> label of a 2xx submit
  const stats = { claims: 0, submits2xx: 0, httpErrors: 0, connErrors: 0, statusCounts: {} as Record<string, number>, kills: 0, drops: 0, dropped: 0 };
  const chaosUntil = Date.now() + SECONDS * 1000;
  let loadOn = true;
  const workLoop = async (w: { id: string; token: string }, i: number) => {
    while (loadOn) {
      try {
        const c = await call('POST', `/api/work/campaigns/${campaign.id}/claim`, w.token, undefined, 3);
        stats.statusCounts[`claim ${c.status}`] = (stats.statusCounts[`claim ${c.status}`] ?? 0) + 1;
        if (c.status !== 200) {
          await new Promise((r) => setTimeout(r, c.body?.code === 'NO_TASK_AVAILABLE' ? 500 : 50));
          continue;
        }
        stats.claims++;
        const label = (i + stats.claims) % 2 ? 'cat' : 'dog';
        const s = await call('POST', `/api/work/assignments/${c.body.assignmentId}/submit`, w.token, { answer: { label } }, 3);
        stats.statusCounts[`submit ${s.status}`] = (stats.statusCounts[`submit ${s.status}`] ?? 0) + 1;
        if (s.status >= 200 && s.status < 300) {
          acknowledged.set(c.body.assignmentId, label);
          stats.submits2xx++;
        } else if (s.status >= 500) stats.httpErrors++;
      } catch {
        stats.connErrors++; // the API died under the request: no answer, so no promise was made
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const loops = workers.map((w, i) => workLoop(w, i));

  const killer = (async () => {
    while (Date.now() < chaosUntil) {
      await new Promise((r) => setTimeout(r, KILL_EVERY * (0.5 + Math.random())));
      // any process that has been ready (serving / taking jobs) for a moment; never both APIs at
      // once, so load keeps flowing
      const candidates = procs.filter((p) => p.child && p.readySince && Date.now() - p.readySince > MIN_UP);
      const apisUp = apis.filter((p) => p.child && p.readySince).length;
      const pool = candidates.filter((p) => p.kind === 'worker' || apisUp > 1);
      const victim = pool[Math.floor(Math.random() * pool.length)];
      if (!victim?.child) continue;
      victim.child.kill('SIGKILL');
      victim.kills++;
      stats.kills++;
    }
  })();

  const dropper = (async () => {
    const db = new Client({ connectionString: DATABASE_URL });
    await db.connect();
    while (Date.now() < chaosUntil) {
      await new Promise((r) => setTimeout(r, DROP_EVERY * (0.5 + Math.random())));
      const { rows } = await db.query(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND random() < 0.5`,
      );
      stats.drops++;
      stats.dropped += rows[0].n;
    }
    await db.end();
  })();

  const progress = setInterval(
    () => log(`answers acknowledged ${stats.submits2xx}, kills ${stats.kills}, connection drops ${stats.dropped}, transfers ${fake.transfers.size}, up: ${procs.filter((p) => p.readySince).map((p) => p.name).join(' ')}`),
    5000,
  );
  await Promise.all([killer, dropper]);
  const transfersDuringChaos = fake.transfers.size;
  const answersDuringChaos = stats.submits2xx;
  log('chaos over: no more kills; settling');
  loadOn = false;
  await Promise.all(loops);
  // Settle: every process up, leases/approvals/payouts converge (auto-approval 1 s, sweeps 300 ms).
  await waitHealthy(90_000);
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const settleUntil = Date.now() + SETTLE_SECONDS * 1000;
  while (Date.now() < settleUntil) {
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM assignments WHERE status = 'submitted')::int AS unapproved,
              (SELECT count(*) FROM payouts WHERE status = 'pending')::int AS pending,
              (SELECT count(*) FROM ledger_accounts a JOIN payout_accounts p ON p.user_id = a.owner_id AND p.transfers_enabled
                WHERE a.kind = 'worker_payable' AND a.balance >= 10)::int AS payable_due`,
    );
    if (rows[0].unapproved === 0 && rows[0].pending === 0 && rows[0].payable_due === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  clearInterval(progress);
  clearInterval(watch);

  // --- checks ------------------------------------------------------------------------------------
  const { rows: over } = await db.query(
    `SELECT count(*) FILTER (WHERE t.taken > t.needed)::int AS taken_over,
            count(*) FILTER (WHERE (SELECT count(*) FROM assignments a WHERE a.task_id = t.id AND a.status NOT IN ('expired', 'returned', 'rejected')) > t.needed)::int AS over_assigned,
            (SELECT count(*) FROM (SELECT 1 FROM assignments GROUP BY task_id, worker_id HAVING count(*) > 1) d)::int AS duplicate_answers
       FROM tasks t`,
  );
  const ids = [...acknowledged.keys()];
  const { rows: stored } = await db.query(`SELECT id, status, answer FROM assignments WHERE id = ANY($1::uuid[]) AND submitted_at IS NOT NULL`, [ids]);
  const storedById = new Map(stored.map((r: { id: string; answer: { label: string } }) => [r.id, r.answer?.label]));
  const lost = ids.filter((id) => storedById.get(id) !== acknowledged.get(id));
  const tb = await must('GET', '/api/admin/ledger/trial-balance', admin, undefined, 200);
  const { rows: payouts } = await db.query(`SELECT id, status, amount_minor, transfer_group, stripe_transfer_id FROM payouts`);
  const transfers = [...fake.transfers.values()] as { id: string; amount: number; transfer_group: string; metadata?: { payoutId?: string } }[];
  const perGroup = new Map<string, number>();
  for (const t of transfers) perGroup.set(t.transfer_group, (perGroup.get(t.transfer_group) ?? 0) + 1);
  const duplicateTransfers = [...perGroup.values()].filter((n) => n > 1).length;
  const paid = payouts.filter((p: { status: string }) => p.status === 'paid');
  const paidWithoutTransfer = paid.filter((p: { transfer_group: string; stripe_transfer_id: string }) => !transfers.some((t) => t.id === p.stripe_transfer_id));
  const transferWithoutPayout = transfers.filter((t) => !payouts.some((p: { transfer_group: string }) => p.transfer_group === t.transfer_group));
  const paidSum = paid.reduce((s: number, p: { amount_minor: string }) => s + Number(p.amount_minor), 0);
  const transferSum = transfers.reduce((s, t) => s + t.amount, 0);
  const paidGroups = new Set(paid.map((p: { transfer_group: string }) => p.transfer_group));
  const paidTransferSum = transfers.filter((t) => paidGroups.has(t.transfer_group)).reduce((s, t) => s + t.amount, 0);
  const { rows: st } = await db.query(
    `SELECT count(*) FILTER (WHERE status = 'approved')::int AS approved, count(*) FILTER (WHERE status = 'submitted')::int AS submitted,
            count(*) FILTER (WHERE status = 'expired')::int AS expired, count(*) FILTER (WHERE status = 'claimed')::int AS claimed FROM assignments`,
  );
  const { rows: pend } = await db.query(`SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status = 'failed')::int AS failed FROM payouts`);
  stopping = true;
  for (const p of procs) p.child?.kill('SIGTERM');
  await db.end();
  await fake.stop();
  if (useRedis) {
    // the private queue and throttle keys of this run
    await new Promise((r) => setTimeout(r, 1000));
    const { default: IORedis } = await import('ioredis');
    const r = new IORedis(REDIS_URL);
    for (let cursor = '0'; ; ) {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await r.del(...keys);
      if ((cursor = next) === '0') break;
    }
    r.disconnect();
  }

  const ok =
    over[0].taken_over === 0 &&
    over[0].over_assigned === 0 &&
    over[0].duplicate_answers === 0 &&
    lost.length === 0 &&
    tb.balanced === true &&
    duplicateTransfers === 0 &&
    paidWithoutTransfer.length === 0 &&
    transferWithoutPayout.length === 0 &&
    paidSum === paidTransferSum;
  console.log(`
chaos results (${((Date.now() - started) / 1000).toFixed(0)} s total, ${SECONDS} s of chaos, jobs ${useRedis ? 'on BullMQ/Redis' : 'in-process'})
  SIGKILLs                 ${stats.kills}  (${procs.map((p) => `${p.name} ${p.kills}`).join(', ')})
  DB connections dropped   ${stats.dropped} in ${stats.drops} rounds of pg_terminate_backend
  claims / 2xx submits     ${stats.claims} / ${stats.submits2xx}   (requests cut by a kill: ${stats.connErrors}; 5xx: ${stats.httpErrors})
  statuses                 ${JSON.stringify(stats.statusCounts)}
  assignments              ${JSON.stringify(st[0])}
  during the kills         ${answersDuringChaos} answers acknowledged, ${transfersDuringChaos} payouts transferred
  payouts                  ${paid.length} paid (${paidSum} minor), ${pend[0].pending} pending (held by a killed runner's lock until it lapses; at most one transfer each), ${pend[0].failed} failed; ${transfers.length} Stripe transfers (${transferSum} minor)

  over-assignment          ${over[0].over_assigned} tasks over needed, ${over[0].taken_over} with taken > needed, ${over[0].duplicate_answers} duplicate answers
  lost 2xx submissions     ${lost.length} of ${ids.length}
  ledger                   ${tb.balanced ? 'balanced' : 'NOT BALANCED'} ${JSON.stringify({ currencies: tb.currencies, cacheMismatches: tb.cacheMismatches?.length, unbalanced: tb.unbalancedTransactions?.length })}
  duplicate transfers      ${duplicateTransfers} (paid without transfer: ${paidWithoutTransfer.length}, transfers without payout: ${transferWithoutPayout.length}, paid ${paidSum} = transferred for paid payouts ${paidTransferSum})

${ok ? 'CHAOS OK: every invariant held' : 'CHAOS FAILED: an invariant was violated'}`);
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
