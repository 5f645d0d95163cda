import { aggregateBoxes, aggregateMultiLabel, aggregateSpans, aggregateText, type Box, majorityVote, meanPairwiseIou, normalizedEditDistance, pairwiseSpanF1, type Span } from '@tally/consensus';
import type { TaskConsensus, TaskType } from '@tally/campaigns';

/**
 * The consensus stored on a task when its needed answers are in, computed by @tally/consensus:
 * - single-label: majority vote (`majorityVote`); ties go to the label listed first in the
 *   campaign's label set, so the result is deterministic. Confidence: the winner's vote share.
 * - multi-label: binary relevance with majority vote per label (`aggregateMultiLabel`): a label is
 *   in when MORE than half the answers include it. Confidence: the mean over labels of the share
 *   that sides with the decision.
 * - boxes: IoU clustering and coordinate averaging (`aggregateBoxes`, mean IoU ≥ 0.5, boxes drawn
 *   by at least half the workers). Confidence: the weakest kept box's support × mean IoU.
 * - spans: every answer becomes one BIO tag per character, each character's tag is voted
 *   (plurality; ties by label order) and the tags are decoded back into spans (`aggregateSpans`).
 *   Confidence: the weakest span's mean tag share (1 when the agreed answer has no spans).
 * - text: the medoid answer by normalised edit distance (`aggregateText`).
 * `agreement` is the pairwise agreement of the answers (label pairs, mean pairwise IoU, span F1,
 * 1 − normalised distance for text).
 *
 * Answers come without worker ids: a task has at most one answer per worker, so each answer
 * stands for a distinct worker. Weighted methods and dynamic overlap live in task-decision.ts.
 */
export function taskConsensus(taskType: TaskType, labels: string[], answers: unknown[]): TaskConsensus | null {
  if (answers.length === 0) return null;
  switch (taskType) {
    case 'single-label':
      return singleLabelVote(labels, answers.map((a) => (a as { label: string }).label));
    case 'multi-label':
      return multiLabelVote(labels, answers.map((a) => (a as { labels: string[] }).labels));
    case 'boxes':
      return boxesConsensus(answers.map((a) => (a as { boxes: Box[] }).boxes ?? []));
    case 'spans':
      return spansConsensus(answers.map((a) => (a as { spans: Span[] }).spans ?? []));
    default:
      return textConsensus(answers.map((a) => String((a as { text: unknown }).text ?? '')));
  }
}

/** Share of answer pairs that agree: 1 when everyone agrees, 1 for a single answer. */
function pairwiseAgreement(counts: number[], n: number): number {
  if (n < 2) return 1;
  return counts.reduce((s, c) => s + c * (c - 1), 0) / (n * (n - 1));
}

const workerIds = (n: number) => Array.from({ length: n }, (_, i) => `#${i}`);

export function singleLabelVote(labelSet: string[], votes: string[]): TaskConsensus {
  // Labels outside the set (a campaign edited after the answer) still count, ranked after the set.
  const classes = [...labelSet, ...[...new Set(votes)].filter((v) => !labelSet.includes(v)).sort()];
  const vote = majorityVote(votes, { classes });
  const counts = new Map<string, number>();
  for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
  return {
    label: vote.label,
    confidence: vote.confidence,
    method: 'mv',
    agreement: pairwiseAgreement([...counts.values()], votes.length),
    answers: votes.length,
  };
}

export function multiLabelVote(labelSet: string[], votes: string[][]): TaskConsensus {
  const n = votes.length;
  const classes = [...labelSet, ...[...new Set(votes.flat())].filter((v) => !labelSet.includes(v)).sort()];
  const ids = workerIds(n);
  // Strictly more than half: a label half the workers ticked stays out.
  const r = aggregateMultiLabel(
    votes.map((labels, i) => ({ task: 't', worker: ids[i], labels })),
    { classes, method: 'mv', threshold: 0.5 + 1e-9 },
  );
  const chosen = (r.labels[0] ?? []).filter((l) => labelSet.includes(l));
  const yes = (l: string) => votes.filter((v) => v.includes(l)).length;
  const agreement = labelSet.length ? labelSet.reduce((s, l) => s + pairwiseAgreement([yes(l), n - yes(l)], n), 0) / labelSet.length : 1;
  // Confidence over the campaign's label set (labels nobody ticked are unanimous "no").
  const p = r.probabilities[0] ?? {};
  const confidence = labelSet.length ? labelSet.reduce((s, l) => s + Math.max(p[l] ?? 0, 1 - (p[l] ?? 0)), 0) / labelSet.length : 1;
  return { label: [...chosen], confidence, method: 'mv-per-label', agreement, answers: n };
}

function boxesConsensus(answers: Box[][]): TaskConsensus {
  const ids = workerIds(answers.length);
  const per = answers.map((boxes, i) => ({ worker: ids[i], boxes }));
  const fused = aggregateBoxes(per);
  const empty = answers.filter((b) => b.length === 0).length / answers.length;
  return {
    label: { boxes: fused.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, ...(b.label !== undefined ? { label: b.label } : {}) })) },
    // Nothing kept: as sure as the share of workers who drew nothing.
    confidence: fused.length ? Math.min(...fused.map((b) => b.confidence)) : empty,
    method: 'iou-cluster',
    agreement: answers.length < 2 ? 1 : meanPairwiseIou(per),
    answers: answers.length,
  };
}

function spansConsensus(answers: Span[][]): TaskConsensus {
  const ids = workerIds(answers.length);
  const per = answers.map((spans, i) => ({ task: 't', worker: ids[i], spans }));
  const [r] = aggregateSpans(per);
  return {
    label: { spans: r.spans.map((s) => ({ start: s.start, end: s.end, label: s.label })) },
    confidence: r.confidence.length ? Math.min(...r.confidence) : 1,
    method: 'span-vote',
    agreement: answers.length < 2 ? 1 : pairwiseSpanF1(per),
    answers: answers.length,
  };
}

function textConsensus(texts: string[]): TaskConsensus {
  const ids = workerIds(texts.length);
  const r = aggregateText(texts.map((text, i) => ({ worker: ids[i], text })));
  const norm = texts.map((x) => x.trim().replace(/\s+/g, ' ').toLowerCase());
  let sum = 0;
  for (let i = 0; i < norm.length; i++) for (let j = i + 1; j < norm.length; j++) sum += 1 - normalizedEditDistance(norm[i], norm[j]);
  const pairs = (norm.length * (norm.length - 1)) / 2;
  return { label: { text: r.text }, confidence: r.confidence, method: 'medoid', agreement: pairs ? sum / pairs : 1, answers: texts.length };
}

/**
 * Exact-match majority over the canonical answer, ties to the earliest answer. No longer used for
 * a task type (boxes, spans and text have their own consolidation); kept for callers that want it.
 */
export function exactMatchVote(answers: unknown[]): TaskConsensus {
  const groups = new Map<string, { answer: unknown; count: number; first: number }>();
  answers.forEach((a, i) => {
    const key = canonicalJson(a);
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { answer: a, count: 1, first: i });
  });
  const top = [...groups.values()].sort((a, b) => b.count - a.count || a.first - b.first)[0];
  return {
    label: top.answer,
    confidence: top.count / answers.length,
    method: 'exact-match',
    agreement: pairwiseAgreement([...groups.values()].map((g) => g.count), answers.length),
    answers: answers.length,
  };
}

/** JSON with object keys sorted, so equal answers compare equal whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
