import { type Box, matchBoxes } from './boxes';
import type { Answer } from './crowd';
import { ConsensusError } from './errors';
import { type Span, spanF1 } from './spans';

/** Label counts per task (only tasks with at least two answers count in the agreement measures). */
function unitCounts(answers: readonly Answer[]): { units: Map<string, number>[]; labels: string[] } {
  const byTask = new Map<string, Map<string, number>>();
  const labels = new Set<string>();
  for (const a of answers) {
    let m = byTask.get(a.task);
    if (!m) byTask.set(a.task, (m = new Map()));
    m.set(a.label, (m.get(a.label) ?? 0) + 1);
    labels.add(a.label);
  }
  return { units: [...byTask.values()], labels: [...labels] };
}

const sizeOf = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);

/** Mean over tasks (with ≥ 2 answers) of the share of answer pairs that agree. NaN without such tasks. */
export function percentAgreement(answers: readonly Answer[]): number {
  let s = 0;
  let n = 0;
  for (const u of unitCounts(answers).units) {
    const m = sizeOf(u);
    if (m < 2) continue;
    let agree = 0;
    for (const c of u.values()) agree += c * (c - 1);
    s += agree / (m * (m - 1));
    n++;
  }
  return n ? s / n : NaN;
}

/**
 * Fleiss' kappa (Fleiss 1971), generalised to a varying number of answers per task: P̄ is the
 * mean per-task pairwise agreement, P_e = Σ_j p_j² with p_j the share of all answers in class j.
 * Tasks with fewer than two answers are left out. 1 when every task is unanimous and P_e = 1.
 */
export function fleissKappa(answers: readonly Answer[]): number {
  const { units } = unitCounts(answers);
  let pBar = 0;
  let n = 0;
  const totals = new Map<string, number>();
  let all = 0;
  for (const u of units) {
    const m = sizeOf(u);
    if (m < 2) continue;
    let agree = 0;
    for (const [l, c] of u) {
      agree += c * (c - 1);
      totals.set(l, (totals.get(l) ?? 0) + c);
      all += c;
    }
    pBar += agree / (m * (m - 1));
    n++;
  }
  if (!n) return NaN;
  pBar /= n;
  let pe = 0;
  for (const c of totals.values()) pe += (c / all) ** 2;
  return pe === 1 ? 1 : (pBar - pe) / (1 - pe);
}

/**
 * Krippendorff's alpha for nominal data with missing values (Krippendorff 2011, "Computing
 * Krippendorff's Alpha-Reliability"): from the coincidence matrix over units with ≥ 2 values,
 * α = 1 − (n − 1) · D_o / D_e with D_o = Σ_{c≠k} o_ck and D_e = Σ_{c≠k} n_c n_k. Missing data is
 * simply an absent answer. 1 when there is no disagreement at all.
 */
export function krippendorffAlpha(answers: readonly Answer[]): number {
  const { units } = unitCounts(answers);
  const nc = new Map<string, number>();
  let n = 0;
  let dObs = 0;
  for (const u of units) {
    const m = sizeOf(u);
    if (m < 2) continue;
    // Σ_{c≠k} n_uc n_uk / (m_u − 1) = (m² − Σ n_uc²) / (m − 1)
    let sq = 0;
    for (const [l, c] of u) {
      sq += c * c;
      nc.set(l, (nc.get(l) ?? 0) + c);
    }
    dObs += (m * m - sq) / (m - 1);
    n += m;
  }
  if (n < 2) return NaN;
  let sq = 0;
  for (const c of nc.values()) sq += c * c;
  const dExp = n * n - sq;
  if (dExp === 0) return 1;
  return 1 - ((n - 1) * dObs) / dExp;
}

/** Cohen's kappa between two annotators' labels on the same items (aligned arrays). */
export function cohenKappa(a: readonly string[], b: readonly string[]): number {
  if (a.length !== b.length) throw new ConsensusError('INVALID_INPUT', 'the two annotators must label the same items');
  const n = a.length;
  if (n === 0) return NaN;
  let agree = 0;
  const ca = new Map<string, number>();
  const cb = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) agree++;
    ca.set(a[i], (ca.get(a[i]) ?? 0) + 1);
    cb.set(b[i], (cb.get(b[i]) ?? 0) + 1);
  }
  let pe = 0;
  for (const [l, c] of ca) pe += (c / n) * ((cb.get(l) ?? 0) / n);
  const po = agree / n;
  return pe === 1 ? 1 : (po - pe) / (1 - pe);
}

/**
 * Mean pairwise IoU agreement for boxes on one task: for every pair of workers, boxes are matched
 * one-to-one greedily by IoU and the pair scores Σ matched IoU / max(|A|, |B|) (two empty answers
 * agree fully); the result is the mean over pairs (NaN with fewer than two workers).
 */
export function meanPairwiseIou(answers: readonly { readonly worker: string; readonly boxes: readonly Box[] }[]): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < answers.length; i++)
    for (let j = i + 1; j < answers.length; j++) {
      const a = answers[i].boxes;
      const b = answers[j].boxes;
      const denom = Math.max(a.length, b.length);
      s += denom === 0 ? 1 : matchBoxes(a, b).reduce((x, p) => x + p[2], 0) / denom;
      n++;
    }
  return n ? s / n : NaN;
}

/** Mean over pairs of workers of their exact-match span F1 on one task (NaN with fewer than two). */
export function pairwiseSpanF1(answers: readonly { readonly worker: string; readonly spans: readonly Span[] }[]): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < answers.length; i++) for (let j = i + 1; j < answers.length; j++) ((s += spanF1(answers[i].spans, answers[j].spans)), n++);
  return n ? s / n : NaN;
}
