import { type CategoricalInput, type Crowd, type GoldLabel, goldIndex, toCrowd } from '../crowd';
import { ConsensusError } from '../errors';
import {
  checkLoop,
  dsConfusion,
  type EmModel,
  emLoop,
  meanPrior,
  normaliseFloor,
  PROB_FLOOR,
  transposeConfusion,
} from './em-core';
import type { CommonOptions } from './majority-vote';
import { CategoricalFit } from './result';
import { FusedEStep } from './fused-em';
import { type SquaremModel, squaremLoop } from './squarem';
import { overrelax, overrelaxedLoop } from './overrelax';

/** Options of {@link DawidSkene}. */
export interface DawidSkeneOptions extends CommonOptions {
  /** Upper bound on EM iterations (default 500). */
  readonly maxIterations?: number;
  /** Stop when the log-likelihood changes by at most this much per answer (default 1e-6). */
  readonly tolerance?: number;
  /** Pseudo-count added to every confusion cell before normalising (default 0: classic DS). */
  readonly smoothing?: number;
  /** Pseudo-count added to every class when estimating class proportions (default 0). */
  readonly classPriorSmoothing?: number;
  /** Gold labels: these tasks' posteriors are clamped to the gold class throughout EM. */
  readonly gold?: readonly GoldLabel[] | ReadonlyMap<string, string>;
  /**
   * Prior confusion matrices per worker (rows: true class, columns: given label, each row a
   * probability vector over `classes`), e.g. from a previous campaign's `workerConfusions()`.
   * Each row acts as `priorStrength` pseudo-answers added to the worker's soft counts, so a
   * worker's reliability carries over and is updated by the new evidence.
   */
  readonly priorConfusions?: Readonly<Record<string, readonly (readonly number[])[]>>;
  /** Pseudo-answers per row of a prior confusion matrix (default 10). */
  readonly priorStrength?: number;
  /**
   * How EM is accelerated (default `'overrelax'`): `'overrelax'` = adaptive over-relaxed EM
   * (Salakhutdinov & Roweis 2003, see {@link overrelaxedLoop}); `'squarem'` = SQUAREM
   * (Varadhan & Roland 2008); `'none'` = plain EM. SQUAREM does not pay here: on real and
   * synthetic crowds EM's slow tail is many small per-worker modes, SQUAREM's single global
   * step length stays near 1 and its extrapolations are mostly rejected (45 passes instead of
   * 29 on the 1M benchmark, for the same labels).
   */
  readonly acceleration?: 'overrelax' | 'squarem' | 'none';
  /** Deprecated alias: `true` = `acceleration: 'squarem'`, `false` = `'none'`. */
  readonly accelerate?: boolean;
}

/**
 * Dawid-Skene: every worker has a full K×K confusion matrix (probability of giving label l when
 * the true class is k), tasks have a latent true class drawn from class proportions, and EM
 * alternates posteriors over true classes (E) with maximum-likelihood confusion matrices and
 * proportions (M). Starts from majority-vote posteriors (M-step first; the vote shares and their
 * soft counts are one sweep over the answers, see `FusedEStep.voteStart`).
 *
 * Paper: A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer Error-Rates
 * Using the EM Algorithm", Journal of the Royal Statistical Society C 28(1), 1979.
 *
 * Runs to convergence (see `tolerance`), unlike crowd-kit's default, which stops as soon as its
 * loss changes by less than 1e-5 (after 2 iterations on some sets). Each EM pass is one sweep
 * over the answers (the E-step also accumulates the next M-step's counts). Accelerated by
 * default with adaptive over-relaxation (see `acceleration`), which never lowers the
 * likelihood; `iterations` counts passes over the answers.
 * Confusion cells and proportions are floored at 1e-10 so that no answer has zero probability.
 * Ties in the final posterior go to the class first in `classes`.
 */
export class DawidSkene {
  constructor(readonly options: DawidSkeneOptions = {}) {
    const o = options;
    if (o.smoothing !== undefined && !(o.smoothing >= 0)) throw new ConsensusError('INVALID_OPTION', 'smoothing must be >= 0');
    if (o.priorStrength !== undefined && !(o.priorStrength >= 0)) throw new ConsensusError('INVALID_OPTION', 'priorStrength must be >= 0');
    checkLoop({ maxIterations: o.maxIterations ?? 500, tolerance: o.tolerance ?? 1e-6 });
  }

  fit(input: CategoricalInput): CategoricalFit {
    const o = this.options;
    const c = toCrowd(input, o.repeats, o.classes);
    const clamp = goldIndex(c, o.gold);
    const pseudo = o.priorConfusions ? priorPseudoCounts(c, o.priorConfusions, o.priorStrength ?? 10) : null;
    const state = new DsState(c, o.smoothing ?? 0, o.classPriorSmoothing ?? 0, pseudo, clamp, o.threads);
    const post = state.posteriors();
    const loop = { maxIterations: o.maxIterations ?? 500, tolerance: o.tolerance ?? 1e-6 };
    let trace;
    try {
      state.voteStart(post);
      const how = o.acceleration ?? (o.accelerate === undefined ? 'overrelax' : o.accelerate ? 'squarem' : 'none');
      trace = how === 'none' || c.nAnswers === 0 ? emLoop(c, post, state, loop) : how === 'squarem' ? squaremLoop(c, post, state, loop) : overrelaxedLoop(c, post, state, loop);
    } finally {
      state.close();
    }
    return new CategoricalFit(c, {
      method: 'ds',
      posteriors: post,
      classPriors: state.prior,
      confusion: transposeConfusion(state.confI, c.nWorkers, c.K),
      iterations: trace.iterations,
      converged: trace.converged,
      logLikelihood: trace.history,
    });
  }
}

/** The parameters of DS and its M/E steps; also what SQUAREM extrapolates (`params()`). */
export class DsState implements EmModel, SquaremModel {
  readonly confI: Float64Array;
  readonly prior: Float64Array;
  private readonly counts: Float64Array;
  private readonly pass: FusedEStep;
  /** The last M-step wrote `confI` into the pass's table too (and zeroed its counts). */
  private loaded = false;

  constructor(
    private readonly c: Crowd,
    private readonly smoothing: number,
    private readonly priorSmoothing: number,
    private readonly pseudo: Float64Array | null,
    clamp: Int32Array | null,
    threads?: number,
  ) {
    this.confI = new Float64Array(c.nWorkers * c.K * c.K);
    this.counts = new Float64Array(this.confI.length);
    this.prior = new Float64Array(c.K);
    this.pass = new FusedEStep(c, clamp, threads);
    if (!overrelaxPrimed) {
      primeOverrelax();
      overrelaxPrimed = true;
    }
  }

  /** A zeroed posterior table for this fit (see `FusedEStep.posteriors`). */
  posteriors(): Float64Array {
    return this.pass.posteriors();
  }

  /** Majority-vote posteriors into `post`, their counts kept for the first M-step. */
  voteStart(post: Float64Array): void {
    this.pass.voteStart(post);
  }

  /** Releases the helper thread, if any. */
  close(): void {
    this.pass.close();
  }

  /** The arrays SQUAREM extrapolates. */
  params(): Float64Array[] {
    return [this.confI, this.prior];
  }

  /** Back onto the simplex after an extrapolation: clip at the floor, renormalise each row. */
  project(): void {
    this.loaded = false; // confI changed after the M-step wrote the table
    const { K, nWorkers } = this.c;
    normaliseFloor(this.prior, 0, K);
    projectColumns(this.confI, nWorkers, K);
  }

  /** The over-relaxed step and the projection in one sweep over the confusion cells. */
  overrelax(prev: Float64Array[], eta: number): void {
    this.loaded = false;
    const { K, nWorkers } = this.c;
    overrelax(prev[1], this.prior, eta);
    normaliseFloor(this.prior, 0, K);
    overrelaxColumns(prev[0], this.confI, nWorkers, K, eta);
  }

  mStep(post: Float64Array): void {
    const K = this.c.K;
    if (this.pass.hasCounts) {
      // counts and class totals were accumulated by the fused E-step that produced `post`
      for (let k = 0; k < K; k++) this.prior[k] = this.pass.classSum[k] + this.priorSmoothing;
      normaliseFloor(this.prior, 0, K);
      this.pass.dsMStep(this.confI, this.smoothing, this.pseudo, PROB_FLOOR);
      this.loaded = true;
      return;
    }
    meanPrior(post, this.c.nTasks, K, this.prior, this.priorSmoothing);
    this.pass.counts(post, this.counts);
    dsConfusion(this.c, this.counts, this.confI, this.smoothing, this.pseudo);
    this.loaded = false;
  }

  eStep(post: Float64Array): number {
    const loaded = this.loaded;
    this.loaded = false;
    return this.pass.run(this.confI, this.prior, post, loaded);
  }

  invalidate(): void {
    this.pass.invalidate();
  }
}

/**
 * Each worker's rows P(· | true k) clipped at PROB_FLOOR and renormalised (internal [w][l][k]
 * layout). A free function of arrays and numbers: see `loadTable` in fused-em.ts for why.
 */
function projectColumns(c: Float64Array, nWorkers: number, K: number): void {
  for (let w = 0; w < nWorkers; w++) {
    const base = w * K * K;
    for (let k = 0; k < K; k++) {
      let z = 0;
      for (let l = 0; l < K; l++) z += c[base + l * K + k] = Math.max(c[base + l * K + k], PROB_FLOOR);
      for (let l = 0; l < K; l++) c[base + l * K + k] /= z;
    }
  }
}

/**
 * `overrelax` (θ · (m / θ)^η per cell, into `m`) followed by `projectColumns`, fused per column
 * of a worker's matrix: the same arithmetic in the same order, one sweep instead of two.
 */
function overrelaxColumns(theta: Float64Array, m: Float64Array, nWorkers: number, K: number, eta: number): void {
  const a = Math.floor(Math.log2(eta) + 1e-9);
  const half = eta !== 2 ** a;
  if (K === 4) {
    // unrolled over the 4 cells of a column (same arithmetic and order)
    for (let j = 0, n = nWorkers * 16; j < n; j += 16) {
      for (let k = 0; k < 4; k++) {
        const c0 = powStep(theta[j + k], m[j + k], half, a);
        const c1 = powStep(theta[j + 4 + k], m[j + 4 + k], half, a);
        const c2 = powStep(theta[j + 8 + k], m[j + 8 + k], half, a);
        const c3 = powStep(theta[j + 12 + k], m[j + 12 + k], half, a);
        const z = c0 + c1 + c2 + c3;
        m[j + k] = c0 / z;
        m[j + 4 + k] = c1 / z;
        m[j + 8 + k] = c2 / z;
        m[j + 12 + k] = c3 / z;
      }
    }
    return;
  }
  for (let w = 0; w < nWorkers; w++) {
    const base = w * K * K;
    for (let k = 0; k < K; k++) {
      let z = 0;
      for (let l = 0; l < K; l++) {
        const j = base + l * K + k;
        const t = theta[j];
        if (t > 0) {
          let r = m[j] / t;
          if (half) r *= Math.sqrt(r);
          for (let i = 0; i < a; i++) r *= r;
          m[j] = t * r;
        }
        z += m[j] = Math.max(m[j], PROB_FLOOR);
      }
      for (let l = 0; l < K; l++) m[base + l * K + k] /= z;
    }
  }
}

/** One cell of {@link overrelaxColumns} before normalising: max(t · (m / t)^η, PROB_FLOOR) (m itself when t ≤ 0). */
function powStep(t: number, m: number, half: boolean, a: number): number {
  if (t > 0) {
    let r = m / t;
    if (half) r *= Math.sqrt(r);
    for (let i = 0; i < a; i++) r *= r;
    m = t * r;
  }
  return Math.max(m, PROB_FLOOR);
}

let overrelaxPrimed = false;

/**
 * Runs the over-relaxed step and the projection once on two tiny workers with every branch taken
 * (η = 1.5, 2, 3: with and without the square root and the squarings; a zero cell), so that their
 * first real call compiles once instead of deoptimizing at a branch it had not yet seen (seen with
 * --trace-deopt: each such deopt cost a recompilation and milliseconds of interpreted sweeps).
 */
function primeOverrelax(): void {
  for (const K of [3, 4]) {
    const theta = new Float64Array(2 * K * K).fill(1 / K);
    theta[1] = 0;
    const m = new Float64Array(theta.length);
    for (const eta of [1.5, 2, 3]) {
      m.fill(0.5 / K);
      overrelaxColumns(theta, m, 2, K, eta);
      projectColumns(m, 2, K);
    }
  }
}

/** Prior confusion matrices → pseudo-counts in the internal [w][l][k] layout. */
function priorPseudoCounts(c: Crowd, priors: Readonly<Record<string, readonly (readonly number[])[]>>, strength: number): Float64Array {
  const { K } = c;
  const out = new Float64Array(c.nWorkers * K * K);
  c.workers.forEach((w, wi) => {
    const m = priors[w];
    if (!m) return;
    if (m.length !== K || m.some((r) => r.length !== K)) throw new ConsensusError('INVALID_OPTION', `prior confusion of worker "${w}" is not ${K}×${K}`);
    for (let k = 0; k < K; k++) {
      const z = m[k].reduce((s, v) => s + v, 0);
      if (!(z > 0) || m[k].some((v) => !(v >= 0))) throw new ConsensusError('INVALID_OPTION', `prior confusion of worker "${w}" has an invalid row`);
      for (let l = 0; l < K; l++) out[(wi * K + l) * K + k] = (strength * m[k][l]) / z;
    }
  });
  return out;
}
