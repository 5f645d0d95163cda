import { ConsensusError } from './errors';
import { sortLabels } from './labels';

/** One crowd answer in the long format (crowd-kit's `task, worker, label`). */
export interface Answer {
  readonly task: string;
  readonly worker: string;
  readonly label: string;
}

/** A gold (expert) label for a task. */
export interface GoldLabel {
  readonly task: string;
  readonly label: string;
}

/**
 * What to do when the same worker answers the same task more than once:
 * - `keep` (default): every row is an independent observation (crowd-kit's behaviour; the
 *   `adult` and `relevance` sets have such repeats);
 * - `first` / `last`: only the worker's first / last answer on that task counts (input order).
 */
export type RepeatPolicy = 'keep' | 'first' | 'last';

/**
 * Answers already coded as integers, e.g. straight from the CLI's CSV reader or a database
 * query: `task[i]`, `worker[i]`, `label[i]` index into `tasks`, `workers`, `classes`.
 * `classes` is in tie-break order (ties go to the smaller index).
 */
export interface EncodedAnswers {
  readonly tasks: readonly string[];
  readonly workers: readonly string[];
  readonly classes: readonly string[];
  readonly task: Int32Array;
  readonly worker: Int32Array;
  readonly label: Int32Array;
}

/**
 * The compact form every estimator works on: answers grouped by task (CSR layout) with the
 * worker and label fused into one integer `wl = worker * K + label`, so that the inner loops
 * of EM read one Int32Array and index confusion tables directly.
 */
export interface Crowd {
  readonly tasks: readonly string[];
  readonly workers: readonly string[];
  readonly classes: readonly string[];
  readonly nTasks: number;
  readonly nWorkers: number;
  readonly K: number;
  /** Answers kept after the repeat policy. */
  readonly nAnswers: number;
  /** Answers of task t are at positions taskStart[t] .. taskStart[t+1]-1. */
  readonly taskStart: Int32Array;
  readonly ansWorker: Int32Array;
  readonly ansLabel: Int32Array;
  /** worker * K + label, per answer. */
  readonly ansWL: Int32Array;
  /** Rows dropped by the repeat policy. */
  readonly repeatsDropped: number;
}

export interface EncodeOptions {
  /** The label set in tie-break order; default: the labels seen, sorted by `compareLabels`. */
  readonly classes?: readonly string[];
  /** Labels outside `classes`: `error` (default) or `ignore` (the answer is dropped). */
  readonly onUnknownLabel?: 'error' | 'ignore';
}

/** Codes answers as integers: tasks and workers in order of first appearance, classes sorted. */
export function encodeAnswers(answers: readonly Answer[], options: EncodeOptions = {}): EncodedAnswers {
  const taskIx = new Map<string, number>();
  const workerIx = new Map<string, number>();
  const tasks: string[] = [];
  const workers: string[] = [];
  const n = answers.length;
  const task = new Int32Array(n);
  const worker = new Int32Array(n);
  const label = new Int32Array(n);
  let classes: string[];
  let classIx: Map<string, number>;
  if (options.classes) {
    classes = [...options.classes];
    classIx = new Map(classes.map((c, i) => [c, i]));
    if (classIx.size !== classes.length) throw new ConsensusError('INVALID_OPTION', 'classes: duplicate label');
  } else {
    classes = sortLabels(answers.map((a) => a.label));
    classIx = new Map(classes.map((c, i) => [c, i]));
  }
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = answers[i];
    const l = classIx.get(a.label);
    if (l === undefined) {
      if (options.onUnknownLabel === 'ignore') continue;
      throw new ConsensusError('UNKNOWN_LABEL', `label "${a.label}" is not in the label set`);
    }
    let t = taskIx.get(a.task);
    if (t === undefined) {
      t = tasks.length;
      taskIx.set(a.task, t);
      tasks.push(a.task);
    }
    let w = workerIx.get(a.worker);
    if (w === undefined) {
      w = workers.length;
      workerIx.set(a.worker, w);
      workers.push(a.worker);
    }
    task[m] = t;
    worker[m] = w;
    label[m] = l;
    m++;
  }
  return { tasks, workers, classes, task: task.subarray(0, m), worker: worker.subarray(0, m), label: label.subarray(0, m) };
}

/**
 * Groups coded answers by task (a stable counting sort, so the answers of a task stay in input
 * order) and applies the repeat policy.
 */
export function buildCrowd(e: EncodedAnswers, repeats: RepeatPolicy = 'keep'): Crowd {
  const nTasks = e.tasks.length;
  const nWorkers = e.workers.length;
  const K = e.classes.length;
  const n = e.task.length;
  if (e.worker.length !== n || e.label.length !== n) throw new ConsensusError('INVALID_INPUT', 'task, worker and label columns differ in length');
  const big = n >= SHARED_MIN_ANSWERS && typeof SharedArrayBuffer === 'function';
  const start = big ? sharedInt32(nTasks + 1) : new Int32Array(nTasks + 1);
  for (let i = 0; i < n; i++) start[e.task[i] + 1]++;
  for (let t = 0; t < nTasks; t++) start[t + 1] += start[t];
  const fill = start.slice(0, nTasks);
  let ansWorker = new Int32Array(n);
  let ansLabel = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = fill[e.task[i]]++;
    ansWorker[p] = e.worker[i];
    ansLabel[p] = e.label[i];
  }
  let dropped = 0;
  let taskStart = start;
  if (repeats !== 'keep' && n > 0) {
    // stamp[w] = 1 + last task in which worker w was seen: one pass, no hashing.
    const stamp = new Int32Array(nWorkers);
    const keep = new Uint8Array(n);
    for (let t = 0; t < nTasks; t++) {
      const s = start[t];
      const f = start[t + 1];
      if (repeats === 'first') {
        for (let p = s; p < f; p++) if (stamp[ansWorker[p]] !== t + 1) ((stamp[ansWorker[p]] = t + 1), (keep[p] = 1));
      } else {
        for (let p = f - 1; p >= s; p--) if (stamp[ansWorker[p]] !== t + 1) ((stamp[ansWorker[p]] = t + 1), (keep[p] = 1));
      }
    }
    const w2 = new Int32Array(n);
    const l2 = new Int32Array(n);
    taskStart = big ? sharedInt32(nTasks + 1) : new Int32Array(nTasks + 1);
    let m = 0;
    for (let t = 0; t < nTasks; t++) {
      for (let p = start[t]; p < start[t + 1]; p++) {
        if (keep[p]) {
          w2[m] = ansWorker[p];
          l2[m] = ansLabel[p];
          m++;
        }
      }
      taskStart[t + 1] = m;
    }
    dropped = n - m;
    ansWorker = w2.subarray(0, m);
    ansLabel = l2.subarray(0, m);
  }
  const m = ansWorker.length;
  const ansWL = big ? sharedInt32(m) : new Int32Array(m);
  for (let p = 0; p < m; p++) ansWL[p] = ansWorker[p] * K + ansLabel[p];
  return {
    tasks: e.tasks,
    workers: e.workers,
    classes: e.classes,
    nTasks,
    nWorkers,
    K,
    nAnswers: m,
    taskStart,
    ansWorker,
    ansLabel,
    ansWL,
    repeatsDropped: dropped,
  };
}

/**
 * From this many answers, `taskStart` and `ansWL` are allocated in shared memory, so that the EM
 * methods' helper thread (see `FusedEStep`, which shares passes from 500,000 answers) reads them
 * as they are instead of a per-fit copy: at 10M answers that copy was 48 MB of fresh pages
 * (~12,000 page faults) inside every fit.
 */
const SHARED_MIN_ANSWERS = 500_000;

function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(n, 1) * 4), 0, n);
}

/** Input accepted by every categorical estimator's `fit`. */
export type CategoricalInput = readonly Answer[] | EncodedAnswers | Crowd;

export function isCrowd(x: CategoricalInput): x is Crowd {
  return (x as Crowd).taskStart !== undefined;
}

/** Normalises any accepted input to a {@link Crowd}. */
export function toCrowd(input: CategoricalInput, repeats: RepeatPolicy = 'keep', classes?: readonly string[]): Crowd {
  if (isCrowd(input)) return input;
  if (Array.isArray(input)) return buildCrowd(encodeAnswers(input as readonly Answer[], { classes }), repeats);
  return buildCrowd(input as EncodedAnswers, repeats);
}

/**
 * Gold labels as a per-task class index (-1 where a task has no gold, or its gold label is not
 * one of the crowd's classes).
 */
export function goldIndex(crowd: Crowd, gold: readonly GoldLabel[] | ReadonlyMap<string, string> | undefined): Int32Array | null {
  if (!gold) return null;
  const entries: Iterable<readonly [string, string]> = isGoldMap(gold) ? gold.entries() : gold.map((g) => [g.task, g.label] as const);
  const taskIx = new Map(crowd.tasks.map((t, i) => [t, i]));
  const classIx = new Map(crowd.classes.map((c, i) => [c, i]));
  const out = new Int32Array(crowd.nTasks).fill(-1);
  let any = false;
  for (const [task, label] of entries) {
    const t = taskIx.get(task);
    const l = classIx.get(label);
    if (t !== undefined && l !== undefined) ((out[t] = l), (any = true));
  }
  return any ? out : null;
}

function isGoldMap(g: readonly GoldLabel[] | ReadonlyMap<string, string>): g is ReadonlyMap<string, string> {
  return typeof (g as ReadonlyMap<string, string>).get === 'function' && !Array.isArray(g);
}
