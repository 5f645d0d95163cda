import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
