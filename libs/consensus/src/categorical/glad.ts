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
  /**
   * How an iteration is computed (the same model and updates either way): `fused` (default with
   * one M-step sweep: one pass over the answers, see FusedGlad) or `separate` (the textbook three
   * passes — abilities, difficulties, E-step — kept as the reference; always with mStepSweeps > 1).
   */
  readonly passes?: 'fused' | 'separate';
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
    // One Fisher sweep per M-step (the default): the fused pass, which also gathers the next
    // ability step's gradient (see fusedPass); more sweeps: the separate passes.
    const fused = sweeps === 1 && o.passes !== 'separate' ? new FusedGlad(c, muA, sdA, muU, sdU) : null;
    fused?.gather(post, alpha, u);
    while (it < maxIt) {
      it++;
      if (o.classPriors === 'estimate') estimatePrior(post, nTasks, K, prior);
      let ll: number;
      if (fused) {
        fused.abilityStep(alpha);
        ll = fused.pass(alpha, u, prior, post, clamp);
      } else {
        for (let s = 0; s < sweeps; s++) mSweep(c, post, alpha, u, muA, sdA, muU, sdU);
        ll = gladEStep(c, alpha, u, prior, post, clamp);
      }
      ll += logPriorDensity(alpha, muA, sdA) + logPriorDensity(u, muU, sdU);
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

/**
 * GLAD's iteration in one sweep over the answers instead of three, with one exponential and one
 * log per answer fewer. The M-step's ability step needs, per worker, sums over their answers of
 * functions of x = α_w · β_t and the posteriors; those are exactly the quantities of the E-step
 * that precedes it (same α, same β, the posteriors it just wrote), so the E-step gathers them
 * (`g`, `h`) for the next iteration, sharing x and e = exp(−|x|) with its own softplus(x):
 * σ(x) = 1 / (1 + e) or e / (1 + e) (the expressions of `sigmoid`), softplus(x) = max(x, 0) +
 * log(1 + e), whose sum over a task's answers takes one log of the product of the (1 + e). The
 * difficulty step of a task and that task's E-step run in one loop over its answers (they need
 * the new α and the task's own old and new β only). Sums run in the order of mSweep /
 * gladEStep; the fit equals theirs up to rounding (1e-11 on the shared sets' log-likelihoods).
 * Transcendental functions are the cost here (~10 ns each): 2 per answer instead of 4.
 */
class FusedGlad {
  private readonly g: Float64Array;
  private readonly h: Float64Array;
  /** exp(−|x|) of the task's answers in the E-step (scratch of the longest task's length). */
  private readonly e: Float64Array;
  private readonly score: Float64Array;
  private readonly logPrior: Float64Array;

  constructor(
    private readonly c: Crowd,
    private readonly muA: number,
    private readonly sdA: number,
    private readonly muU: number,
    private readonly sdU: number,
  ) {
    this.g = new Float64Array(c.nWorkers);
    this.h = new Float64Array(c.nWorkers);
    let longest = 0;
    for (let t = 0; t < c.nTasks; t++) longest = Math.max(longest, c.taskStart[t + 1] - c.taskStart[t]);
    this.e = new Float64Array(longest);
    this.score = new Float64Array(c.K);
    this.logPrior = new Float64Array(c.K);
  }

  /** The ability step's sums for the starting point (later passes gather them themselves). */
  gather(post: Float64Array, alpha: Float64Array, u: Float64Array): void {
    const { nTasks, K, taskStart, ansWorker, ansLabel } = this.c;
    const { g, h } = this;
    g.fill(0);
    h.fill(0);
    for (let t = 0; t < nTasks; t++) {
      const b = Math.exp(u[t]);
      for (let i = taskStart[t]; i < taskStart[t + 1]; i++) {
        const w = ansWorker[i];
        const s = sigmoid(alpha[w] * b);
        g[w] += (post[t * K + ansLabel[i]] - s) * b;
        h[w] += s * (1 - s) * b * b;
      }
    }
  }

  /** α_w += (g_w − prior gradient) / (h_w + prior curvature), as in mSweep. */
  abilityStep(alpha: Float64Array): void {
    const ia = 1 / (this.sdA * this.sdA);
    const { g, h, muA } = this;
    for (let w = 0; w < alpha.length; w++) alpha[w] += (g[w] - (alpha[w] - muA) * ia) / (h[w] + ia);
  }

  /** Difficulty steps and the E-step (posteriors, clamped; returns the log-likelihood), gathering the next ability step's sums. */
  pass(alpha: Float64Array, u: Float64Array, prior: Float64Array, post: Float64Array, clamp: Int32Array | null): number {
    const { nTasks, K, taskStart, ansWorker, ansLabel } = this.c;
    const { g, h, e, score, muU } = this;
    const iu = 1 / (this.sdU * this.sdU);
    const lk1 = Math.log(Math.max(K - 1, 1));
    const logPrior = this.logPrior;
    for (let k = 0; k < K; k++) logPrior[k] = Math.log(prior[k]);
    g.fill(0);
    h.fill(0);
    let ll = 0;
    for (let t = 0; t < nTasks; t++) {
      const s0 = taskStart[t];
      const s1 = taskStart[t + 1];
      const o = t * K;
      // the difficulty step (mSweep's second loop), with the posteriors of the last E-step
      const b0 = Math.exp(u[t]);
      let gt = 0;
      let ht = 0;
      for (let i = s0; i < s1; i++) {
        const x = alpha[ansWorker[i]] * b0;
        const e0 = Math.exp(-Math.abs(x));
        const sg = x >= 0 ? 1 / (1 + e0) : e0 / (1 + e0); // sigmoid(x), one exp
        const p = post[o + ansLabel[i]];
        gt += (p - sg) * x;
        ht += sg * (1 - sg) * x * x;
      }
      const ut = (u[t] = Math.max(-8, Math.min(8, u[t] + (gt - (u[t] - muU) * iu) / (ht + iu))));
      // the E-step (gladEStep) with the new β
      const b = Math.exp(ut);
      for (let k = 0; k < K; k++) score[k] = logPrior[k];
      // Σ softplus(x) = Σ max(x, 0) + log Π (1 + e): one log per task (per 512 answers: each
      // factor is at most 2) instead of a log1p per answer
      let pos = 0;
      let prod = 1;
      let logs = 0;
      for (let i = s0; i < s1; i++) {
        const x = alpha[ansWorker[i]] * b;
        const ex = Math.exp(-Math.abs(x));
        e[i - s0] = ex;
        if (x > 0) pos += x;
        prod *= 1 + ex;
        if (((i - s0) & 511) === 511) ((logs += Math.log(prod)), (prod = 1));
        score[ansLabel[i]] += x + lk1;
      }
      const base = -(pos + logs + Math.log(prod) + (s1 - s0) * lk1);
      let m = -Infinity;
      let top = 0;
      for (let k = 0; k < K; k++) if (score[k] > m) ((m = score[k]), (top = k));
      let z = 0;
      for (let k = 0; k < K; k++) z += score[k] = k === top ? 1 : Math.exp(score[k] - m);
      const gold = clamp ? clamp[t] : -1;
      for (let k = 0; k < K; k++) post[o + k] = gold >= 0 ? (k === gold ? 1 : 0) : score[k] / z;
      ll += base + m + Math.log(z);
      // the next ability step's sums (mSweep's first loop) at this point
      for (let i = s0; i < s1; i++) {
        const w = ansWorker[i];
        const x = alpha[w] * b;
        const ex = e[i - s0];
        const sg = x >= 0 ? 1 / (1 + ex) : ex / (1 + ex);
        g[w] += (post[o + ansLabel[i]] - sg) * b;
        h[w] += sg * (1 - sg) * b * b;
      }
    }
    return ll;
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
