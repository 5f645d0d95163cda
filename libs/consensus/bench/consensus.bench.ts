/**
 * `npm run bench:consensus`: seeded synthetic crowds, fit time, peak RSS and accuracy per method.
 *
 * Crowd: K classes with skewed proportions, r answers per task from uniformly drawn workers;
 * workers are 60% good (accuracy 0.75–0.95, errors skewed towards the next class), 20% noisy
 * (0.4–0.6), 12% spammers (uniformly random) and 8% adversarial (answer the next class).
 * Each (size, method) runs in its own child process so that peak RSS (maxRSS) is its own.
 * Fit time excludes generating the crowd and grouping it by task (`buildCrowd`), which the CLI
 * does while reading; it includes everything `fit` does. The helper thread of the EM methods
 * is started before the crowd is generated, as `tally aggregate` starts it before reading a
 * large file. "fit s" is the first fit in a fresh process (compiling the code, growing the heap,
 * first touches of memory included); "warm" a second fit of the same crowd in that process
 * (what the API's re-estimation job and `auto`'s cross-validation pay; not run at 10M).
 * `--repeat N` runs every cell N times (fresh processes) and prints the minimum and the median:
 * the machine is shared, so single figures are noisy.
 * "cpu s" is the process's CPU time during the fit (all threads: above the wall time when the
 * helper thread works in parallel; on a loaded machine the wall time grows, the CPU time less).
 * "page faults" counts the minor page faults during the fit (first touches of fresh memory: on
 * this VM a fresh 4 KB page costs 10–25 µs, so they are a visible share of a fresh process's fit).
 * The `csv` row times the CLI's reader (`readCsvColumns`) on a 1M-line `task,worker,label` file.
 * `--threads N` sets the EM methods' `threads` option (default: their own default).
 * `--write-csv ANSWERS.csv [GOLD.csv]` only writes the 1M crowd (and its truth) as files.
 * Usage:
 *   node scripts/bench-consensus.js [--sizes 100k,1M,10M] [--methods ds,mv,...] [--repeat 3] [--csv] [--threads 1]
 */
import { execFileSync } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvColumns } from '../../../apps/cli/src/commands/csv-columns';
import { buildCrowd, createEstimator, type CategoricalMethod, warmUpThreads } from '../src';

interface Size {
  name: string;
  answers: number;
  tasks: number;
  workers: number;
}
const SIZES: Size[] = [
  { name: '100k', answers: 100_000, tasks: 20_000, workers: 500 },
  { name: '1M', answers: 1_000_000, tasks: 200_000, workers: 5_000 },
  { name: '10M', answers: 10_000_000, tasks: 2_000_000, workers: 50_000 },
];
const ALL: CategoricalMethod[] = ['mv', 'wmv', 'wawa', 'ds', 'one-coin-ds', 'glad', 'mace', 'bayes-ds', 'auto'];
/** At 10M answers only the linear-time EM methods run (GLAD/auto take minutes there). */
const FAST: CategoricalMethod[] = ['mv', 'wawa', 'ds', 'one-coin-ds', 'mace', 'bayes-ds'];

function generate(size: Size, K = 4, seed = 42) {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = Math.round(size.answers / size.tasks);
  const kind = new Uint8Array(size.workers);
  const acc = new Float64Array(size.workers);
  for (let w = 0; w < size.workers; w++) {
    const u = rnd();
    kind[w] = u < 0.6 ? 0 : u < 0.8 ? 1 : u < 0.92 ? 2 : 3;
    acc[w] = kind[w] === 0 ? 0.75 + 0.2 * rnd() : kind[w] === 1 ? 0.4 + 0.2 * rnd() : 0;
  }
  const props = [0.4, 0.3, 0.2, 0.1];
  const truth = new Int32Array(size.tasks);
  for (let t = 0; t < size.tasks; t++) {
    let u = rnd();
    let k = 0;
    while (k < K - 1 && u >= props[k]) u -= props[k++];
    truth[t] = k;
  }
  const n = size.tasks * r;
  const task = new Int32Array(n);
  const worker = new Int32Array(n);
  const label = new Int32Array(n);
  let i = 0;
  for (let t = 0; t < size.tasks; t++) {
    for (let j = 0; j < r; j++, i++) {
      const w = Math.floor(rnd() * size.workers);
      task[i] = t;
      worker[i] = w;
      const k = truth[t];
      let l: number;
      if (kind[w] === 2) l = Math.floor(rnd() * K);
      else if (kind[w] === 3) l = (k + 1) % K;
      else if (rnd() < acc[w]) l = k;
      else l = rnd() < 0.6 ? (k + 1) % K : Math.floor(rnd() * K);
      label[i] = l;
    }
  }
  const ids = (p: string, m: number) => Array.from({ length: m }, (_, j) => `${p}${j}`);
  return { encoded: { tasks: ids('t', size.tasks), workers: ids('w', size.workers), classes: ['0', '1', '2', '3'], task, worker, label }, truth };
}

function one(sizeName: string, method: CategoricalMethod): void {
  const size = SIZES.find((s) => s.name === sizeName)!;
  // as `tally aggregate` does while it reads a large file: the helper thread boots meanwhile
  warmUpThreads();
  const { encoded, truth } = generate(size);
  const crowd = buildCrowd(encoded);
  const estimator = createEstimator(method, process.env.BENCH_THREADS ? { threads: Number(process.env.BENCH_THREADS) } : {});
  const timed = () => {
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const fit = estimator.fit(crowd);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    return { fit, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, faults: process.resourceUsage().minorPageFault - f0 };
  };
  const cold = timed();
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const { fit } = cold;
  let right = 0;
  for (let t = 0; t < truth.length; t++) if (fit.labelIndex[t] === truth[t]) right++;
  // a second fit of the same crowd in the same process: what a long-running process (the API's
  // re-estimation job, auto's cross-validation) pays once the code is compiled and the heap grown
  const warm = size.answers < 10_000_000 ? timed() : null;
  const out = {
    size: sizeName,
    method,
    answers: crowd.nAnswers,
    fitSeconds: cold.seconds,
    warmSeconds: warm?.seconds,
    cpuSeconds: cold.cpuSeconds,
    peakRssMB,
    accuracy: right / truth.length,
    iterations: fit.iterations,
    converged: fit.converged,
    chosen: fit.chosen?.method,
    faults: cold.faults,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

const LABEL_NAMES = ['cat', 'dog', 'bird', 'fish'];

/** The 1M-answer crowd as `task,worker,label` CSV (string ids, as a real export) at `path`; with `goldPath`, its truth as `task,label`. */
function writeCrowdCsv(path: string, goldPath?: string): void {
  const size = SIZES.find((s) => s.name === '1M')!;
  const { encoded, truth } = generate(size);
  const lines = ['task,worker,label'];
  for (let i = 0; i < encoded.task.length; i++) lines.push(`task-${encoded.task[i]},worker-${encoded.worker[i]},${LABEL_NAMES[encoded.label[i]]}`);
  writeFileSync(path, lines.join('\n') + '\n');
  if (goldPath) writeFileSync(goldPath, ['task,label', ...Array.from(truth, (k, t) => `task-${t},${LABEL_NAMES[k]}`)].join('\n') + '\n');
}

/** Writes the 1M-answer crowd as a CSV and times reading it. */
function csv(): void {
  const path = join(tmpdir(), `tally-bench-${process.pid}.csv`);
  writeCrowdCsv(path);
  try {
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = readCsvColumns(path, ['task', 'worker', 'label']);
    const fitSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(c0);
    const faults = process.resourceUsage().minorPageFault - f0;
    process.stdout.write(JSON.stringify({ size: '1M', method: 'csv', answers: r.rows, fitSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMB: process.resourceUsage().maxRSS / 1024, accuracy: null, iterations: 0, converged: true, faults }) + '\n');
  } finally {
    unlinkSync(path);
  }
}

function main(argv: string[]): void {
  const arg = (k: string) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv[0] === '--one') return one(argv[1], argv[2] as CategoricalMethod);
  if (argv[0] === '--csv-one') return csv();
  // the 1M crowd and its truth as files, e.g. to time `tally aggregate` end to end
  if (argv[0] === '--write-csv') return writeCrowdCsv(argv[1], argv[2]);
  const sizes = (arg('--sizes') ?? '100k,1M,10M').split(',');
  const only = arg('--methods')?.split(',') as CategoricalMethod[] | undefined;
  const repeat = Math.max(1, Number(arg('--repeat') ?? 1));
  if (arg('--threads')) process.env.BENCH_THREADS = arg('--threads');
  const child = (args: string[]) => JSON.parse(execFileSync(process.execPath, [...process.execArgv, process.argv[1], ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim());
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${repeat} run${repeat > 1 ? 's' : ''} per cell)`);
  console.log('size   method       answers   fit s min  median   warm min  median   cpu s min  peak RSS MB  accuracy  iterations  ms/iter (min fit ÷ iterations)  page faults in fit');
  const row = (s: string, m: string, args: string[]) => {
    const runs = Array.from({ length: repeat }, () => child(args));
    const res = runs[0];
    const secs = runs.map((r) => r.fitSeconds as number);
    const warm = runs.map((r) => r.warmSeconds as number | undefined).filter((x): x is number => x !== undefined);
    const warmCols = warm.length ? `${Math.min(...warm).toFixed(3).padStart(9)} ${median(warm).toFixed(3).padStart(7)}` : `${'-'.padStart(9)} ${'-'.padStart(7)}`;
    console.log(
      `${s.padEnd(6)} ${m.padEnd(12)} ${String(res.answers).padStart(9)} ${Math.min(...secs).toFixed(3).padStart(10)} ${median(secs).toFixed(3).padStart(7)} ${warmCols} ${Math.min(...runs.map((r) => r.cpuSeconds as number)).toFixed(3).padStart(10)} ${Math.max(...runs.map((r) => r.peakRssMB as number)).toFixed(0).padStart(13)}  ${res.accuracy == null ? '     -' : res.accuracy.toFixed(4)}  ${String(res.iterations).padStart(10)}${res.converged ? '' : ' (cap)'}${res.iterations > 0 ? ((1000 * Math.min(...secs)) / res.iterations).toFixed(1).padStart(9) : ''}${res.faults != null ? String(res.faults).padStart(10) : ''}${res.chosen ? ` → ${res.chosen}` : ''}`,
    );
  };
  if (argv.includes('--csv')) row('1M', 'csv', ['--csv-one']);
  for (const s of sizes) for (const m of only ?? (s === '10M' ? FAST : ALL)) row(s, m, ['--one', s, m]);
}

main(process.argv.slice(2));
