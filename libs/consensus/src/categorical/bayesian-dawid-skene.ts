import { type CategoricalInput, type Crowd, type GoldLabel, goldIndex, toCrowd } from '../crowd';
import { ConsensusError } from '../errors';
import { checkLoop, type EmModel, emLoop, PROB_FLOOR, transposeConfusion, voteShares } from './em-core';
import { FusedEStep } from './fused-em';
import type { CommonOptions } from './majority-vote';
import { CategoricalFit } from './result';

/** Options of {@link BayesianDawidSkene}. */
export interface BayesianDawidSkeneOptions extends CommonOptions {
  /**
   * `map` (default): EM for the posterior mode; `vb`: mean-field variational Bayes (IBCC-VB).
   * On the shared data sets MAP averages 0.8537 accuracy, VB 0.8513 (VB's E-step uses the
   * geometric mean exp(E[log C]), which discounts sparse workers further).
   */
  readonly inference?: 'vb' | 'map';
  /**
   * Dirichlet prior on every confusion row. Default: `{ accuracy: 0.7, strength: 2 * K }`, i.e.
   * the prior mean row puts 0.7 on the true class and splits 0.3 over the others, worth 2K
   * pseudo-answers per row. An explicit `{ diagonal, offDiagonal }` gives the concentrations.
   */
  readonly confusionPrior?:
    | { readonly accuracy: number; readonly strength: number }
    | { readonly diagonal: number; readonly offDiagonal: number }
    | { readonly pooled: true; readonly strength: number | 'empirical-bayes' };
  /** Symmetric Dirichlet concentration on class proportions (default 1: uniform). */
  readonly classPrior?: number;
  /** Per-worker prior confusion matrices (rows: true class) replacing the default prior for them. */
  readonly priorConfusions?: Readonly<Record<string, readonly (readonly number[])[]>>;
  /** Pseudo-answers per row of a `priorConfusions` matrix (default 10). */
  readonly priorStrength?: number;
  /** Upper bound on iterations (default 500). */
  readonly maxIterations?: number;
  /** Stop when the objective changes by at most this much per answer (default 1e-7). */
  readonly tolerance?: number;
  /** Gold labels clamped during inference. */
  readonly gold?: readonly GoldLabel[] | ReadonlyMap<string, string>;
  /**
   * Which point estimate of the confusion rows and proportions the result reports: `mean`
   * (default: the Dirichlet posterior mean given the final soft counts, i.e. the posterior
   * predictive, never 0 or 1) or `mode` (MAP's own estimate). Task posteriors do not depend on it.
   */
  readonly report?: 'mode' | 'mean';
}

/**
 * Bayesian Dawid-Skene (Independent Bayesian Classifier Combination): Dawid-Skene with a
 * Dirichlet prior on the class proportions and on each row of every worker's confusion matrix.
 * The prior keeps sparse workers (a handful of answers) close to "usually right" instead of
 * letting maximum likelihood give them extreme matrices, the main failure of plain DS on
 * crowds with many casual workers.
 *
 * Inference: MAP-EM (default: the E-step uses the posterior mode of every confusion row), or
 * mean-field variational Bayes, where the E-step uses exp(E[log π]) = exp(ψ(α) − ψ(Σα)).
 * Starts from majority-vote posteriors. Reported confusion matrices and proportions are the
 * Dirichlet posterior means given the final soft counts (option `report`).
 *
 * Papers: H.-C. Kim and Z. Ghahramani, "Bayesian Classifier Combination", AISTATS 2012;
 * E. Simpson, S. Roberts, I. Psorakis and A. Smith, "Dynamic Bayesian Combination of Multiple
 * Imperfect Classifiers", 2013 (the VB updates). Ties as in {@link DawidSkene}.
 */
export class BayesianDawidSkene {
  constructor(readonly options: BayesianDawidSkeneOptions = {}) {
    checkLoop({ maxIterations: options.maxIterations ?? 500, tolerance: options.tolerance ?? 1e-7 });
    if (options.classPrior !== undefined && !(options.classPrior > 0)) throw new ConsensusError('INVALID_OPTION', 'classPrior must be > 0');
  }

  fit(input: CategoricalInput): CategoricalFit {
    const o = this.options;
    const c = toCrowd(input, o.repeats, o.classes);
    const clamp = goldIndex(c, o.gold);
    const post = voteShares(c, undefined, clamp);
    const alpha0 = priorConcentrations(c, o);
    const pooled = o.confusionPrior && 'pooled' in o.confusionPrior ? (o.confusionPrior.strength === 'empirical-bayes' ? -1 : o.confusionPrior.strength) : 0;
    const model = new BayesState(c, alpha0, o.classPrior ?? 1, o.inference ?? 'map', clamp, pooled, o.threads);
    let trace;
    try {
      trace = emLoop(c, post, model, { maxIterations: o.maxIterations ?? 500, tolerance: o.tolerance ?? 1e-7 });
    } finally {
      model.pass.close();
    }
    const { conf, prior } = model.estimates(o.report ?? 'mean');
    return new CategoricalFit(c, {
      method: 'bayes-ds',
      posteriors: post,
      classPriors: prior,
      confusion: transposeConfusion(conf, c.nWorkers, c.K),
      iterations: trace.iterations,
      converged: trace.converged,
      logLikelihood: trace.history,
    });
  }
}

/** Per-worker Dirichlet concentrations in the internal [w][l][k] layout. */
function priorConcentrations(c: Crowd, o: BayesianDawidSkeneOptions): Float64Array {
  const { nWorkers, K } = c;
  const p = o.confusionPrior ?? { accuracy: 0.7, strength: Math.max(2 * K, 1) };
  let diag: number;
  let off: number;
  if ('pooled' in p) {
    diag = 0;
    off = 0;
  } else if ('accuracy' in p) {
    if (!(p.accuracy > 0 && p.accuracy < 1 && p.strength > 0)) throw new ConsensusError('INVALID_OPTION', 'confusionPrior: need 0 < accuracy < 1 and strength > 0');
    diag = p.accuracy * p.strength;
    off = K > 1 ? ((1 - p.accuracy) * p.strength) / (K - 1) : 0;
  } else {
    diag = p.diagonal;
    off = p.offDiagonal;
    if (!(diag > 0 && off > 0)) throw new ConsensusError('INVALID_OPTION', 'confusionPrior: concentrations must be > 0');
  }
  const out = new Float64Array(nWorkers * K * K);
  for (let w = 0; w < nWorkers; w++) for (let l = 0; l < K; l++) for (let k = 0; k < K; k++) out[(w * K + l) * K + k] = l === k ? diag : off;
  if (o.priorConfusions) {
    const strength = o.priorStrength ?? 10;
    c.workers.forEach((name, w) => {
      const m = o.priorConfusions![name];
      if (!m) return;
      if (m.length !== K || m.some((r) => r.length !== K)) throw new ConsensusError('INVALID_OPTION', `prior confusion of worker "${name}" is not ${K}×${K}`);
      for (let k = 0; k < K; k++) {
        const z = m[k].reduce((s, v) => s + v, 0);
        for (let l = 0; l < K; l++) out[(w * K + l) * K + k] = Math.max(1e-3, (strength * m[k][l]) / z);
      }
    });
  }
  return out;
}

class BayesState implements EmModel {
  readonly confI: Float64Array;
  readonly prior: Float64Array;
  private readonly alpha: Float64Array;
  private readonly nu: Float64Array;
  /** Empirical-Bayes precision of the pooled prior (pseudo-answers per row). */
  eb = 0;
  readonly pass: FusedEStep;

  constructor(
    private readonly c: Crowd,
    private readonly alpha0: Float64Array,
    private readonly nu0: number,
    private readonly inference: 'vb' | 'map',
    clamp: Int32Array | null,
    private readonly pooledStrength: number,
    threads?: number,
  ) {
    this.pass = new FusedEStep(c, clamp, threads);
    this.confI = new Float64Array(alpha0.length);
    this.alpha = new Float64Array(alpha0.length);
    this.prior = new Float64Array(c.K);
    this.nu = new Float64Array(c.K);
  }

  mStep(post: Float64Array): void {
    const { nWorkers, K } = this.c;
    const { alpha, alpha0, nu, confI, prior } = this;
    this.pass.counts(post, alpha);
    if (this.pooledStrength !== 0) {
      // hierarchical prior: every worker's row k is centred on the crowd's pooled row k
      const pool = new Float64Array(K * K);
      for (let w = 0; w < nWorkers; w++) for (let j = 0; j < K * K; j++) pool[j] += alpha[w * K * K + j];
      for (let k = 0; k < K; k++) {
        let z = 0;
        for (let l = 0; l < K; l++) z += pool[l * K + k] += l === k ? 1 : 1 / K;
        for (let l = 0; l < K; l++) pool[l * K + k] /= z;
      }
      const sRow = this.pooledStrength > 0 ? this.pooledStrength : (this.eb = ebPrecision(alpha, pool, nWorkers, K, this.eb));
      for (let j = 0; j < K * K; j++) pool[j] *= sRow;
      for (let w = 0; w < nWorkers; w++) for (let j = 0; j < K * K; j++) alpha[w * K * K + j] += pool[j];
    } else for (let i = 0; i < alpha.length; i++) alpha[i] += alpha0[i];
    this.pass.classTotals(post, nu);
    for (let k = 0; k < K; k++) nu[k] += this.nu0;
    const vb = this.inference === 'vb';
    for (let w = 0; w < nWorkers; w++) {
      const base = w * K * K;
      for (let k = 0; k < K; k++) {
        let z = 0;
        for (let l = 0; l < K; l++) z += vb ? alpha[base + l * K + k] : Math.max(alpha[base + l * K + k] - 1, 0);
        const dz = vb ? digamma(z) : 0;
        for (let l = 0; l < K; l++) {
          const a = alpha[base + l * K + k];
          confI[base + l * K + k] = vb ? Math.exp(digamma(a) - dz) : z > 0 ? Math.max((a - 1) / z, PROB_FLOOR) : 1 / K;
        }
      }
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += vb ? nu[k] : Math.max(nu[k] - 1, 0);
    const dz = vb ? digamma(z) : 0;
    for (let k = 0; k < K; k++) prior[k] = vb ? Math.exp(digamma(nu[k]) - dz) : z > 0 ? Math.max((nu[k] - 1) / z, PROB_FLOOR) : 1 / K;
  }

  eStep(post: Float64Array): number {
    return this.pass.run(this.confI, this.prior, post);
  }

  /** Posterior means (VB) or modes (MAP) of the confusion rows and class proportions. */
  estimates(report: 'mode' | 'mean'): { conf: Float64Array; prior: Float64Array } {
    const { nWorkers, K } = this.c;
    if (report === 'mode' && this.inference === 'map') {
      const prior = new Float64Array(this.prior);
      let z = 0;
      for (let k = 0; k < K; k++) z += prior[k];
      for (let k = 0; k < K; k++) prior[k] /= z;
      return { conf: new Float64Array(this.confI), prior };
    }
    const conf = new Float64Array(this.alpha.length);
    for (let w = 0; w < nWorkers; w++) {
      const base = w * K * K;
      for (let k = 0; k < K; k++) {
        let z = 0;
        for (let l = 0; l < K; l++) z += this.alpha[base + l * K + k];
        for (let l = 0; l < K; l++) conf[base + l * K + k] = this.alpha[base + l * K + k] / z;
      }
    }
    const prior = new Float64Array(K);
    let z = 0;
    for (let k = 0; k < K; k++) z += this.nu[k];
    for (let k = 0; k < K; k++) prior[k] = this.nu[k] / z;
    return { conf, prior };
  }
}

/** Digamma ψ(x) for x > 0: recurrence up to x ≥ 6, then the asymptotic series. */
export function digamma(x: number): number {
  let r = 0;
  while (x < 6) {
    r -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  return r + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/**
 * Type-II maximum likelihood of the Dirichlet precision s (prior = s · pooled mean row) given
 * the workers' soft counts per confusion row: Minka's fixed point
 * s ← s · Σ_r Σ_l m_l [ψ(n_rl + s m_l) − ψ(s m_l)] / Σ_r [ψ(n_r + s) − ψ(s)].
 */
function ebPrecision(counts: Float64Array, mean: Float64Array, nWorkers: number, K: number, start: number): number {
  let s = start > 0 ? start : K;
  for (let iter = 0; iter < 20; iter++) {
    let num = 0;
    let den = 0;
    for (let w = 0; w < nWorkers; w++) {
      const base = w * K * K;
      for (let k = 0; k < K; k++) {
        let n = 0;
        for (let l = 0; l < K; l++) n += counts[base + l * K + k];
        if (n < 1e-9) continue;
        for (let l = 0; l < K; l++) {
          const m = mean[l * K + k];
          num += m * (digamma(counts[base + l * K + k] + s * m) - digamma(s * m));
        }
        den += digamma(n + s) - digamma(s);
      }
    }
    if (!(den > 0) || !(num > 0)) break;
    const next = Math.min(1e4, Math.max(1e-2, (s * num) / den));
    if (Math.abs(next - s) < 1e-4 * s) {
      s = next;
      break;
    }
    s = next;
  }
  return s;
}
