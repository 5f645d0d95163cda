import type { TaskTypeRules } from '../task-types';
import { canonicalJson, contentHash } from './content-hash';
import { toImportItem } from './item-rows';

const single: TaskTypeRules = { taskType: 'single-label', labels: ['pos', 'neg'], maxTextLength: 100 };
const multi: TaskTypeRules = { taskType: 'multi-label', labels: ['a', 'b'], maxTextLength: 100 };
const boxes: TaskTypeRules = { taskType: 'boxes', labels: ['car'], maxTextLength: 100 };
const row = (value: unknown, csv = false) => ({ line: 1, value, ...(csv ? { csv } : {}) });

describe('canonical content hash', () => {
  it('ignores key order at every level but not array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(contentHash({ a: 1, b: { c: 2, d: 3 } })).toBe(contentHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(contentHash({ a: [1, 2] })).not.toBe(contentHash({ a: [2, 1] }));
    expect(contentHash({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('toImportItem', () => {
  it('accepts the wrapped shape with gold and pre-label', () => {
    const r = toImportItem(single, row({ payload: { text: 'hi' }, gold: { label: 'pos' }, prelabel: { label: 'neg' } }));
    expect(r).toEqual({ ok: true, item: { payload: { text: 'hi' }, gold: { label: 'pos' }, prelabel: { label: 'neg' }, prelabelModel: null, prelabelConfidence: null, hash: contentHash({ text: 'hi' }) } });
  });

  it('keeps the model name and confidence of a pre-label, wrapped, flat and from CSV cells', () => {
    expect(toImportItem(single, row({ payload: { text: 'hi' }, prelabel: { label: 'neg' }, prelabelModel: ' bert-base ', prelabelConfidence: 0.8 }))).toMatchObject({
      ok: true,
      item: { prelabel: { label: 'neg' }, prelabelModel: 'bert-base', prelabelConfidence: 0.8 },
    });
    expect(toImportItem(single, row({ text: 'hi', prelabel: { label: 'pos' }, prelabelConfidence: 1 }))).toMatchObject({
      ok: true,
      item: { payload: { text: 'hi' }, prelabelModel: null, prelabelConfidence: 1 },
    });
    expect(toImportItem(single, { line: 2, csv: true, value: { text: 'hi', prelabel: 'pos', prelabelModel: 'm1', prelabelConfidence: '0.25' } })).toMatchObject({
      ok: true,
      item: { payload: { text: 'hi' }, prelabel: { label: 'pos' }, prelabelModel: 'm1', prelabelConfidence: 0.25 },
    });
  });

  it('refuses a bad model confidence or name, and either without a pre-label, naming the field', () => {
    expect(toImportItem(single, row({ text: 'hi', prelabel: { label: 'pos' }, prelabelConfidence: 1.5 }))).toEqual({ ok: false, problems: [{ field: 'prelabelConfidence', problem: 'must be a number from 0 to 1' }] });
    expect(toImportItem(single, row({ payload: { text: 'hi' }, prelabel: { label: 'pos' }, prelabelModel: 7 }))).toMatchObject({ ok: false, problems: [{ field: 'prelabelModel' }] });
    expect(toImportItem(single, row({ text: 'hi', prelabelModel: 'm1' }))).toEqual({ ok: false, problems: [{ field: 'prelabelModel', problem: 'describes a pre-label, but the row has no prelabel' }] });
  });

  it('accepts the flat shorthand, where the row is the payload', () => {
    const r = toImportItem(single, row({ text: 'hi', id: 7, gold: { label: 'neg' } }));
    expect(r.ok && r.item).toMatchObject({ payload: { text: 'hi', id: 7 }, gold: { label: 'neg' }, prelabel: null });
  });

  it('names flat fields as written and wrapped ones under payload', () => {
    expect(toImportItem(single, row({ note: 'x' }))).toEqual({ ok: false, problems: [{ field: 'row', problem: 'needs text or imageUrl' }] });
    expect(toImportItem(single, row({ text: 5 }))).toMatchObject({ ok: false, problems: [{ field: 'text' }] });
    expect(toImportItem(single, row({ payload: { text: 5 } }))).toMatchObject({ ok: false, problems: [{ field: 'payload.text' }] });
    expect(toImportItem(single, row({ payload: 'x' }))).toMatchObject({ ok: false, problems: [{ field: 'payload', problem: 'must be an object' }] });
    expect(toImportItem(single, row({ payload: { text: 'a' }, extra: 1 }))).toMatchObject({ ok: false, problems: [{ field: 'extra' }] });
    expect(toImportItem(single, row([1, 2]))).toMatchObject({ ok: false, problems: [{ field: 'row', problem: 'must be a JSON object' }] });
  });

  it('checks gold and pre-label against the answer format', () => {
    expect(toImportItem(single, row({ text: 'a', gold: { label: 'meh' } }))).toMatchObject({
      ok: false,
      problems: [{ field: 'gold.label', problem: '"meh" is not in the label set' }],
    });
    expect(toImportItem(multi, row({ text: 'a', prelabel: { labels: ['a', 'a'] } }))).toMatchObject({ ok: false, problems: [{ field: 'prelabel.labels' }] });
    const box = { imageUrl: 'https://x.test/1.png', width: 100, height: 50 };
    expect(toImportItem(boxes, row({ ...box, gold: { boxes: [{ x: 90, y: 0, w: 20, h: 10, label: 'car' }] } }))).toMatchObject({
      ok: false,
      problems: [{ field: 'gold.boxes[0]', problem: 'must lie inside the 100×50 image' }],
    });
  });

  it('coerces CSV cells: numeric width/height, JSON or bare-label gold', () => {
    const r = toImportItem(boxes, row({ imageUrl: 'https://x.test/1.png', width: '100', height: ' 50 ', gold: '{"boxes":[]}' }, true));
    expect(r.ok && r.item).toMatchObject({ payload: { width: 100, height: 50 }, gold: { boxes: [] } });
    expect(toImportItem(single, row({ text: 'a', gold: 'pos' }, true))).toMatchObject({ ok: true, item: { gold: { label: 'pos' } } });
    expect(toImportItem(multi, row({ text: 'a', gold: 'a' }, true))).toMatchObject({ ok: false, problems: [{ field: 'gold', problem: expect.stringMatching(/JSON answer/) }] });
    expect(toImportItem(single, row({ text: 'a', gold: '{oops' }, true))).toMatchObject({ ok: false, problems: [{ field: 'gold', problem: 'is not valid JSON' }] });
    // width stays a string when it is not a number, and the payload check names it
    expect(toImportItem(boxes, row({ imageUrl: 'https://x.test/1.png', width: 'wide', height: '5' }, true))).toMatchObject({ ok: false, problems: [{ field: 'width' }] });
  });
});

describe('toImportItem and PostgreSQL limits', () => {
  it('reports a NUL character, which jsonb cannot store, as the row’s problem', () => {
    expect(toImportItem(single, row({ text: 'a\u0000b' }))).toMatchObject({ ok: false, problems: [{ field: 'row', problem: expect.stringMatching(/NUL/) }] });
    expect(toImportItem(single, row({ payload: { text: 'a' }, gold: { label: 'pos', x: '\u0000' } }))).toMatchObject({ ok: false });
  });
});
