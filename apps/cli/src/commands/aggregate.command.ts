import { readFileSync, statSync, writeFileSync } from 'node:fs';
import {
  aggregateBoxes,
  aggregateMultiLabel,
  aggregateSpans,
  aggregateText,
  type Box,
  buildCrowd,
  CATEGORICAL_METHODS,
  type CategoricalMethod,
  compareLabels,
  ConsensusError,
  createEstimator,
  evaluateBoxes,
  evaluateSpans,
  type FusedBox,
  isCategoricalMethod,
  iou,
  type MultiLabelAnswer,
  normalizedEditDistance,
  PARALLEL_MIN_ANSWERS,
  type RepeatPolicy,
  type Span,
  type SpanAnswer,
  spansToBio,
  type WorkerBoxes,
  warmUpThreads,
} from '@tally/consensus';
import { CsvError, readCsvColumns } from './csv-columns';
import { parseFlags } from './flags';

const TYPES = ['categorical', 'multi-label', 'boxes', 'spans', 'text'] as const;
const VALUE_FLAGS = ['answers', 'method', 'gold', 'out', 'type', 'repeats'];
const FLAGS = [...VALUE_FLAGS, 'json', 'help'];
type AnswerType = (typeof TYPES)[number];

export const AGGREGATE_USAGE = `tally aggregate --answers FILE --method M [--gold FILE] [--out FILE] [--json] [--type T] [--repeats P]

  --type categorical (default)  answers CSV "task,worker,label", gold CSV "task,label"
         multi-label            JSONL {"task","worker","labels":[...]}; gold {"task","labels":[...]}
         boxes                  JSONL {"task","worker","boxes":[{"x","y","w","h","label"}]}; gold {"task","boxes":[...]}
         spans                  JSONL {"task","worker","spans":[{"start","end","label"}],"length"?}; gold {"task","spans":[...]}
         text                   JSONL {"task","worker","text"}; gold {"task","text"}
  --method ${CATEGORICAL_METHODS.join(' | ')}
         (boxes: mv = equal weights, anything else = reliability-weighted; text: medoid, method ignored)
  --repeats keep | first | last   a worker answering a task twice: keep = both count (default for
                 categorical, multi-label and spans), first (default for boxes and text: one
                 annotation per worker), last
  --out FILE    categorical: CSV task,label,confidence; other types: JSONL
  --json        print one JSON object instead of lines
  --gold is only used to score the result, never to fit it.`;

/**
 * `tally aggregate`: reads crowd answers, aggregates them with one method and prints a summary;
 * with `--gold` the last line printed is `accuracy: 0.XXXX` (categorical and multi-label) or the
 * box / span / text scores. Returns the process exit code (0 ok, 1 failure, 2 usage error).
 */
export async function aggregateCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv);
  if (flags.help !== undefined || argv.includes('-h') || argv.length === 0) {
    console.log(AGGREGATE_USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const unknown = Object.keys(flags).filter((k) => k !== '_' && !FLAGS.includes(k));
  if (unknown.length) return usage(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `--${k}`).join(', ')}`);
  // options that take a value need one (a bare `--gold` or `--gold=` must not silently drop the score)
  for (const k of VALUE_FLAGS) if (flags[k] !== undefined && (flags[k] === '' || flags[k] === 'true')) return usage(`--${k} needs a value`);
  if (flags.json !== undefined && flags.json !== 'true' && flags.json !== 'false') return usage(`unexpected argument "${flags.json}" (--json takes no value)`);
  if (flags._) return usage(`unexpected argument "${flags._}"`);
  const answers = flags.answers;
  const method = flags.method ?? 'auto';
  const type = (flags.type ?? 'categorical') as AnswerType;
  // boxes and text: one annotation per worker (a repeated box would form its own cluster)
  const repeats = (flags.repeats ?? (type === 'boxes' || type === 'text' ? 'first' : 'keep')) as RepeatPolicy;
  if (!answers) return usage('--answers FILE is required');
  if (!(TYPES as readonly string[]).includes(type)) return usage(`--type must be one of ${TYPES.join(', ')}`);
  if (!isCategoricalMethod(method)) return usage(`--method must be one of ${CATEGORICAL_METHODS.join(', ')}`);
  if (!['keep', 'first', 'last'].includes(repeats)) return usage('--repeats must be keep, first or last');
  const json = flags.json !== undefined && flags.json !== 'false';
  const opts: RunOptions = { answers, method, gold: flags.gold, out: flags.out, json, repeats };
  try {
    switch (type) {
      case 'categorical':
        return runCategorical(opts);
      case 'multi-label':
        return runMultiLabel(opts);
      case 'boxes':
        return runBoxes(opts);
      case 'spans':
        return runSpans(opts);
      case 'text':
        return runText(opts);
    }
  } catch (err) {
    // file system errors (ENOENT, EISDIR, EACCES...) name the path in their message
    if (err instanceof CsvError || err instanceof ConsensusError || err instanceof InputError || typeof (err as NodeJS.ErrnoException).code === 'string') {
      console.error(`tally aggregate: ${(err as Error).message}`);
      return 1;
    }
    throw err;
  }
}

interface RunOptions {
  answers: string;
  method: CategoricalMethod;
  gold?: string;
  out?: string;
  json: boolean;
  repeats: RepeatPolicy;
}

class InputError extends Error {}

function usage(message: string): number {
  console.error(`tally aggregate: ${message}\n\n${AGGREGATE_USAGE}`);
  return 2;
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const fmt = (x: number) => x.toFixed(4);

/** Quotes a CSV field when it needs it. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function runCategorical(o: RunOptions): number {
  // a large file (~28 bytes a line): boot the EM helper thread while the file is read
  if (statSync(o.answers).size > PARALLEL_MIN_ANSWERS * 16) warmUpThreads();
  const csv = readCsvColumns(o.answers, ['task', 'worker', 'label']);
  if (csv.rows === 0) throw new InputError(`${o.answers}: no answers (only a header)`);
  const { task, worker, label } = csv.columns;
  // classes in compareLabels order: the documented tie-break order
  const classes = [...label.values].sort(compareLabels);
  const rank = new Int32Array(label.values.length);
  label.values.forEach((v, i) => (rank[i] = classes.indexOf(v)));
  const codes = new Int32Array(csv.rows);
  for (let i = 0; i < csv.rows; i++) codes[i] = rank[label.codes[i]];
  const crowd = buildCrowd({ tasks: task.values, workers: worker.values, classes, task: task.codes, worker: worker.codes, label: codes }, o.repeats);
  const t0 = process.hrtime.bigint();
  const fit = createEstimator(o.method).fit(crowd);
  const fitSeconds = seconds(t0);
  if (o.out) {
    const lines = ['task,label,confidence'];
    for (let t = 0; t < fit.tasks.length; t++) lines.push(`${csvField(fit.tasks[t])},${csvField(fit.labels[t])},${fit.confidence[t].toFixed(6)}`);
    writeFileSync(o.out, lines.join('\n') + '\n');
  }
  let accuracy: number | null = null;
  if (o.gold) {
    accuracy = goldAccuracy(o.gold, fit.tasks, fit.labelIndex, fit.classes);
  }
  const summary = {
    method: o.method,
    tasks: crowd.nTasks,
    workers: crowd.nWorkers,
    answers: crowd.nAnswers,
    accuracy,
    iterations: fit.iterations,
    converged: fit.converged,
    fitSeconds: Number(fitSeconds.toFixed(6)),
  };
  if (o.json) console.log(JSON.stringify(summary));
  else {
    console.log(`method: ${o.method}${fit.chosen ? ` (chose ${fit.chosen.method})` : ''}`);
    console.log(`tasks: ${summary.tasks}\nworkers: ${summary.workers}\nanswers: ${summary.answers}`);
    if (crowd.repeatsDropped) console.log(`repeats dropped: ${crowd.repeatsDropped}`);
    console.log(`iterations: ${fit.iterations}\nconverged: ${fit.converged}\nfit seconds: ${fitSeconds.toFixed(3)}`);
    if (o.out) console.log(`wrote ${fit.tasks.length} labels to ${o.out}`);
    if (accuracy !== null) console.log(`accuracy: ${fmt(accuracy)}`);
  }
  return 0;
}

/**
 * Share of the gold tasks (a CSV `task,label`) whose label is `labelIndex`'s; a gold task nobody
 * answered counts as wrong. Typed arrays over the interned gold columns (200k gold rows: no
 * object per row); the same checks as {@link goldMap}.
 */
function goldAccuracy(path: string, tasks: readonly string[], labelIndex: Int32Array, classes: readonly string[]): number {
  const g = readCsvColumns(path, ['task', 'label']);
  const { task: gt, label: gl } = g.columns;
  if (g.rows === 0) throw new InputError(`${path}: no gold rows`);
  // gold task → its label (a gold label code), -1 until seen
  const goldLabel = new Int32Array(gt.values.length).fill(-1);
  for (let i = 0; i < g.rows; i++) {
    const t = gt.codes[i];
    const l = gl.codes[i];
    if (goldLabel[t] >= 0 && goldLabel[t] !== l) throw new InputError(`${path}: task "${gt.values[t]}" has two different gold answers`);
    goldLabel[t] = l;
  }
  // gold label code → class index (-1: a label no worker gave, never right)
  const classOf = Int32Array.from(gl.values, (v) => classes.indexOf(v));
  const goldIx = new Map<string, number>();
  gt.values.forEach((v, i) => goldIx.set(v, i));
  let right = 0;
  for (let t = 0; t < tasks.length; t++) {
    const gi = goldIx.get(tasks[t]);
    if (gi !== undefined && classOf[goldLabel[gi]] === labelIndex[t]) right++;
  }
  return right / gt.values.length;
}

/** Parses a JSONL file; `check` validates (and may narrow) each record. */
function readJsonl<T>(path: string, check: (v: Record<string, unknown>, where: string) => T): T[] {
  const out: T[] = [];
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${path}:${i + 1}`;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        throw new InputError(`${where}: not valid JSON`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${where}: expected a JSON object`);
      out.push(check(v as Record<string, unknown>, where));
    });
  if (out.length === 0) throw new InputError(`${path}: no records (expected one JSON object per line)`);
  return out;
}

/**
 * Gold as task → value. A task listed twice must carry the same value (then it counts once);
 * gold with no task at all is an error (every score would be vacuous).
 */
function goldMap<V>(entries: Iterable<readonly [string, V]>, path: string, same: (a: V, b: V) => boolean): Map<string, V> {
  const out = new Map<string, V>();
  for (const [task, v] of entries) {
    const prev = out.get(task);
    if (prev !== undefined && !same(prev, v)) throw new InputError(`${path}: task "${task}" has two different gold answers`);
    out.set(task, v);
  }
  if (out.size === 0) throw new InputError(`${path}: no gold rows`);
  return out;
}

/** Two lists of gold items (boxes, spans, labels) hold the same items, in any order. */
const sameItems = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && JSON.stringify(a.map((x) => JSON.stringify(x)).sort()) === JSON.stringify(b.map((x) => JSON.stringify(x)).sort());

/** A string field (a number is taken as its decimal text); empty only where `allowEmpty` (a text answer may be). */
const str = (v: Record<string, unknown>, k: string, where: string, allowEmpty = false): string => {
  const x = v[k];
  if (typeof x === 'string') {
    if (x === '' && !allowEmpty) throw new InputError(`${where}: "${k}" must not be empty`);
    return x;
  }
  if (typeof x === 'number') return String(x);
  throw new InputError(`${where}: "${k}" must be a string`);
};

const arr = (v: Record<string, unknown>, k: string, where: string): unknown[] => {
  const x = v[k];
  if (!Array.isArray(x)) throw new InputError(`${where}: "${k}" must be an array`);
  return x;
};

function toBox(b: unknown, where: string): Box {
  const r = b as Record<string, unknown>;
  const n = (k: string) => {
    if (typeof r?.[k] !== 'number' || !Number.isFinite(r[k])) throw new InputError(`${where}: box "${k}" must be a number`);
    return r[k] as number;
  };
  const box: Box = { x: n('x'), y: n('y'), w: n('w'), h: n('h'), ...(r.label !== undefined ? { label: String(r.label) } : {}) };
  if (!(box.w > 0 && box.h > 0)) throw new InputError(`${where}: boxes need a positive width and height`);
  return box;
}

function toSpan(s: unknown, where: string): Span {
  const r = s as Record<string, unknown>;
  if (!Number.isInteger(r?.start) || !Number.isInteger(r?.end)) throw new InputError(`${where}: span "start" and "end" must be integers`);
  return { start: r.start as number, end: r.end as number, label: String(r.label ?? '') };
}

/** An answer's spans (and `length`, if given), checked: inside the text, no overlap. */
function spansWithLength(v: Record<string, unknown>, where: string): { spans: Span[]; length?: number } {
  const spans = arr(v, 'spans', where).map((s) => toSpan(s, where));
  if (v.length !== undefined && !(Number.isInteger(v.length) && (v.length as number) >= 0)) throw new InputError(`${where}: "length" must be a non-negative integer`);
  const length = v.length as number | undefined;
  try {
    spansToBio(spans, length ?? Math.max(0, ...spans.map((s) => s.end)));
  } catch (err) {
    throw new InputError(`${where}: ${(err as Error).message}${length !== undefined ? ' (length ' + length + ')' : ''}`);
  }
  return length !== undefined ? { spans, length } : { spans };
}

function printScores(o: RunOptions, base: Record<string, unknown>, scores: [string, number][] | null): void {
  if (o.json) {
    const obj: Record<string, unknown> = { ...base };
    for (const [k, v] of scores ?? []) obj[k] = Number(v.toFixed(6));
    console.log(JSON.stringify(obj));
    return;
  }
  for (const [k, v] of Object.entries(base)) if (v !== null && v !== undefined) console.log(`${k === 'fitSeconds' ? 'fit seconds' : k}: ${v}`);
  for (const [k, v] of scores ?? []) console.log(`${k}: ${fmt(v)}`);
}

const groupBy = <T extends { task: string }>(xs: T[]) => {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    let a = m.get(x.task);
    if (!a) m.set(x.task, (a = []));
    a.push(x);
  }
  return m;
};

function dedupe<T extends { task: string; worker: string }>(xs: T[], repeats: RepeatPolicy): T[] {
  if (repeats === 'keep') return xs;
  const seen = new Map<string, number>();
  const out: T[] = [];
  for (const x of xs) {
    const k = `${x.task}\u0000${x.worker}`;
    const at = seen.get(k);
    if (at === undefined) (seen.set(k, out.length), out.push(x));
    else if (repeats === 'last') out[at] = x;
  }
  return out;
}

/**
 * Boxes: per task, `aggregateBoxes`. With any method but `mv`, two passes: equal weights first,
 * then each worker's weight is their reliability = mean IoU of their boxes with the matched
 * consensus box (unmatched boxes and missed consensus boxes count 0), floored at 0.05.
 */
function runBoxes(o: RunOptions): number {
  const answers = dedupe(
    readJsonl(o.answers, (v, w) => ({ task: str(v, 'task', w), worker: str(v, 'worker', w), boxes: arr(v, 'boxes', w).map((b) => toBox(b, w)) })),
    o.repeats,
  );
  const t0 = process.hrtime.bigint();
  const byTask = groupBy(answers);
  const run = (weights?: Record<string, number>) => {
    const res = new Map<string, FusedBox[]>();
    for (const [task, list] of byTask) res.set(task, aggregateBoxes(list as WorkerBoxes[], { workerWeights: weights }));
    return res;
  };
  let result = run();
  let iterations = 1;
  if (o.method !== 'mv') {
    const sum = new Map<string, number>();
    const cnt = new Map<string, number>();
    for (const [task, list] of byTask) {
      const fused = result.get(task)!;
      for (const a of list) {
        const matched = matchBoxesScore(a.boxes, fused);
        sum.set(a.worker, (sum.get(a.worker) ?? 0) + matched.score);
        cnt.set(a.worker, (cnt.get(a.worker) ?? 0) + matched.n);
      }
    }
    const weights: Record<string, number> = {};
    for (const [w, s] of sum) weights[w] = Math.max(0.05, cnt.get(w) ? s / cnt.get(w)! : 1);
    result = run(weights);
    iterations = 2;
  }
  const fitSeconds = seconds(t0);
  if (o.out) {
    const lines = [...result].map(([task, boxes]) =>
      JSON.stringify({ task, boxes: boxes.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, ...(b.label !== undefined ? { label: b.label } : {}), confidence: b.confidence })) }),
    );
    writeFileSync(o.out, lines.join('\n') + '\n');
  }
  let scores: [string, number][] | null = null;
  if (o.gold) {
    const gold = goldMap(readJsonl(o.gold, (v, w) => [str(v, 'task', w), arr(v, 'boxes', w).map((b) => toBox(b, w))] as const), o.gold, sameItems);
    const e = evaluateBoxes(result, gold);
    scores = [
      ['mean_iou', e.meanIou],
      ['precision@0.5', e.precision50],
      ['recall@0.5', e.recall50],
    ];
  }
  const workers = new Set(answers.map((a) => a.worker)).size;
  printScores(o, { method: o.method, type: 'boxes', tasks: byTask.size, workers, answers: answers.length, iterations, fitSeconds: Number(fitSeconds.toFixed(6)) }, scores);
  return 0;
}

/** IoU credit of one worker's boxes against the consensus boxes (greedy matching). */
function matchBoxesScore(mine: readonly Box[], consensus: readonly Box[]): { score: number; n: number } {
  const used = new Uint8Array(consensus.length);
  let score = 0;
  for (const b of mine) {
    let best = -1;
    let bv = 0;
    consensus.forEach((c, j) => {
      const v = used[j] ? 0 : iou(b, c);
      if (v > bv) ((bv = v), (best = j));
    });
    if (best >= 0) ((used[best] = 1), (score += bv));
  }
  return { score, n: Math.max(mine.length, consensus.length) };
}

function runSpans(o: RunOptions): number {
  const answers: SpanAnswer[] = dedupe(
    readJsonl(o.answers, (v, w) => ({
      task: str(v, 'task', w),
      worker: str(v, 'worker', w),
      ...spansWithLength(v, w),
    })),
    o.repeats,
  );
  const t0 = process.hrtime.bigint();
  const result = aggregateSpans(answers, { method: o.method });
  const fitSeconds = seconds(t0);
  if (o.out) {
    writeFileSync(o.out, result.map((r) => JSON.stringify({ task: r.task, spans: r.spans.map((s, i) => ({ ...s, confidence: r.confidence[i] })) })).join('\n') + '\n');
  }
  let scores: [string, number][] | null = null;
  if (o.gold) {
    const gold = goldMap(readJsonl(o.gold, (v, w) => [str(v, 'task', w), spansWithLength(v, w).spans] as const), o.gold, sameItems);
    const e = evaluateSpans(new Map(result.map((r) => [r.task, r.spans])), gold);
    scores = [
      ['exact_precision', e.exact.precision],
      ['exact_recall', e.exact.recall],
      ['exact_f1', e.exact.f1],
      ['overlap_precision', e.overlap.precision],
      ['overlap_recall', e.overlap.recall],
      ['overlap_f1', e.overlap.f1],
    ];
  }
  const workers = new Set(answers.map((a) => a.worker)).size;
  printScores(o, { method: o.method, type: 'spans', tasks: result.length, workers, answers: answers.length, fitSeconds: Number(fitSeconds.toFixed(6)) }, scores);
  return 0;
}

function runText(o: RunOptions): number {
  const answers = dedupe(
    readJsonl(o.answers, (v, w) => ({ task: str(v, 'task', w), worker: str(v, 'worker', w), text: str(v, 'text', w, true) })),
    o.repeats,
  );
  const t0 = process.hrtime.bigint();
  const result = new Map([...groupBy(answers)].map(([task, list]) => [task, aggregateText(list)] as const));
  const fitSeconds = seconds(t0);
  if (o.out) writeFileSync(o.out, [...result].map(([task, r]) => JSON.stringify({ task, text: r.text, confidence: r.confidence })).join('\n') + '\n');
  let scores: [string, number][] | null = null;
  if (o.gold) {
    const gold = [...goldMap(readJsonl(o.gold, (v, w) => [str(v, 'task', w), str(v, 'text', w, true)] as const), o.gold, (a, b) => a === b)];
    const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();
    let exact = 0;
    let dist = 0;
    for (const [task, text] of gold) {
      const p = result.get(task)?.text;
      if (p !== undefined && norm(p) === norm(text)) exact++;
      dist += p === undefined ? 1 : normalizedEditDistance(norm(p), norm(text));
    }
    scores = [
      ['mean_edit_distance', gold.length ? dist / gold.length : 0],
      ['accuracy', gold.length ? exact / gold.length : 0],
    ];
  }
  const workers = new Set(answers.map((a) => a.worker)).size;
  printScores(o, { method: 'medoid', type: 'text', tasks: result.size, workers, answers: answers.length, fitSeconds: Number(fitSeconds.toFixed(6)) }, scores);
  return 0;
}

function runMultiLabel(o: RunOptions): number {
  const answers: MultiLabelAnswer[] = dedupe(
    readJsonl(o.answers, (v, w) => ({ task: str(v, 'task', w), worker: str(v, 'worker', w), labels: arr(v, 'labels', w).map(String) })),
    o.repeats,
  );
  const t0 = process.hrtime.bigint();
  const r = aggregateMultiLabel(answers, { method: o.method });
  const fitSeconds = seconds(t0);
  if (o.out) writeFileSync(o.out, r.tasks.map((task, i) => JSON.stringify({ task, labels: r.labels[i], confidence: r.confidence[i] })).join('\n') + '\n');
  let scores: [string, number][] | null = null;
  if (o.gold) {
    const gold = [...goldMap(readJsonl(o.gold, (v, w) => [str(v, 'task', w), arr(v, 'labels', w).map(String)] as const), o.gold, sameItems)];
    const ix = new Map(r.tasks.map((t, i) => [t, i]));
    let exact = 0;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const [task, labels] of gold) {
      const i = ix.get(task);
      const pred = new Set(i === undefined ? [] : r.labels[i]);
      const g = new Set(labels);
      if (i !== undefined && pred.size === g.size && [...g].every((l) => pred.has(l))) exact++;
      for (const l of pred) (g.has(l) ? tp++ : fp++);
      for (const l of g) if (!pred.has(l)) fn++;
    }
    scores = [
      ['micro_f1', tp ? (2 * tp) / (2 * tp + fp + fn) : 0],
      ['accuracy', gold.length ? exact / gold.length : 0],
    ];
  }
  const workers = new Set(answers.map((a) => a.worker)).size;
  printScores(o, { method: o.method, type: 'multi-label', tasks: r.tasks.length, workers, answers: answers.length, fitSeconds: Number(fitSeconds.toFixed(6)) }, scores);
  return 0;
}
