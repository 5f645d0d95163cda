import type { Crowd } from '../crowd';
import type { EmLoopOptions, EmModel, EmTrace } from './em-core';

/** An EM model whose parameters can be extrapolated and projected back onto their domain. */
export interface SquaremModel extends EmModel {
  /** The parameter arrays (modified in place by the extrapolation). */
  params(): Float64Array[];
  /** Restores validity (e.g. rows on the simplex) after an extrapolation. */
  project(): void;
  /** Called when the posteriors are replaced by an earlier iterate's (state derived from them is stale). */
  invalidate?(): void;
  /**
   * Optional, for the over-relaxed loop: the parameters (now the M-step's m) become
   * θ · (m / θ)^η (θ = `prev`, same arrays as `params()`), projected as by `project`, in one go.
   */
  overrelax?(prev: Float64Array[], eta: number): void;
}

/**
 * SQUAREM (Varadhan & Roland, "Simple and Globally Convergent Methods for Accelerating the
 * Convergence of Any EM Algorithm", Scandinavian Journal of Statistics 35(2), 2008), scheme S3:
 * from θ0 take two EM steps θ1 = F(θ0), θ2 = F(θ1); with r = θ1 − θ0, v = θ2 − 2θ1 + θ0 and
 * α = −‖r‖/‖v‖ (capped at −1) jump to θ' = θ0 − 2αr + α²v, project, and evaluate. If the jump
 * lowers the log-likelihood below θ2's, θ2 is kept instead (monotone safeguard).
 *
 * `iterations` counts E-steps (each costs one pass over the answers, like a plain EM iteration);
 * the stopping rule is the plain loop's: |ΔLL| ≤ tolerance × answers between consecutive EM steps.
 */
export function squaremLoop(c: Crowd, post: Float64Array, model: SquaremModel, o: EmLoopOptions): EmTrace {
  const history: number[] = [];
  const eps = o.tolerance * Math.max(c.nAnswers, 1);
  const cur = model.params();
  const th0 = cur.map((a) => new Float64Array(a.length));
  const th1 = cur.map((a) => new Float64Array(a.length));
  const th2 = cur.map((a) => new Float64Array(a.length));
  const post2 = new Float64Array(post.length);
  const copy = (dst: Float64Array[], src: Float64Array[]) => dst.forEach((d, i) => d.set(src[i]));
  let it = 0;
  let converged = false;
  const step = (): number => {
    model.mStep(post);
    const ll = model.eStep(post);
    history.push(ll);
    it++;
    return ll;
  };
  let llPrev = step();
  while (it < o.maxIterations) {
    copy(th0, cur);
    const ll1 = step();
    if (Math.abs(ll1 - llPrev) <= eps) {
      converged = true;
      break;
    }
    if (it >= o.maxIterations) break;
    copy(th1, cur);
    const ll2 = step();
    if (Math.abs(ll2 - ll1) <= eps) {
      converged = true;
      break;
    }
    if (it >= o.maxIterations) break;
    copy(th2, cur);
    post2.set(post);
    let rr = 0;
    let vv = 0;
    for (let b = 0; b < cur.length; b++) {
      const a0 = th0[b];
      const a1 = th1[b];
      const a2 = th2[b];
      for (let i = 0; i < a0.length; i++) {
        const r = a1[i] - a0[i];
        const v = a2[i] - 2 * a1[i] + a0[i];
        rr += r * r;
        vv += v * v;
      }
    }
    if (vv === 0) {
      llPrev = ll2;
      continue;
    }
    const alpha = Math.min(-1, -Math.sqrt(rr / vv));
    for (let b = 0; b < cur.length; b++) {
      const a0 = th0[b];
      const a1 = th1[b];
      const a2 = th2[b];
      const out = cur[b];
      for (let i = 0; i < a0.length; i++) {
        const r = a1[i] - a0[i];
        const v = a2[i] - 2 * a1[i] + a0[i];
        out[i] = a0[i] - 2 * alpha * r + alpha * alpha * v;
      }
    }
    model.project();
    const llx = model.eStep(post);
    it++;
    if (llx < ll2) {
      // the jump overshot: fall back to the plain EM iterate θ2 and its posteriors
      copy(cur, th2);
      post.set(post2);
      model.invalidate?.();
      history.push(ll2);
      llPrev = ll2;
    } else {
      history.push(llx);
      llPrev = llx;
    }
  }
  return { iterations: it, converged, history };
}
