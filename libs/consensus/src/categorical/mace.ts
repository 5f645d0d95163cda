import { type CategoricalInput, type Crowd, type GoldLabel, goldIndex, toCrowd } from '../crowd';
import { ConsensusError } from '../errors';
import { type EmModel, emLoop, checkLoop, normaliseFloor, transposeConfusion, voteShares } from './em-core';
import { FusedEStep } from './fused-em';
import type { CommonOptions } from './majority-vote';
import { CategoricalFit } from './result';

/** Options of {@link Mace}. */
export interface MaceOptions extends CommonOptions {
  /** Upper bound on EM iterations (default 500). */
  readonly maxIterations?: number;
  /** Stop when the log-likelihood changes by at most this much per answer (default 1e-7). */
  readonly tolerance?: number;
  /** Pseudo-count added to the competence and strategy counts in each M-step (default 0.1, crowd-kit's default). */
  readonly smoothing?: number;
  /**
   * True-class proportions: `estimate` (default; mean posterior, as DS) or `uniform` (the paper).
   * With `uniform`, a worker biased towards a majority class makes their rare-class answers look
   * decisive, which costs 9 points on `product` (12% positives).
   */
  readonly classPriors?: 'uniform' | 'estimate';
  /** Gold labels clamped during EM. */
  readonly gold?: readonly GoldLabel[] | ReadonlyMap<string, string>;
}

/**
 * MACE, Multi-Annotator Competence Estimation: each worker j either knows the true label (with
 * probability θ_j, their competence) or "spams", drawing a label from their own strategy ξ_j
 * regardless of the truth; so P(label l | true k) = θ_j·[l = k] + (1 − θ_j)·ξ_j(l). True labels
 * are drawn from class proportions (estimated; the paper fixes them uniform). EM with smoothed counts; the expected "knew it" indicator of each answer
 * is computed from the true-label posterior, so the whole M-step runs on the same soft counts as
 * Dawid-Skene.
 *
 * Paper: D. Hovy, T. Berg-Kirkpatrick, A. Vaswani and E. Hovy, "Learning Whom to Trust with
 * MACE", NAACL-HLT 2013. Deviation: deterministic start (majority-vote posteriors, θ = 0.5,
 * uniform ξ) instead of random restarts, so results are reproducible. `workerParams.competence`
 * holds θ, which is the worker's skill in MACE's sense (a spammer has θ ≈ 0).
 */
export class Mace {
  constructor(readonly options: MaceOptions = {}) {
    if (options.smoothing !== undefined && !(options.smoothing >= 0)) throw new ConsensusError('INVALID_OPTION', 'smoothing must be >= 0');
    checkLoop({ maxIterations: options.maxIterations ?? 500, tolerance: options.tolerance ?? 1e-7 });
  }

  fit(input: CategoricalInput): CategoricalFit {
    const o = this.options;
    const c = toCrowd(input, o.repeats, o.classes);
    const clamp = goldIndex(c, o.gold);
    const post = voteShares(c, undefined, clamp);
    const model = new MaceState(c, o.smoothing ?? 0.1, clamp, o.classPriors !== 'uniform', o.threads);
    let trace;
    try {
      trace = emLoop(c, post, model, { maxIterations: o.maxIterations ?? 500, tolerance: o.tolerance ?? 1e-7 });
    } finally {
      model.pass.close();
    }
    return new CategoricalFit(c, {
      method: 'mace',
      posteriors: post,
      classPriors: model.prior,
      confusion: transposeConfusion(model.confI, c.nWorkers, c.K),
      iterations: trace.iterations,
      converged: trace.converged,
      logLikelihood: trace.history,
      workerParams: { competence: model.theta },
    });
  }
}

class MaceState implements EmModel {
  readonly confI: Float64Array;
  readonly prior: Float64Array;
  readonly theta: Float64Array;
  readonly xi: Float64Array;
  private readonly counts: Float64Array;
  readonly pass: FusedEStep;

  constructor(
    private readonly c: Crowd,
    private readonly s: number,
    clamp: Int32Array | null,
    private readonly estimatePrior: boolean,
    threads?: number,
  ) {
    const { nWorkers, K } = c;
    this.pass = new FusedEStep(c, clamp, threads);
    this.confI = new Float64Array(nWorkers * K * K);
    this.counts = new Float64Array(this.confI.length);
    this.prior = new Float64Array(K).fill(1 / K);
    this.theta = new Float64Array(nWorkers).fill(0.5);
    this.xi = new Float64Array(nWorkers * K).fill(1 / K);
  }

  mStep(post: Float64Array): void {
    const { nWorkers, K } = this.c;
    const { counts, theta, xi, s } = this;
    this.pass.counts(post, counts);
    if (this.estimatePrior) {
      this.pass.classTotals(post, this.prior);
      normaliseFloor(this.prior, 0, K);
    }
    const spam = new Float64Array(K);
    for (let w = 0; w < nWorkers; w++) {
      const base = w * K * K;
      const th = theta[w];
      let know = 0;
      let total = 0;
      let spamTotal = 0;
      for (let l = 0; l < K; l++) {
        let n = 0;
        for (let k = 0; k < K; k++) n += counts[base + l * K + k];
        // P(knew | said l, truth l) = θ / (θ + (1 − θ) ξ(l)); when the truth is not l it was spam
        const denom = th + (1 - th) * xi[w * K + l];
        const kn = denom > 0 ? (counts[base + l * K + l] * th) / denom : 0;
        know += kn;
        total += n;
        spam[l] = n - kn;
        spamTotal += spam[l];
      }
      theta[w] = Math.min(1 - 1e-10, Math.max(1e-10, (know + s) / (total + 2 * s || 1)));
      for (let l = 0; l < K; l++) xi[w * K + l] = (spam[l] + s) / (spamTotal + K * s || K);
      if (spamTotal + K * s === 0) for (let l = 0; l < K; l++) xi[w * K + l] = 1 / K;
      const t = theta[w];
      for (let l = 0; l < K; l++) {
        const q = (1 - t) * xi[w * K + l];
        for (let k = 0; k < K; k++) this.confI[base + l * K + k] = Math.max(1e-10, (l === k ? t : 0) + q);
      }
    }
  }

  eStep(post: Float64Array): number {
    return this.pass.run(this.confI, this.prior, post);
  }
}
