/**
 * `tally simulate`: scripted workers with known behaviour run whole campaigns over HTTP against a
 * running Tally, once with quality control (hidden gold, rules, dynamic overlap with Dawid-Skene
 * skills) and once with fixed overlap and majority vote, and print accuracy against the truth,
 * answers paid (the cost), spammers caught (precision, recall), honest workers touched and wall
 * time. Time is compressed: an honest worker "spends" scale × 1..3 ms on a task, a bot answers at
 * once — the fast-answer rule compares server-measured times with the campaign median.
 *
 *   npm run tally -- simulate --admin-email a@x --admin-password '...' [--url http://localhost:3000]
 *       [--tasks 120] [--gold 40] [--seed 1] [--gold-rate 0.3] [--min 2] [--max 7] [--target 0.95]
 *       [--fixed 5] [--scale-ms 150] [--modes dynamic,fixed] [--skill-rule block|flag|off] [--min-gold 4]
 *       [--gold-rate-proven R]   (adaptive gold: the gold rate for workers proven on gold; default off)
 */
import { randomUUID } from 'node:crypto';
import { seededRandom } from '@tally/common';

type Kind = 'good' | 'noisy' | 'spammer' | 'bot' | 'ring';
interface Worker {
  kind: Kind;
  accuracy: number;
  token: string;
  id: string;
}
interface Options {
  url: string;
  adminEmail: string;
  adminPassword: string;
  tasks: number;
  gold: number;
  seed: number;
  goldRate: number;
  min: number;
  max: number;
  target: number;
  fixed: number;
  scaleMs: number;
  /** Which campaigns to run: both (default), or only one of them. */
  modes: ('dynamic' | 'fixed')[];
  /** The Dawid-Skene accuracy rule on the dynamic campaign (skillAction). */
  skillRule: 'block' | 'flag' | 'off';
  /** Gold answers before the gold pass-mark rule judges a worker (minGoldAnswers). */
  minGold: number;
  /** Adaptive gold (goldRateProven): null = off. */
  goldRateProven: number | null;
}

const LABELS = ['a', 'b', 'c', 'd'];


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parse(args: string[]): Options {
  const get = (name: string, fallback?: string) => {
    const i = args.indexOf(`--${name}`);
    const v = i >= 0 ? args[i + 1] : fallback;
    if (v === undefined) throw new Error(`--${name} is required`);
    return v;
  };
  const num = (name: string, fallback: number) => {
    const v = Number(get(name, String(fallback)));
    if (!Number.isFinite(v)) throw new Error(`--${name} must be a number`);
    return v;
  };
  return {
    url: get('url', 'http://localhost:3000').replace(/\/$/, ''),
    adminEmail: get('admin-email'),
    adminPassword: get('admin-password'),
    tasks: num('tasks', 120),
    gold: num('gold', 40),
    seed: num('seed', 1),
    goldRate: num('gold-rate', 0.3),
    min: num('min', 2),
    max: num('max', 7),
    target: num('target', 0.95),
    fixed: num('fixed', 5),
    scaleMs: num('scale-ms', 150),
    modes: modesOf(get('modes', 'dynamic,fixed')),
    skillRule: ruleOf(get('skill-rule', 'block')),
    minGold: num('min-gold', 4),
    goldRateProven: args.includes('--gold-rate-proven') ? num('gold-rate-proven', 0) : null,
  };
}

function modesOf(v: string): ('dynamic' | 'fixed')[] {
  const modes = v.split(',').map((m) => m.trim());
  if (!modes.length || modes.some((m) => m !== 'dynamic' && m !== 'fixed')) throw new Error('--modes must be dynamic, fixed or dynamic,fixed');
  return modes as ('dynamic' | 'fixed')[];
}

function ruleOf(v: string): 'block' | 'flag' | 'off' {
  if (v !== 'block' && v !== 'flag' && v !== 'off') throw new Error('--skill-rule must be block, flag or off');
  return v;
}

class Api {
  constructor(private readonly base: string) {}
  async call(method: string, path: string, token?: string, body?: unknown, raw = false): Promise<{ status: number; body: any; text: string }> {
    const res = await fetch(`${this.base}/api${path}`, {
      method,
      headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = null;
    if (!raw) {
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, body: parsed, text };
  }
  async ok(method: string, path: string, token?: string, body?: unknown) {
    const r = await this.call(method, path, token, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.body;
  }
  async signUp(roles: string[], name: string): Promise<{ id: string; token: string }> {
    const b = await this.ok('POST', '/auth/signup', undefined, { email: `${name}-${randomUUID()}@sim.tally`, password: 'simulated crowd worker', displayName: name, roles });
    return { id: b.user.id, token: b.accessToken };
  }
}

interface RunReport {
  mode: string;
  accuracy: number;
  tasksComplete: number;
  lowConfidence: number;
  answersPaid: number;
  goldPaid: number;
  spammerPrecision: number | null;
  spammerRecall: number;
  honestTouched: number;
  wallSeconds: number;
}

async function runCampaign(api: Api, admin: string, o: Options, mode: 'dynamic' | 'fixed'): Promise<RunReport> {
  const rand = seededRandom(o.seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const requester = await api.signUp(['requester'], 'sim-requester');
  await api.ok('POST', '/admin/ledger/credits', admin, { userId: requester.id, amountMinor: 10_000_000, currency: 'usd', reason: 'tally simulate' });
  const dynamic = mode === 'dynamic';
  const campaign = await api.ok('POST', '/campaigns', requester.token, {
    name: `simulated crowd (${mode})`,
    taskType: 'single-label',
    labels: LABELS,
    instructions: 'Pick the letter.',
    rewardMinor: 10,
    currency: 'usd',
    redundancyMin: dynamic ? o.min : o.fixed,
    redundancyMax: dynamic ? o.max : o.fixed,
    confidenceTarget: o.target,
    autoApproveSeconds: 3600,
    goldRate: dynamic ? o.goldRate : 0,
    goldPassMark: 0.6,
    aggregationMethod: dynamic ? 'ds' : 'mv',
  });
  const id = campaign.id as string;
  const truth = new Map<string, string>();
  const rows: unknown[] = [];
  for (let i = 0; i < o.tasks + (dynamic ? o.gold : 0); i++) {
    const text = `simulated item ${i} ${randomUUID()}`;
    const label = pick(LABELS);
    truth.set(text, label);
    rows.push(i < o.tasks ? { payload: { text } } : { payload: { text }, gold: { label } });
  }
  const imp = await api.call('POST', `/campaigns/${id}/items?format=json`, requester.token, rows);
  if (imp.status >= 300) throw new Error(`import: ${imp.status} ${imp.text.slice(0, 300)}`);
  if (dynamic) {
    await api.ok('PATCH', `/campaigns/${id}/quality-rules`, requester.token, {
      dynamicOverlap: true,
      goldMaxExposures: 20,
      minGoldAnswers: o.minGold,
      goldAction: 'block',
      goldStatistic: 'upper-bound',
      fastAction: 'block',
      fastFactor: 0.25,
      fastMinCount: 3,
      fastMinSample: 20,
      collusionMinShared: 6,
      skillAction: o.skillRule,
      skillMinAnswers: 20,
      goldRateProven: o.goldRateProven,
    });
  }
  await api.ok('POST', `/campaigns/${id}/publish`, requester.token);

  const crowd: Worker[] = [];
  const add = async (kind: Kind, n: number, accuracy: number) => {
    for (let i = 0; i < n; i++) crowd.push({ kind, accuracy, ...(await api.signUp(['worker'], `sim-${kind}`)) });
  };
  await add('good', 8, 0.9);
  await add('noisy', 4, 0.65);
  await add('spammer', 2, 0.25);
  await add('bot', 2, 0.25);
  await add('ring', 2, 0.25);
  const ringNotes = new Map<string, string>();
  const answerOf = (w: Worker, text: string): string => {
    if (w.kind === 'ring') {
      const known = ringNotes.get(text);
      if (known) return known;
      const l = pick(LABELS);
      ringNotes.set(text, l);
      return l;
    }
    if (w.kind === 'spammer' || w.kind === 'bot') return pick(LABELS);
    const right = truth.get(text)!;
    return rand() < w.accuracy ? right : pick(LABELS.filter((l) => l !== right));
  };

  const started = Date.now();
  let done = false;
  const reestimate = (async () => {
    while (!done && dynamic) {
      await sleep(2000);
      await api.call('POST', `/campaigns/${id}/quality/reestimate`, requester.token);
    }
  })();
  await Promise.all(
    crowd.map(async (w) => {
      let idle = 0;
      while (idle < 10) {
        const c = await api.call('POST', `/work/campaigns/${id}/claim`, w.token);
        if (c.status === 403) return;
        if (c.status !== 200) {
          idle++;
          await sleep(300);
          continue;
        }
        idle = 0;
        // spammers take their time like people; bots answer at once
        if (w.kind !== 'bot') await sleep(o.scaleMs * (1 + 2 * rand()));
        await api.call('POST', `/work/assignments/${c.body.assignmentId}/submit`, w.token, { answer: { label: answerOf(w, c.body.payload.text) } });
      }
    }),
  );
  done = true;
  await reestimate;
  if (dynamic) await api.ok('POST', `/campaigns/${id}/quality/reestimate`, requester.token);
  const wallSeconds = (Date.now() - started) / 1000;

  const exp = await api.call('GET', `/campaigns/${id}/results?format=jsonl&raw=true`, requester.token, undefined, true);
  const results: { payload: { text: string }; label: string; status: string; lowConfidence: boolean; rawAnswers: unknown[] }[] = exp.text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const accuracy = results.filter((r) => r.label === truth.get(r.payload.text)).length / o.tasks;
  // paid answers: approved or awaiting approval (rejected ones are never paid); gold from the owner's answer list
  let answersPaid = 0;
  let goldPaid = 0;
  const goldTexts = new Set(rows.filter((r) => (r as { gold?: unknown }).gold).map((r) => (r as { payload: { text: string } }).payload.text));
  const taskText = new Map<string, string>();
  for (let offset = 0; ; offset += 200) {
    const page = await api.ok('GET', `/campaigns/${id}/tasks?limit=200&offset=${offset}`, requester.token);
    for (const t of page.items) taskText.set(t.id, t.payload.text);
    if (page.items.length < 200) break;
  }
  for (let offset = 0; ; offset += 200) {
    const page = await api.ok('GET', `/campaigns/${id}/answers?limit=200&offset=${offset}`, requester.token);
    for (const a of page.items) {
      if (a.status === 'rejected') continue;
      if (goldTexts.has(taskText.get(a.taskId) ?? '')) goldPaid++;
      else answersPaid++;
    }
    if (page.items.length < 200) break;
  }
  const table = await api.ok('GET', `/admin/campaigns/${id}/workers`, admin);
  const flags = await api.ok('GET', `/admin/quality/flags?campaignId=${id}&limit=200`, admin);
  const flagged = new Set<string>(flags.items.flatMap((f: { workers: string[] }) => f.workers));
  const caught = new Set<string>([...table.items.filter((r: { blocked: unknown }) => r.blocked).map((r: { worker: string }) => r.worker), ...flagged]);
  const bad = crowd.filter((w) => w.kind === 'spammer' || w.kind === 'bot' || w.kind === 'ring');
  const caughtBad = bad.filter((w) => caught.has(w.id)).length;
  return {
    mode: dynamic ? `dynamic ${o.min}..${o.max} @${o.target} + gold ${o.goldRate}${o.goldRateProven !== null ? ` (proven ${o.goldRateProven})` : ''}` : `fixed ${o.fixed}, mv`,
    accuracy: +accuracy.toFixed(4),
    tasksComplete: results.filter((r) => r.status === 'complete').length,
    lowConfidence: results.filter((r) => r.lowConfidence).length,
    answersPaid,
    goldPaid,
    spammerPrecision: caught.size ? +(caughtBad / caught.size).toFixed(3) : null,
    spammerRecall: +(caughtBad / bad.length).toFixed(3),
    honestTouched: crowd.filter((w) => (w.kind === 'good' || w.kind === 'noisy') && caught.has(w.id)).length,
    wallSeconds: +wallSeconds.toFixed(1),
  };
}

export async function simulateCommand(args: string[]): Promise<number> {
  const o = parse(args);
  const api = new Api(o.url);
  const login = await api.ok('POST', '/auth/login', undefined, { email: o.adminEmail, password: o.adminPassword });
  const admin = login.accessToken as string;
  console.log(`simulating ${o.tasks} tasks (+${o.gold} gold) with 18 workers: 8 good (0.9), 4 noisy (0.65), 2 spammers, 2 bots, a copying ring of 2`);
  const dyn = o.modes.includes('dynamic') ? await runCampaign(api, admin, o, 'dynamic') : null;
  const fixed = o.modes.includes('fixed') ? await runCampaign(api, admin, o, 'fixed') : null;
  console.table([dyn, fixed].filter(Boolean));
  if (!dyn || !fixed) return 0;
  const cost = dyn.answersPaid / Math.max(1, fixed.answersPaid);
  const costWithGold = (dyn.answersPaid + dyn.goldPaid) / Math.max(1, fixed.answersPaid);
  console.log(
    `dynamic vs fixed ${o.fixed}: accuracy ${dyn.accuracy} vs ${fixed.accuracy}; cost ${(cost * 100).toFixed(1)}% of fixed (${(costWithGold * 100).toFixed(1)}% counting paid gold); ` +
      `spammers caught: recall ${dyn.spammerRecall}, precision ${dyn.spammerPrecision}; honest workers touched: ${dyn.honestTouched} of 12`,
  );
  return 0;
}
