import { createEstimator } from './categorical/estimators';
import type { CategoricalMethod } from './categorical/result';
import { ConsensusError } from './errors';

/** A labelled span over token positions [start, end) (end exclusive). */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

/** One worker's spans on one task (no spans = "nothing to mark"). */
export interface SpanAnswer {
  readonly task: string;
  readonly worker: string;
  readonly spans: readonly Span[];
  /** Number of tokens of the task's text; default: the largest span end any answer gives. */
  readonly length?: number;
}

export interface SpanOptions {
  /** Categorical method run on the token tags (default `mv`). */
  readonly method?: CategoricalMethod;
  /** Token count per task (overrides `length` on the answers). */
  readonly lengths?: Readonly<Record<string, number>>;
}

export interface SpanTaskResult {
  readonly task: string;
  readonly spans: readonly Span[];
  /** Per span, the mean posterior of its tokens' tags. */
  readonly confidence: readonly number[];
  /** Aggregated BIO tag per token. */
  readonly tags: readonly string[];
}

/** Spans → BIO tags ("B-X", "I-X", "O") over `length` tokens; overlapping spans are an error. */
export function spansToBio(spans: readonly Span[], length: number): string[] {
  const tags = new Array<string>(length).fill('O');
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end > s.start && s.end <= length))
      throw new ConsensusError('INVALID_INPUT', `span [${s.start}, ${s.end}) is outside 0..${length}`);
    for (let i = s.start; i < s.end; i++) {
      if (tags[i] !== 'O') throw new ConsensusError('INVALID_INPUT', 'spans overlap');
      tags[i] = (i === s.start ? 'B-' : 'I-') + s.label;
    }
  }
  return tags;
}

/** BIO tags → spans; an I-X that does not continue an X span starts one (the usual repair). */
export function bioToSpans(tags: readonly string[]): Span[] {
  const out: Span[] = [];
  let cur: { start: number; label: string } | null = null;
  const close = (end: number) => {
    if (cur) out.push({ start: cur.start, end, label: cur.label });
    cur = null;
  };
  tags.forEach((t, i) => {
    if (t === 'O') return close(i);
    const label = t.slice(2);
    if (t.startsWith('B-') || !cur || cur.label !== label) {
      close(i);
      cur = { start: i, label };
    }
  });
  close(tags.length);
  return out;
}

/**
 * Span (NER) aggregation: every worker's spans become one BIO tag per token, each token is a
 * categorical question (task "task#i"), any categorical method aggregates the tags (so Dawid-
 * Skene learns per-worker tag confusions), and the aggregated tags are decoded back into spans
 * (an orphan I-X opens a span). Tasks come out in order of first appearance.
 */
export function aggregateSpans(answers: readonly SpanAnswer[], options: SpanOptions = {}): SpanTaskResult[] {
  const lengths = new Map<string, number>();
  const order: string[] = [];
  for (const a of answers) {
    if (!lengths.has(a.task)) ((lengths.set(a.task, 0)), order.push(a.task));
    const given = options.lengths?.[a.task] ?? a.length;
    for (const sp of a.spans) {
      if (given !== undefined && sp.end > given) throw new ConsensusError('INVALID_INPUT', `task "${a.task}", worker "${a.worker}": span [${sp.start}, ${sp.end}) ends after the text's ${given} tokens`);
    }
    const seen = Math.max(lengths.get(a.task)!, given ?? 0, ...a.spans.map((s) => s.end));
    lengths.set(a.task, seen);
  }
  const tokenAnswers: { task: string; worker: string; label: string }[] = [];
  for (const a of answers) {
    const n = options.lengths?.[a.task] ?? lengths.get(a.task)!;
    const tags = spansToBio(a.spans, n);
    for (let i = 0; i < n; i++) tokenAnswers.push({ task: `${a.task}#${i}`, worker: a.worker, label: tags[i] });
  }
  if (tokenAnswers.length === 0) return order.map((task) => Object.freeze({ task, spans: [], confidence: [], tags: [] }));
  const fit = createEstimator(options.method ?? 'mv').fit(tokenAnswers);
  return order.map((task) => {
    const n = options.lengths?.[task] ?? lengths.get(task)!;
    const tags: string[] = [];
    const conf: number[] = [];
    for (let i = 0; i < n; i++) {
      const key = `${task}#${i}`;
      tags.push(fit.label(key) ?? 'O');
      const p = fit.posterior(key);
      conf.push(p ? p[tags[i]] : 1);
    }
    const spans = bioToSpans(tags);
    const confidence = spans.map((s) => conf.slice(s.start, s.end).reduce((x, y) => x + y, 0) / (s.end - s.start));
    return Object.freeze({ task, spans, confidence, tags });
  });
}

export interface PRF {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

const prf = (tpP: number, nP: number, tpG: number, nG: number): PRF => {
  const precision = nP ? tpP / nP : nG ? 0 : 1;
  const recall = nG ? tpG / nG : 1;
  return Object.freeze({ precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 });
};

/**
 * Span scores against gold over the gold tasks: `exact` counts a predicted span right when a
 * gold span has the same start, end and label; `overlap` when it shares at least one token with
 * a gold span of the same label (recall symmetrically, from the gold side).
 */
export function evaluateSpans(predicted: ReadonlyMap<string, readonly Span[]>, gold: ReadonlyMap<string, readonly Span[]>): { exact: PRF; overlap: PRF } {
  let nP = 0;
  let nG = 0;
  let exact = 0;
  let ovP = 0;
  let ovG = 0;
  const overlaps = (a: Span, b: Span) => a.label === b.label && a.start < b.end && b.start < a.end;
  for (const [task, g] of gold) {
    const p = predicted.get(task) ?? [];
    nP += p.length;
    nG += g.length;
    for (const s of p) {
      if (g.some((x) => x.start === s.start && x.end === s.end && x.label === s.label)) exact++;
      if (g.some((x) => overlaps(s, x))) ovP++;
    }
    for (const x of g) if (p.some((s) => overlaps(s, x))) ovG++;
  }
  return { exact: prf(exact, nP, exact, nG), overlap: prf(ovP, nP, ovG, nG) };
}

/** Exact-match span F1 between two annotators (1 when both mark nothing). */
export function spanF1(a: readonly Span[], b: readonly Span[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  let tp = 0;
  for (const s of a) if (b.some((x) => x.start === s.start && x.end === s.end && x.label === s.label)) tp++;
  return (2 * tp) / (a.length + b.length);
}
