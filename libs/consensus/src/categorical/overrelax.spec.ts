import { buildCrowd, type Crowd } from '../crowd';
import { DawidSkene } from './dawid-skene';
import { FusedEStep } from './fused-em';
import { nextStep, OVERRELAX_MAX, previousStep } from './overrelax';

/**
 * A seeded crowd like the benchmark's: `tasks` tasks with `r` answers each from `workers`
 * workers, 60% good, 20% noisy, 12% spammers, 8% adversarial; skewed class proportions.
 */
function crowd(tasks: number, workers: number, K: number, r: number, seed = 5): { c: Crowd; truth: Int32Array } {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s / 4294967296);
  const kind = Array.from({ length: workers }, () => rnd());
  const acc = kind.map((u) => (u < 0.6 ? 0.75 + 0.2 * rnd() : 0.4 + 0.2 * rnd()));
  const n = tasks * r;
  const task = new Int32Array(n);
  const worker = new Int32Array(n);
  const label = new Int32Array(n);
  const truth = new Int32Array(tasks);
  for (let t = 0, i = 0; t < tasks; t++) {
    truth[t] = rnd() < 0.5 ? 0 : Math.floor(rnd() * K);
    for (let j = 0; j < r; j++, i++) {
      const w = Math.floor(rnd() * workers);
      task[i] = t;
      worker[i] = w;
      const u = kind[w];
      label[i] = u >= 0.92 ? (truth[t] + 1) % K : u >= 0.8 ? Math.floor(rnd() * K) : rnd() < acc[w] ? truth[t] : (truth[t] + 1) % K;
    }
  }
  const ids = (p: string, m: number) => Array.from({ length: m }, (_, j) => `${p}${j}`);
  return { c: buildCrowd({ tasks: ids('t', tasks), workers: ids('w', workers), classes: ids('c', K), task, worker, label }), truth };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('over-relaxed EM (Dawid-Skene default)', () => {
  const { c, truth } = crowd(20_000, 400, 4, 5);

  it('meets the plain stopping rule at a likelihood at least as high as plain EM, in fewer passes', () => {
    const tolerance = 1e-6;
    const fast = new DawidSkene({ threads: 1 }).fit(c);
    const plain = new DawidSkene({ threads: 1, acceleration: 'none' }).fit(c);
    expect(fast.converged).toBe(true);
    expect(plain.converged).toBe(true);
    const h = fast.logLikelihood;
    // never lowers the likelihood
    for (let i = 1; i < h.length; i++) expect(h[i]).toBeGreaterThanOrEqual(h[i - 1]);
    // the last pass was a plain EM step that gained at most tolerance × answers
    expect(h[h.length - 1] - h[h.length - 2]).toBeLessThanOrEqual(tolerance * c.nAnswers);
    expect(h[h.length - 1]).toBeGreaterThanOrEqual(plain.logLikelihood[plain.logLikelihood.length - 1] - tolerance * c.nAnswers);
    expect(fast.iterations).toBeLessThan(plain.iterations);
    let same = 0;
    let right = 0;
    for (let t = 0; t < c.nTasks; t++) {
      if (fast.labelIndex[t] === plain.labelIndex[t]) same++;
      if (fast.labelIndex[t] === truth[t]) right++;
    }
    expect(same / c.nTasks).toBeGreaterThan(0.998);
    expect(right / c.nTasks).toBeGreaterThan(0.9);
  });

  it('SQUAREM and plain EM remain available', () => {
    const sq = new DawidSkene({ threads: 1, acceleration: 'squarem', maxIterations: 30 }).fit(c);
    const none = new DawidSkene({ threads: 1, accelerate: false, maxIterations: 3 }).fit(c);
    expect(none.iterations).toBe(3);
    expect(none.converged).toBe(false);
    expect(sq.iterations).toBeLessThanOrEqual(30);
  });

  it('steps grow 1.5, 2, 3, 4, 6, 8, … up to the cap', () => {
    const seq = [1];
    while (seq[seq.length - 1] < OVERRELAX_MAX) seq.push(nextStep(seq[seq.length - 1]));
    expect(seq.slice(0, 8)).toEqual([1, 1.5, 2, 3, 4, 6, 8, 12]);
    expect(seq[seq.length - 1]).toBe(OVERRELAX_MAX);
    expect(nextStep(OVERRELAX_MAX)).toBe(OVERRELAX_MAX);
    // the ceiling after a rejection: one size below the rejected step, never under 1.5
    for (let i = 2; i < seq.length; i++) expect(previousStep(seq[i])).toBe(seq[i - 1]);
    expect(previousStep(1.5)).toBe(1.5);
  });
});

describe('single-precision table (large crowds)', () => {
  it('is the default above COMPACT_MIN_TABLE_BYTES and agrees with the double table', () => {
    // 9,000 workers × K = 4: a 2.3 MB double table (1,000 workers: 0.26 MB)
    const { c } = crowd(30_000, 9_000, 4, 3, 9);
    expect(new FusedEStep(c, null, 1).compact).toBe(true);
    expect(new FusedEStep(crowd(3000, 1000, 4, 3).c, null, 1).compact).toBe(false);
    const confI = new Float64Array(c.nWorkers * 16).map((_, i) => 0.05 + ((i * 7919) % 101) / 101);
    const prior = new Float64Array([0.4, 0.3, 0.2, 0.1]);
    const p64 = new Float64Array(c.nTasks * 4);
    const p32 = new Float64Array(c.nTasks * 4);
    const f64 = new FusedEStep(c, null, 1, 30_000, false);
    const f32 = new FusedEStep(c, null, 1, 30_000, true);
    const ll64 = f64.run(confI, prior, p64);
    const ll32 = f32.run(confI, prior, p32);
    expect(Math.abs(ll32 - ll64)).toBeLessThan(1e-6 * Math.abs(ll64));
    expect(maxDiff(p32, p64)).toBeLessThan(1e-5);
    const k64 = new Float64Array(confI.length);
    const k32 = new Float64Array(confI.length);
    f64.counts(p64, k64);
    f32.counts(p32, k32);
    expect(maxDiff(k32, k64)).toBeLessThan(1e-4);
    // the helper thread's chunks run on a single-precision table too
    const par = new FusedEStep(c, null, 2, 30_000, true);
    expect(par.waitForHelper()).toBe(true);
    const pp = new Float64Array(c.nTasks * 4);
    expect(par.run(confI, prior, pp)).toBeCloseTo(ll32, 6);
    expect(par.parallel).toBe(true);
    expect(maxDiff(pp, p32)).toBeLessThan(1e-12);
    const kp = new Float64Array(confI.length);
    par.counts(pp, kp);
    expect(maxDiff(kp, k32)).toBeLessThan(1e-5);
    par.close();
  });

  it.each([
    [4, 9_000],
    [3, 16_000],
  ])('K = %i: a compact fit on two threads equals the one-thread fit', (K, workers) => {
    const { c } = crowd(40_000, workers, K, 3, 13);
    expect(new FusedEStep(c, null, 1).compact).toBe(true);
    const one = new DawidSkene({ threads: 1, maxIterations: 12 }).fit(c);
    const two = new DawidSkene({ threads: 2, maxIterations: 12 }).fit(c);
    expect(two.iterations).toBe(one.iterations);
    expect(maxDiff(one.posteriors, two.posteriors)).toBeLessThan(1e-4);
    let same = 0;
    for (let t = 0; t < c.nTasks; t++) if (one.labelIndex[t] === two.labelIndex[t]) same++;
    expect(same / c.nTasks).toBeGreaterThan(0.999);
  });
});
