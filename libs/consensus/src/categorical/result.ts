import type { Crowd } from '../crowd';

/** Names of the categorical methods (the CLI's `--method`). */
export type CategoricalMethod = 'mv' | 'wmv' | 'wawa' | 'ds' | 'one-coin-ds' | 'glad' | 'mace' | 'bayes-ds' | 'auto';

/** The internal arrays an estimator hands to {@link CategoricalFit}. */
export interface FitParts {
  readonly method: CategoricalMethod;
  readonly posteriors: Float64Array;
  readonly classPriors: Float64Array;
  /** [worker][true class][observed label], rows sum to 1. */
  readonly confusion: Float64Array;
  readonly iterations: number;
  readonly converged: boolean;
  readonly logLikelihood: readonly number[];
  /** Extra per-model worker parameters (GLAD's alpha, MACE's competence...). */
  readonly workerParams?: Readonly<Record<string, Float64Array>>;
  /** Extra per-task parameters (GLAD's difficulty beta). */
  readonly taskParams?: Readonly<Record<string, Float64Array>>;
  /** For `auto`: which method it chose and why. */
  readonly chosen?: { readonly method: CategoricalMethod; readonly reason: string };
}

const taskIndexCache = new WeakMap<CategoricalFit, Map<string, number>>();
const workerIndexCache = new WeakMap<CategoricalFit, Map<string, number>>();

/**
 * The frozen result of a categorical estimator's `fit`.
 *
 * Arrays are aligned with `tasks` / `workers` / `classes`; flat typed arrays keep results of
 * millions of answers cheap (`posteriors[t * K + k]`, `confusion[(w * K + k) * K + l]` for true
 * class k and observed label l). The object is frozen; typed arrays cannot be frozen in
 * JavaScript, so treat them as read-only. The object lookups (`label(task)`, ...) are helpers.
 *
 * Labels are the posterior's argmax; a tie (posteriors within 1e-12) goes to the class that
 * comes first in `classes` (the label set as given, else `compareLabels` order).
 */
export class CategoricalFit {
  readonly method: CategoricalMethod;
  readonly tasks: readonly string[];
  readonly workers: readonly string[];
  readonly classes: readonly string[];
  /** Aggregated label per task. */
  readonly labels: readonly string[];
  /** Index into `classes` of each task's label. */
  readonly labelIndex: Int32Array;
  /** Posterior probability of the chosen label. */
  readonly confidence: Float64Array;
  /** nTasks × K posteriors; each row sums to 1. */
  readonly posteriors: Float64Array;
  /** Estimated class proportions. */
  readonly classPriors: Float64Array;
  /** nWorkers × K × K confusion matrices, [worker][true][observed]. */
  readonly confusion: Float64Array;
  /** Expected share of a worker's answers that are right: sum_k prior_k * C[k][k]. */
  readonly workerAccuracy: Float64Array;
  /**
   * Chance-corrected skill (a kappa): (accuracy - chance) / (1 - chance), where chance is the
   * accuracy of a worker answering at random with this worker's own label frequencies. 1 is
   * perfect, 0 is chance (a worker who always gives the same label), below 0 is adversarial.
   */
  readonly workerSkill: Float64Array;
  /** Answers per worker (after the repeat policy). */
  readonly workerAnswers: Int32Array;
  readonly iterations: number;
  readonly converged: boolean;
  /** Log-likelihood (or the method's objective) after each iteration. */
  readonly logLikelihood: readonly number[];
  readonly workerParams: Readonly<Record<string, Float64Array>>;
  readonly taskParams: Readonly<Record<string, Float64Array>>;
  readonly chosen?: { readonly method: CategoricalMethod; readonly reason: string };
  readonly answers: number;

  constructor(crowd: Crowd, parts: FitParts) {
    const { nTasks, nWorkers, K } = crowd;
    this.method = parts.method;
    this.tasks = crowd.tasks;
    this.workers = crowd.workers;
    this.classes = crowd.classes;
    this.posteriors = parts.posteriors;
    this.classPriors = parts.classPriors;
    this.confusion = parts.confusion;
    this.iterations = parts.iterations;
    this.converged = parts.converged;
    this.logLikelihood = Object.freeze([...parts.logLikelihood]);
    this.workerParams = Object.freeze({ ...(parts.workerParams ?? {}) });
    this.taskParams = Object.freeze({ ...(parts.taskParams ?? {}) });
    if (parts.chosen) this.chosen = Object.freeze({ ...parts.chosen });
    this.answers = crowd.nAnswers;
    const best = argmaxRows(parts.posteriors, nTasks, K, crowd.classes);
    this.labelIndex = best.labelIndex;
    this.confidence = best.confidence;
    this.labels = Object.freeze(best.labels);
    this.workerAnswers = answersPerWorker(crowd.ansWorker, crowd.nAnswers, nWorkers);
    const skills = workerSkills(parts.classPriors, parts.confusion, nWorkers, K);
    this.workerAccuracy = skills.accuracy;
    this.workerSkill = skills.skill;
    Object.freeze(this);
  }

  private taskMap(): Map<string, number> {
    let m = taskIndexCache.get(this);
    if (!m) taskIndexCache.set(this, (m = new Map(this.tasks.map((t, i) => [t, i]))));
    return m;
  }

  private workerMap(): Map<string, number> {
    let m = workerIndexCache.get(this);
    if (!m) workerIndexCache.set(this, (m = new Map(this.workers.map((t, i) => [t, i]))));
    return m;
  }

  /** The aggregated label of `task`, or undefined for a task without answers. */
  label(task: string): string | undefined {
    const t = this.taskMap().get(task);
    return t === undefined ? undefined : this.labels[t];
  }

  /** The posterior of `task` as `{ class: probability }`. */
  posterior(task: string): Record<string, number> | undefined {
    const t = this.taskMap().get(task);
    if (t === undefined) return undefined;
    const K = this.classes.length;
    const out: Record<string, number> = {};
    for (let k = 0; k < K; k++) out[this.classes[k]] = this.posteriors[t * K + k];
    return out;
  }

  /** The confusion matrix of `worker` as rows [true class][observed label]. */
  workerConfusion(worker: string): number[][] | undefined {
    const w = this.workerMap().get(worker);
    if (w === undefined) return undefined;
    const K = this.classes.length;
    const rows: number[][] = [];
    for (let k = 0; k < K; k++) rows.push(Array.from(this.confusion.subarray((w * K + k) * K, (w * K + k + 1) * K)));
    return rows;
  }

  /** Every worker's confusion matrix, e.g. to carry reliability to the next campaign. */
  workerConfusions(): Record<string, number[][]> {
    const out: Record<string, number[][]> = {};
    for (const w of this.workers) out[w] = this.workerConfusion(w)!;
    return out;
  }

  /** `{ task, label, confidence }` rows in task order (the CLI's `--out`). */
  toRecords(): { task: string; label: string; confidence: number }[] {
    return this.tasks.map((task, t) => ({ task, label: this.labels[t], confidence: this.confidence[t] }));
  }
}

/*
 * The constructor's loops as free functions of arrays and numbers: a long loop compiled on the
 * stack that then reaches code it never ran deoptimizes, and the remaining loops of the same
 * function would run unoptimized (this took ~100 ms of a 1M-answer fit).
 */

/**
 * Argmax per task; a later class must beat the best by more than rounding noise: exact ties,
 * and ties that floating-point evaluation order broke by a few ulps, go to the earlier class.
 */
function argmaxRows(post: Float64Array, nTasks: number, K: number, classes: readonly string[]): { labelIndex: Int32Array; confidence: Float64Array; labels: string[] } {
  const labelIndex = new Int32Array(nTasks);
  const confidence = new Float64Array(nTasks);
  const labels = new Array<string>(nTasks);
  for (let t = 0; t < nTasks; t++) {
    const o = t * K;
    let best = 0;
    let bv = post[o];
    for (let k = 1; k < K; k++) {
      if (post[o + k] > bv + 1e-12) {
        bv = post[o + k];
        best = k;
      }
    }
    labelIndex[t] = best;
    confidence[t] = bv;
    labels[t] = classes[best];
  }
  return { labelIndex, confidence, labels };
}

function answersPerWorker(ansWorker: Int32Array, nAnswers: number, nWorkers: number): Int32Array {
  const counts = new Int32Array(nWorkers);
  for (let p = 0; p < nAnswers; p++) counts[ansWorker[p]]++;
  return counts;
}

/** Expected accuracy Σ_k π_k C[k][k] and chance-corrected skill per worker (see CategoricalFit). */
function workerSkills(pi: Float64Array, conf: Float64Array, nWorkers: number, K: number): { accuracy: Float64Array; skill: Float64Array } {
  const accuracy = new Float64Array(nWorkers);
  const skill = new Float64Array(nWorkers);
  for (let w = 0; w < nWorkers; w++) {
    let a = 0;
    let chance = 0;
    for (let l = 0; l < K; l++) {
      let q = 0; // P(worker says l)
      for (let k = 0; k < K; k++) q += pi[k] * conf[(w * K + k) * K + l];
      a += pi[l] * conf[(w * K + l) * K + l];
      chance += pi[l] * q;
    }
    accuracy[w] = a;
    skill[w] = chance >= 1 - 1e-12 ? 0 : (a - chance) / (1 - chance);
  }
  return { accuracy, skill };
}
