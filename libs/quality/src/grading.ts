import { iou, matchBoxes, type Box } from '@tally/consensus';
import type { TaskType } from '@tally/campaigns';

/** IoU a drawn box needs with its gold box to count as right (and with consensus to agree). */
export const BOX_IOU_THRESHOLD = 0.5;

interface SpanLike {
  start: number;
  end: number;
  label: string;
}

/**
 * Whether a worker's answer matches a reference answer (the gold answer, or a task's consensus).
 * - single-label: same label; multi-label: the same set of labels;
 * - boxes: one-to-one match, every pair of the same class with IoU ≥ 0.5 and no box left over;
 * - spans: the same spans (start, end, label); text: equal after trimming, case-folding and
 *   collapsing whitespace.
 */
export function answersMatch(taskType: TaskType, answer: unknown, reference: unknown): boolean {
  if (answer == null || reference == null) return false;
  const a = answer as Record<string, unknown>;
  const r = reference as Record<string, unknown>;
  switch (taskType) {
    case 'single-label':
      return a.label === r.label;
    case 'multi-label': {
      const x = new Set((a.labels as string[]) ?? []);
      const y = new Set((r.labels as string[]) ?? []);
      return x.size === y.size && [...x].every((l) => y.has(l));
    }
    case 'boxes': {
      const x = ((a.boxes as Box[]) ?? []) as Box[];
      const y = ((r.boxes as Box[]) ?? []) as Box[];
      if (x.length !== y.length) return false;
      if (!x.length) return true;
      const pairs = matchBoxes(x, y, true);
      return pairs.length === x.length && pairs.every(([i, j]) => iou(x[i], y[j]) >= BOX_IOU_THRESHOLD);
    }
    case 'spans': {
      const x = ((a.spans as SpanLike[]) ?? []) as SpanLike[];
      const y = ((r.spans as SpanLike[]) ?? []) as SpanLike[];
      return x.length === y.length && x.every((s) => y.some((g) => g.start === s.start && g.end === s.end && g.label === s.label));
    }
    default: {
      const norm = (v: unknown) => String(v ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
      return norm(a.text) === norm(r.text);
    }
  }
}

/**
 * z of the 99% (two-sided) Wilson bound the blocking rules judge by ("beyond reasonable doubt"):
 * they look again after every answer, for every worker of the campaign, so a 95% bound would call
 * an honest worker's unlucky streak proof far more often than 1 in 20 (the simulator saw a 0.65
 * worker blocked at 0/4 gold: 1.5% likely for one look, but there are many workers and looks).
 */
export const RULE_Z = 2.576;

/** z of the 95% Wilson bound by which adaptive gold judges a worker proven (see `goldRateProven`). */
export const PROVEN_Z = 1.96;

/** Wilson score interval (95% by default) for `successes` out of `n`; [0, 1] when n = 0. */
export function wilson(successes: number, n: number, z = 1.96): { low: number; high: number; rate: number | null } {
  if (n <= 0) return { low: 0, high: 1, rate: null };
  const p = successes / n;
  const d = 1 + (z * z) / n;
  const centre = p + (z * z) / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { low: Math.max(0, (centre - spread) / d), high: Math.min(1, (centre + spread) / d), rate: p };
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
