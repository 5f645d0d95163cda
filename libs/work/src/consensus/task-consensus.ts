import type { TaskConsensus, TaskType } from '@tally/campaigns';

/**
 * The consensus stored on a task when its needed answers are in. Single-label: majority vote
 * (ties go to the label listed first in the campaign's label set, so the result is deterministic).
 * Multi-label: per-label majority (a label is in when more than half the answers include it).
 * Boxes, spans, text: exact-match majority over the canonical answer, ties to the earliest answer —
 * a placeholder until the quality issue brings IoU box merging and span agreement.
 *
 * TODO(consensus): switch single-label to @tally/consensus's majority vote once it is exported.
 */
export function taskConsensus(taskType: TaskType, labels: string[], answers: unknown[]): TaskConsensus | null {
  if (answers.length === 0) return null;
  switch (taskType) {
    case 'single-label':
      return singleLabelVote(labels, answers.map((a) => (a as { label: string }).label));
    case 'multi-label':
      return multiLabelVote(labels, answers.map((a) => (a as { labels: string[] }).labels));
    default:
      return exactMatchVote(answers);
  }
}

/** Share of answer pairs that agree: 1 when everyone agrees, 1 for a single answer. */
function pairwiseAgreement(counts: number[], n: number): number {
  if (n < 2) return 1;
  return counts.reduce((s, c) => s + c * (c - 1), 0) / (n * (n - 1));
}

export function singleLabelVote(labelSet: string[], votes: string[]): TaskConsensus {
  const counts = new Map<string, number>();
  for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
  const order = (l: string) => {
    const i = labelSet.indexOf(l);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const [label, top] = [...counts].sort((a, b) => b[1] - a[1] || order(a[0]) - order(b[0]) || a[0].localeCompare(b[0]))[0];
  return {
    label,
    confidence: top / votes.length,
    method: 'mv',
    agreement: pairwiseAgreement([...counts.values()], votes.length),
    answers: votes.length,
  };
}

export function multiLabelVote(labelSet: string[], votes: string[][]): TaskConsensus {
  const n = votes.length;
  const chosen: string[] = [];
  let agreementSum = 0;
  for (const l of labelSet) {
    const yes = votes.filter((v) => v.includes(l)).length;
    if (yes * 2 > n) chosen.push(l);
    agreementSum += pairwiseAgreement([yes, n - yes], n);
  }
  const agreement = labelSet.length ? agreementSum / labelSet.length : 1;
  // Confidence: the mean share of answers that side with the decision on each label.
  const share = labelSet.length
    ? labelSet.reduce((s, l) => {
        const yes = votes.filter((v) => v.includes(l)).length;
        return s + Math.max(yes, n - yes) / n;
      }, 0) / labelSet.length
    : 1;
  return { label: chosen, confidence: share, method: 'mv-per-label', agreement, answers: n };
}

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
