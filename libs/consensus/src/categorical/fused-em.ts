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
 * same order, so posteriors and counts are identical to the two-pass form (the log-likelihood is
 * summed per slice of tasks, see {@link fusedPass}: equal up to rounding).
 *
 * Compact table (large crowds): when the table in doubles would exceed
 * {@link COMPACT_MIN_TABLE_BYTES} it is kept in single precision (a Float32Array, 8K bytes per
 * slot: 32 bytes for K = 4). Each answer's slot is a random access, and once the table outgrows
 * the caches an EM pass is bound by those misses — and the count half is read-modify-write, so
 * its misses also cost write-backs: at 10M answers / 50,000 workers the 12.8 MB double table
 * made a pass 25–40× slower than at 1M / 5,000 workers (10× the answers: the 10M bench's
 * non-linearity); the 6.4 MB single-precision table made that pass 1.05–5× faster, depending on
 * how much shared cache the machine's other processes left (load 11 … 4), and halves the
 * per-thread table, so that two threads pay there (1.9× at load 13). Only the table is
 * single precision: likelihoods are rounded to 24 bits (relative 6e-8), soft counts of one pass
 * are summed in single precision and everything else (posteriors, log-likelihood, M-step,
 * parameters) stays double; fits agree with the double table to ~1e-6 (tested).
 */
export class FusedEStep {
  private readonly tab: Float64Array | Float32Array;
  /** Whether the table is single precision (see {@link COMPACT_MIN_TABLE_BYTES}). */
  readonly compact: boolean;
  /** Sum over tasks of the posteriors of the last pass (the class totals). */
  readonly classSum: Float64Array;
  private readonly p: Float64Array;
  /** Answers per prefetch group of a pass (0: none; see {@link fusedPass}). */
  private readonly batch: number;
  /** True when the counts in `tab` belong to the posteriors the last pass wrote. */
  private fresh = false;
  private par: ParallelJob | null = null;
  /** With a helper: tasks per chunk, chunks, and which chunks this thread did in the last pass. */
  private chunk = 0;
  private nChunks = 0;
  private mine: Uint8Array = new Uint8Array(0);

  /**
   * `threads`: 1 = this thread only; 2 = a helper thread shares each pass: the tasks are cut
   * into ~64 chunks that both threads take in turn from a shared counter (each thread adds its
   * chunks' soft counts to a table of its own; the helper's is added to this one after the
   * pass). So when the machine's other processes slow one thread down, the other does more of
   * the pass, instead of waiting for a fixed half (which made two threads slower than one on a
   * loaded machine). Which thread does which chunk depends on timing, hence so does the order in
   * which soft counts and the log-likelihood are summed: results agree up to that rounding
   * (~1e-12 relative with the double table, ~1e-7 with the single-precision one), never more.
   * Passes that start before the helper has booted run here alone. The helper reads the crowd
   * in place when it is in shared memory (see `buildCrowd`), and writes its chunks' posteriors
   * in place into a table from {@link posteriors} (else into one of its own, copied over after
   * each pass). Default
   * {@link defaultThreads}. Call {@link close} when done (the estimators do, in `finally`). A
   * helper that fails or does not answer in time is abandoned: its chunks are done here and the
   * fit goes on on one thread.
   */
  constructor(
    private readonly c: Crowd,
    private readonly clamp: Int32Array | null,
    threads?: number,
    /** The helper gets max(patienceMs, 20 × the time this thread's chunks took) per pass (tests shorten it). */
    private readonly patienceMs = 30_000,
    /** Single-precision table; default: when the double table would exceed COMPACT_MIN_TABLE_BYTES. */
    compact = c.nWorkers * c.K * 2 * c.K * 8 > COMPACT_MIN_TABLE_BYTES,
  ) {
    const { nWorkers, K, nTasks, nAnswers } = c;
    if (!(primed & (compact ? 2 : 1))) {
      primeKernels(compact);
      primeTableLoops(compact);
      primed |= compact ? 2 : 1;
    }
    this.compact = compact;
    const slots = nWorkers * K * 2 * K;
    this.tab = compact ? new Float32Array(slots) : new Float64Array(slots);
    this.batch = slots * this.tab.BYTES_PER_ELEMENT > PREFETCH_MIN_TABLE_BYTES ? PREFETCH_BATCH : 0;
    threads ??= defaultThreads(nAnswers, slots * this.tab.BYTES_PER_ELEMENT);
    this.classSum = new Float64Array(K);
    this.p = new Float64Array(K);
    if (threads >= 2 && nTasks >= 2) {
      const h = acquireHelper();
      if (h) {
        this.chunk = Math.max(1, Math.ceil(nTasks / PARALLEL_CHUNKS));
        this.nChunks = Math.ceil(nTasks / this.chunk);
        this.mine = new Uint8Array(this.nChunks);
        this.par = startJob(h, c, clamp, compact, this.batch, this.chunk);
      }
    }
  }

  /**
   * A zeroed posterior table (nTasks × K) for this pass's `run`: with a helper thread, the one it
   * writes its chunks' posteriors into (shared memory), so that no pass copies them over (at 10M
   * answers half the table, 32 MB, per pass). Any other array works too, at the cost of that copy.
   */
  posteriors(): Float64Array {
    const par = this.par;
    if (par && !par.postTaken) {
      par.postTaken = true;
      return par.post;
    }
    return new Float64Array(this.c.nTasks * this.c.K);
  }

  /** Blocks until the helper thread has picked up this job (true), or `timeoutMs` passed. */
  waitForHelper(timeoutMs = 5000): boolean {
    const par = this.par;
    if (!par) return false;
    const end = Date.now() + timeoutMs;
    while (Atomics.load(par.ctrl, 4) !== 1 && Date.now() < end) Atomics.wait(par.ctrl, 4, 0, 50);
    return Atomics.load(par.ctrl, 4) === 1;
  }

  /** Chunks of the last pass that the helper thread did (0 without one). */
  get helperChunks(): number {
    if (!this.par) return 0;
    let n = 0;
    for (let ch = 0; ch < this.nChunks; ch++) n += this.mine[ch] ? 0 : 1;
    return n;
  }

  /** Whether a helper thread shares the passes. */
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
    // until the helper thread has booted (tens of milliseconds) and picked up the job, passes run
    // here alone rather than wait for it
    const par = this.par && Atomics.load(this.par.ctrl, 4) === 1 ? this.par : null;
    if (par) {
      // the helper builds its own table from these (writing it here would leave its cache lines
      // in this core's cache, and the helper would then miss on every answer)
      par.conf.set(confI);
      par.prior.set(prior);
      Atomics.store(par.ctrl, 5, 0); // the chunk counter, before the pass is announced
      Atomics.store(par.ctrl, 0, ++par.gen);
      Atomics.notify(par.ctrl, 0);
    }
    const cs = this.classSum;
    const clamp = this.clamp;
    const p = this.p;
    if (!confLoaded) loadTable(tab, confI, nWorkers * K, K);
    cs.fill(0);
    let ll = 0;
    if (par) {
      const gen = par.gen;
      const t0 = Date.now();
      const { chunk, nChunks, mine } = this;
      mine.fill(0);
      for (let ch = Atomics.add(par.ctrl, 5, 1); ch < nChunks; ch = Atomics.add(par.ctrl, 5, 1)) {
        mine[ch] = 1;
        ll += fusedPass(taskStart, ansWL, tab, prior, post, ch * chunk, Math.min(nTasks, (ch + 1) * chunk), 0, cs, K, clamp, p, this.batch);
      }
      // wait for the helper's last chunk; if it failed, or is far slower than this thread's
      // chunks took (a dead or starved thread), do its chunks here and go on without it
      const patience = Math.max(this.patienceMs, 20 * (Date.now() - t0));
      let done: number;
      while ((done = Atomics.load(par.ctrl, 2)) !== gen && Date.now() - t0 < patience) Atomics.wait(par.ctrl, 2, done, 200);
      if (done !== gen || Atomics.load(par.ctrl, 1) === 2) {
        this.abandonHelper();
        for (let ch = 0; ch < nChunks; ch++) if (!mine[ch]) ll += fusedPass(taskStart, ansWL, tab, prior, post, ch * chunk, Math.min(nTasks, (ch + 1) * chunk), 0, cs, K, clamp, p, this.batch);
        this.fresh = true;
        return ll;
      }
      if (post !== par.post) for (let ch = 0; ch < nChunks; ch++) if (!mine[ch]) post.set(par.post.subarray(ch * chunk * K, Math.min(nTasks, (ch + 1) * chunk) * K), ch * chunk * K);
      mergeCounts(tab, par.tab, nWorkers * K, K);
      for (let k = 0; k < K; k++) cs[k] += par.out[k];
      ll += par.out[K];
    } else {
      this.mine.fill(1); // (a helper not booted yet does no chunk)
      ll = fusedPass(taskStart, ansWL, tab, prior, post, 0, nTasks, 0, cs, K, clamp, p, this.batch);
    }
    this.fresh = true;
    return ll;
  }

  /**
   * The majority-vote start: writes each task's vote shares to `post` (a clamped task: its gold
   * class; a task without answers: uniform), exactly as `voteShares`, and keeps their soft counts
   * and class totals for the first M-step (see {@link hasCounts}), so that the start costs one
   * sweep over the answers instead of two (vote shares, then soft counts). This thread only.
   */
  voteStart(post: Float64Array): void {
    const { K, nWorkers, nTasks, taskStart, ansWL, ansLabel } = this.c;
    zeroCounts(this.tab, nWorkers * K, K);
    this.classSum.fill(0);
    // in slices: see SLICE_TASKS
    for (let t = 0; t < nTasks; t += SLICE_TASKS) votePass(taskStart, ansWL, ansLabel, this.tab, post, t, Math.min(nTasks, t + SLICE_TASKS), this.classSum, K, this.clamp, this.p, this.batch);
    this.fresh = true;
  }

  /** Stops using a helper that failed or hung: this thread does all the tasks from now on. */
  private abandonHelper(): void {
    const par = this.par!;
    this.par = null;
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
    readCounts(this.tab, out, nWorkers * K, K);
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
    this.fresh = false; // the counts are spent
    dsMStepTable(this.tab, confI, nWorkers, K, smoothing, pseudo, floor);
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

/*
 * The per-pass table loops, as free functions of typed arrays and numbers only: a method whose
 * long loop is compiled on the stack and then reaches a property access it has never executed
 * deoptimizes there, and its next calls run unoptimized (seen with --trace-deopt).
 */

/** tab's likelihood halves = confI ([w][l][k]); count halves = 0. `n` = nWorkers × K slots. */
function loadTable(tab: Float64Array | Float32Array, confI: Float64Array, n: number, K: number): void {
  const K2 = 2 * K;
  for (let wl = 0; wl < n; wl++) {
    const a = wl * K2;
    const b = wl * K;
    for (let k = 0; k < K; k++) {
      tab[a + k] = confI[b + k];
      tab[a + K + k] = 0;
    }
  }
}

/** Sets the table's count halves to 0. */
function zeroCounts(tab: Float64Array | Float32Array, n: number, K: number): void {
  const K2 = 2 * K;
  for (let wl = 0; wl < n; wl++) for (let k = 0; k < K; k++) tab[wl * K2 + K + k] = 0;
}

/** See {@link FusedEStep.voteStart}; `p` is K numbers of scratch, `batch` as in {@link fusedPass}. */
function votePass(taskStart: Int32Array, ansWL: Int32Array, ansLabel: Int32Array, tab: Float64Array | Float32Array, post: Float64Array, from: number, to: number, cs: Float64Array, K: number, clamp: Int32Array | null, p: Float64Array, batch: number): void {
  const K2 = 2 * K;
  let touched = taskStart[from];
  if (K === 4 && !clamp) {
    votePass4(taskStart, ansWL, ansLabel, tab, post, from, to, cs, p, batch);
    return;
  }
  for (let t = from; t < to; t++) {
    const s0 = taskStart[t];
    const f = taskStart[t + 1];
    if (batch > 0 && s0 >= touched) {
      // prefetch the slots of the next ~batch answers (see fusedPass)
      touched = Math.min(s0 + batch, ansWL.length);
      p[0] = touchSlots(ansWL, tab, s0, touched, K2);
    }
    for (let k = 0; k < K; k++) p[k] = 0;
    const g = clamp ? clamp[t] : -1;
    if (g >= 0) p[g] = 1;
    else if (f > s0) {
      for (let i = s0; i < f; i++) p[ansLabel[i]] += 1;
      const z = f - s0;
      for (let k = 0; k < K; k++) p[k] /= z;
    } else for (let k = 0; k < K; k++) p[k] = 1 / K;
    const o = t * K;
    for (let k = 0; k < K; k++) {
      post[o + k] = p[k];
      cs[k] += p[k];
    }
    for (let i = s0; i < f; i++) {
      const b = ansWL[i] * K2 + K;
      for (let k = 0; k < K; k++) tab[b + k] += p[k];
    }
  }
}

/**
 * {@link votePass} for K = 4 without clamped tasks (the benchmark's case), in registers (the
 * generic loop takes ~1.7× as long). A function of its own: it runs once per fit, so its
 * compilation (on a background thread, competing with the fit for the two cores) is a visible
 * share of a fresh process's fit, and the smaller function compiles sooner (--trace-opt, 1M
 * answers: 21–35 ms for its two compilations instead of ~65 ms, load ~3).
 */
function votePass4(taskStart: Int32Array, ansWL: Int32Array, ansLabel: Int32Array, tab: Float64Array | Float32Array, post: Float64Array, from: number, to: number, cs: Float64Array, p: Float64Array, batch: number): void {
  let touched = taskStart[from];
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  for (let t = from; t < to; t++) {
    const s0 = taskStart[t];
    const f = taskStart[t + 1];
    if (batch > 0 && s0 >= touched) {
      touched = Math.min(s0 + batch, ansWL.length);
      p[0] = touchSlots(ansWL, tab, s0, touched, 8);
    }
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    let p3 = 0;
    for (let i = s0; i < f; i++) {
      const l = ansLabel[i];
      if (l === 0) p0++;
      else if (l === 1) p1++;
      else if (l === 2) p2++;
      else p3++;
    }
    const z = f - s0;
    if (z > 0) ((p0 /= z), (p1 /= z), (p2 /= z), (p3 /= z));
    else p0 = p1 = p2 = p3 = 0.25;
    const o = 4 * t;
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
  }
  cs[0] += c0;
  cs[1] += c1;
  cs[2] += c2;
  cs[3] += c3;
}

/** Adds the helper's count halves to this table's. */
function mergeCounts(tab: Float64Array | Float32Array, tab2: Float64Array | Float32Array, n: number, K: number): void {
  const K2 = 2 * K;
  for (let wl = 0; wl < n; wl++) {
    const a = wl * K2 + K;
    for (let k = 0; k < K; k++) tab[a + k] += tab2[a + k];
  }
}

/** out ([w][l][k]) = the table's count halves. */
function readCounts(tab: Float64Array | Float32Array, out: Float64Array, n: number, K: number): void {
  const K2 = 2 * K;
  for (let wl = 0; wl < n; wl++) {
    const a = wl * K2 + K;
    const b = wl * K;
    for (let k = 0; k < K; k++) out[b + k] = tab[a + k];
  }
}

/** See {@link FusedEStep.dsMStep}. */
function dsMStepTable(tab: Float64Array | Float32Array, confI: Float64Array, nWorkers: number, K: number, smoothing: number, pseudo: Float64Array | null, floor: number): void {
  if (K === 4 && !pseudo) return dsMStepTable4(tab, confI, nWorkers, smoothing, floor);
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
}

/**
 * {@link dsMStepTable} for K = 4 without prior pseudo-counts, one column (true class k) of a
 * worker's matrix in registers: the same arithmetic in the same order (~2× faster; the M-step
 * runs on this thread while the helper thread waits).
 */
function dsMStepTable4(tab: Float64Array | Float32Array, confI: Float64Array, nWorkers: number, smoothing: number, floor: number): void {
  for (let w = 0; w < nWorkers; w++) {
    const base = w * 16;
    const tb = w * 32;
    for (let k = 0; k < 4; k++) {
      // counts of labels 0..3 given true class k: slots (w, l) at tb + 8l, count half at +4
      const v0 = tab[tb + 4 + k] + smoothing;
      const v1 = tab[tb + 12 + k] + smoothing;
      const v2 = tab[tb + 20 + k] + smoothing;
      const v3 = tab[tb + 28 + k] + smoothing;
      const z = v0 + v1 + v2 + v3;
      let c0 = 0.25;
      let c1 = 0.25;
      let c2 = 0.25;
      let c3 = 0.25;
      if (z > 0) {
        c0 = Math.max(v0 / z, floor);
        c1 = Math.max(v1 / z, floor);
        c2 = Math.max(v2 / z, floor);
        c3 = Math.max(v3 / z, floor);
        const z2 = c0 + c1 + c2 + c3;
        c0 /= z2;
        c1 /= z2;
        c2 /= z2;
        c3 /= z2;
      }
      confI[base + k] = c0;
      confI[base + 4 + k] = c1;
      confI[base + 8 + k] = c2;
      confI[base + 12 + k] = c3;
      tab[tb + k] = c0;
      tab[tb + 8 + k] = c1;
      tab[tb + 16 + k] = c2;
      tab[tb + 24 + k] = c3;
      tab[tb + 4 + k] = 0;
      tab[tb + 12 + k] = 0;
      tab[tb + 20 + k] = 0;
      tab[tb + 28 + k] = 0;
    }
  }
}

/** Shared buffers of one fit's helper thread. */
interface ParallelJob {
  readonly helper: Helper;
  readonly ctrl: Int32Array;
  readonly tab: Float64Array | Float32Array;
  readonly conf: Float64Array;
  readonly prior: Float64Array;
  readonly post: Float64Array;
  readonly out: Float64Array;
  gen: number;
  /** `post` was handed out by {@link FusedEStep.posteriors}. */
  postTaken: boolean;
}

function shared<T extends Int32Array | Float64Array | Float32Array>(Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number }, n: number): T {
  return new Ctor(new SharedArrayBuffer(Math.max(n, 1) * Ctor.BYTES_PER_ELEMENT));
}

/** `a` itself when it lives in shared memory, else a shared copy. */
function sharedCopy(a: Int32Array): Int32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = shared(Int32Array, a.length);
  out.set(a);
  return out;
}

/** Copies the crowd into shared memory and hands it to the helper (chunks of `chunk` tasks). */
function startJob(h: Helper, c: Crowd, clamp: Int32Array | null, compact: boolean, batch: number, chunk: number): ParallelJob {
  const { K, nTasks, nWorkers, taskStart, ansWL } = c;
  // a large crowd's arrays are already shared (see buildCrowd): no copy
  const ts = sharedCopy(taskStart.subarray(0, nTasks + 1));
  const wl = sharedCopy(ansWL.subarray(0, c.nAnswers));
  let cl: Int32Array | null = null;
  if (clamp) {
    cl = shared(Int32Array, nTasks);
    cl.set(clamp);
  }
  const job: ParallelJob = {
    helper: h,
    ctrl: shared(Int32Array, 6),
    tab: compact ? shared(Float32Array, nWorkers * K * 2 * K) : shared(Float64Array, nWorkers * K * 2 * K),
    conf: shared(Float64Array, nWorkers * K * K),
    prior: shared(Float64Array, K),
    post: shared(Float64Array, nTasks * K),
    out: shared(Float64Array, K + 1),
    gen: 0,
    postTaken: false,
  };
  h.worker.postMessage({ ctrl: job.ctrl, taskStart: ts, ansWL: wl, tab: job.tab, conf: job.conf, prior: job.prior, post: job.post, out: job.out, clamp: cl, K, n: nTasks, batch, chunk });
  return job;
}

/*
 * The kernels below are self-contained functions (no imports, no closures): the worker thread
 * runs the very same code, from their source text. Each covers tasks [from, to) of a CSR crowd,
 * writes post[t * K + k - po], adds each task's posterior to the count half of its answers'
 * table slots and to cs[k], and returns the log-likelihood of those tasks.
 *
 * Short tasks (at most 16 answers, i.e. nearly every real task): the product over a task's
 * answers is first taken without the per-answer rescaling test; only if its final sum is under
 * 1e-150 (or underflowed to 0) is the task redone with the test after every answer. Likelihoods
 * are at most 1, so the running sum never increases: a final sum of at least 1e-150 means the
 * tested loop would never have rescaled, and the result is bit-identical to it, for about a
 * third less work per answer.
 */

/** K = 2, no clamped tasks. */
export function fusedPass2(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array | Float32Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array): number {
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
    let i = s0;
    if (f - s0 <= 16) {
      // short task: no rescaling test per answer (see "Short tasks" above)
      for (; i < f; i++) {
        const b = ansWL[i] << 2;
        p0 *= tab[b];
        p1 *= tab[b + 1];
      }
      if (p0 + p1 < 1e-150) ((p0 = q0), (p1 = q1), (i = s0));
    }
    for (; i < f; i++) {
      const b = ansWL[i] << 2;
      p0 *= tab[b];
      p1 *= tab[b + 1];
      const s = p0 + p1;
      if (s < 1e-150) {
        p0 /= s;
        p1 /= s;
        ll += Math.log(s); // rare: a log of its own
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
    // a normaliser far from 1 gets a log of its own: acc stays in [1e-300, 1e300]
    if (z > 1e-100 && z < 1e100) {
      acc *= z;
      if (acc < 1e-200 || acc > 1e200) {
        ll += Math.log(acc);
        acc = 1;
      }
    } else ll += Math.log(z);
  }
  cs[0] += c0;
  cs[1] += c1;
  return ll + Math.log(acc);
}

/** K = 4, no clamped tasks: one 64-byte table slot per answer. */
export function fusedPass4(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array | Float32Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array): number {
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
    let i = s0;
    if (f - s0 <= 16) {
      // short task: no rescaling test per answer (see "Short tasks" above)
      for (; i < f; i++) {
        const b = ansWL[i] << 3;
        p0 *= tab[b];
        p1 *= tab[b + 1];
        p2 *= tab[b + 2];
        p3 *= tab[b + 3];
      }
      if (p0 + p1 + p2 + p3 < 1e-150) ((p0 = q0), (p1 = q1), (p2 = q2), (p3 = q3), (i = s0));
    }
    for (; i < f; i++) {
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
        ll += Math.log(s); // rare: a log of its own
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
    // a normaliser far from 1 gets a log of its own: acc stays in [1e-300, 1e300]
    if (z > 1e-100 && z < 1e100) {
      acc *= z;
      if (acc < 1e-200 || acc > 1e200) {
        ll += Math.log(acc);
        acc = 1;
      }
    } else ll += Math.log(z);
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
export function fusedPassK(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array | Float32Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array, K: number, clamp: Int32Array | null, p: Float64Array): number {
  const K2 = 2 * K;
  let ll = 0;
  let acc = 1;
  for (let t = from; t < to; t++) {
    for (let k = 0; k < K; k++) p[k] = prior[k];
    const s0 = taskStart[t];
    const f = taskStart[t + 1];
    let i = s0;
    if (f - s0 <= 16) {
      // short task: no rescaling test per answer (see "Short tasks" above)
      for (; i < f; i++) {
        const b = ansWL[i] * K2;
        for (let k = 0; k < K; k++) p[k] *= tab[b + k];
      }
      let s = 0;
      for (let k = 0; k < K; k++) s += p[k];
      if (s < 1e-150) {
        for (let k = 0; k < K; k++) p[k] = prior[k];
        i = s0;
      }
    }
    for (; i < f; i++) {
      const b = ansWL[i] * K2;
      let s = 0;
      for (let k = 0; k < K; k++) s += p[k] *= tab[b + k];
      if (s < 1e-150) {
        for (let k = 0; k < K; k++) p[k] /= s;
        ll += Math.log(s); // rare: a log of its own
      }
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += p[k];
    const o = t * K - po;
    const g = clamp ? clamp[t] : -1;
    // the task's likelihood (with a gold class: the joint with it); far from 1: a log of its own
    const v = g >= 0 ? p[g] : z;
    if (v > 1e-100 && v < 1e100) acc *= v;
    else ll += Math.log(v);
    if (g >= 0) for (let k = 0; k < K; k++) p[k] = k === g ? 1 : 0;
    else for (let k = 0; k < K; k++) p[k] /= z;
    for (let k = 0; k < K; k++) {
      post[o + k] = p[k];
      cs[k] += p[k];
    }
    for (let i = s0; i < f; i++) {
      const b = ansWL[i] * K2 + K;
      for (let k = 0; k < K; k++) tab[b + k] += p[k];
    }
    if (acc < 1e-200 || acc > 1e200) {
      ll += Math.log(acc);
      acc = 1;
    }
  }
  return ll + Math.log(acc);
}

/**
 * Runs the right kernel for tasks [from, to). A single-precision table goes to copies of the
 * kernels (`…F32`, compiled from the same source text, see {@link kernelSource}) so that each
 * compiled kernel only ever sees one array type.
 *
 * `batch` > 0 (tables far larger than the core's cache, see PREFETCH_MIN_TABLE_BYTES): the
 * tasks are taken in groups of about `batch` answers, and the table slots of a group's answers
 * are first loaded by a loop that does nothing else ({@link touchSlots}). Those loads do not
 * depend on each other, so the core has many cache misses in flight at once; in the kernel each
 * miss stalls the multiply chain of its task, and they are taken about one at a time. On the
 * 10M-answer benchmark (a 6.4 MB table) this halved the time of a pass (min of 6: 155 ms vs
 * 347 ms, load ~4); with a table that nearly fits the cache (1M answers, 0.64 MB) it costs
 * ~15%, hence the threshold. Without it the tasks go in slices of 4096 (see SLICE_TASKS). The
 * log-likelihood is summed per group or slice (rounding only).
 */
export function fusedPass(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array | Float32Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array, K: number, clamp: Int32Array | null, p: Float64Array, batch = 0): number {
  let ll = 0;
  if (!(batch > 0)) {
    // in slices of 4096 tasks (SLICE_TASKS: sooner compiled in a fresh process)
    for (let t0 = from; t0 < to; t0 += 4096) ll += fusedKernel(taskStart, ansWL, tab, prior, post, t0, Math.min(to, t0 + 4096), po, cs, K, clamp, p);
    return ll;
  }
  for (let t0 = from; t0 < to; ) {
    const a0 = taskStart[t0];
    let t1 = t0 + 1;
    while (t1 < to && taskStart[t1 + 1] - a0 <= batch) t1++;
    p[0] = touchSlots(ansWL, tab, a0, taskStart[t1], 2 * K); // stored: loads whose value is unused could be dropped
    ll += fusedKernel(taskStart, ansWL, tab, prior, post, t0, t1, po, cs, K, clamp, p);
    t0 = t1;
  }
  return ll;
}

/** Loads the first number of the table slot of answers [a0, a1) (see {@link fusedPass}). */
function touchSlots(ansWL: Int32Array, tab: Float64Array | Float32Array, a0: number, a1: number, stride: number): number {
  let sum = 0;
  for (let i = a0; i < a1; i++) sum += tab[ansWL[i] * stride];
  return sum;
}

/** The kernel for K, the clamp and the table's precision. */
function fusedKernel(taskStart: Int32Array, ansWL: Int32Array, tab: Float64Array | Float32Array, prior: Float64Array, post: Float64Array, from: number, to: number, po: number, cs: Float64Array, K: number, clamp: Int32Array | null, p: Float64Array): number {
  if (tab instanceof Float32Array) {
    if (K === 4 && !clamp) return fusedPass4F32(taskStart, ansWL, tab, prior, post, from, to, po, cs);
    if (K === 2 && !clamp) return fusedPass2F32(taskStart, ansWL, tab, prior, post, from, to, po, cs);
    return fusedPassKF32(taskStart, ansWL, tab, prior, post, from, to, po, cs, K, clamp, p);
  }
  if (K === 4 && !clamp) return fusedPass4(taskStart, ansWL, tab, prior, post, from, to, po, cs);
  if (K === 2 && !clamp) return fusedPass2(taskStart, ansWL, tab, prior, post, from, to, po, cs);
  return fusedPassK(taskStart, ansWL, tab, prior, post, from, to, po, cs, K, clamp, p);
}

/**
 * Runs every kernel for one table precision (K = 2, 3, 4, with and without clamped tasks) on a
 * tiny crowd that takes every branch, including the rescaling ones. Once per precision and
 * thread: a process that only fits large crowds never runs the loops shared by both precisions
 * (votePass, loadTable, …) on doubles, so they stay monomorphic. Without this, a first
 * long pass gets a kernel optimized on the stack before it has ever reached the code after its
 * loop or a rescaling branch; the optimized code then deoptimizes there for lack of type
 * feedback, and the following passes were seen to keep running unoptimized code that boxes
 * every double (~80 bytes of garbage per answer, a young-generation GC every few milliseconds,
 * 2× slower passes; --trace-deopt, --trace-gc). Self-contained: the helper thread runs it too.
 */
function primeKernels(single: boolean): void {
  for (const K of [2, 3, 4]) {
    for (const clamped of [false, true]) {
      // worker 0: every likelihood 1e-30, worker 1: 1e30. Task 0: 12 answers of worker 0 (the
      // short-task product underflows: redone with two rescalings); task 1: 7 of worker 1 (a
      // likelihood over 1e100, logged on its own); tasks 2–7: 2 of worker 0 each (the
      // accumulator under 1e-200); tasks 8–11: 2 of worker 1 each (the accumulator over 1e200)
      const nt = 12;
      const taskStart = new Int32Array(nt + 1);
      for (let t = 0; t < nt; t++) taskStart[t + 1] = taskStart[t] + (t === 0 ? 12 : t === 1 ? 7 : 2);
      const ansWL = new Int32Array(taskStart[nt]);
      for (let t = 0; t < nt; t++) for (let i = taskStart[t]; i < taskStart[t + 1]; i++) ansWL[i] = (t === 1 || t >= 8 ? K : 0) + (i % K);
      const tab = single ? new Float32Array(2 * K * 2 * K) : new Float64Array(2 * K * 2 * K);
      for (let wl = 0; wl < 2 * K; wl++) for (let k = 0; k < K; k++) tab[wl * 2 * K + k] = wl < K ? 1e-30 : 1e30;
      const prior = new Float64Array(K).fill(1 / K);
      const post = new Float64Array(nt * K);
      const cs = new Float64Array(K);
      const clamp = clamped ? new Int32Array(nt).map((_, t) => (t % 3 === 0 ? t % K : -1)) : null;
      for (let r = 0; r < 4; r++) fusedPass(taskStart, ansWL, tab, prior, post, 0, nt, 0, cs, K, clamp, new Float64Array(K), r & 1 ? 8 : 0);
      loadTable(tab, new Float64Array(2 * K * K).fill(0.5), 2 * K, K);
      const ansLabel = ansWL.map((wl) => wl % K);
      for (let r = 0; r < 4; r++) votePass(taskStart, ansWL, ansLabel, tab, post, 0, nt, cs, K, clamp, new Float64Array(K), r & 1 ? 8 : 0);
      zeroCounts(tab, 2 * K, K);
    }
  }
}

/**
 * This thread's table loops outside the pass (the M-step's, the helper's merge), run once on a
 * tiny table with every branch taken (a column without evidence, prior pseudo-counts, K = 3 and
 * 4), for the reason given at {@link primeKernels}: their first real call then compiles once,
 * instead of compiling, deoptimizing at a branch it had not seen and compiling again.
 */
function primeTableLoops(single: boolean): void {
  for (const K of [3, 4]) {
    const n = 2 * K * 2 * K;
    const tab = single ? new Float32Array(n) : new Float64Array(n);
    const tab2 = single ? new Float32Array(n).fill(0.5) : new Float64Array(n).fill(0.5);
    const confI = new Float64Array(2 * K * K);
    const pseudo = new Float64Array(2 * K * K).fill(0.1);
    for (let r = 0; r < 3; r++) {
      tab.fill(0);
      mergeCounts(tab, tab2, K, K); // worker 0's counts only: worker 1's columns have no evidence
      readCounts(tab, confI, 2 * K, K);
      dsMStepTable(tab, confI, 2, K, 0, r === 2 ? pseudo : null, 1e-10);
    }
  }
}

/** Which table precisions {@link primeKernels} ran for in this thread (1: double, 2: single). */
let primed = 0;

type Kernel4 = typeof fusedPass4;
type KernelK = typeof fusedPassK;

/**
 * The kernels' source text: the three kernels, their single-precision copies (the same text
 * under the names `fusedPass2F32`, `fusedPass4F32`, `fusedPassKF32`) and the dispatcher.
 */
function kernelSource(): string {
  const copy = (f: (...a: never[]) => unknown, name: string) => f.toString().replace(/^function\s+\w+/, `function ${name}`);
  return [fusedPass2, fusedPass4, fusedPassK, fusedPass, touchSlots, fusedKernel, primeKernels, loadTable, votePass, votePass4, zeroCounts].map((f) => f.toString()).concat(copy(fusedPass2, 'fusedPass2F32'), copy(fusedPass4, 'fusedPass4F32'), copy(fusedPassK, 'fusedPassKF32')).join('\n');
}

/** Separately compiled copies of the kernels for single-precision tables (same source text). */
const [fusedPass2F32, fusedPass4F32, fusedPassKF32] = ((): [Kernel4, Kernel4, KernelK] => {
  const copy = (f: (...a: never[]) => unknown) => new Function(`return (${f.toString()});`)();
  try {
    return [copy(fusedPass2), copy(fusedPass4), copy(fusedPassK)];
  } catch {
    return [fusedPass2, fusedPass4, fusedPassK]; // no eval (e.g. a strict CSP): shared, still correct
  }
})();

/**
 * The worker thread's loop. It receives one job per fit (shared buffers: the crowd, its own
 * table, posteriors, prior, results and control words), sets ctrl[4] = 1, and then, each time
 * the main thread bumps ctrl[0], takes chunks of the pass (counter ctrl[5]) until none is left
 * and publishes the generation in ctrl[2];
 * ctrl[1] = 1 ends the job (ctrl[3] = 1 once it has left it; ctrl[1] = 2 reports a failure). Between jobs the thread idles in its event loop (unref'd: it never keeps a process alive).
 */
function fusedWorkerMain(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parentPort } = require('node:worker_threads');
  parentPort.on('message', (job: { ctrl: Int32Array; taskStart: Int32Array; ansWL: Int32Array; tab: Float64Array | Float32Array; conf: Float64Array; prior: Float64Array; post: Float64Array; out: Float64Array; clamp: Int32Array | null; K: number; n: number; batch: number; chunk: number }) => {
    const { ctrl, taskStart, ansWL, tab, conf, prior, post, out, clamp, K, n, batch, chunk } = job;
    const g = globalThis as { primed?: number };
    const bit = tab instanceof Float32Array ? 2 : 1;
    if (!((g.primed ?? 0) & bit)) {
      primeKernels(bit === 2);
      g.primed = (g.primed ?? 0) | bit;
    }
    const nwl = conf.length / K;
    const p = new Float64Array(K);
    const cs = new Float64Array(K);
    let seen = 0;
    Atomics.store(ctrl, 4, 1); // job picked up: the main thread may now share passes
    Atomics.notify(ctrl, 4);
    // warm-up: the first tasks with a flat table (the first real pass reloads the table) while
    // the main thread does the vote start, so that the first real pass finds the kernel compiled
    // instead of in the interpreter
    if (Atomics.load(ctrl, 0) === 0) {
      for (let i = 0; i < tab.length; i++) tab[i] = 0.5;
      try {
        // the first 16,384 tasks (enough for V8 to mark the kernel hot; more only delays the
        // page faults below), posteriors into scratch: `post` may be the main thread's (see
        // FusedEStep.posteriors)
        const scratch = new Float64Array(4096 * K);
        const flat = prior.map(() => 1 / K);
        for (let t = 0; t < Math.min(n, 16384); t += 4096) fusedPass(taskStart, ansWL, tab, flat, scratch, t, Math.min(n, t + 4096), t * K, cs, K, clamp, p, batch);
      } catch {
        // the real pass reports failures
      }
      // Then the first write to each page of the posterior table, from its end, until the
      // first pass is announced: the vote start writes it from the front, and each first touch
      // of a fresh page is a page fault (2–25 µs on the benchmark VM; 16,000 of them for 10M
      // answers' posteriors), so this thread takes a share of them. An atomic compare-exchange
      // of 0 with 0 writes without changing anything, even where the main thread got first.
      if (post.buffer instanceof SharedArrayBuffer) {
        const words = new Int32Array(post.buffer, post.byteOffset, post.length * 2);
        for (let i = words.length - 1024; i >= 0 && Atomics.load(ctrl, 0) === 0; i -= 1024) Atomics.compareExchange(words, i, 0, 0);
      }
    }
    for (;;) {
      Atomics.wait(ctrl, 0, seen);
      seen = Atomics.load(ctrl, 0);
      if (Atomics.load(ctrl, 1) === 1) break;
      cs.fill(0);
      loadTable(tab, conf, nwl, K);
      try {
        // take chunks until none is left (the main thread takes them from the same counter)
        let ll = 0;
        // (and none once abandoned, ctrl[1] = 1: the posterior table may be the main thread's)
        for (let ch = Atomics.add(ctrl, 5, 1); ch * chunk < n && Atomics.load(ctrl, 1) !== 1; ch = Atomics.add(ctrl, 5, 1)) ll += fusedPass(taskStart, ansWL, tab, prior, post, ch * chunk, Math.min(n, (ch + 1) * chunk), 0, cs, K, clamp, p, batch);
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

/**
 * Above this table size (bytes, per thread) a pass prefetches each group of answers' table slots
 * (see {@link fusedPass}): measured on the benchmark machine, a 0.64 MB table (1M answers) ran
 * ~15% slower with it, a 6.4 MB one (10M answers) 2× faster.
 */
export const PREFETCH_MIN_TABLE_BYTES = 2 * 1024 * 1024;

/** Answers per prefetch group: their slots stay in the L1/L2 cache until the kernel uses them. */
const PREFETCH_BATCH = 256;

/**
 * Tasks per call of the vote pass (and, as a literal, of `fusedPass`). A long loop's first run
 * starts in the interpreter, where every double it computes is a new heap object, until V8 has
 * compiled it and switches over mid-loop; many short calls of one function got to compiled code
 * sooner: the first vote pass of a fresh process took 45–60 ms instead of 90–120 ms (1M answers,
 * one thread, load ~5; later fits: ~27 ms).
 */
const SLICE_TASKS = 4096;

/** Chunks per pass shared by the two threads (see {@link FusedEStep}'s `threads`). */
const PARALLEL_CHUNKS = 64;

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
      const src = kernelSource() + `\n(${fusedWorkerMain.toString()})();`;
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
 * threads wait on memory. Measured on the 2-core benchmark machine: a 1.3 MB double table (1M
 * answers, 5,000 workers) runs 1.25× faster on two threads (load ~2); a 12.8 MB double one
 * (10M answers, 50,000 workers) 1.13× slower (load ~2), while the same crowd's 6.4 MB single-
 * precision table (see COMPACT_MIN_TABLE_BYTES) runs 1.9× faster on two threads (load ~13).
 */
export const PARALLEL_MAX_TABLE_BYTES = 8 * 1024 * 1024;

/**
 * Above this size of the double-precision table (bytes) a fit keeps it in single precision (see
 * {@link FusedEStep}): 1 MB, the benchmark machine's per-core L2 cache, so a crowd whose table
 * fits the core's own cache keeps the exact (double) arithmetic (every shared data set: at most
 * 0.2 MB). Measured (min of 30 passes, load ~11): 1M answers / 5,000 workers, a 1.3 MB double
 * table, 13.7 ms per pass single precision vs 29.6 ms double (one thread); 10M answers / 50,000
 * workers, 12.8 MB, 3–5× (load 3–4).
 */
export const COMPACT_MIN_TABLE_BYTES = 1024 * 1024;

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
