import { ConsensusError } from './errors';
import { compareLabels } from './labels';

/** An axis-aligned box: top-left corner, width and height (any unit, e.g. pixels). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly label?: string;
}

/** One worker's boxes on one task (an empty list means "nothing there"). */
export interface WorkerBoxes {
  readonly worker: string;
  readonly boxes: readonly Box[];
}

/** A consolidated box. */
export interface FusedBox extends Box {
  /** support × mean pairwise IoU inside the cluster (a lone box with a lone worker: 1). */
  readonly confidence: number;
  /** Share of the task's workers that drew a box in this cluster. */
  readonly support: number;
  /** Mean IoU over pairs of boxes in the cluster (1 for a single box). */
  readonly meanIou: number;
  /** Workers whose boxes were fused. */
  readonly workers: readonly string[];
}

export interface BoxOptions {
  /** Mean IoU a merge must keep (default 0.5). */
  readonly iouThreshold?: number;
  /** Drop clusters whose support (share of workers) is below this (default 0.5). */
  readonly minSupport?: number;
  /** Reliability weight per worker for the coordinate average and label vote (default 1). */
  readonly workerWeights?: Readonly<Record<string, number>>;
  /** Only boxes with the same label may be matched (default false: label is voted inside the cluster). */
  readonly sameLabelOnly?: boolean;
}

/** Intersection over union of two boxes (0 when either has no area). */
export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Consolidates the boxes several workers drew on one task.
 *
 * Matching rule (agglomerative, average linkage): every box starts as its own cluster; pairs of
 * boxes from different workers are visited by decreasing IoU (ties: earlier worker, then earlier
 * box); the two clusters are merged when they have no worker in common (at most one box per
 * worker in a cluster) and the mean IoU over all cross pairs is at least `iouThreshold`.
 * Fusion: the reliability-weighted mean of the corners; label: weighted vote (ties by
 * `compareLabels`). Clusters supported by fewer than `minSupport` of the workers are dropped.
 * Output boxes are sorted by decreasing confidence, then x, then y.
 */
export function aggregateBoxes(answers: readonly WorkerBoxes[], options: BoxOptions = {}): FusedBox[] {
  const thr = options.iouThreshold ?? 0.5;
  const minSupport = options.minSupport ?? 0.5;
  if (!(thr > 0 && thr <= 1)) throw new ConsensusError('INVALID_OPTION', 'iouThreshold must be in (0, 1]');
  const workers = [...new Set(answers.map((a) => a.worker))];
  const nWorkers = workers.length;
  if (nWorkers === 0) return [];
  const items: { box: Box; worker: number }[] = [];
  const wIx = new Map(workers.map((w, i) => [w, i]));
  for (const a of answers) for (const b of a.boxes) {
    if (!(b.w > 0 && b.h > 0)) throw new ConsensusError('INVALID_INPUT', 'boxes need a positive width and height');
    items.push({ box: b, worker: wIx.get(a.worker)! });
  }
  const n = items.length;
  const m = new Float64Array(n * n);
  const pairs: [number, number, number][] = [];
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      if (items[i].worker === items[j].worker) continue;
      if (options.sameLabelOnly && items[i].box.label !== items[j].box.label) continue;
      const v = iou(items[i].box, items[j].box);
      m[i * n + j] = m[j * n + i] = v;
      if (v > 0) pairs.push([v, i, j]);
    }
  pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
  const cluster = items.map((_, i) => [i]);
  const of = items.map((_, i) => i);
  for (const [, i, j] of pairs) {
    const ci = of[i];
    const cj = of[j];
    if (ci === cj) continue;
    const A = cluster[ci];
    const B = cluster[cj];
    if (A.some((a) => B.some((b) => items[a].worker === items[b].worker))) continue;
    let s = 0;
    for (const a of A) for (const b of B) s += m[a * n + b];
    if (s / (A.length * B.length) < thr) continue;
    for (const b of B) ((of[b] = ci), A.push(b));
    cluster[cj] = [];
  }
  const weight = (w: number) => options.workerWeights?.[workers[w]] ?? 1;
  const out: FusedBox[] = [];
  for (const members of cluster) {
    if (members.length === 0) continue;
    const support = members.length / nWorkers;
    if (support < minSupport) continue;
    let wsum = 0;
    let x1 = 0;
    let y1 = 0;
    let x2 = 0;
    let y2 = 0;
    const votes = new Map<string, number>();
    for (const i of members) {
      const { box } = items[i];
      const w = Math.max(weight(items[i].worker), 0) || 1e-9;
      wsum += w;
      x1 += w * box.x;
      y1 += w * box.y;
      x2 += w * (box.x + box.w);
      y2 += w * (box.y + box.h);
      if (box.label !== undefined) votes.set(box.label, (votes.get(box.label) ?? 0) + w);
    }
    let pairSum = 0;
    let pairN = 0;
    for (let a = 0; a < members.length; a++)
      for (let b = a + 1; b < members.length; b++) ((pairSum += m[members[a] * n + members[b]]), pairN++);
    const meanIou = pairN ? pairSum / pairN : 1;
    let label: string | undefined;
    let best = -Infinity;
    for (const [l, v] of votes) if (v > best || (v === best && compareLabels(l, label!) < 0)) ((label = l), (best = v));
    const fused: FusedBox = {
      x: x1 / wsum,
      y: y1 / wsum,
      w: (x2 - x1) / wsum,
      h: (y2 - y1) / wsum,
      ...(label !== undefined ? { label } : {}),
      confidence: support * meanIou,
      support,
      meanIou,
      workers: members.map((i) => workers[items[i].worker]),
    };
    out.push(Object.freeze(fused));
  }
  return out.sort((a, b) => b.confidence - a.confidence || a.x - b.x || a.y - b.y);
}

/** Greedy one-to-one matching by decreasing IoU; returns matched pairs [i, j, iou] with IoU > 0. */
export function matchBoxes(a: readonly Box[], b: readonly Box[], sameLabel = false): [number, number, number][] {
  const pairs: [number, number, number][] = [];
  for (let i = 0; i < a.length; i++)
    for (let j = 0; j < b.length; j++) {
      if (sameLabel && a[i].label !== b[j].label) continue;
      const v = iou(a[i], b[j]);
      if (v > 0) pairs.push([i, j, v]);
    }
  pairs.sort((p, q) => q[2] - p[2] || p[0] - q[0] || p[1] - q[1]);
  const ua = new Uint8Array(a.length);
  const ub = new Uint8Array(b.length);
  const out: [number, number, number][] = [];
  for (const p of pairs) if (!ua[p[0]] && !ub[p[1]]) ((ua[p[0]] = 1), (ub[p[1]] = 1), out.push(p));
  return out;
}

/** Box quality against gold over many tasks. */
export interface BoxEvaluation {
  /** Mean over gold boxes of the IoU of their matched prediction (0 when unmatched). */
  readonly meanIou: number;
  /** Predicted boxes matched to a gold box with IoU ≥ 0.5 (and the same label, when both have one) / predicted. */
  readonly precision50: number;
  /** Gold boxes so matched / gold boxes. */
  readonly recall50: number;
  readonly goldBoxes: number;
  readonly predictedBoxes: number;
}

/**
 * Evaluates predicted boxes against gold, task by task (tasks in gold only; a gold task without
 * a prediction has all its gold boxes missed). Matching: greedy one-to-one by decreasing IoU.
 */
export function evaluateBoxes(predicted: ReadonlyMap<string, readonly Box[]>, gold: ReadonlyMap<string, readonly Box[]>): BoxEvaluation {
  let iouSum = 0;
  let tp = 0;
  let nGold = 0;
  let nPred = 0;
  for (const [task, g] of gold) {
    const p = predicted.get(task) ?? [];
    nGold += g.length;
    nPred += p.length;
    for (const [i, j, v] of matchBoxes(p, g)) {
      iouSum += v;
      const labelOk = p[i].label === undefined || g[j].label === undefined || p[i].label === g[j].label;
      if (v >= 0.5 && labelOk) tp++;
    }
  }
  return Object.freeze({
    meanIou: nGold ? iouSum / nGold : 1,
    precision50: nPred ? tp / nPred : nGold ? 0 : 1,
    recall50: nGold ? tp / nGold : 1,
    goldBoxes: nGold,
    predictedBoxes: nPred,
  });
}
