import { ConsensusError } from '../errors';
import { sortLabels } from '../labels';

/** One answer of one task, for {@link posteriorForTask}. */
export interface TaskAnswer {
  readonly worker: string;
  readonly label: string;
}

/** Options of {@link posteriorForTask}. */
export interface PosteriorOptions {
  /** The label set in tie-break order (default: the keys of `priors`, else the labels seen, sorted). */
  readonly classes?: readonly string[];
  /**
   * A worker without a confusion matrix: `default` (default) uses a symmetric matrix with
   * `defaultAccuracy` on the diagonal; `ignore` skips their answer; `error` throws UNKNOWN_WORKER.
   */
  readonly onMissingSkill?: 'error' | 'ignore' | 'default';
  /** Diagonal of the default matrix (default 0.7). */
  readonly defaultAccuracy?: number;
}

/** A task's posterior over classes. */
export interface TaskPosterior {
  readonly label: string | undefined;
  readonly confidence: number;
  readonly posterior: Readonly<Record<string, number>>;
  /** Answers that were used (after `onMissingSkill: 'ignore'`). */
  readonly used: number;
}

/**
 * The Dawid-Skene posterior of one task given its answers and known worker confusion matrices
 * (rows: true class, columns: given label, in `classes` order), e.g. from a campaign-wide
 * `DawidSkene` fit: P(k | answers) ∝ prior_k · Π_answers C_worker[k][label]. This is what the
 * marketplace evaluates after each submission to decide whether a task is done. Computed in log
 * space; a tie goes to the class first in `classes`. No answers → the prior.
 */
export function posteriorForTask(
  answers: readonly TaskAnswer[],
  workerConfusions: Readonly<Record<string, readonly (readonly number[])[]>>,
  priors?: Readonly<Record<string, number>> | readonly number[],
  options: PosteriorOptions = {},
): TaskPosterior {
  const classes = options.classes ?? (priors && !Array.isArray(priors) ? sortLabels(Object.keys(priors)) : sortLabels(answers.map((a) => a.label)));
  const K = classes.length;
  if (K === 0) return Object.freeze({ label: undefined, confidence: 0, posterior: Object.freeze({}), used: 0 });
  const ix = new Map(classes.map((c, i) => [c, i]));
  const logp = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const p = priors === undefined ? 1 / K : Array.isArray(priors) ? (priors as readonly number[])[k] : (priors as Record<string, number>)[classes[k]];
    if (!(p >= 0)) throw new ConsensusError('INVALID_INPUT', `prior of "${classes[k]}" is missing or negative`);
    logp[k] = Math.log(Math.max(p, 1e-300));
  }
  const acc = options.defaultAccuracy ?? 0.7;
  const mode = options.onMissingSkill ?? 'default';
  let used = 0;
  for (const a of answers) {
    const l = ix.get(a.label);
    if (l === undefined) throw new ConsensusError('UNKNOWN_LABEL', `label "${a.label}" is not in the label set`);
    const m = workerConfusions[a.worker];
    if (!m) {
      if (mode === 'error') throw new ConsensusError('UNKNOWN_WORKER', `no confusion matrix for worker "${a.worker}"`);
      if (mode === 'ignore') continue;
      for (let k = 0; k < K; k++) logp[k] += Math.log(k === l ? acc : K > 1 ? (1 - acc) / (K - 1) : 1);
    } else {
      if (m.length !== K) throw new ConsensusError('INVALID_INPUT', `confusion matrix of worker "${a.worker}" is not ${K}×${K}`);
      for (let k = 0; k < K; k++) logp[k] += Math.log(Math.max(m[k][l], 1e-300));
    }
    used++;
  }
  let mx = -Infinity;
  for (let k = 0; k < K; k++) mx = Math.max(mx, logp[k]);
  let z = 0;
  for (let k = 0; k < K; k++) z += logp[k] = Math.exp(logp[k] - mx);
  const posterior: Record<string, number> = {};
  let best = 0;
  for (let k = 0; k < K; k++) {
    posterior[classes[k]] = logp[k] / z;
    if (logp[k] > logp[best]) best = k;
  }
  return Object.freeze({ label: classes[best], confidence: logp[best] / z, posterior: Object.freeze(posterior), used });
}
