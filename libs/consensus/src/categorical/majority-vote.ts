import { type CategoricalInput, type RepeatPolicy, toCrowd } from '../crowd';
import { ConsensusError } from '../errors';
import { compareLabels } from '../labels';
import { empiricalConfusion, meanPrior, voteShares } from './em-core';
import { CategoricalFit } from './result';

/** Options shared by every categorical estimator. */
export interface CommonOptions {
  /** The label set in tie-break order (default: labels seen, in `compareLabels` order). */
  readonly classes?: readonly string[];
  /** Repeated (task, worker) pairs: see {@link RepeatPolicy}; default `keep`. */
  readonly repeats?: RepeatPolicy;
  /**
   * Confusion-matrix EM methods (ds, one-coin-ds, mace, bayes-ds): threads for the EM passes,
   * 1 or 2 (a helper worker thread takes the second half of the tasks). Default: 2 from
   * 500,000 answers on a machine with at least 2 CPUs, unless the per-thread table (workers ×
   * K × 2K × 8 bytes) exceeds 6 MB, else 1. Results do not depend on it beyond floating-point
   * summation order (~1e-12). Other methods ignore it.
   */
  readonly threads?: number;
}

/**
 * Majority vote: each task's label is the most frequent answer; the posterior is the vote share.
 * Ties go to the class that comes first in `classes` (default order: `compareLabels`, i.e.
 * numeric labels numerically, others by code unit), which is also crowd-kit's rule (first
 * column of the sorted label set). Workers are reported by their agreement with the result.
 */
export class MajorityVote {
  constructor(readonly options: CommonOptions = {}) {}

  fit(input: CategoricalInput): CategoricalFit {
    const c = toCrowd(input, this.options.repeats, this.options.classes);
    const post = voteShares(c);
    const prior = new Float64Array(c.K);
    meanPrior(post, c.nTasks, c.K, prior);
    return new CategoricalFit(c, {
      method: 'mv',
      posteriors: post,
      classPriors: prior,
      confusion: empiricalConfusion(c, post),
      iterations: 0,
      converged: true,
      logLikelihood: [],
    });
  }
}

/** One task's majority vote result. */
export interface Vote {
  /** The winning label (undefined when there are no votes). */
  readonly label: string | undefined;
  /** Share of the (weighted) votes the winner got. */
  readonly confidence: number;
  /** Share of votes per label. */
  readonly shares: Readonly<Record<string, number>>;
}

/**
 * Majority vote over one task's labels, optionally weighted. A tie goes to the label that comes
 * first in `classes` when given, else first in `compareLabels` order. Labels outside `classes`
 * are an error. No votes → `{ label: undefined, confidence: 0 }`.
 */
export function majorityVote(labels: readonly string[], options: { classes?: readonly string[]; weights?: readonly number[] } = {}): Vote {
  const { classes, weights } = options;
  if (weights && weights.length !== labels.length) throw new ConsensusError('INVALID_INPUT', 'weights and labels differ in length');
  const tally = new Map<string, number>();
  let total = 0;
  labels.forEach((l, i) => {
    if (classes && !classes.includes(l)) throw new ConsensusError('UNKNOWN_LABEL', `label "${l}" is not in the label set`);
    const w = weights ? weights[i] : 1;
    tally.set(l, (tally.get(l) ?? 0) + w);
    total += w;
  });
  if (tally.size === 0) return Object.freeze({ label: undefined, confidence: 0, shares: Object.freeze({}) });
  const rank = (l: string) => (classes ? classes.indexOf(l) : -1);
  let best: string | undefined;
  let bestV = -Infinity;
  for (const [l, v] of tally) {
    if (v > bestV || (v === bestV && (classes ? rank(l) < rank(best!) : compareLabels(l, best!) < 0))) {
      best = l;
      bestV = v;
    }
  }
  const shares: Record<string, number> = {};
  for (const [l, v] of tally) shares[l] = total > 0 ? v / total : 0;
  return Object.freeze({ label: best, confidence: total > 0 ? bestV / total : 0, shares: Object.freeze(shares) });
}
