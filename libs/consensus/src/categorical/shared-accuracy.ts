import { type CategoricalInput, type Crowd, type GoldLabel, goldIndex, toCrowd } from '../crowd';
import { checkLoop, type EmModel, emLoop, PROB_FLOOR, transposeConfusion, voteShares } from './em-core';
import type { CommonOptions } from './majority-vote';
import { CategoricalFit } from './result';

/** Options of {@link SharedAccuracy}. */
export interface SharedAccuracyOptions extends CommonOptions {
  readonly maxIterations?: number;
  readonly tolerance?: number;
  readonly gold?: readonly GoldLabel[] | ReadonlyMap<string, string>;
}

/**
 * The model behind majority vote: every worker is right with the same probability a (wrong
 * answers uniform over the other labels) and classes are equally likely a priori. For a > 1/K
 * its argmax is exactly the majority vote (same tie rule), but the posterior is calibrated:
 * P(k) ∝ ((K−1)·a/(1−a))^(votes for k). a is estimated by EM from the majority-vote start.
 * `auto` uses it as its "mv" candidate; `method` is reported as `mv`.
 */
export class SharedAccuracy {
  constructor(readonly options: SharedAccuracyOptions = {}) {
    checkLoop({ maxIterations: options.maxIterations ?? 500, tolerance: options.tolerance ?? 1e-7 });
  }

  fit(input: CategoricalInput): CategoricalFit {
    const o = this.options;
    const c = toCrowd(input, o.repeats, o.classes);
    const clamp = goldIndex(c, o.gold);
    const post = voteShares(c, undefined, clamp);
    const model = new SharedState(c, clamp);
    const trace = emLoop(c, post, model, { maxIterations: o.maxIterations ?? 500, tolerance: o.tolerance ?? 1e-7 });
    return new CategoricalFit(c, {
      method: 'mv',
      posteriors: post,
      classPriors: model.prior,
      confusion: transposeConfusion(model.confI, c.nWorkers, c.K),
      iterations: trace.iterations,
      converged: trace.converged,
      logLikelihood: trace.history,
    });
  }
}

class SharedState implements EmModel {
  readonly confI: Float64Array;
  readonly prior: Float64Array;

  constructor(
    private readonly c: Crowd,
    private readonly clamp: Int32Array | null,
  ) {
    this.confI = new Float64Array(c.nWorkers * c.K * c.K);
    this.prior = new Float64Array(c.K).fill(1 / c.K);
  }

  mStep(post: Float64Array): void {
    const { nTasks, K, taskStart, ansLabel, nWorkers } = this.c;
    let right = 0;
    for (let t = 0; t < nTasks; t++) for (let i = taskStart[t]; i < taskStart[t + 1]; i++) right += post[t * K + ansLabel[i]];
    // kept above chance so that the argmax stays the majority vote
    const a = Math.min(1 - PROB_FLOOR, Math.max(1 / K + 1e-6, this.c.nAnswers > 0 ? right / this.c.nAnswers : 1 / K + 1e-6));
    const off = K > 1 ? (1 - a) / (K - 1) : 0;
    for (let w = 0; w < nWorkers; w++) for (let l = 0; l < K; l++) for (let k = 0; k < K; k++) this.confI[(w * K + l) * K + k] = l === k ? a : off;
  }

  /**
   * Computed from vote counts (P(k) ∝ r^votes_k) rather than by multiplying per answer, so that
   * tied vote counts give bit-identical posteriors and the majority-vote tie rule applies.
   */
  eStep(post: Float64Array): number {
    const { nTasks, K, taskStart, ansLabel } = this.c;
    const a = this.confI[0];
    const off = K > 1 ? (1 - a) / (K - 1) : 1;
    const lr = Math.log(a / off);
    const lo = Math.log(off);
    const votes = new Float64Array(K);
    let ll = 0;
    for (let t = 0; t < nTasks; t++) {
      votes.fill(0);
      const n = taskStart[t + 1] - taskStart[t];
      for (let i = taskStart[t]; i < taskStart[t + 1]; i++) votes[ansLabel[i]]++;
      let m = -Infinity;
      for (let k = 0; k < K; k++) m = Math.max(m, votes[k]);
      let z = 0;
      for (let k = 0; k < K; k++) z += votes[k] = Math.exp((votes[k] - m) * lr);
      const g = this.clamp ? this.clamp[t] : -1;
      for (let k = 0; k < K; k++) post[t * K + k] = g >= 0 ? (k === g ? 1 : 0) : votes[k] / z;
      ll += n * lo + m * lr + Math.log(g >= 0 ? votes[g] : z) - Math.log(K);
    }
    return ll;
  }
}
