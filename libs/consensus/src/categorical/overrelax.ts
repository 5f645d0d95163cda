import type { Crowd } from '../crowd';
import type { EmLoopOptions, EmTrace } from './em-core';
import type { SquaremModel } from './squarem';

/** Largest over-relaxation step. */
export const OVERRELAX_MAX = 64;

/**
 * The step after an accepted step of size η: 1.5, 2, 3, 4, 6, 8, … (alternately ×1.5 and ×4/3,
 * about ×1.41 a step), capped at {@link OVERRELAX_MAX}. These sizes are 2^a or 1.5 · 2^a, so
 * that θ · (m / θ)^η needs a square root and squarings instead of Math.pow per cell.
 */
export function nextStep(eta: number): number {
  const a = Math.floor(Math.log2(eta) + 1e-9);
  return Math.min(OVERRELAX_MAX, eta === 2 ** a ? eta * 1.5 : eta * (4 / 3));
}

/** The step size before `eta` in the {@link nextStep} sequence (at least 1.5). */
export function previousStep(eta: number): number {
  const a = Math.floor(Math.log2(eta) + 1e-9);
  return Math.max(1.5, eta === 2 ** a ? eta * 0.75 : eta / 1.5);
}

/** Accepted steps at the ceiling after which a larger step is tried again. */
const CEILING_PROBE = 4;

/**
 * Adaptive over-relaxed EM (Salakhutdinov & Roweis, "Adaptive Overrelaxed Bound Optimization
 * Methods", ICML 2003), in its multiplicative form for probability tables: from θ with
 * log-likelihood L, the M-step gives m = M(θ); the next point is θ' ∝ θ · (m / θ)^η per
 * probability row (η = 1 is plain EM). θ' is kept when its log-likelihood (computed by the
 * E-step that evaluates it) is at least L, and η then grows (see {@link nextStep}); otherwise
 * θ' is dropped, the plain EM point m is taken instead (EM never lowers the likelihood, up to
 * the probability floor's rounding) and η restarts at 1 (then 1.5, 2, …). The multiplicative step keeps every cell positive
 * and follows the geometric drift of cells towards 0, which is what EM's slow tail on crowds
 * mostly is (sparse workers' confusion cells sliding to the boundary, one per-worker mode each).
 *
 * Step ceiling: one global η also scales EM's fast modes, and for η > 2 those overshoot and
 * grow (a mode that EM contracts by λ is multiplied by 1 − η(1 − λ)), so a crowd whose fast modes
 * matter rejects every step beyond some size, and restarting from 1 each time wasted passes
 * (on the 1M benchmark every η = 3 or 4 was rejected: 4 of 27 passes). After a rejection at η,
 * growth stops one size below η; after {@link CEILING_PROBE} accepted steps at that ceiling a
 * larger one is tried again (slow drifts, as on the sparse real sets, still reach large η).
 * 1M benchmark: 21 passes instead of 27, same labels; real sets: about as many passes as
 * without it (adult 26 vs 27, relevance 65 vs 49, product 22 vs 23, the rest ±2).
 *
 * Stopping rule: exactly the plain loop's — stop when one plain EM step gains at most
 * tolerance × answers. An accepted over-relaxed step of size η advances at most about as far as
 * η EM steps, so when its gain divided by η is under that bound a plain EM step is taken as the
 * check (and if it gains more, the run goes on at the step size it had reached). `iterations`
 * counts E-steps (one pass over the answers each, rejected attempts included); `history` holds
 * the log-likelihood of each point kept.
 */
export function overrelaxedLoop(c: Crowd, post: Float64Array, model: SquaremModel, o: EmLoopOptions): EmTrace {
  const history: number[] = [];
  const eps = o.tolerance * Math.max(c.nAnswers, 1);
  const cur = model.params();
  const prev = cur.map((a) => new Float64Array(a.length));
  const plain = cur.map((a) => new Float64Array(a.length));
  let it = 0;
  let converged = false;
  model.mStep(post);
  let ll = model.eStep(post);
  it++;
  history.push(ll);
  let eta = 1; // the next step's size (1: a plain EM step)
  let resume = nextStep(1); // the step size after the next plain step
  // largest step size tried now (see "Step ceiling" above), and accepted steps made at it
  let ceiling = OVERRELAX_MAX;
  let streak = 0;
  while (it < o.maxIterations) {
    for (let b = 0; b < cur.length; b++) prev[b].set(cur[b]);
    model.mStep(post);
    if (eta > 1) {
      for (let b = 0; b < cur.length; b++) plain[b].set(cur[b]);
      if (model.overrelax) model.overrelax(prev, eta);
      else {
        for (let b = 0; b < cur.length; b++) overrelax(prev[b], cur[b], eta);
        model.project();
      }
      const llx = model.eStep(post);
      it++;
      if (llx >= ll) {
        const gain = (llx - ll) / eta;
        ll = llx;
        history.push(ll);
        if (eta >= ceiling && ++streak >= CEILING_PROBE) ((ceiling = nextStep(ceiling)), (streak = 0));
        const next = Math.min(ceiling, nextStep(eta));
        // small enough: check with one plain EM step, then go on at the same pace if needed
        if (gain <= eps) ((resume = next), (eta = 1));
        else eta = next;
        continue;
      }
      // rejected: take the plain EM point instead (its E-step is this iteration's second pass)
      for (let b = 0; b < cur.length; b++) cur[b].set(plain[b]);
      model.project();
      resume = nextStep(1);
      ceiling = previousStep(eta);
      streak = 0;
      if (it >= o.maxIterations) break;
    }
    const l2 = model.eStep(post);
    it++;
    const gain = Math.abs(l2 - ll);
    ll = l2;
    history.push(ll);
    if (gain <= eps) {
      converged = true;
      break;
    }
    eta = resume;
    resume = nextStep(1);
  }
  return { iterations: it, converged, history };
}

/**
 * θ' = θ · (m / θ)^η, in place in `m` (rows are renormalised by the model's `project`); η is
 * 2^a or 1.5 · 2^a (see {@link nextStep}): r^η = (r or r·√r) squared a times.
 */
export function overrelax(theta: Float64Array, m: Float64Array, eta: number): void {
  const a = Math.floor(Math.log2(eta) + 1e-9);
  const half = eta !== 2 ** a;
  for (let i = 0; i < m.length; i++) {
    const t = theta[i];
    if (!(t > 0)) continue;
    let r = m[i] / t;
    if (half) r *= Math.sqrt(r);
    for (let j = 0; j < a; j++) r *= r;
    m[i] = t * r;
  }
}
