import { type CategoricalInput, type Crowd, type GoldLabel, goldIndex, toCrowd } from '../crowd';
import { type EmModel, emLoop, checkLoop, normaliseFloor, transposeConfusion, voteShares, PROB_FLOOR } from './em-core';
import { FusedEStep } from './fused-em';
import type { CommonOptions } from './majority-vote';
import { CategoricalFit } from './result';

/** Options of {@link OneCoinDawidSkene}. */
export interface OneCoinDawidSkeneOptions extends CommonOptions {
  /** Upper bound on EM iterations (default 500). */
  readonly maxIterations?: number;
  /** Stop when the log-likelihood changes by at most this much per answer (default 1e-7). */
  readonly tolerance?: number;
  /** Beta pseudo-counts (right, wrong) added to each worker's accuracy (default 0, 0). */
  readonly skillPrior?: readonly [number, number];
  /** Gold labels clamped during EM. */
  readonly gold?: readonly GoldLabel[] | ReadonlyMap<string, string>;
}

/**
 * One-coin Dawid-Skene: each worker has one accuracy p (the confusion matrix has p on the
 * diagonal and (1 − p)/(K − 1) elsewhere); class proportions are estimated. EM from majority
 * vote, M-step first. Far fewer parameters than full DS, so steadier for sparse workers, but
 * blind to systematic confusions between particular classes.
 *
 * Papers: Dawid & Skene 1979 (the symmetric special case); Ghosh, Kale & McAfee, "Who moderates
 * the moderators?", EC 2011; Zhang, Chen, Zhou & Jordan, "Spectral Methods Meet EM", NIPS 2014.
 * Accuracies are kept in [1e-10, 1 − 1e-10]. Ties as in {@link DawidSkene}.
 */
export class OneCoinDawidSkene {
  constructor(readonly options: OneCoinDawidSkeneOptions = {}) {
    checkLoop({ maxIterations: options.maxIterations ?? 500, tolerance: options.tolerance ?? 1e-7 });
  }

  fit(input: CategoricalInput): CategoricalFit {
    const o = this.options;
    const c = toCrowd(input, o.repeats, o.classes);
    const clamp = goldIndex(c, o.gold);
    const post = voteShares(c, undefined, clamp);
    const model = new OneCoinState(c, o.skillPrior ?? [0, 0], clamp, o.threads);
    let trace;
    try {
      trace = emLoop(c, post, model, { maxIterations: o.maxIterations ?? 500, tolerance: o.tolerance ?? 1e-7 });
    } finally {
      model.pass.close();
    }
    return new CategoricalFit(c, {
      method: 'one-coin-ds',
      posteriors: post,
      classPriors: model.prior,
      confusion: transposeConfusion(model.confI, c.nWorkers, c.K),
      iterations: trace.iterations,
      converged: trace.converged,
      logLikelihood: trace.history,
      workerParams: { accuracy: model.skill },
    });
  }
}

class OneCoinState implements EmModel {
  readonly confI: Float64Array;
  readonly prior: Float64Array;
  readonly skill: Float64Array;
  private readonly counts: Float64Array;
  readonly pass: FusedEStep;

  constructor(
    private readonly c: Crowd,
    private readonly skillPrior: readonly [number, number],
    clamp: Int32Array | null,
    threads?: number,
  ) {
    this.pass = new FusedEStep(c, clamp, threads);
    this.confI = new Float64Array(c.nWorkers * c.K * c.K);
    this.counts = new Float64Array(this.confI.length);
    this.prior = new Float64Array(c.K);
    this.skill = new Float64Array(c.nWorkers);
  }

  mStep(post: Float64Array): void {
    const { nWorkers, K } = this.c;
    this.pass.counts(post, this.counts);
    this.pass.classTotals(post, this.prior);
    normaliseFloor(this.prior, 0, K);
    const [a, b] = this.skillPrior;
    for (let w = 0; w < nWorkers; w++) {
      const base = w * K * K;
      let right = 0;
      let all = 0;
      for (let l = 0; l < K; l++) {
        right += this.counts[base + l * K + l];
        for (let k = 0; k < K; k++) all += this.counts[base + l * K + k];
      }
      const n = all + a + b;
      let p = n > 0 ? (right + a) / n : 1 / K;
      p = Math.min(1 - PROB_FLOOR, Math.max(PROB_FLOOR, p));
      this.skill[w] = p;
      const off = K > 1 ? (1 - p) / (K - 1) : 0;
      for (let l = 0; l < K; l++) for (let k = 0; k < K; k++) this.confI[base + l * K + k] = l === k ? p : Math.max(off, PROB_FLOOR);
    }
  }

  eStep(post: Float64Array): number {
    return this.pass.run(this.confI, this.prior, post);
  }
}
