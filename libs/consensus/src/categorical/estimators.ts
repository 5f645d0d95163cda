import type { CategoricalInput } from '../crowd';
import { ConsensusError } from '../errors';
import { AutoAggregator } from './auto';
import { BayesianDawidSkene } from './bayesian-dawid-skene';
import { DawidSkene } from './dawid-skene';
import { Glad } from './glad';
import { Mace } from './mace';
import { MajorityVote } from './majority-vote';
import { OneCoinDawidSkene } from './one-coin-dawid-skene';
import type { CategoricalFit, CategoricalMethod } from './result';
import { Wawa } from './wawa';
import { WeightedMajorityVote } from './weighted-majority-vote';

/** Anything with a categorical `fit`. */
export interface CategoricalEstimator {
  fit(input: CategoricalInput): CategoricalFit;
}

/** Every method name, in the order the CLI lists them. */
export const CATEGORICAL_METHODS: readonly CategoricalMethod[] = ['mv', 'wmv', 'wawa', 'ds', 'one-coin-ds', 'glad', 'mace', 'bayes-ds', 'auto'];

export function isCategoricalMethod(m: string): m is CategoricalMethod {
  return (CATEGORICAL_METHODS as readonly string[]).includes(m);
}

/**
 * An estimator by method name with its default options plus the shared ones given here (label
 * set, repeat policy, gold to clamp where the method supports it).
 */
export function createEstimator(method: CategoricalMethod, options: Record<string, unknown> = {}): CategoricalEstimator {
  switch (method) {
    case 'mv':
      return new MajorityVote(options);
    case 'wmv':
      return new WeightedMajorityVote(options);
    case 'wawa':
      return new Wawa(options);
    case 'ds':
      return new DawidSkene(options);
    case 'one-coin-ds':
      return new OneCoinDawidSkene(options);
    case 'glad':
      return new Glad(options);
    case 'mace':
      return new Mace(options);
    case 'bayes-ds':
      return new BayesianDawidSkene(options);
    case 'auto':
      return new AutoAggregator(options);
    default:
      throw new ConsensusError('INVALID_OPTION', `unknown method "${method as string}"; expected one of ${CATEGORICAL_METHODS.join(', ')}`);
  }
}
