import { type CategoricalInput, type Crowd, type GoldLabel, goldIndex, toCrowd } from '../crowd';
import { ConsensusError } from '../errors';
import { empiricalConfusion, meanPrior, voteShares } from './em-core';
import type { CommonOptions } from './majority-vote';
import { CategoricalFit } from './result';

export interface WeightedMajorityVoteOptions extends CommonOptions {
  /** Explicit weight per worker (e.g. stored reliabilities). Takes precedence over `gold`. */
  readonly weights?: Readonly<Record<string, number>>;
  /** Estimate each worker's weight from their accuracy on these gold tasks. */
  readonly gold?: readonly GoldLabel[] | ReadonlyMap<string, string>;
  /**
   * Weight of a worker that `weights` does not list or who answered no gold task:
   * a number, or `estimate` (default) for the unsupervised estimate described on the class.
   */
  readonly defaultWeight?: number | 'estimate';
}

/**
 * Weighted majority vote: a task's posterior is the share of weight behind each label.
 *
 * Weights are, in order of precedence: given (`weights`); estimated from gold (`gold`): the
 * log-odds weight log((K-1)·a/(1-a)) of the worker's Laplace-smoothed gold accuracy
 * a = (correct + 1) / (answered + 2), which is the Bayes-optimal vote weight under the one-coin
 * model (Nitzan & Paroush 1982; Li & Yu, "Error rate bounds and iterative weighted majority
 * voting for crowdsourcing", 2014); or, without either, the same log-odds of each worker's
 * smoothed agreement with the leave-one-out majority of the other workers on the same tasks
 * (one step of Li & Yu's iterative weighted majority voting). Ties as in {@link MajorityVote}.
 *
 * Posteriors: with explicit `weights` (which must be >= 0; `defaultWeight` a number) they are
 * the weighted vote shares; with log-odds weights they are the one-coin posterior
 * softmax_k(Σ weights of the answers saying k), so the confidence is calibrated under that model.
 */
export class WeightedMajorityVote {
  constructor(readonly options: WeightedMajorityVoteOptions = {}) {}

  fit(input: CategoricalInput): CategoricalFit {
    const c = toCrowd(input, this.options.repeats, this.options.classes);
    const weights = this.workerWeights(c);
    const post = this.options.weights && this.options.defaultWeight !== 'estimate' ? voteShares(c, weights) : softmaxScores(c, weights);
    const prior = new Float64Array(c.K);
    meanPrior(post, c.nTasks, c.K, prior);
    return new CategoricalFit(c, {
      method: 'wmv',
      posteriors: post,
      classPriors: prior,
      confusion: empiricalConfusion(c, post),
      iterations: 0,
      converged: true,
      logLikelihood: [],
      workerParams: { weight: weights },
    });
  }

  private workerWeights(c: Crowd): Float64Array {
    const { weights, defaultWeight = 'estimate' } = this.options;
    const out = new Float64Array(c.nWorkers);
    const known = new Uint8Array(c.nWorkers);
    if (weights) {
      c.workers.forEach((w, i) => {
        const v = weights[w];
        if (v !== undefined) {
          if (!Number.isFinite(v) || v < 0) throw new ConsensusError('INVALID_OPTION', `weight of worker "${w}" is not a finite number >= 0`);
          out[i] = v;
          known[i] = 1;
        }
      });
    } else if (this.options.gold) {
      const g = goldIndex(c, this.options.gold);
      if (g) {
        const right = new Float64Array(c.nWorkers);
        const seen = new Float64Array(c.nWorkers);
        for (let t = 0; t < c.nTasks; t++) {
          if (g[t] < 0) continue;
          for (let i = c.taskStart[t]; i < c.taskStart[t + 1]; i++) {
            seen[c.ansWorker[i]]++;
            if (c.ansLabel[i] === g[t]) right[c.ansWorker[i]]++;
          }
        }
        for (let w = 0; w < c.nWorkers; w++) if (seen[w] > 0) ((out[w] = logOdds((right[w] + 1) / (seen[w] + 2), c.K)), (known[w] = 1));
      }
    }
    let fallback: Float64Array | null = null;
    for (let w = 0; w < c.nWorkers; w++) {
      if (known[w]) continue;
      if (typeof defaultWeight === 'number') out[w] = defaultWeight;
      else out[w] = (fallback ??= leaveOneOutWeights(c))[w];
    }
    return out;
  }
}

/** log((K-1)·a/(1-a)), clipped to ±10. */
export function logOdds(a: number, K: number): number {
  const v = Math.log((Math.max(K - 1, 1) * a) / (1 - a));
  return Math.max(-10, Math.min(10, v));
}

/** Log-odds weight of each worker's smoothed agreement with the leave-one-out majority. */
function leaveOneOutWeights(c: Crowd): Float64Array {
  const { nTasks, nWorkers, K, taskStart, ansWorker, ansLabel } = c;
  const agree = new Float64Array(nWorkers);
  const seen = new Float64Array(nWorkers);
  const votes = new Int32Array(K);
  for (let t = 0; t < nTasks; t++) {
    const s = taskStart[t];
    const f = taskStart[t + 1];
    if (f - s < 2) continue;
    votes.fill(0);
    for (let i = s; i < f; i++) votes[ansLabel[i]]++;
    for (let i = s; i < f; i++) {
      const l = ansLabel[i];
      votes[l]--;
      // share of the other workers' votes for l among the top: ties count fractionally
      let top = 0;
      for (let k = 0; k < K; k++) if (votes[k] > top) top = votes[k];
      let nTop = 0;
      for (let k = 0; k < K; k++) if (votes[k] === top) nTop++;
      votes[l]++;
      seen[ansWorker[i]]++;
      if (votes[l] - 1 === top) agree[ansWorker[i]] += 1 / nTop;
    }
  }
  const out = new Float64Array(nWorkers);
  for (let w = 0; w < nWorkers; w++) out[w] = logOdds((agree[w] + 1) / (seen[w] + 2), K);
  return out;
}

/** post[t][k] ∝ exp(Σ_{answers of t saying k} weight[worker]). */
function softmaxScores(c: Crowd, weights: Float64Array): Float64Array {
  const { nTasks, K, taskStart, ansWorker, ansLabel } = c;
  const post = new Float64Array(nTasks * K);
  for (let t = 0; t < nTasks; t++) {
    const o = t * K;
    for (let i = taskStart[t]; i < taskStart[t + 1]; i++) post[o + ansLabel[i]] += weights[ansWorker[i]];
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, post[o + k]);
    let z = 0;
    for (let k = 0; k < K; k++) z += post[o + k] = Math.exp(post[o + k] - m);
    for (let k = 0; k < K; k++) post[o + k] /= z;
  }
  return post;
}
