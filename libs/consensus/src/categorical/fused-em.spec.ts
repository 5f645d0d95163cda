import { buildCrowd, type Crowd } from '../crowd';
import { BayesianDawidSkene } from './bayesian-dawid-skene';
import { DawidSkene } from './dawid-skene';
import { eStep, softCounts, voteShares } from './em-core';
import { FusedEStep, fusedPass } from './fused-em';
import { Mace } from './mace';

/** A seeded crowd: `tasks` tasks with `r` answers each from `workers` workers, 70% right. */
function crowd(tasks: number, workers: number, K: number, r: number, seed = 7): Crowd {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s / 4294967296);
  const n = tasks * r;
  const task = new Int32Array(n);
  const worker = new Int32Array(n);
  const label = new Int32Array(n);
  for (let t = 0, i = 0; t < tasks; t++) {
    const truth = Math.floor(rnd() * K);
    for (let j = 0; j < r; j++, i++) {
      task[i] = t;
      worker[i] = Math.floor(rnd() * workers);
      label[i] = rnd() < 0.7 ? truth : Math.floor(rnd() * K);
    }
  }
  const ids = (p: string, m: number) => Array.from({ length: m }, (_, j) => `${p}${j}`);
  return buildCrowd({ tasks: ids('t', tasks), workers: ids('w', workers), classes: ids('c', K), task, worker, label });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('fused E-step', () => {
  it.each([2, 3, 4, 5])('K = %i: same posteriors, log-likelihood and soft counts as eStep + softCounts', (K) => {
    const c = crowd(3000, 60, K, 5);
    const clamp = K === 3 ? new Int32Array(c.nTasks).map((_, t) => (t % 7 === 0 ? t % K : -1)) : null;
    const confI = new Float64Array(c.nWorkers * K * K).map((_, i) => 0.05 + ((i * 7919) % 101) / 101);
    const prior = new Float64Array(K).fill(1 / K);
    const post1 = voteShares(c);
    const post2 = new Float64Array(post1);
    const ll1 = eStep(c, confI, prior, post1, clamp);
    const counts1 = new Float64Array(confI.length);
    softCounts(c, post1, counts1);
    const f = new FusedEStep(c, clamp, 1);
    const ll2 = f.run(confI, prior, post2);
    const counts2 = new Float64Array(confI.length);
    f.counts(post2, counts2);
    expect(ll2).toBeCloseTo(ll1, 8);
    expect(maxDiff(post1, post2)).toBeLessThan(1e-12);
    expect(maxDiff(counts1, counts2)).toBeLessThan(1e-9);
    const totals = new Float64Array(K);
    f.classTotals(post2, totals);
    expect(totals.reduce((a, b) => a + b, 0)).toBeCloseTo(c.nTasks, 6);
  });

  it.each([
    [2, false, false],
    [3, true, false],
    [4, false, false],
    [4, false, true],
    [4, true, true],
  ])('K = %i (gold clamped: %s, single-precision table: %s): the vote start gives voteShares and their soft counts', (K, clamped, compact) => {
    const c = crowd(3000, 60, K, 5, K + 1);
    const clamp = clamped ? new Int32Array(c.nTasks).map((_, t) => (t % 7 === 0 ? t % K : -1)) : null;
    const f = new FusedEStep(c, clamp, 1, 30_000, compact);
    const post = new Float64Array(c.nTasks * K);
    f.voteStart(post);
    const ref = voteShares(c, undefined, clamp);
    expect(Array.from(post)).toEqual(Array.from(ref));
    expect(f.hasCounts).toBe(true);
    const counts1 = new Float64Array(c.nWorkers * K * K);
    softCounts(c, ref, counts1);
    const counts2 = new Float64Array(counts1.length);
    f.counts(post, counts2);
    expect(maxDiff(counts1, counts2)).toBeLessThan(compact ? 1e-4 : 1e-9);
    const totals = new Float64Array(K);
    f.classTotals(post, totals);
    expect(totals.reduce((a, b) => a + b, 0)).toBeCloseTo(c.nTasks, 6);
  });

  it('a short task whose product underflows is redone with rescaling: same result as eStep', () => {
    // likelihoods of 1e-70 and 1e-75: five answers multiply to ~1e-360, which underflows to 0
    // without the rescaling (NaN posteriors)
    const K = 4;
    const c = crowd(500, 20, K, 5, 9);
    const confI = new Float64Array(c.nWorkers * K * K).map((_, i) => (i % 3 === 0 ? 1e-70 : 1e-75));
    const prior = new Float64Array([0.4, 0.3, 0.2, 0.1]);
    const post1 = new Float64Array(c.nTasks * K);
    const post2 = new Float64Array(c.nTasks * K);
    const ll1 = eStep(c, confI, prior, post1, null);
    const ll2 = new FusedEStep(c, null, 1, 30_000, false).run(confI, prior, post2);
    expect(Number.isFinite(ll2)).toBe(true);
    expect(ll2).toBeCloseTo(ll1, 6);
    expect(maxDiff(post1, post2)).toBeLessThan(1e-12);
  });

  it.each([2, 3, 4])('K = %i: the prefetching pass (large tables) gives the plain pass', (K) => {
    const c = crowd(2000, 40, K, 7, K + 3);
    const slots = c.nWorkers * K * 2 * K;
    const tab1 = new Float64Array(slots).map((_, i) => (i % (2 * K) < K ? 0.05 + ((i * 31) % 29) / 29 : 0));
    const tab2 = new Float64Array(tab1);
    const prior = new Float64Array(K).fill(1 / K);
    const post1 = new Float64Array(c.nTasks * K);
    const post2 = new Float64Array(c.nTasks * K);
    const cs1 = new Float64Array(K);
    const cs2 = new Float64Array(K);
    const ll1 = fusedPass(c.taskStart, c.ansWL, tab1, prior, post1, 0, c.nTasks, 0, cs1, K, null, new Float64Array(K), 0);
    const ll2 = fusedPass(c.taskStart, c.ansWL, tab2, prior, post2, 0, c.nTasks, 0, cs2, K, null, new Float64Array(K), 16);
    expect(ll2).toBeCloseTo(ll1, 8);
    expect(Array.from(post2)).toEqual(Array.from(post1));
    expect(maxDiff(tab1, tab2)).toBeLessThan(1e-9);
    expect(maxDiff(cs1, cs2)).toBeLessThan(1e-9);
  });

  // the helper thread takes chunks of the tasks; results must not depend on it (up to rounding)
  it.each([
    ['ds', 4],
    ['ds', 2],
    ['ds', 3],
    ['bayes-ds', 4],
    ['mace', 2],
  ] as const)('%s, K = %i: two threads give the single-thread fit', (method, K) => {
    const c = crowd(8000, 300, K, 5, K);
    const make = (threads: number) =>
      method === 'ds' ? new DawidSkene({ threads }) : method === 'bayes-ds' ? new BayesianDawidSkene({ threads }) : new Mace({ threads });
    const one = make(1).fit(c);
    const two = make(2).fit(c);
    expect(two.iterations).toBe(one.iterations);
    expect(maxDiff(one.posteriors, two.posteriors)).toBeLessThan(1e-9);
    expect(maxDiff(one.confusion, two.confusion)).toBeLessThan(1e-9);
    expect(Array.from(two.labelIndex)).toEqual(Array.from(one.labelIndex));
  });

  it('the helper thread is really used, released by close() and reused by the next fit', () => {
    const c = crowd(2000, 50, 4, 5);
    const a = new FusedEStep(c, null, 2);
    expect(a.parallel).toBe(true);
    expect(a.waitForHelper()).toBe(true);
    // busy: a second concurrent pass object runs on this thread alone
    const b = new FusedEStep(c, null, 2);
    expect(b.parallel).toBe(false);
    a.close();
    const d = new FusedEStep(c, null, 2);
    expect(d.waitForHelper()).toBe(true);
    // a pass split over the two threads equals the one-thread pass
    const confI = new Float64Array(c.nWorkers * 16).map((_, i) => 0.05 + ((i * 13) % 19) / 19);
    const prior = new Float64Array([0.1, 0.2, 0.3, 0.4]);
    const p1 = new Float64Array(c.nTasks * 4);
    const p2 = new Float64Array(c.nTasks * 4);
    const ll1 = new FusedEStep(c, null, 1).run(confI, prior, p1);
    expect(d.run(confI, prior, p2)).toBeCloseTo(ll1, 8);
    expect(d.parallel).toBe(true);
    // the helper takes chunks as soon as it wakes: within a few passes it has done some
    for (let i = 0; i < 50 && d.helperChunks === 0; i++) expect(d.run(confI, prior, p2)).toBeCloseTo(ll1, 8);
    expect(d.helperChunks).toBeGreaterThan(0);
    expect(maxDiff(p1, p2)).toBeLessThan(1e-12);
    // the shared posterior table: both threads write it in place (no copy), same posteriors
    const p3 = d.posteriors();
    expect(p3.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(d.posteriors().buffer).not.toBeInstanceOf(SharedArrayBuffer); // handed out once
    for (let i = 0; i < 50 && (i === 0 || d.helperChunks === 0); i++) expect(d.run(confI, prior, p3)).toBeCloseTo(ll1, 8);
    expect(d.helperChunks).toBeGreaterThan(0);
    expect(maxDiff(p1, p3)).toBeLessThan(1e-12);
    const k1 = new Float64Array(confI.length);
    const k2 = new Float64Array(confI.length);
    softCounts(c, p1, k1);
    d.counts(p2, k2);
    expect(maxDiff(k1, k2)).toBeLessThan(1e-9);
    d.close();
    expect(new FusedEStep(c, null, 1).parallel).toBe(false);
  });

  it('a helper thread that dies is abandoned: its chunks are done here, and the next fit starts a new one', async () => {
    const c = crowd(3000, 80, 4, 5, 3);
    const confI = new Float64Array(c.nWorkers * 16).map((_, i) => 0.05 + ((i * 31) % 17) / 17);
    const prior = new Float64Array([0.25, 0.25, 0.25, 0.25]);
    const ref = new Float64Array(c.nTasks * 4);
    const one = new FusedEStep(c, null, 1);
    const llRef = one.run(confI, prior, ref);
    const f = new FusedEStep(c, null, 2, 50);
    expect(f.waitForHelper()).toBe(true);
    const worker = (f as unknown as { par: { helper: { worker: { terminate(): Promise<number> } } } }).par.helper.worker;
    await worker.terminate();
    const post = new Float64Array(c.nTasks * 4);
    expect(f.run(confI, prior, post)).toBeCloseTo(llRef, 8);
    expect(f.parallel).toBe(false);
    expect(maxDiff(post, ref)).toBeLessThan(1e-12);
    f.close();
    // the dead helper is replaced on the next request
    await new Promise((r) => setTimeout(r, 20));
    const g = new FusedEStep(c, null, 2);
    expect(g.waitForHelper()).toBe(true);
    const post2 = new Float64Array(c.nTasks * 4);
    expect(g.run(confI, prior, post2)).toBeCloseTo(llRef, 8);
    expect(maxDiff(post2, ref)).toBeLessThan(1e-12);
    g.close();
  });

  it('a large crowd is grouped into shared memory, which the helper thread reads without a copy', () => {
    const c = crowd(100_000, 2000, 4, 5, 5); // 500,000 answers
    expect(c.ansWL.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(c.taskStart.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(crowd(1000, 50, 4, 5).ansWL.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    const one = new DawidSkene({ threads: 1, maxIterations: 5 }).fit(c);
    const two = new DawidSkene({ threads: 2, maxIterations: 5 }).fit(c);
    expect(maxDiff(one.posteriors, two.posteriors)).toBeLessThan(1e-9);
    expect(Array.from(two.labelIndex)).toEqual(Array.from(one.labelIndex));
  });

  it('a fit with gold clamped runs on two threads too', () => {
    const c = crowd(4000, 100, 4, 5, 11);
    const gold = c.tasks.filter((_, t) => t % 5 === 0).map((task) => ({ task, label: 'c1' }));
    const one = new DawidSkene({ threads: 1, gold }).fit(c);
    const two = new DawidSkene({ threads: 2, gold }).fit(c);
    expect(maxDiff(one.posteriors, two.posteriors)).toBeLessThan(1e-9);
    expect(two.label(c.tasks[5])).toBe('c1');
  });
});
