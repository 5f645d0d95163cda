import { buildCrowd, type CategoricalInput, type Crowd, type EncodedAnswers, type GoldLabel, toCrowd } from '../crowd';
import { ConsensusError } from '../errors';
import { BayesianDawidSkene } from './bayesian-dawid-skene';
import { DawidSkene } from './dawid-skene';
import { Mace } from './mace';
import type { CommonOptions } from './majority-vote';
import { OneCoinDawidSkene } from './one-coin-dawid-skene';
import { CategoricalFit, type CategoricalMethod } from './result';
import { SharedAccuracy } from './shared-accuracy';

/** The models `auto` can choose from. */
export type AutoCandidate = 'mv' | 'one-coin-ds' | 'ds' | 'bayes-ds' | 'mace';

/** Options of {@link AutoAggregator}. */
export interface AutoOptions extends CommonOptions {
  /** Models compared (default: all five). */
  readonly candidates?: readonly AutoCandidate[];
  /** Number of cross-validation folds (default 3). */
  readonly folds?: number;
  /**
   * Above this many answers, skip cross-validation and use `fallback` (default 2,000,000):
   * cross-validation costs folds × candidates fits.
   */
  readonly maxAnswersForSelection?: number;
  /** Model used without selection (default `bayes-ds`). */
  readonly fallback?: AutoCandidate;
  /** Gold labels clamped in the final fit (never used to choose the model). */
  readonly gold?: readonly GoldLabel[] | ReadonlyMap<string, string>;
}

/** Per-candidate cross-validated score, in the result's `chosen.reason`. */
export interface CandidateScore {
  readonly method: AutoCandidate;
  /** Mean log-probability of a held-out answer (nats; higher is better). */
  readonly heldOutLogLik: number;
}

/**
 * `auto`, Tally's default: chooses a model without gold by K-fold cross-validation of each
 * candidate's predictive probability of held-out answers, then fits the winner on all answers.
 *
 * Answers are split into folds by a fixed hash of their position (deterministic); the repeats of
 * a (task, worker) pair go to the fold of its first answer, so that no held-out answer is
 * predicted with the same worker's answer to the same task in training (that leak favours the
 * models that trust single workers most; on adult and relevance, the sets with repeats, the
 * choice is the same either way). For each fold
 * a candidate is fitted on the other folds; a held-out answer (task t, worker w, label l) is
 * scored log Σ_k P(t = k | training answers) · C_w[k][l], with C_w the worker's fitted confusion
 * matrix as the fit reports it (for bayes-ds the Dirichlet posterior mean, i.e. its posterior
 * predictive, not the MAP mode it iterates with), or, for a worker absent from the training folds, the answer-weighted mean confusion
 * matrix of the training workers (every model is scored the same way). The model that best
 * predicts what workers will answer is the one whose account of the crowd (one accuracy for
 * everyone = majority vote; one per worker; a full confusion matrix; with or without priors;
 * spammers) fits this crowd best — the classic predictive model-selection principle
 * (Stone 1974), with no look at gold. Ties keep the earlier candidate in `candidates` order.
 */
export class AutoAggregator {
  constructor(readonly options: AutoOptions = {}) {
    const f = options.folds ?? 3;
    if (!(Number.isInteger(f) && f >= 2)) throw new ConsensusError('INVALID_OPTION', 'folds must be an integer >= 2');
  }

  fit(input: CategoricalInput): CategoricalFit {
    const o = this.options;
    const c = toCrowd(input, o.repeats, o.classes);
    const candidates = o.candidates ?? (['mv', 'one-coin-ds', 'ds', 'bayes-ds', 'mace'] as const);
    if (candidates.length === 0) throw new ConsensusError('INVALID_OPTION', 'candidates must not be empty');
    let chosen: AutoCandidate;
    let reason: string;
    if (c.nAnswers > (o.maxAnswersForSelection ?? 2_000_000) || c.nAnswers === 0 || candidates.length === 1) {
      chosen = candidates.length === 1 ? candidates[0] : (o.fallback ?? 'bayes-ds');
      reason = c.nAnswers === 0 ? 'no answers' : candidates.length === 1 ? 'only candidate' : 'too many answers for cross-validation; fallback';
    } else {
      const scores = crossValidate(c, candidates, o.folds ?? 3);
      let best = scores[0];
      for (const s of scores) if (s.heldOutLogLik > best.heldOutLogLik) best = s;
      chosen = best.method;
      reason = 'held-out log-likelihood per answer: ' + scores.map((s) => `${s.method} ${s.heldOutLogLik.toFixed(4)}`).join(', ');
    }
    const fit = makeEstimator(chosen, o.gold).fit(c);
    return new CategoricalFit(c, {
      method: 'auto',
      posteriors: fit.posteriors,
      classPriors: fit.classPriors,
      confusion: fit.confusion,
      iterations: fit.iterations,
      converged: fit.converged,
      logLikelihood: fit.logLikelihood,
      workerParams: fit.workerParams,
      taskParams: fit.taskParams,
      chosen: { method: chosen, reason },
    });
  }
}

/** Inside cross-validation the fits stop earlier (tolerance 1e-5 per answer, 100 iterations): only the score is needed. */
function makeEstimator(m: AutoCandidate, gold?: AutoOptions['gold'], quick = false): { fit(c: Crowd): CategoricalFit } {
  const loop = quick ? { tolerance: 1e-5, maxIterations: 100 } : {};
  switch (m) {
    case 'mv':
      return new SharedAccuracy({ gold, ...loop });
    case 'one-coin-ds':
      return new OneCoinDawidSkene({ gold, ...loop });
    case 'ds':
      return new DawidSkene({ gold, ...loop });
    case 'bayes-ds':
      return new BayesianDawidSkene({ gold, ...loop });
    case 'mace':
      return new Mace({ gold, ...loop });
  }
}

/** Deterministic fold of answer position p (a 32-bit integer hash). */
function foldOf(p: number, folds: number): number {
  let h = Math.imul(p ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % folds;
}

/** The fold of each answer: a hash of its position; a repeat of a (task, worker) pair gets the pair's first answer's. */
export function assignFolds(c: Crowd, folds: number): Uint8Array {
  const { nTasks, taskStart, ansWorker } = c;
  const fold = new Uint8Array(c.nAnswers);
  // per worker: the last task seen and the position of their first answer to it (linear in the answers)
  const lastTask = new Int32Array(c.nWorkers).fill(-1);
  const firstAt = new Int32Array(c.nWorkers);
  for (let t = 0; t < nTasks; t++) {
    for (let i = taskStart[t]; i < taskStart[t + 1]; i++) {
      const w = ansWorker[i];
      if (lastTask[w] === t) fold[i] = fold[firstAt[w]];
      else {
        lastTask[w] = t;
        firstAt[w] = i;
        fold[i] = foldOf(i, folds);
      }
    }
  }
  return fold;
}

/** Mean held-out log-likelihood per answer of each candidate. */
export function crossValidate(c: Crowd, candidates: readonly AutoCandidate[], folds: number): CandidateScore[] {
  const { nTasks, K, taskStart, ansWorker, ansLabel, nAnswers } = c;
  const taskOf = new Int32Array(nAnswers);
  for (let t = 0; t < nTasks; t++) for (let i = taskStart[t]; i < taskStart[t + 1]; i++) taskOf[i] = t;
  const fold = assignFolds(c, folds);
  const total = new Float64Array(candidates.length);
  for (let f = 0; f < folds; f++) {
    let m = 0;
    for (let i = 0; i < nAnswers; i++) if (fold[i] !== f) m++;
    const task = new Int32Array(m);
    const worker = new Int32Array(m);
    const label = new Int32Array(m);
    m = 0;
    for (let i = 0; i < nAnswers; i++) {
      if (fold[i] === f) continue;
      task[m] = taskOf[i];
      worker[m] = ansWorker[i];
      label[m] = ansLabel[i];
      m++;
    }
    const train: EncodedAnswers = { tasks: c.tasks, workers: c.workers, classes: c.classes, task, worker, label };
    const tc = buildCrowd(train, 'keep');
    candidates.forEach((cand, ci) => {
      const fit = makeEstimator(cand, undefined, true).fit(tc);
      const conf = fit.confusion;
      // answer-weighted mean confusion of the training workers, for workers not seen in training
      const pooled = new Float64Array(K * K);
      let n = 0;
      for (let w = 0; w < tc.nWorkers; w++) {
        const a = fit.workerAnswers[w];
        if (a === 0) continue;
        n += a;
        for (let j = 0; j < K * K; j++) pooled[j] += a * conf[w * K * K + j];
      }
      for (let j = 0; j < K * K; j++) pooled[j] = n > 0 ? pooled[j] / n : 1 / K;
      let ll = 0;
      for (let i = 0; i < nAnswers; i++) {
        if (fold[i] !== f) continue;
        const t = taskOf[i];
        const w = ansWorker[i];
        const l = ansLabel[i];
        const seen = fit.workerAnswers[w] > 0;
        let p = 0;
        for (let k = 0; k < K; k++) p += fit.posteriors[t * K + k] * (seen ? conf[(w * K + k) * K + l] : pooled[k * K + l]);
        ll += Math.log(Math.max(p, 1e-12));
      }
      total[ci] += ll;
    });
  }
  return candidates.map((method, i) => ({ method, heldOutLogLik: total[i] / Math.max(nAnswers, 1) }));
}

/** Used in messages: the method names the CLI accepts for `auto`'s candidates. */
export const AUTO_CANDIDATES: readonly CategoricalMethod[] = ['mv', 'one-coin-ds', 'ds', 'bayes-ds', 'mace'];
