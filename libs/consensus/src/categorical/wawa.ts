import { type CategoricalInput, toCrowd } from '../crowd';
import { empiricalConfusion, meanPrior, voteShares } from './em-core';
import type { CommonOptions } from './majority-vote';
import { CategoricalFit } from './result';

/**
 * Wawa, "worker agreement with aggregate" (as in Toloka's crowd-kit and Appen/Figure Eight's
 * trust score): majority vote, then each worker's weight is the share of their answers that
 * agree with the majority label, then a majority vote weighted by those shares. Ties as in
 * {@link MajorityVote}. `workerParams.agreement` holds the weights.
 */
export class Wawa {
  constructor(readonly options: CommonOptions = {}) {}

  fit(input: CategoricalInput): CategoricalFit {
    const c = toCrowd(input, this.options.repeats, this.options.classes);
    const { nTasks, nWorkers, K, taskStart, ansWorker, ansLabel } = c;
    const mv = voteShares(c);
    const agree = new Float64Array(nWorkers);
    const seen = new Float64Array(nWorkers);
    for (let t = 0; t < nTasks; t++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (mv[t * K + k] > mv[t * K + best]) best = k;
      for (let i = taskStart[t]; i < taskStart[t + 1]; i++) {
        seen[ansWorker[i]]++;
        if (ansLabel[i] === best) agree[ansWorker[i]]++;
      }
    }
    for (let w = 0; w < nWorkers; w++) agree[w] = seen[w] > 0 ? agree[w] / seen[w] : 0;
    const post = voteShares(c, agree);
    const prior = new Float64Array(K);
    meanPrior(post, nTasks, K, prior);
    return new CategoricalFit(c, {
      method: 'wawa',
      posteriors: post,
      classPriors: prior,
      confusion: empiricalConfusion(c, post),
      iterations: 1,
      converged: true,
      logLikelihood: [],
      workerParams: { agreement: agree },
    });
  }
}
