import type { Crowd } from '../crowd';
import { ConsensusError } from '../errors';

/**
 * Shared typed-array kernels of the confusion-matrix family (DS, one-coin DS, MACE, Bayesian DS).
 *
 * Internal confusion layout is "observed-major": `confI[(w * K + l) * K + k] = P(label l | true k)`,
 * so one answer (fused index `wl = w * K + l`) reads K contiguous numbers. Public results use the
 * conventional [worker][true][observed] layout (see {@link transposeConfusion}).
 */

/** Smallest probability a confusion cell or class prior may take, so no posterior row is all zero. */
export const PROB_FLOOR = 1e-10;

/** Posteriors = (weighted) vote shares per task; weights default to 1 per worker. */
export function voteShares(c: Crowd, weights?: Float64Array, clamp?: Int32Array | null): Float64Array {
  const { nTasks, K, taskStart, ansWorker, ansLabel } = c;
  const post = new Float64Array(nTasks * K);
  for (let t = 0; t < nTasks; t++) {
    const o = t * K;
    let z = 0;
    for (let i = taskStart[t]; i < taskStart[t + 1]; i++) {
      const w = weights ? weights[ansWorker[i]] : 1;
      post[o + ansLabel[i]] += w;
      z += w;
    }
    if (z > 0) for (let k = 0; k < K; k++) post[o + k] /= z;
    else for (let k = 0; k < K; k++) post[o + k] = 1 / K;
  }
  if (clamp) applyClamp(post, clamp, K);
  return post;
}

/** Sets clamped tasks (clamp[t] >= 0) to their one-hot gold posterior. */
export function applyClamp(post: Float64Array, clamp: Int32Array, K: number): void {
  for (let t = 0; t < clamp.length; t++) {
    const g = clamp[t];
    if (g < 0) continue;
    const o = t * K;
    for (let k = 0; k < K; k++) post[o + k] = k === g ? 1 : 0;
  }
}

/** counts[(w*K + l)*K + k] = sum over w's answers l of the task's posterior of class k. */
export function softCounts(c: Crowd, post: Float64Array, counts: Float64Array): void {
  const { nTasks, K, taskStart, ansWL } = c;
  counts.fill(0);
  if (K === 2) {
    for (let t = 0; t < nTasks; t++) {
      const p0 = post[2 * t];
      const p1 = post[2 * t + 1];
      for (let i = taskStart[t], f = taskStart[t + 1]; i < f; i++) {
        const b = ansWL[i] * 2;
        counts[b] += p0;
        counts[b + 1] += p1;
      }
    }
    return;
  }
  if (K === 4) {
    for (let t = 0; t < nTasks; t++) {
      const o = 4 * t;
      const p0 = post[o];
      const p1 = post[o + 1];
      const p2 = post[o + 2];
      const p3 = post[o + 3];
      for (let i = taskStart[t], f = taskStart[t + 1]; i < f; i++) {
        const b = ansWL[i] * 4;
        counts[b] += p0;
        counts[b + 1] += p1;
        counts[b + 2] += p2;
        counts[b + 3] += p3;
      }
    }
    return;
  }
  for (let t = 0; t < nTasks; t++) {
    const o = t * K;
    for (let i = taskStart[t], f = taskStart[t + 1]; i < f; i++) {
      const b = ansWL[i] * K;
      for (let k = 0; k < K; k++) counts[b + k] += post[o + k];
    }
  }
}

/**
 * E-step: post[t][k] ∝ prior[k] · Π_answers confI[wl][k]; returns the log-likelihood
 * Σ_t log Σ_k prior[k] Π confI (for a clamped task, the joint with its gold class).
 * Works in probability space with rescaling (no exp/log per task): products are renormalised
 * whenever they fall below 1e-150 (the normaliser's log is added), and task likelihoods are
 * multiplied into one accumulator whose log is taken only when it leaves [1e-200, 1e200] (a
 * likelihood outside [1e-100, 1e100] is logged on its own, so the accumulator never underflows).
 */
export function eStep(c: Crowd, confI: Float64Array, prior: Float64Array, post: Float64Array, clamp: Int32Array | null, from = 0, to = c.nTasks): number {
  const { K, taskStart, ansWL } = c;
  let ll = 0;
  let acc = 1;
  if (K === 2 && !clamp) {
    const q0 = prior[0];
    const q1 = prior[1];
    for (let t = from; t < to; t++) {
      let p0 = q0;
      let p1 = q1;
      for (let i = taskStart[t], f = taskStart[t + 1]; i < f; i++) {
        const b = ansWL[i] * 2;
        p0 *= confI[b];
        p1 *= confI[b + 1];
        if (p0 + p1 < 1e-150) {
          const z = p0 + p1;
          p0 /= z;
          p1 /= z;
          ll += Math.log(z); // rare: a log of its own
        }
      }
      const z = p0 + p1;
      post[2 * t] = p0 / z;
      post[2 * t + 1] = p1 / z;
      // a normaliser far from 1 gets a log of its own: acc stays in [1e-300, 1e300]
      if (z > 1e-100 && z < 1e100) {
        acc *= z;
        if (acc < 1e-200 || acc > 1e200) {
          ll += Math.log(acc);
          acc = 1;
        }
      } else ll += Math.log(z);
    }
    return ll + Math.log(acc);
  }
  if (K === 4 && !clamp) {
    const q0 = prior[0];
    const q1 = prior[1];
    const q2 = prior[2];
    const q3 = prior[3];
    for (let t = from; t < to; t++) {
      let p0 = q0;
      let p1 = q1;
      let p2 = q2;
      let p3 = q3;
      for (let i = taskStart[t], f = taskStart[t + 1]; i < f; i++) {
        const b = ansWL[i] * 4;
        p0 *= confI[b];
        p1 *= confI[b + 1];
        p2 *= confI[b + 2];
        p3 *= confI[b + 3];
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
      const o = 4 * t;
      post[o] = p0 / z;
      post[o + 1] = p1 / z;
      post[o + 2] = p2 / z;
      post[o + 3] = p3 / z;
      // a normaliser far from 1 gets a log of its own: acc stays in [1e-300, 1e300]
      if (z > 1e-100 && z < 1e100) {
        acc *= z;
        if (acc < 1e-200 || acc > 1e200) {
          ll += Math.log(acc);
          acc = 1;
        }
      } else ll += Math.log(z);
    }
    return ll + Math.log(acc);
  }
  const p = new Float64Array(K);
  for (let t = from; t < to; t++) {
    for (let k = 0; k < K; k++) p[k] = prior[k];
    for (let i = taskStart[t], f = taskStart[t + 1]; i < f; i++) {
      const b = ansWL[i] * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += p[k] *= confI[b + k];
      if (s < 1e-150) {
        for (let k = 0; k < K; k++) p[k] /= s;
        ll += Math.log(s); // rare: a log of its own
      }
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += p[k];
    const o = t * K;
    const g = clamp ? clamp[t] : -1;
    if (g >= 0) for (let k = 0; k < K; k++) post[o + k] = k === g ? 1 : 0;
    else for (let k = 0; k < K; k++) post[o + k] = p[k] / z;
    // the task's likelihood (with a gold class: the joint with it); far from 1: a log of its own
    const v = g >= 0 ? p[g] : z;
    if (v > 1e-100 && v < 1e100) acc *= v;
    else ll += Math.log(v);
    if (acc < 1e-200 || acc > 1e200) {
      ll += Math.log(acc);
      acc = 1;
    }
  }
  return ll + Math.log(acc);
}

/** Class proportions = mean posterior (+ optional Dirichlet pseudo-counts), floored. */
export function meanPrior(post: Float64Array, nTasks: number, K: number, out: Float64Array, pseudo = 0): void {
  out.fill(pseudo);
  for (let t = 0; t < nTasks; t++) for (let k = 0; k < K; k++) out[k] += post[t * K + k];
  normaliseFloor(out, 0, K);
}

/** Normalises out[from..from+n) to sum 1 with every entry at least PROB_FLOOR. */
export function normaliseFloor(out: Float64Array, from: number, n: number): void {
  let z = 0;
  for (let i = from; i < from + n; i++) z += out[i];
  if (!(z > 0)) {
    for (let i = from; i < from + n; i++) out[i] = 1 / n;
    return;
  }
  let z2 = 0;
  for (let i = from; i < from + n; i++) z2 += out[i] = Math.max(out[i] / z, PROB_FLOOR);
  for (let i = from; i < from + n; i++) out[i] /= z2;
}

/**
 * Dawid-Skene M-step on soft counts: confI[w][l][k] = (counts + pseudo) / Σ_l (counts + pseudo).
 * `pseudo` (optional, internal layout, per worker) adds prior pseudo-counts; `smoothing` adds the
 * same pseudo-count to every cell. A worker with no evidence for a true class gets a uniform row.
 */
export function dsConfusion(c: Crowd, counts: Float64Array, confI: Float64Array, smoothing: number, pseudo: Float64Array | null): void {
  const { nWorkers, K } = c;
  for (let w = 0; w < nWorkers; w++) {
    const base = w * K * K;
    for (let k = 0; k < K; k++) {
      let z = 0;
      for (let l = 0; l < K; l++) {
        const j = base + l * K + k;
        const v = counts[j] + smoothing + (pseudo ? pseudo[j] : 0);
        confI[j] = v;
        z += v;
      }
      if (z > 0) {
        let z2 = 0;
        for (let l = 0; l < K; l++) {
          const j = base + l * K + k;
          z2 += confI[j] = Math.max(confI[j] / z, PROB_FLOOR);
        }
        for (let l = 0; l < K; l++) confI[base + l * K + k] /= z2;
      } else for (let l = 0; l < K; l++) confI[base + l * K + k] = 1 / K;
    }
  }
}

/** Internal [w][l][k] → public [w][k][l]. */
export function transposeConfusion(confI: Float64Array, nWorkers: number, K: number): Float64Array {
  const out = new Float64Array(nWorkers * K * K);
  for (let w = 0; w < nWorkers; w++) {
    const b = w * K * K;
    for (let l = 0; l < K; l++) for (let k = 0; k < K; k++) out[b + k * K + l] = confI[b + l * K + k];
  }
  return out;
}

/**
 * Confusion matrices measured against given posteriors (soft counts, row-normalised; a row with
 * no evidence is uniform). Used to report workers for methods without a confusion model (MV,
 * Wawa, GLAD), in the public [w][k][l] layout.
 */
export function empiricalConfusion(c: Crowd, post: Float64Array): Float64Array {
  const counts = new Float64Array(c.nWorkers * c.K * c.K);
  softCounts(c, post, counts);
  const confI = new Float64Array(counts.length);
  dsConfusion(c, counts, confI, 0, null);
  return transposeConfusion(confI, c.nWorkers, c.K);
}

/** Common options of the EM loop. */
export interface EmLoopOptions {
  readonly maxIterations: number;
  /** Stop when the log-likelihood changes by at most tolerance × (number of answers). */
  readonly tolerance: number;
}

/** Validates an iteration/tolerance pair. */
export function checkLoop(o: EmLoopOptions): void {
  if (!(Number.isInteger(o.maxIterations) && o.maxIterations >= 1)) throw new ConsensusError('INVALID_OPTION', 'maxIterations must be an integer >= 1');
  if (!(o.tolerance >= 0)) throw new ConsensusError('INVALID_OPTION', 'tolerance must be >= 0');
}

/** One model of the EM family: params from posteriors, posteriors (and log-likelihood) from params. */
export interface EmModel {
  mStep(post: Float64Array): void;
  eStep(post: Float64Array): number;
}

export interface EmTrace {
  readonly iterations: number;
  readonly converged: boolean;
  readonly history: number[];
}

/**
 * Runs M-step, E-step pairs from the given posteriors until the log-likelihood moves by at most
 * `tolerance × nAnswers` between two iterations (the stopping rule: a per-answer change), or
 * `maxIterations` pairs ran. One iteration = one M-step followed by one E-step.
 */
export function emLoop(c: Crowd, post: Float64Array, model: EmModel, o: EmLoopOptions): EmTrace {
  const history: number[] = [];
  let prev = -Infinity;
  let converged = false;
  let it = 0;
  const eps = o.tolerance * Math.max(c.nAnswers, 1);
  while (it < o.maxIterations) {
    it++;
    model.mStep(post);
    const ll = model.eStep(post);
    history.push(ll);
    if (Math.abs(ll - prev) <= eps) {
      converged = true;
      break;
    }
    prev = ll;
  }
  return { iterations: it, converged, history };
}
