import { aggregateBoxes, type Box, meanPairwiseIou, posteriorForTask } from '@tally/consensus';
import type { TaskConsensus, TaskType } from '@tally/campaigns';
import { canonicalJson } from './task-consensus';

/** One answer of a task with the worker who gave it. */
export interface WorkerAnswer {
  worker: string;
  answer: unknown;
  /** A model's pre-label (modelLabels 'annotator'): weighs in the posterior, never counts toward min/max. */
  model?: boolean;
}

/**
 * What is known of a worker's reliability in this campaign: a Dawid-Skene confusion matrix over
 * `classes` (rows true class, columns given label) from the campaign-wide job, and/or a one-coin
 * accuracy (from gold answers as they arrive). Missing workers get `defaultAccuracy`.
 */
export interface WorkerSkill {
  accuracy: number;
  classes?: string[];
  confusion?: number[][];
}

export interface OverlapSettings {
  /** Answers a task needs before it may complete (redundancyMin). */
  min: number;
  /** Answers a task may get at most (redundancyMax). */
  max: number;
  /** Top posterior that completes a task (confidenceTarget). */
  target: number;
  /** The campaign's aggregation method: `mv` weighs everyone alike; anything else uses skills. */
  method: string;
  /** Accuracy assumed for a worker without a known skill (default 0.7). */
  defaultAccuracy?: number;
  /**
   * The most accurate worker the task could still get (e.g. the campaign's best known skill).
   * Given, single-label tasks stop early as low-confidence when even `max − n` more answers, all
   * for one label and all from such a worker, could not reach the target (futility): buying them
   * could not complete the task. Absent: no early stop.
   */
  bestAccuracy?: number;
}

export type TaskOutcome = 'complete' | 'needs-more' | 'low-confidence';

export interface TaskDecisionConsensus extends TaskConsensus {
  /** Model answers that took part (not in `answers`, which counts human answers). */
  modelAnswers?: number;
  /** Per class (single-label) or per label (multi-label) posterior; absent for other types. */
  posterior?: Record<string, number>;
  lowConfidence: boolean;
}

export interface TaskDecision {
  outcome: TaskOutcome;
  consensus: TaskDecisionConsensus | null;
}

const clampAcc = (a: number) => Math.min(0.99, Math.max(0.01, a));

/**
 * Dynamic overlap, the one decision taken after each answer of a task: given its answers, the
 * campaign's settings and the current worker skills, is it complete, does it need one more answer,
 * or has it used the maximum without reaching the confidence target (complete, flagged
 * low-confidence)? Pure; the caller applies the outcome under the task's row lock.
 *
 * Confidence per task type:
 * - single-label: the top class posterior, P(k | answers) ∝ Π C_w[k][label] (posteriorForTask)
 *   with each worker's confusion matrix (or a one-coin matrix from their accuracy); `mv`: vote share.
 * - multi-label: each label is a yes/no question with one-coin log-odds; confidence is the least
 *   sure label's max(p, 1 − p) — the set is only as sure as its weakest label.
 * - spans: each distinct (start, end, label) span is a yes/no question like a label; the chosen
 *   spans are those with p ≥ 0.5 (overlaps resolved by higher p); confidence as for multi-label.
 * - boxes: IoU clustering (aggregateBoxes, reliability-weighted); confidence is the weakest
 *   cluster's support × mean IoU (all workers drawing nothing agree fully).
 * - text: exact-match share.
 */
export function decideTask(
  taskType: TaskType,
  labels: string[],
  payload: Record<string, unknown>,
  answers: WorkerAnswer[],
  settings: OverlapSettings,
  skills: Readonly<Record<string, WorkerSkill>> = {},
): TaskDecision {
  if (!answers.length) return { outcome: 'needs-more', consensus: null };
  const acc = (w: string) => clampAcc(settings.method === 'mv' ? 0.7 : (skills[w]?.accuracy ?? settings.defaultAccuracy ?? 0.7));
  let c: Omit<TaskDecisionConsensus, 'lowConfidence' | 'answers'>;
  switch (taskType) {
    case 'single-label':
      c = singleLabel(labels, answers, settings, skills);
      break;
    case 'multi-label':
      c = multiLabel(labels, answers, acc, settings.method);
      break;
    case 'spans':
      c = spans(answers, acc, settings.method);
      break;
    case 'boxes':
      c = boxes(answers, acc, settings.method);
      break;
    default:
      c = text(answers);
  }
  const n = answers.filter((a) => !a.model).length;
  const models = answers.length - n;
  const base = { ...c, answers: n, ...(models ? { modelAnswers: models } : {}) };
  if (n >= settings.min && c.confidence >= settings.target) return { outcome: 'complete', consensus: { ...base, lowConfidence: false } };
  const hopeless =
    taskType === 'single-label' && settings.method !== 'mv' && settings.bestAccuracy !== undefined && n >= settings.min && c.posterior
      ? !reachable(labels, c.posterior, settings.max - n, settings.bestAccuracy, settings.target)
      : false;
  if (n < settings.max && !hopeless) return { outcome: 'needs-more', consensus: { ...base, lowConfidence: false } };
  return { outcome: 'low-confidence', consensus: { ...base, lowConfidence: true } };
}

/**
 * Could `remaining` more answers reach the target? The best case for each class: every further
 * answer names it, each from a worker of accuracy `best` (one-coin: the other classes share
 * 1 − best), which multiplies its odds against every other class by best / ((1 − best)/(K − 1)).
 */
export function reachable(labels: string[], posterior: Record<string, number>, remaining: number, best: number, target: number): boolean {
  if (remaining <= 0) return false;
  const K = labels.length;
  if (K < 2) return true;
  const a = clampAcc(best);
  const boost = remaining * (Math.log(a) - Math.log((1 - a) / (K - 1)));
  const logp = labels.map((l) => Math.log(Math.max(posterior[l] ?? 0, 1e-300)));
  for (let c = 0; c < K; c++) {
    // P(c) after the boost: 1 / (1 + Σ_{k≠c} exp(logp[k] − logp[c] − boost))
    let z = 1;
    for (let k = 0; k < K; k++) if (k !== c) z += Math.exp(logp[k] - logp[c] - boost);
    if (1 / z >= target) return true;
  }
  return false;
}

function pairwise(counts: number[], n: number): number {
  return n < 2 ? 1 : counts.reduce((s, k) => s + k * (k - 1), 0) / (n * (n - 1));
}

function singleLabel(labels: string[], answers: WorkerAnswer[], s: OverlapSettings, skills: Readonly<Record<string, WorkerSkill>>) {
  const votes = answers.map((a) => ({ worker: a.worker, label: (a.answer as { label: string }).label }));
  const counts = new Map<string, number>();
  for (const v of votes) counts.set(v.label, (counts.get(v.label) ?? 0) + 1);
  const agreement = pairwise([...counts.values()], votes.length);
  const K = labels.length;
  const confusions: Record<string, number[][]> = {};
  for (const v of votes) {
    const sk = skills[v.worker];
    if (s.method !== 'mv' && sk?.confusion && sk.classes && canonicalJson(sk.classes) === canonicalJson(labels)) confusions[v.worker] = sk.confusion;
    else {
      const a = clampAcc(s.method === 'mv' ? 0.7 : (sk?.accuracy ?? s.defaultAccuracy ?? 0.7));
      confusions[v.worker] = labels.map((_, k) => labels.map((__, l) => (k === l ? a : K > 1 ? (1 - a) / (K - 1) : 1)));
    }
  }
  if (s.method === 'mv') {
    // plain majority: the vote share is the confidence; ties go to the label listed first
    const order = (l: string) => (labels.indexOf(l) < 0 ? Number.MAX_SAFE_INTEGER : labels.indexOf(l));
    const [label, top] = [...counts].sort((a, b) => b[1] - a[1] || order(a[0]) - order(b[0]))[0];
    const posterior = Object.fromEntries(labels.map((l) => [l, (counts.get(l) ?? 0) / votes.length]));
    return { label, confidence: top / votes.length, method: 'mv', agreement, posterior };
  }
  const p = posteriorForTask(votes, confusions, undefined, { classes: labels });
  return { label: p.label, confidence: p.confidence, method: `posterior-${s.method}`, agreement, posterior: { ...p.posterior } };
}

/** P(yes) for a yes/no question: one-coin log-odds from a flat prior (mv: vote share). */
function yesProbability(yes: string[], no: string[], acc: (w: string) => number, method: string): number {
  if (method === 'mv') return yes.length / (yes.length + no.length);
  let lo = 0;
  for (const w of yes) lo += Math.log(acc(w) / (1 - acc(w)));
  for (const w of no) lo -= Math.log(acc(w) / (1 - acc(w)));
  return 1 / (1 + Math.exp(-lo));
}

function multiLabel(labels: string[], answers: WorkerAnswer[], acc: (w: string) => number, method: string) {
  const sets = answers.map((a) => ({ worker: a.worker, labels: new Set((a.answer as { labels: string[] }).labels) }));
  const posterior: Record<string, number> = {};
  let confidence = 1;
  let agreementSum = 0;
  for (const l of labels) {
    const yes = sets.filter((x) => x.labels.has(l)).map((x) => x.worker);
    const no = sets.filter((x) => !x.labels.has(l)).map((x) => x.worker);
    const p = yesProbability(yes, no, acc, method);
    posterior[l] = p;
    confidence = Math.min(confidence, Math.max(p, 1 - p));
    agreementSum += pairwise([yes.length, no.length], sets.length);
  }
  return {
    label: labels.filter((l) => posterior[l] >= 0.5 && !(method === 'mv' && posterior[l] === 0.5)),
    confidence,
    method: method === 'mv' ? 'mv-per-label' : `posterior-${method}-per-label`,
    agreement: labels.length ? agreementSum / labels.length : 1,
    posterior,
  };
}

interface SpanLike {
  start: number;
  end: number;
  label: string;
}

function spans(answers: WorkerAnswer[], acc: (w: string) => number, method: string) {
  const per = answers.map((a) => ({ worker: a.worker, spans: ((a.answer as { spans: SpanLike[] }).spans ?? []) as SpanLike[] }));
  const keyOf = (s: SpanLike) => `${s.start}:${s.end}:${s.label}`;
  const candidates = new Map<string, SpanLike>();
  for (const a of per) for (const s of a.spans) candidates.set(keyOf(s), { start: s.start, end: s.end, label: s.label });
  let confidence = 1;
  const scored: { span: SpanLike; p: number }[] = [];
  for (const [key, span] of candidates) {
    const yes = per.filter((a) => a.spans.some((s) => keyOf(s) === key)).map((a) => a.worker);
    const no = per.filter((a) => !a.spans.some((s) => keyOf(s) === key)).map((a) => a.worker);
    const p = yesProbability(yes, no, acc, method);
    confidence = Math.min(confidence, Math.max(p, 1 - p));
    scored.push({ span, p });
  }
  const chosen: SpanLike[] = [];
  for (const { span, p } of scored.sort((a, b) => b.p - a.p || a.span.start - b.span.start)) {
    if (p <= 0.5) continue;
    if (chosen.some((c) => c.start < span.end && span.start < c.end)) continue;
    chosen.push(span);
  }
  chosen.sort((a, b) => a.start - b.start);
  const agreement = per.length < 2 ? 1 : pairwiseMean(per, (x, y) => spanF1(x.spans, y.spans));
  return { label: { spans: chosen }, confidence, method: method === 'mv' ? 'span-vote' : `span-posterior-${method}`, agreement };
}

function spanF1(a: SpanLike[], b: SpanLike[]): number {
  if (!a.length && !b.length) return 1;
  const tp = a.filter((s) => b.some((x) => x.start === s.start && x.end === s.end && x.label === s.label)).length;
  return (2 * tp) / (a.length + b.length);
}

function pairwiseMean<T>(xs: T[], f: (a: T, b: T) => number): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) ((s += f(xs[i], xs[j])), n++);
  return n ? s / n : 1;
}

function boxes(answers: WorkerAnswer[], acc: (w: string) => number, method: string) {
  const per = answers.map((a) => ({ worker: a.worker, boxes: ((a.answer as { boxes: Box[] }).boxes ?? []) as Box[] }));
  const weights = Object.fromEntries(per.map((a) => [a.worker, method === 'mv' ? 1 : acc(a.worker)]));
  const fused = aggregateBoxes(per, { workerWeights: weights });
  const agreement = per.length < 2 ? 1 : meanPairwiseIou(per);
  const empty = per.filter((a) => a.boxes.length === 0).length;
  const confidence = fused.length ? Math.min(...fused.map((b) => b.support * b.meanIou)) : empty / per.length;
  return {
    label: { boxes: fused.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, label: b.label ?? '' })) },
    confidence,
    method: 'iou-fusion',
    agreement,
  };
}

function text(answers: WorkerAnswer[]) {
  const groups = new Map<string, { answer: unknown; count: number; first: number }>();
  answers.forEach((a, i) => {
    const k = canonicalJson(a.answer);
    const g = groups.get(k);
    if (g) g.count++;
    else groups.set(k, { answer: a.answer, count: 1, first: i });
  });
  const top = [...groups.values()].sort((a, b) => b.count - a.count || a.first - b.first)[0];
  return {
    label: top.answer,
    confidence: top.count / answers.length,
    method: 'exact-match',
    agreement: pairwise([...groups.values()].map((g) => g.count), answers.length),
  };
}
