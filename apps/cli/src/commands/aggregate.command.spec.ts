import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildCrowd, createEstimator, encodeAnswers, evaluate } from '@tally/consensus';
import { aggregateCommand } from './aggregate.command';
import { readCsvColumns } from './csv-columns';

/** Runs the command and captures what it prints. */
async function run(args: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  let err = '';
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += a.join(' ')));
  try {
    const code = await aggregateCommand(args);
    return { code, out: out.join('\n').split('\n'), err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tally-aggregate-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const answers = file(
  'answers.csv',
  'task,worker,label\n' +
    ['t1,a,x', 't1,b,x', 't1,c,y', 't2,a,y', 't2,b,y', 't2,c,y', '"t,3",a,x', '"t,3",b,"x"', '"t,3",c,x'].join('\n') +
    '\n',
);
const gold = file('gold.csv', 'task,label\nt1,x\nt2,x\n"t,3",x\n');

describe('tally aggregate (categorical)', () => {
  it.each(['mv', 'wmv', 'ds', 'one-coin-ds', 'glad', 'mace', 'wawa', 'bayes-ds', 'auto'])('--method %s prints accuracy as the last line', async (method) => {
    const r = await run(['--answers', answers, '--method', method, '--gold', gold]);
    expect(r.code).toBe(0);
    expect(r.out[r.out.length - 1]).toMatch(/^accuracy: 0\.6667$/);
  });

  it('--out writes task,label,confidence; --json prints one object', async () => {
    const out = join(dir, 'labels.csv');
    const r = await run(['--answers', answers, '--method', 'ds', '--gold', gold, '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    const obj = JSON.parse(r.out[0]);
    expect(Object.keys(obj).sort()).toEqual(['accuracy', 'answers', 'converged', 'fitSeconds', 'iterations', 'method', 'tasks', 'workers'].sort());
    expect(obj).toMatchObject({ method: 'ds', tasks: 3, workers: 3, answers: 9 });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('task,label,confidence');
    expect(lines[3]).toMatch(/^"t,3",x,1\.0+$|^"t,3",x,0\.99/);
  });

  it('usage errors exit 2, missing files exit 1', async () => {
    expect((await run(['--answers', answers, '--method', 'nope'])).code).toBe(2);
    expect((await run(['--method', 'mv'])).code).toBe(2);
    expect((await run(['--answers', join(dir, 'missing.csv'), '--method', 'mv'])).code).toBe(1);
    expect((await run(['--answers', file('bad.csv', 'a,b\n1,2\n'), '--method', 'mv'])).code).toBe(1);
  });
});

// The contract in DESIGN.md ("Contracts"), checked field by field.
describe('tally aggregate: the DESIGN.md contract', () => {
  it('without --json: a summary, and with --gold the last line is "accuracy: 0.XXXX" over the gold tasks', async () => {
    // a gold task nobody answered counts as wrong: 2 right out of 4 gold tasks
    const g = file('gold-extra.csv', 'task,label\nt1,x\nt2,x\n"t,3",x\nnever-answered,x\n');
    const r = await run(['--answers', answers, '--method', 'mv', '--gold', g]);
    expect(r.code).toBe(0);
    expect(r.out[r.out.length - 1]).toBe('accuracy: 0.5000');
    expect(r.out).toEqual(expect.arrayContaining(['tasks: 3', 'workers: 3', 'answers: 9']));
  });

  it('--out writes "task,label,confidence": one row per task, CSV-quoted, confidence in [0, 1]', async () => {
    const out = join(dir, 'contract-out.csv');
    const r = await run(['--answers', answers, '--method', 'mv', '--out', out]);
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('task,label,confidence');
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).map((l) => l.replace(/,[^,]*$/, ''))).toEqual(['t1,x', 't2,y', '"t,3",x']);
    for (const l of lines.slice(1)) {
      const c = Number(l.slice(l.lastIndexOf(',') + 1));
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThanOrEqual(1);
    }
    expect(Number(lines[1].split(',')[2])).toBeCloseTo(2 / 3, 5);
  });

  it('--json prints exactly one JSON object with the contract fields and their types', async () => {
    for (const withGold of [true, false]) {
      const r = await run(['--answers', answers, '--method', 'auto', '--json', ...(withGold ? ['--gold', gold] : [])]);
      expect(r.code).toBe(0);
      expect(r.out).toHaveLength(1);
      const o = JSON.parse(r.out[0]);
      expect(Object.keys(o).sort()).toEqual(['accuracy', 'answers', 'converged', 'fitSeconds', 'iterations', 'method', 'tasks', 'workers']);
      expect(o).toMatchObject({ method: 'auto', tasks: 3, workers: 3, answers: 9 });
      expect(typeof o.converged).toBe('boolean');
      expect(Number.isInteger(o.iterations)).toBe(true);
      expect(o.fitSeconds).toBeGreaterThanOrEqual(0);
      if (withGold) expect(o.accuracy).toBeCloseTo(2 / 3, 10);
      else expect(o.accuracy).toBeNull();
    }
  });

  it('the header may list the columns in any order, with extra columns', async () => {
    const shuffled = file('shuffled.csv', 'label,extra,worker,task\nx,1,a,t1\nx,2,b,t1\ny,3,c,t1\n');
    const r = await run(['--answers', shuffled, '--method', 'ds', '--json']);
    expect(JSON.parse(r.out[0])).toMatchObject({ tasks: 1, workers: 3, answers: 3 });
  });

  it('boxes with --json: one object carrying mean_iou, precision@0.5 and recall@0.5', async () => {
    const b = { x: 0, y: 0, w: 10, h: 10, label: 'car' };
    const ans = file('boxes-json.jsonl', ['a', 'b'].map((worker) => JSON.stringify({ task: 'i', worker, boxes: [b] })).join('\n') + '\n');
    const g = file('boxes-json-gold.jsonl', JSON.stringify({ task: 'i', boxes: [b] }) + '\n');
    const r = await run(['--type', 'boxes', '--answers', ans, '--gold', g, '--method', 'mv', '--json']);
    expect(r.out).toHaveLength(1);
    expect(JSON.parse(r.out[0])).toMatchObject({ mean_iou: 1, 'precision@0.5': 1, 'recall@0.5': 1 });
  });

  // the shared public data sets (beside the repository, as in CI): the CLI's figure is the library's
  const datasets = process.env.TALLY_DATASETS ?? resolve(__dirname, '../../../../../shared/datasets');
  (existsSync(join(datasets, 'bluebirds/answers.csv')) ? it : it.skip).each(['mv', 'ds', 'bayes-ds'])('bluebirds, --method %s: the accuracy line is the library\'s', async (method) => {
    const rows = (f: string) => readFileSync(join(datasets, 'bluebirds', f), 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
    const fit = createEstimator(method as 'mv').fit(buildCrowd(encodeAnswers(rows('answers.csv').map(([task, worker, label]) => ({ task, worker, label })))));
    const expected = evaluate(fit, rows('gold.csv').map(([task, label]) => ({ task, label }))).accuracy;
    const r = await run(['--answers', join(datasets, 'bluebirds/answers.csv'), '--gold', join(datasets, 'bluebirds/gold.csv'), '--method', method]);
    expect(r.code).toBe(0);
    expect(r.out[r.out.length - 1]).toBe(`accuracy: ${expected.toFixed(4)}`);
    expect(expected).toBeGreaterThan(0.75);
  });
});

describe('tally aggregate --type boxes', () => {
  const box = (x: number) => ({ x, y: 0, w: 10, h: 10, label: 'car' });
  const ans = file(
    'boxes.jsonl',
    [
      { task: 'i1', worker: 'a', boxes: [box(0)] },
      { task: 'i1', worker: 'b', boxes: [box(1)] },
      { task: 'i1', worker: 'c', boxes: [box(0), box(50)] },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n'),
  );
  const g = file('boxes-gold.jsonl', JSON.stringify({ task: 'i1', boxes: [box(0)] }) + '\n');
  it('prints mean_iou, precision@0.5 and recall@0.5', async () => {
    const out = join(dir, 'boxes-out.jsonl');
    const r = await run(['--type', 'boxes', '--answers', ans, '--gold', g, '--method', 'auto', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out.slice(-3).map((l) => l.split(':')[0])).toEqual(['mean_iou', 'precision@0.5', 'recall@0.5']);
    expect(r.out.find((l) => l.startsWith('recall@0.5'))).toBe('recall@0.5: 1.0000');
    expect(JSON.parse(readFileSync(out, 'utf8').trim()).boxes).toHaveLength(1);
  });
});

describe('tally aggregate --type spans / text / multi-label', () => {
  it('spans', async () => {
    const s = { start: 0, end: 2, label: 'PER' };
    const ans = file('spans.jsonl', ['a', 'b', 'c'].map((w) => JSON.stringify({ task: 's1', worker: w, spans: w === 'c' ? [] : [s], length: 5 })).join('\n'));
    const g = file('spans-gold.jsonl', JSON.stringify({ task: 's1', spans: [s] }));
    const r = await run(['--type', 'spans', '--answers', ans, '--gold', g, '--method', 'mv']);
    expect(r.out).toContain('exact_f1: 1.0000');
  });
  it('text', async () => {
    const ans = file('text.jsonl', [['a', 'hello world'], ['b', 'Hello  world'], ['c', 'bye']].map(([w, t]) => JSON.stringify({ task: 'q', worker: w, text: t })).join('\n'));
    const g = file('text-gold.jsonl', JSON.stringify({ task: 'q', text: 'hello world' }));
    const r = await run(['--type', 'text', '--answers', ans, '--gold', g, '--method', 'mv', '--json']);
    expect(JSON.parse(r.out[0]).accuracy).toBe(1);
  });
  it('multi-label', async () => {
    const ans = file('ml.jsonl', [['a', ['x', 'y']], ['b', ['x']], ['c', ['x', 'y']]].map(([w, l]) => JSON.stringify({ task: 'm', worker: w, labels: l })).join('\n'));
    const g = file('ml-gold.jsonl', JSON.stringify({ task: 'm', labels: ['y', 'x'] }));
    const r = await run(['--type', 'multi-label', '--answers', ans, '--gold', g, '--method', 'ds']);
    expect(r.out[r.out.length - 1]).toBe('accuracy: 1.0000');
  });
});

describe('tally aggregate: bad input is refused with the file, line and problem, nothing half-done', () => {
  it('unknown options and stray arguments are usage errors (a mistyped --gold must not silently drop the score)', async () => {
    const r = await run(['--answers', answers, '--method', 'mv', '--gol', gold]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option --gol/);
    expect((await run(['--answers', answers, '--method', 'mv', 'extra'])).err).toMatch(/unexpected argument "extra"/);
    // an option that takes a value, given none
    for (const args of [['--gold='], ['--gold'], ['--out', '--json']]) {
      const r2 = await run(['--answers', answers, '--method', 'mv', ...args]);
      expect(r2.code).toBe(2);
      expect(r2.err).toMatch(/--(gold|out) needs a value/);
    }
    expect((await run(['--answers', answers, '--method', 'mv', '--json', 'extra'])).err).toMatch(/unexpected argument "extra" \(--json takes no value\)/);
  });

  it('a directory, an empty answer file, empty or contradictory gold', async () => {
    const d = await run(['--answers', dir, '--method', 'mv']);
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/^tally aggregate: .*EISDIR/);
    const empty = await run(['--answers', file('header-only.csv', 'task,worker,label\n'), '--method', 'mv']);
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/header-only\.csv: no answers/);
    expect((await run(['--answers', answers, '--method', 'mv', '--gold', file('gold-empty.csv', 'task,label\n')])).err).toMatch(/gold-empty\.csv: no gold rows/);
    expect((await run(['--answers', answers, '--method', 'mv', '--gold', file('gold-twice.csv', 'task,label\nt1,x\nt1,y\n')])).err).toMatch(/task "t1" has two different gold answers/);
    // the same gold row twice counts once: t1 right, t2 wrong -> 0.5, not 0.6667
    const twice = await run(['--answers', answers, '--method', 'mv', '--gold', file('gold-dup.csv', 'task,label\nt1,x\nt1,x\nt2,x\n')]);
    expect(twice.out[twice.out.length - 1]).toBe('accuracy: 0.5000');
    // the same gold boxes listed twice in another order are the same gold
    const bx = (x: number) => ({ x, y: 0, w: 10, h: 10, label: 'car' });
    const boxAnswers = file('gold-order.jsonl', JSON.stringify({ task: 'i', worker: 'w', boxes: [bx(0)] }));
    const boxGold = file('gold-order-gold.jsonl', [JSON.stringify({ task: 'i', boxes: [bx(0), bx(50)] }), JSON.stringify({ task: 'i', boxes: [bx(50), bx(0)] })].join('\n'));
    expect((await run(['--type', 'boxes', '--answers', boxAnswers, '--gold', boxGold, '--method', 'mv'])).code).toBe(0);
    const jsonl = await run(['--type', 'boxes', '--answers', file('empty.jsonl', '\n'), '--method', 'mv']);
    expect(jsonl.code).toBe(1);
    expect(jsonl.err).toMatch(/empty\.jsonl: no records/);
  });

  it('an empty label is an error, not a vote', async () => {
    const r = await run(['--answers', file('empty-vote.csv', 'task,worker,label\nt1,w1,\nt1,w2,a\n'), '--method', 'mv']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/empty-vote\.csv:2: empty "label"/);
  });

  it('spans must lie inside the text and not overlap; task and worker must not be empty', async () => {
    const beyond = file('span-beyond.jsonl', JSON.stringify({ task: 's', worker: 'a', spans: [{ start: 2, end: 5, label: 'X' }], length: 3 }));
    expect((await run(['--type', 'spans', '--answers', beyond, '--method', 'mv'])).err).toMatch(/span-beyond\.jsonl:1: span \[2, 5\) is outside 0\.\.3/);
    const overlap = file('span-overlap.jsonl', JSON.stringify({ task: 's', worker: 'a', spans: [{ start: 0, end: 2, label: 'X' }, { start: 1, end: 3, label: 'Y' }] }));
    expect((await run(['--type', 'spans', '--answers', overlap, '--method', 'mv'])).err).toMatch(/span-overlap\.jsonl:1: spans overlap/);
    const noWorker = file('no-worker.jsonl', JSON.stringify({ task: 's', worker: '', text: 'x' }));
    expect((await run(['--type', 'text', '--answers', noWorker, '--method', 'mv'])).err).toMatch(/no-worker\.jsonl:1: "worker" must not be empty/);
  });

  it('boxes: a worker who submits a task twice is one annotator (first answer), unless --repeats keep', async () => {
    const b = { x: 0, y: 0, w: 10, h: 10, label: 'car' };
    const lines = [
      { task: 'i', worker: 'w1', boxes: [b] },
      { task: 'i', worker: 'w1', boxes: [b] },
      { task: 'i', worker: 'w2', boxes: [b] },
    ];
    const p = file('boxes-repeat.jsonl', lines.map((l) => JSON.stringify(l)).join('\n'));
    const out = join(dir, 'boxes-repeat-out.jsonl');
    const r = await run(['--type', 'boxes', '--answers', p, '--method', 'mv', '--out', out]);
    expect(r.out).toEqual(expect.arrayContaining(['answers: 2', 'workers: 2']));
    expect(JSON.parse(readFileSync(out, 'utf8').trim()).boxes).toHaveLength(1);
    const keep = await run(['--type', 'boxes', '--answers', p, '--method', 'mv', '--repeats', 'keep']);
    expect(keep.out).toContain('answers: 3');
  });
});

describe('readCsvColumns', () => {
  it('handles quotes, escaped quotes, CRLF, a BOM, blank lines and chunk boundaries', () => {
    const text = '\ufefftask,worker,label\r\n"a ""quoted"", task",w1,x\r\n\r\nb,w2,"multi\nline"\nb,w1,x';
    const p = file('tricky.csv', text);
    for (const chunk of [4, 7, 64, 1 << 16]) {
      const r = readCsvColumns(p, ['task', 'label'], chunk);
      expect(r.rows).toBe(3);
      expect(r.columns.task.values).toEqual(['a "quoted", task', 'b']);
      expect(r.columns.label.values).toEqual(['x', 'multi\nline']);
      expect(Array.from(r.columns.label.codes)).toEqual([0, 1, 0]);
    }
  });

  it('old Mac line ends (CR alone), a quote inside an unquoted field and repeated values at any chunk size', () => {
    const p = file('cr.csv', 'task,worker,label\rt1,w1,a"b\rt1,w2,x\rt1,w2,x\rt2,w1,x');
    for (const chunk of [3, 5, 8, 1 << 16]) {
      const r = readCsvColumns(p, ['task', 'worker', 'label'], chunk);
      expect(r.rows).toBe(4);
      expect(r.columns.label.values).toEqual(['a"b', 'x']);
      expect(Array.from(r.columns.task.codes)).toEqual([0, 0, 0, 1]);
      expect(Array.from(r.columns.worker.codes)).toEqual([0, 1, 1, 0]);
    }
  });

  it('reports a bad line by its number after runs of plain lines, blank lines and CRLF ends, at any chunk size', () => {
    const p = file('short.csv', 'task,worker,label\nt1,w1,x\r\nt2,w2,y\n\nt3,w1,x,extra\nt4,w2\nt5,w1,x\n');
    for (const chunk of [5, 9, 1 << 16]) expect(() => readCsvColumns(p, ['task', 'worker', 'label'], chunk)).toThrow(`${p}:6: expected at least 3 fields, got 2`);
    const q = file('quote.csv', 'task,worker,label\nt1,w1,x\nt2,"w2"x,y\n');
    expect(() => readCsvColumns(q, ['task', 'worker', 'label'])).toThrow(`${q}:3: characters after a closing quote`);
  });

  it('refuses an empty task, worker or label, naming the line and the column, at any chunk size', () => {
    const p = file('empty-label.csv', 'task,worker,label\nt1,w1,a\nt1,w2,\n');
    for (const chunk of [4, 9, 1 << 16]) expect(() => readCsvColumns(p, ['task', 'worker', 'label'], chunk)).toThrow(`${p}:3: empty "label"`);
    const q = file('empty-worker.csv', 'task,worker,label\nt1,w1,a\nt1,"",b\n');
    expect(() => readCsvColumns(q, ['task', 'worker', 'label'])).toThrow(`${q}:3: empty "worker"`);
    // a column nobody asked for may be empty
    const r = readCsvColumns(file('empty-other.csv', 'task,worker,label,note\nt1,w1,a,\n'), ['task', 'worker', 'label']);
    expect(r.rows).toBe(1);
  });

  it('interns many distinct values across chunk boundaries', () => {
    // (speed is measured by `npm run bench:consensus`, not here: jest's sandbox slows typed-array code)
    const lines = ['task,worker,label'];
    for (let i = 0; i < 100_000; i++) lines.push(`task${i % 20000},worker${i % 500},${i % 4}`);
    const p = file('big.csv', lines.join('\n') + '\n');
    const r = readCsvColumns(p, ['task', 'worker', 'label'], 1 << 16);
    expect(r.rows).toBe(100_000);
    expect(r.columns.task.values).toHaveLength(20000);
    expect(r.columns.task.values[r.columns.task.codes[99_999]]).toBe('task19999');
    expect(r.columns.worker.values[r.columns.worker.codes[777]]).toBe('worker277');
  });
});
