import { cohenKappa, fleissKappa, krippendorffAlpha, meanPairwiseIou, pairwiseSpanF1, percentAgreement } from './agreement';
import { aggregateBoxes, evaluateBoxes, iou } from './boxes';
import { evaluate } from './evaluation';
import { aggregateSpans, bioToSpans, evaluateSpans, spansToBio } from './spans';
import { aggregateText, normalizedEditDistance } from './text';

describe('boxes', () => {
  const a = { x: 0, y: 0, w: 10, h: 10, label: 'car' };
  it('iou', () => {
    expect(iou(a, a)).toBe(1);
    expect(iou(a, { x: 5, y: 0, w: 10, h: 10 })).toBeCloseTo(50 / 150);
    expect(iou(a, { x: 20, y: 20, w: 1, h: 1 })).toBe(0);
  });
  it('fuses matching boxes, one per worker per cluster, and drops weak clusters', () => {
    const fused = aggregateBoxes([
      { worker: 'w1', boxes: [a, { x: 50, y: 50, w: 5, h: 5, label: 'cat' }] },
      { worker: 'w2', boxes: [{ x: 1, y: 1, w: 10, h: 10, label: 'car' }] },
      { worker: 'w3', boxes: [{ x: 0, y: 1, w: 10, h: 9, label: 'truck' }] },
    ]);
    expect(fused).toHaveLength(1);
    expect(fused[0].label).toBe('car');
    expect(fused[0].support).toBe(1);
    expect(fused[0].workers).toHaveLength(3);
    expect(fused[0].x).toBeCloseTo(1 / 3);
    expect(fused[0].confidence).toBeGreaterThan(0.7);
    expect(aggregateBoxes([])).toEqual([]);
  });
  it('weights coordinates by reliability', () => {
    const fused = aggregateBoxes(
      [
        { worker: 'good', boxes: [{ x: 0, y: 0, w: 10, h: 10 }] },
        { worker: 'bad', boxes: [{ x: 2, y: 0, w: 10, h: 10 }] },
      ],
      { workerWeights: { good: 3, bad: 1 } },
    );
    expect(fused[0].x).toBeCloseTo(0.5);
  });
  it('evaluates mean IoU, precision and recall at 0.5', () => {
    const e = evaluateBoxes(new Map([['t', [a]]]), new Map([['t', [a, { x: 100, y: 100, w: 5, h: 5, label: 'car' }]]]));
    expect(e.meanIou).toBeCloseTo(0.5);
    expect(e.precision50).toBe(1);
    expect(e.recall50).toBe(0.5);
  });
});

describe('spans', () => {
  it('round-trips BIO and repairs orphan I tags', () => {
    const spans = [{ start: 0, end: 2, label: 'PER' }, { start: 3, end: 4, label: 'LOC' }];
    expect(spansToBio(spans, 5)).toEqual(['B-PER', 'I-PER', 'O', 'B-LOC', 'O']);
    expect(bioToSpans(spansToBio(spans, 5))).toEqual(spans);
    expect(bioToSpans(['O', 'I-X', 'I-X'])).toEqual([{ start: 1, end: 3, label: 'X' }]);
    expect(() => spansToBio([{ start: 0, end: 2, label: 'A' }, { start: 1, end: 3, label: 'B' }], 4)).toThrow(/overlap/);
  });
  it('aggregates token tags by vote and scores exact and overlap F1', () => {
    const res = aggregateSpans([
      { task: 's', worker: 'a', spans: [{ start: 0, end: 2, label: 'PER' }], length: 4 },
      { task: 's', worker: 'b', spans: [{ start: 0, end: 2, label: 'PER' }] },
      { task: 's', worker: 'c', spans: [{ start: 1, end: 3, label: 'PER' }] },
    ]);
    expect(res[0].spans).toEqual([{ start: 0, end: 2, label: 'PER' }]);
    const e = evaluateSpans(new Map([['s', res[0].spans]]), new Map([['s', [{ start: 0, end: 3, label: 'PER' }]]]));
    expect(e.exact.f1).toBe(0);
    expect(e.overlap.f1).toBe(1);
  });
  it("refuses a span that ends after its answer's text length", () => {
    expect(() => aggregateSpans([{ task: 's', worker: 'a', spans: [{ start: 2, end: 5, label: 'X' }], length: 3 }])).toThrow(/task "s", worker "a": span \[2, 5\) ends after the text's 3 tokens/);
  });
});

describe('free text', () => {
  it('chooses the medoid by normalised edit distance; ties go to the earliest', () => {
    expect(normalizedEditDistance('abc', 'abd')).toBeCloseTo(1 / 3);
    const r = aggregateText([
      { worker: 'a', text: 'The cat sat' },
      { worker: 'b', text: 'the  cat sat.' },
      { worker: 'c', text: 'a dog' },
    ]);
    expect(r.worker).toBe('a');
    expect(r.confidence).toBeGreaterThan(0.3);
    expect(aggregateText([{ worker: 'a', text: 'x' }, { worker: 'b', text: 'y' }]).worker).toBe('a');
    expect(aggregateText([]).text).toBeUndefined();
  });
});

describe('agreement', () => {
  const ans = (rows: [string, string, string][]) => rows.map(([task, worker, label]) => ({ task, worker, label }));
  it('perfect agreement', () => {
    const a = ans([['1', 'a', 'x'], ['1', 'b', 'x'], ['2', 'a', 'y'], ['2', 'b', 'y']]);
    expect(percentAgreement(a)).toBe(1);
    expect(fleissKappa(a)).toBe(1);
    expect(krippendorffAlpha(a)).toBe(1);
    expect(cohenKappa(['x', 'y'], ['x', 'y'])).toBe(1);
  });
  it("Krippendorff's alpha matches the worked nominal example with missing data (Krippendorff 2011: 0.743)", () => {
    // 4 coders × 12 units, '.' = missing; values from the paper's reliability data matrix
    const m = [
      '1 2 3 3 2 1 4 1 2 . . .',
      '1 2 3 3 2 2 4 1 2 5 . 3',
      '. 3 3 3 2 3 4 2 2 5 1 .',
      '1 2 3 3 2 4 4 1 2 5 1 .',
    ].map((r) => r.split(' '));
    const rows: [string, string, string][] = [];
    m.forEach((r, c) => r.forEach((v, u) => v !== '.' && rows.push([`u${u}`, `c${c}`, v])));
    expect(krippendorffAlpha(ans(rows))).toBeCloseTo(0.743, 3);
  });
  it("Cohen's kappa on a textbook table", () => {
    // 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: po = 0.7, pe = 0.5 → 0.4
    const a = [...Array(20).fill('y'), ...Array(5).fill('y'), ...Array(10).fill('n'), ...Array(15).fill('n')];
    const b = [...Array(20).fill('y'), ...Array(5).fill('n'), ...Array(10).fill('y'), ...Array(15).fill('n')];
    expect(cohenKappa(a, b)).toBeCloseTo(0.4);
  });
  it('Fleiss kappa on the Wikipedia example (0.210)', () => {
    const table = [
      [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ];
    const rows: [string, string, string][] = [];
    table.forEach((counts, i) => {
      let r = 0;
      counts.forEach((n, j) => { for (let k = 0; k < n; k++) rows.push([`i${i}`, `r${r++}`, `c${j}`]); });
    });
    expect(fleissKappa(ans(rows))).toBeCloseTo(0.21, 2);
  });
  it('mean pairwise IoU and span F1', () => {
    const b = { x: 0, y: 0, w: 10, h: 10 };
    expect(meanPairwiseIou([{ worker: 'a', boxes: [b] }, { worker: 'b', boxes: [b] }])).toBe(1);
    expect(meanPairwiseIou([{ worker: 'a', boxes: [b] }, { worker: 'b', boxes: [] }])).toBe(0);
    const s = { start: 0, end: 1, label: 'X' };
    expect(pairwiseSpanF1([{ worker: 'a', spans: [s] }, { worker: 'b', spans: [s] }, { worker: 'c', spans: [] }])).toBeCloseTo(1 / 3);
  });
});

describe('evaluate', () => {
  it('accuracy, per-class scores, macro-F1 and the confusion matrix; missing predictions count as wrong', () => {
    const e = evaluate(new Map([['1', 'a'], ['2', 'b'], ['3', 'a']]), [
      { task: '1', label: 'a' },
      { task: '2', label: 'a' },
      { task: '3', label: 'a' },
      { task: '4', label: 'b' },
    ]);
    expect(e.accuracy).toBe(0.5);
    expect(e.missing).toBe(1);
    expect(e.perClass.a.recall).toBeCloseTo(2 / 3);
    expect(e.perClass.a.precision).toBe(1);
    expect(e.confusion.matrix).toEqual([[2, 1], [0, 0]]);
    expect(e.macroF1).toBeCloseTo((0.8 + 0) / 2);
  });
});
