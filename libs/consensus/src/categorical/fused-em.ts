import type { Crowd } from '../crowd';
import { softCounts } from './em-core';

/**
 * The one pass over the answers that every confusion-matrix EM iteration needs (DS, one-coin
 * DS, MACE, Bayesian DS): the E-step (posterior per task from the class prior and each answer's
 * confusion column) fused with the soft counts the next M-step needs.
 *
 * Memory layout: one interleaved table with a stride of 2K numbers per (worker, label) pair:
 * `tab[wl * 2K + k]` = P(label l | true k) and `tab[wl * 2K + K + k]` = soft count of answers
 * (w, l) on tasks of class k. An answer therefore touches one place in memory (for K = 4 one
 * 64-byte slot) both to read its likelihoods and to add its task's posterior, instead of one
 * place in each of two tables: on a crowd whose tables outgrow the CPU caches, cache misses are
 * the real cost of an EM pass (the arithmetic is a few multiply-adds per answer).
 * The table is allocated once per fit; an iteration allocates nothing.
 *
 * Numerics are those of {@link eStep} + {@link softCounts} (probability space, products
 * renormalised when they fall below 1e-150, one log per ~200 orders of magnitude), summed in the
 * same order, so results are identical to the two-pass form.
 */
export class FusedEStep {
  private readonly tab: Float64Array;
  /** Sum over tasks of the posteriors of the last pass (the class totals). */
  readonly classSum: Float64Array;
  private readonly p: Float64Array;
  /** True when the counts in `tab` belong to the posteriors the last pass wrote. */
  private fresh = false;
  /** Tasks [0, mid) are done here, [mid, nTasks) by the helper thread (when there is one). */
  private mid: number;
  private par: ParallelJob | null = null;

  /**
   * `threads`: 1 = this thread only; 2 = the tasks are split in two halves of equal answers and
   * the second half runs on a helper thread (with its own count table, added to this one after
   * each pass). Passes that start before the helper has booted run here alone, so the split
   * (hence the summation order, ~1e-12) can depend on timing; nothing else does. Default
   * {@link defaultThreads}. Call {@link close} when done (the estimators do, in `finally`). A
   * helper that fails or does not answer in time is abandoned: its half is done here and the
   * fit goes on on one thread.
   */
  constructor(
    private readonly c: Crowd,
    private readonly clamp: Int32Array | null,
    threads = defaultThreads(c.nAnswers, c.nWorkers * c.K * 2 * c.K * 8),
    /** The helper gets max(patienceMs, 20 × the time this thread's half took) per pass (tests shorten it). */
    private readonly patienceMs = 30_000,
  ) {
    const { nWorkers, K, nTasks, taskStart, nAnswers } = c;
    this.tab = new Float64Array(nWorkers * K * 2 * K);
    this.classSum = new Float64Array(K);
    this.p = new Float64Array(K);
    this.mid = nTasks;
    if (threads >= 2 && nTasks >= 2) {
      // first task whose answers start at or after half of all answers
      let lo = 0;
      let hi = nTasks;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (taskStart[m] < nAnswers / 2) lo = m + 1;
        else hi = m;
      }
      const h = lo > 0 && lo < nTasks ? acquireHelper() : null;
      if (h) {
        this.mid = lo;
        this.par = startJob(h, c, lo, clamp);
      }
    }
  }

  /** Blocks until the helper thread has picked up this job (true), or `timeoutMs` passed. */
  waitForHelper(timeoutMs = 5000): boolean {
    const par = this.par;
    if (!par) return false;
    const end = Date.now() + timeoutMs;
    while (Atomics.load(par.ctrl, 4) !== 1 && Date.now() < end) Atomics.wait(par.ctrl, 4, 0, 50);
    return Atomics.load(par.ctrl, 4) === 1;
  }

  /** Whether a helper thread takes half of each pass. */
  get parallel(): boolean {
    return this.par !== null;
  }

  /**
   * E-step with confusion `confI` (internal [w][l][k] layout) and class prior: writes `post`,
   * returns the log-likelihood, and keeps the soft counts of `post` for {@link counts}.
   */
  run(confI: Float64Array, prior: Float64Array, post: Float64Array, confLoaded = false): number {
    const { K, nWorkers, nTasks, taskStart, ansWL } = this.c;
    const tab = this.tab;
    const K2 = 2 * K;
    // until the helper thread has booted (tens of milliseconds) and picked up the job, passes run
    // here alone rather than wait for it
    const par = this.par && Atomics.load(this.par.ctrl, 4) === 1 ? this.par : null;
    if (par) {
      // the helper builds its own table from these (writing it here would leave its cache lines
      // in this core's cache, and the helper would then miss on every answer)
      par.conf.set(confI);
      par.prior.set(prior);
      Atomics.store(par.ctrl, 0, ++par.gen);
      Atomics.notify(par.ctrl, 0);
    }
    if (!confLoaded) {
      for (let wl = 0, n = nWorkers * K; wl < n; wl++) {
        const a = wl * K2;
        const b = wl * K;
        for (let k = 0; k < K; k++) {
          tab[a + k] = confI[b + k];
          tab[a + K + k] = 0;
        }
      }
    }
    const cs = this.classSum;
    cs.fill(0);
    let ll: number;
    if (par) {
      const gen = par.gen;
      const t0 = Date.now();
      ll = fusedPass(taskStart, ansWL, tab, prior, post, 0, this.mid, 0, cs, K, this.clamp, this.p);
      // wait for the helper's half; if it failed, or is far slower than this half took (a dead
      // or starved thread), do its half here and go on without it
      const patience = Math.max(this.patienceMs, 20 * (Date.now() - t0));
      let done: number;
      while ((done = Atomics.load(par.ctrl, 2)) !== gen && Date.now() - t0 < patience) Atomics.wait(par.ctrl, 2, done, 200);
      if (done !== gen || Atomics.load(par.ctrl, 1) === 2) {
        const mid = this.mid;
        this.abandonHelper();
        ll += fusedPass(taskStart, ansWL, tab, prior, post, mid, nTasks, 0, cs, K, this.clamp, this.p);
        this.fresh = true;
        return ll;
      }
      post.set(par.post, this.mid * K);
      const tab2 = par.tab;
      for (let wl = 0, n = nWorkers * K; wl < n; wl++) {
        const a = wl * K2 + K;
        for (let k = 0; k < K; k++) tab[a + k] += tab2[a + k];
      }
      for (let k = 0; k < K; k++) cs[k] += par.out[k];
      ll += par.out[K];
    } else ll = fusedPass(taskStart, ansWL, tab, prior, post, 0, nTasks, 0, cs, K, this.clamp, this.p);
    this.fresh = true;
    return ll;
  }

  /** Stops using a helper that failed or hung: this thread does all the tasks from now on. */
  private abandonHelper(): void {
    const par = this.par!;
    this.par = null;
    this.mid = this.c.nTasks;
    par.helper.dead = true;
    Atomics.store(par.ctrl, 1, 1);
    Atomics.add(par.ctrl, 0, 1);
    Atomics.notify(par.ctrl, 0);
    par.helper.worker.terminate().catch(() => undefined);
  }

  /** Releases the helper thread (idempotent). */
  close(): void {
    const par = this.par;
    if (!par) return;
    this.par = null;
    Atomics.store(par.ctrl, 1, 1);
    Atomics.add(par.ctrl, 0, 1);
    Atomics.notify(par.ctrl, 0);
    // wait (briefly) until the helper has left the job, so the next fit can hand it a new one
    for (let i = 0; i < 50 && Atomics.load(par.ctrl, 3) !== 1; i++) Atomics.wait(par.ctrl, 3, 0, 100);
    par.helper.busy = Atomics.load(par.ctrl, 3) !== 1;
  }

  /**
   * Soft counts of `post` into `out` ([w][l][k]): taken from the last pass when that pass wrote
   * `post`, else computed with a pass of their own.
   */
  counts(post: Float64Array, out: Float64Array): void {
    if (!this.fresh) {
      softCounts(this.c, post, out);
      return;
    }
    const { K, nWorkers } = this.c;
    const tab = this.tab;
    const K2 = 2 * K;
    for (let wl = 0, n = nWorkers * K; wl < n; wl++) {
      const a = wl * K2 + K;
      const b = wl * K;
      for (let k = 0; k < K; k++) out[b + k] = tab[a + k];
    }
  }

  /**
   * Dawid-Skene's M-step straight from the table (only after a pass, see {@link hasCounts}):
   * confI[w][l][k] = (count + smoothing + pseudo) / Σ_l (…), floored at `floor` and renormalised
   * (a row without evidence is uniform) — the arithmetic of `dsConfusion`, in the same order —
   * written both to `confI` and to the table, whose counts are zeroed: the next
   * `run(..., confLoaded = true)` then needs no copying.
   */
  dsMStep(confI: Float64Array, smoothing: number, pseudo: Float64Array | null, floor: number): void {
    const { K, nWorkers } = this.c;
    const tab = this.tab;
    const K2 = 2 * K;
    const KK = K * K;
    for (let w = 0; w < nWorkers; w++) {
      const base = w * KK;
      const tb = w * K * K2;
      for (let k = 0; k < K; k++) {
        let z = 0;
        for (let l = 0; l < K; l++) {
          const j = base + l * K + k;
          const v = tab[tb + l * K2 + K + k] + smoothing + (pseudo ? pseudo[j] : 0);
          confI[j] = v;
          z += v;
        }
        if (z > 0) {
          let z2 = 0;
          for (let l = 0; l < K; l++) {
            const j = base + l * K + k;
            z2 += confI[j] = Math.max(confI[j] / z, floor);
          }
          for (let l = 0; l < K; l++) confI[base + l * K + k] /= z2;
        } else for (let l = 0; l < K; l++) confI[base + l * K + k] = 1 / K;
      }
      for (let l = 0; l < K; l++) {
        const a = tb + l * K2;
        const b = base + l * K;
        for (let k = 0; k < K; k++) {
          tab[a + k] = confI[b + k];
          tab[a + K + k] = 0;
        }
      }
    }
    this.fresh = false; // the counts are spent
  }

  /** out[k] = Σ_t post[t][k] (from the last pass when it wrote `post`). */
  classTotals(post: Float64Array, out: Float64Array): void {
    const { K, nTasks } = this.c;
    if (this.fresh) {
      out.set(this.classSum);
      return;
    }
    out.fill(0);
    for (let t = 0; t < nTasks; t++) for (let k = 0; k < K; k++) out[k] += post[t * K + k];
  }

  /** Whether the kept counts (and `classSum`) belong to the current posteriors. */
  get hasCounts(): boolean {
    return this.fresh;
  }

  /** The posteriors were replaced (e.g. SQUAREM fell back to an earlier iterate): forget the counts. */
  invalidate(): void {
    this.fresh = false;
  }
}

/** Shared buffers of one fit's helper-thread half. */
interface ParallelJob {
  readonly helper: Helper;
  readonly ctrl: Int32Array;
  readonly tab: Float64Array;
  readonly conf: Float64Array;
  readonly prior: Float64Array;
  readonly post: Float64Array;
  readonly out: Float64Array;
  gen: number;
}

function shared<T extends Int32Array | Float64Array>(Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return new Ctor(new SharedArrayBuffer(Math.max(n, 1) * Ctor.BYTES_PER_ELEMENT));
}

/** Copies tasks [mid, nTasks) into shared memory (rebased CSR) and hands them to the helper. */
function startJob(h: Helper, c: Crowd, mid: number, clamp: Int32Array | null): ParallelJob {
  const { K, nTasks, nWorkers, taskStart, ansWL } = c;
  const n = nTasks - mid;
  const a0 = taskStart[mid];
  const ts = shared(Int32Array, n + 1);
  for (let t = 0; t <= n; t++) ts[t] = taskStart[mid + t] - a0;
  const wl = shared(Int32Array, c.nAnswers - a0);
  wl.set(ansWL.subarray(a0, c.nAnswers));
  let cl: Int32Array | null = null;
  if (clamp) {
    cl = shared(Int32Array, n);
    cl.set(clamp.subarray(mid, nTasks));
  }
  const job: ParallelJob = {
    helper: h,
    ctrl: shared(Int32Array, 5),
    tab: shared(Float64Array, nWorkers * K * 2 * K),
    conf: shared(Float64Array, nWorkers * K * K),
    prior: shared(Float64Array, K),
    post: shared(Float64Array, n * K),
    out: shared(Float64Array, K + 1),
    gen: 0,
  };
  h.worker.postMessage({ ctrl: job.ctrl, taskStart: ts, ansWL: wl, tab: job.tab, conf: job.conf, prior: job.prior, post: job.post, out: job.out, clamp: cl, K, n });
  return job;
}

/*
 * The kernels below are self-contained functions (no imports, no closures): the worker thread
 * runs the very same code, from their source text. Each covers tasks [from, to) of a CSR crowd,
 * writes post[t * K + k - po], adds each task's posterior to the count half of its answers'
 * table slots and to cs[k], and returns the log-likelihood of those tasks.
 */

/** K = 2, no clamped tasks. */
export function fusedPass2(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array): number {
  const q0 = prior[0];
  const q1 = prior[1];
  let c0 = 0;
  let c1 = 0;
  let ll = 0;
  let acc = 1;
  for (let t = from; t < to; t++) {
    let p0 = q0;
    let p1 = q1;
    const s0 = taskStart[t];
    const f = taskStart[t + 1];
    for (let i = s0; i < f; i++) {
      const b = ansWL[i] << 2;
      p0 *= tab[b];
      p1 *= tab[b + 1];
      const s = p0 + p1;
      if (s < 1e-150) {
        p0 /= s;
        p1 /= s;
        acc *= s;
        if (acc < 1e-200) ((ll += Math.log(acc)), (acc = 1));
      }
    }
    const z = p0 + p1;
    p0 /= z;
    p1 /= z;
    const o = 2 * t - po;
    post[o] = p0;
    post[o + 1] = p1;
    c0 += p0;
    c1 += p1;
    for (let i = s0; i < f; i++) {
      const b = (ansWL[i] << 2) + 2;
      tab[b] += p0;
      tab[b + 1] += p1;
    }
    acc *= z;
    if (acc < 1e-200 || acc > 1e200) ((ll += Math.log(acc)), (acc = 1));
  }
  cs[0] += c0;
  cs[1] += c1;
  return ll + Math.log(acc);
}

/** K = 4, no clamped tasks: one 64-byte table slot per answer. */
export function fusedPass4(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array): number {
  const q0 = prior[0];
  const q1 = prior[1];
  const q2 = prior[2];
  const q3 = prior[3];
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  let ll = 0;
  let acc = 1;
  for (let t = from; t < to; t++) {
    let p0 = q0;
    let p1 = q1;
    let p2 = q2;
    let p3 = q3;
    const s0 = taskStart[t];
    const f = taskStart[t + 1];
    for (let i = s0; i < f; i++) {
      const b = ansWL[i] << 3;
      p0 *= tab[b];
      p1 *= tab[b + 1];
      p2 *= tab[b + 2];
      p3 *= tab[b + 3];
      const s = p0 + p1 + p2 + p3;
      if (s < 1e-150) {
        p0 /= s;
        p1 /= s;
        p2 /= s;
        p3 /= s;
        acc *= s;
        if (acc < 1e-200) ((ll += Math.log(acc)), (acc = 1));
      }
    }
    const z = p0 + p1 + p2 + p3;
    p0 /= z;
    p1 /= z;
    p2 /= z;
    p3 /= z;
    const o = 4 * t - po;
    post[o] = p0;
    post[o + 1] = p1;
    post[o + 2] = p2;
    post[o + 3] = p3;
    c0 += p0;
    c1 += p1;
    c2 += p2;
    c3 += p3;
    for (let i = s0; i < f; i++) {
      const b = (ansWL[i] << 3) + 4;
      tab[b] += p0;
      tab[b + 1] += p1;
      tab[b + 2] += p2;
      tab[b + 3] += p3;
    }
    acc *= z;
    if (acc < 1e-200 || acc > 1e200) ((ll += Math.log(acc)), (acc = 1));
  }
  cs[0] += c0;
  cs[1] += c1;
  cs[2] += c2;
  cs[3] += c3;
  return ll + Math.log(acc);
}

/**
 * Any K, and gold-clamped tasks (clamp[t] >= 0: posterior one-hot, the likelihood is the joint
 * with the gold class); `p` is K numbers of scratch.
 */
export function fusedPassK(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array, K: number, clamp: Int32Array | null, p: Float64Array): number {
  const K2 = 2 * K;
  let ll = 0;
  let acc = 1;
  for (let t = from; t < to; t++) {
    for (let k = 0; k < K; k++) p[k] = prior[k];
    const s0 = taskStart[t];
    const f = taskStart[t + 1];
    for (let i = s0; i < f; i++) {
      const b = ansWL[i] * K2;
      let s = 0;
      for (let k = 0; k < K; k++) s += p[k] *= tab[b + k];
      if (s < 1e-150) {
        for (let k = 0; k < K; k++) p[k] /= s;
        acc *= s;
        if (acc < 1e-200) ((ll += Math.log(acc)), (acc = 1));
      }
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += p[k];
    const o = t * K - po;
    const g = clamp ? clamp[t] : -1;
    if (g >= 0) {
      acc *= p[g];
      for (let k = 0; k < K; k++) p[k] = k === g ? 1 : 0;
    } else {
      acc *= z;
      for (let k = 0; k < K; k++) p[k] /= z;
    }
    for (let k = 0; k < K; k++) {
      post[o + k] = p[k];
      cs[k] += p[k];
    }
    for (let i = s0; i < f; i++) {
      const b = ansWL[i] * K2 + K;
      for (let k = 0; k < K; k++) tab[b + k] += p[k];
    }
    if (acc < 1e-200 || acc > 1e200) ((ll += Math.log(acc)), (acc = 1));
  }
  return ll + Math.log(acc);
}

/** Runs the right kernel for tasks [from, to). */
export function fusedPass(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array, K: number, clamp: Int32Array | null, p: Float64Array): number {
  if (K === 4 && !clamp) return fusedPass4(taskStart, ansWL, tab, prior, post, from, to, po, cs);
  if (K === 2 && !clamp) return fusedPass2(taskStart, ansWL, tab, prior, post, from, to, po, cs);
  return fusedPassK(taskStart, ansWL, tab, prior, post, from, to, po, cs, K, clamp, p);
}

/**
 * The worker thread's loop. It receives one job per fit (shared buffers: its half of the crowd,
 * its own table, posteriors, prior, results and control words), sets ctrl[4] = 1, and then, each
 * time the main thread bumps ctrl[0], runs one pass and publishes the generation in ctrl[2];
 * ctrl[1] = 1 ends the job (ctrl[3] = 1 once it has left it; ctrl[1] = 2 reports a failure). Between jobs the thread idles in its event loop (unref'd: it never keeps a process alive).
 */
function fusedWorkerMain(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parentPort } = require('node:worker_threads');
  parentPort.on('message', (job: { ctrl: Int32Array; taskStart: Int32Array; ansWL: Int32Array; tab: Float64Array; conf: Float64Array; prior: Float64Array; post: Float64Array; out: Float64Array; clamp: Int32Array | null; K: number; n: number }) => {
    const { ctrl, taskStart, ansWL, tab, conf, prior, post, out, clamp, K, n } = job;
    const K2 = 2 * K;
    const nwl = conf.length / K;
    const p = new Float64Array(K);
    const cs = new Float64Array(K);
    let seen = 0;
    Atomics.store(ctrl, 4, 1); // job picked up: the main thread may now hand over halves
    Atomics.notify(ctrl, 4);
    for (;;) {
      Atomics.wait(ctrl, 0, seen);
      seen = Atomics.load(ctrl, 0);
      if (Atomics.load(ctrl, 1) === 1) break;
      cs.fill(0);
      for (let wl = 0; wl < nwl; wl++) {
        const a = wl * K2;
        const b = wl * K;
        for (let k = 0; k < K; k++) {
          tab[a + k] = conf[b + k];
          tab[a + K + k] = 0;
        }
      }
      try {
        const ll = fusedPass(taskStart, ansWL, tab, prior, post, 0, n, 0, cs, K, clamp, p);
        for (let k = 0; k < K; k++) out[k] = cs[k];
        out[K] = ll;
      } catch {
        Atomics.store(ctrl, 1, 2);
      }
      Atomics.store(ctrl, 2, seen);
      Atomics.notify(ctrl, 2);
    }
    Atomics.store(ctrl, 3, 1);
    Atomics.notify(ctrl, 3);
  });
}

/** Answers from which a fit uses the second core by default. */
export const PARALLEL_MIN_ANSWERS = 500_000;

interface Helper {
  // typed loosely: worker_threads is loaded lazily so that non-Node bundles never need it
  readonly worker: { postMessage(v: unknown): void; unref(): void; terminate(): Promise<number>; on(e: string, f: (...a: unknown[]) => void): void };
  busy: boolean;
  dead: boolean;
}

let helper: Helper | null | undefined;

/** Starts the process-wide helper thread if it is not running (null when threads are unavailable). */
function ensureHelper(): Helper | null {
  if (helper === undefined || helper?.dead) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
      const src = [fusedPass2, fusedPass4, fusedPassK, fusedPass].map((f) => f.toString()).join('\n') + `\n(${fusedWorkerMain.toString()})();`;
      const worker = new Worker(src, { eval: true, name: 'tally-consensus-em' });
      worker.unref();
      const h: Helper = { worker: worker as unknown as Helper['worker'], busy: false, dead: false };
      worker.on('error', () => (h.dead = true));
      worker.on('exit', () => (h.dead = true));
      helper = h;
    } catch {
      helper = null;
    }
  }
  return helper ?? null;
}

/** The helper thread for one fit, or null when threads are unavailable or the helper is busy. */
function acquireHelper(): Helper | null {
  const h = ensureHelper();
  if (!h || h.busy) return null;
  h.busy = true;
  return h;
}

/**
 * Starts the helper thread now (it takes a few tens of milliseconds to boot), e.g. while a large
 * file is being read, so that the first large fit does not wait for it. Optional: fits start it
 * on demand. Does nothing on a single-CPU machine or where worker threads are unavailable.
 */
export function warmUpThreads(): void {
  if (defaultThreads(PARALLEL_MIN_ANSWERS) >= 2) ensureHelper();
}

/**
 * Above this table size (bytes, per thread) the default is one thread: each thread random-
 * accesses its own table, and two tables that do not fit the shared L3 cache together make both
 * threads wait on memory. Measured on the 2-core benchmark machine (load ~2): a 1.3 MB table
 * (1M answers, 5,000 workers) runs 1.25× faster on two threads; a 12.8 MB one (10M answers,
 * 50,000 workers) 1.13× slower.
 */
export const PARALLEL_MAX_TABLE_BYTES = 6 * 1024 * 1024;

/**
 * Default number of threads for a crowd: 2 on a multi-core machine from PARALLEL_MIN_ANSWERS
 * answers, unless the per-thread table (`tableBytes`) exceeds PARALLEL_MAX_TABLE_BYTES.
 */
export function defaultThreads(nAnswers: number, tableBytes = 0): number {
  if (nAnswers < PARALLEL_MIN_ANSWERS || tableBytes > PARALLEL_MAX_TABLE_BYTES) return 1;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const os = require('node:os') as typeof import('node:os');
    return (os.availableParallelism?.() ?? os.cpus().length) >= 2 ? 2 : 1;
  } catch {
    return 1;
  }
}
