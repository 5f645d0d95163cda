import { type CategoricalInput, type Crowd, type GoldLabel, goldIndex, toCrowd } from '../crowd';
import { ConsensusError } from '../errors';
import { applyClamp, checkLoop, empiricalConfusion, voteShares } from './em-core';
import type { CommonOptions } from './majority-vote';
import { CategoricalFit } from './result';

/** Options of {@link Glad}. */
export interface GladOptions extends CommonOptions {
  /** Upper bound on EM iterations (default 100, as crowd-kit). */
  readonly maxIterations?: number;
  /** Stop when the objective changes by at most this much per answer (default 1e-6). */
  readonly tolerance?: number;
  /** Newton (Fisher scoring) sweeps over abilities and difficulties per M-step (default 1: more sweeps cost time and changed no label on the shared sets). */
  readonly mStepSweeps?: number;
  /** Gaussian prior on abilities α: mean and standard deviation (default [1, 1]). */
  readonly abilityPrior?: readonly [number, number];
  /** Gaussian prior on log-difficulties log β: mean and standard deviation (default [0, 1]). */
  readonly difficultyPrior?: readonly [number, number];
  /**
   * Class proportions: `uniform` (default, the paper) or `estimate` (mean posterior, as DS; this
   * lets the model collapse onto a majority class on some crowds, e.g. relevance).
   */
  readonly classPriors?: 'estimate' | 'uniform';
  /** Gold labels clamped during EM. */
  readonly gold?: readonly GoldLabel[] | ReadonlyMap<string, string>;
}

/**
 * GLAD, Generative model of Labels, Abilities and Difficulties: worker j answers task i
 * correctly with probability σ(α_j · β_i), where α_j ∈ ℝ is the worker's ability (negative:
 * adversarial) and β_i > 0 the task's inverse difficulty; wrong answers are uniform over the
 * other K − 1 labels. EM: the E-step is exact (log-odds of class k is the sum of α_jβ_i + log(K−1)
 * over the answers saying k); the M-step maximises the expected log-likelihood plus Gaussian
 * priors on α and log β by a few Fisher-scoring sweeps (per-coordinate Newton steps with the
 * expected Hessian, which is always negative, so every step is well defined).
 *
 * Paper: J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma and J. Movellan, "Whose Vote Should Count
 * More: Optimal Integration of Labels from Labelers of Unknown Expertise", NIPS 2009.
 * `workerParams.alpha`, `taskParams.beta` hold the estimates. Ties as in {@link DawidSkene}.
 */
export class Glad {
  constructor(readonly options: GladOptions = {}) {
    checkLoop({ maxIterations: options.maxIterations ?? 100, tolerance: options.tolerance ?? 1e-6 });
    const s = options.mStepSweeps ?? 1;
    if (!(Number.isInteger(s) && s >= 1)) throw new ConsensusError('INVALID_OPTION', 'mStepSweeps must be an integer >= 1');
  }

  fit(input: CategoricalInput): CategoricalFit {
    const o = this.options;
    const c = toCrowd(input, o.repeats, o.classes);
    const { nTasks, nWorkers, K } = c;
    const clamp = goldIndex(c, o.gold);
    const [muA, sdA] = o.abilityPrior ?? [1, 1];
    const [muU, sdU] = o.difficultyPrior ?? [0, 1];
    const alpha = new Float64Array(nWorkers).fill(muA);
    const u = new Float64Array(nTasks).fill(muU);
    const prior = new Float64Array(K).fill(1 / K);
    const post = voteShares(c, undefined, clamp);
    const maxIt = o.maxIterations ?? 100;
    const eps = (o.tolerance ?? 1e-6) * Math.max(c.nAnswers, 1);
    const sweeps = o.mStepSweeps ?? 1;
    const history: number[] = [];
    let prev = -Infinity;
    let converged = false;
    let it = 0;
    while (it < maxIt) {
      it++;
      if (o.classPriors === 'estimate') estimatePrior(post, nTasks, K, prior);
      for (let s = 0; s < sweeps; s++) mSweep(c, post, alpha, u, muA, sdA, muU, sdU);
      const ll = gladEStep(c, alpha, u, prior, post, clamp) + logPriorDensity(alpha, muA, sdA) + logPriorDensity(u, muU, sdU);
      history.push(ll);
      if (Math.abs(ll - prev) <= eps) {
        converged = true;
        break;
      }
      prev = ll;
    }
    const beta = new Float64Array(nTasks);
    for (let t = 0; t < nTasks; t++) beta[t] = Math.exp(u[t]);
    return new CategoricalFit(c, {
      method: 'glad',
      posteriors: post,
      classPriors: prior,
      confusion: empiricalConfusion(c, post),
      iterations: it,
      converged,
      logLikelihood: history,
      workerParams: { alpha },
      taskParams: { beta },
    });
  }
}

function estimatePrior(post: Float64Array, nTasks: number, K: number, prior: Float64Array): void {
  prior.fill(0);
  for (let t = 0; t < nTasks; t++) for (let k = 0; k < K; k++) prior[k] += post[t * K + k];
  let z = 0;
  for (let k = 0; k < K; k++) z += prior[k] = Math.max(prior[k] / Math.max(nTasks, 1), 1e-10);
  for (let k = 0; k < K; k++) prior[k] /= z;
}

function logPriorDensity(x: Float64Array, mu: number, sd: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - mu) * (x[i] - mu);
  return -s / (2 * sd * sd);
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(1 + e^x) without overflow. */
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** One Fisher-scoring sweep: all abilities, then all log-difficulties. */
function mSweep(c: Crowd, post: Float64Array, alpha: Float64Array, u: Float64Array, muA: number, sdA: number, muU: number, sdU: number): void {
  const { nTasks, nWorkers, K, taskStart, ansWorker, ansLabel } = c;
  const g = new Float64Array(nWorkers);
  const h = new Float64Array(nWorkers);
  for (let t = 0; t < nTasks; t++) {
    const b = Math.exp(u[t]);
    for (let i = taskStart[t]; i < taskStart[t + 1]; i++) {
      const w = ansWorker[i];
      const s = sigmoid(alpha[w] * b);
      const p = post[t * K + ansLabel[i]];
      g[w] += (p - s) * b;
      h[w] += s * (1 - s) * b * b;
    }
  }
  const ia = 1 / (sdA * sdA);
  for (let w = 0; w < nWorkers; w++) alpha[w] += (g[w] - (alpha[w] - muA) * ia) / (h[w] + ia);
  const iu = 1 / (sdU * sdU);
  for (let t = 0; t < nTasks; t++) {
    const b = Math.exp(u[t]);
    let gt = 0;
    let ht = 0;
    for (let i = taskStart[t]; i < taskStart[t + 1]; i++) {
      const x = alpha[ansWorker[i]] * b;
      const s = sigmoid(x);
      const p = post[t * K + ansLabel[i]];
      gt += (p - s) * x;
      ht += s * (1 - s) * x * x;
    }
    u[t] = Math.max(-8, Math.min(8, u[t] + (gt - (u[t] - muU) * iu) / (ht + iu)));
  }
}

/** Exact posteriors under GLAD; returns the log-likelihood of the answers. */
function gladEStep(c: Crowd, alpha: Float64Array, u: Float64Array, prior: Float64Array, post: Float64Array, clamp: Int32Array | null): number {
  const { nTasks, K, taskStart, ansWorker, ansLabel } = c;
  const lk1 = Math.log(Math.max(K - 1, 1));
  const score = new Float64Array(K);
  let ll = 0;
  for (let t = 0; t < nTasks; t++) {
    const b = Math.exp(u[t]);
    for (let k = 0; k < K; k++) score[k] = Math.log(prior[k]);
    let base = 0;
    for (let i = taskStart[t]; i < taskStart[t + 1]; i++) {
      const x = alpha[ansWorker[i]] * b;
      // log P(wrong, a given other label) = log(1 − σ(x)) − log(K − 1) = −softplus(x) − log(K − 1)
      base -= softplus(x) + lk1;
      score[ansLabel[i]] += x + lk1;
    }
    let m = -Infinity;
    for (let k = 0; k < K; k++) if (score[k] > m) m = score[k];
    let z = 0;
    for (let k = 0; k < K; k++) z += score[k] = Math.exp(score[k] - m);
    const o = t * K;
    for (let k = 0; k < K; k++) post[o + k] = score[k] / z;
    ll += base + m + Math.log(z);
  }
  if (clamp) applyClamp(post, clamp, K);
  return ll;
}
