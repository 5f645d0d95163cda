import { validateAnswer, validatePayload, TaskTypeRules } from './task-types';

const rules = (taskType: TaskTypeRules['taskType'], labels = ['cat', 'dog']): TaskTypeRules => ({ taskType, labels, maxTextLength: 20 });
const fields = (ps: { field: string }[]) => ps.map((p) => p.field);

describe('task types', () => {
  it('validates payloads per type', () => {
    expect(validatePayload(rules('single-label'), { text: 'hi' })).toEqual([]);
    expect(fields(validatePayload(rules('single-label'), {}))).toEqual(['payload']);
    expect(fields(validatePayload(rules('boxes'), { imageUrl: 'https://x/y.png', width: 0, height: 10 }))).toEqual(['payload.width']);
    expect(fields(validatePayload(rules('boxes'), { imageUrl: 'file:///etc/passwd', width: 5, height: 5 }))).toEqual(['payload.imageUrl']);
    expect(fields(validatePayload(rules('spans'), { imageUrl: 'https://x/y.png' }))).toEqual(['payload.text']);
  });

  it('validates single and multi labels against the label set', () => {
    expect(validateAnswer(rules('single-label'), {}, { label: 'cat' })).toEqual([]);
    expect(fields(validateAnswer(rules('single-label'), {}, { label: 'cow' }))).toEqual(['answer.label']);
    expect(fields(validateAnswer(rules('single-label'), {}, { label: 'cat', gold: 1 }))).toEqual(['answer.gold']);
    expect(validateAnswer(rules('multi-label'), {}, { labels: [] })).toEqual([]);
    expect(fields(validateAnswer(rules('multi-label'), {}, { labels: ['cat', 'cat'] }))).toEqual(['answer.labels']);
  });

  it('keeps boxes inside the image with a positive size and a known class', () => {
    const payload = { imageUrl: 'https://x/y.png', width: 100, height: 50 };
    expect(validateAnswer(rules('boxes'), payload, { boxes: [{ x: 0, y: 0, w: 100, h: 50, label: 'cat' }] })).toEqual([]);
    expect(fields(validateAnswer(rules('boxes'), payload, { boxes: [{ x: 90, y: 0, w: 20, h: 5, label: 'cat' }] }))).toEqual(['answer.boxes[0]']);
    expect(fields(validateAnswer(rules('boxes'), payload, { boxes: [{ x: 1, y: 1, w: 0, h: 5, label: 'cat' }] }))).toEqual(['answer.boxes[0]']);
    expect(fields(validateAnswer(rules('boxes'), payload, { boxes: [{ x: 1, y: 1, w: 5, h: 5, label: 'cow' }] }))).toEqual(['answer.boxes[0].label']);
  });

  it('keeps spans inside the text, ordered and disjoint', () => {
    const payload = { text: 'Ada Lovelace met Babbage' };
    const ok = { spans: [{ start: 0, end: 12, label: 'cat' }, { start: 17, end: 24, label: 'dog' }] };
    expect(validateAnswer(rules('spans'), payload, ok)).toEqual([]);
    expect(fields(validateAnswer(rules('spans'), payload, { spans: [{ start: 0, end: 30, label: 'cat' }] }))).toEqual(['answer.spans[0]']);
    expect(fields(validateAnswer(rules('spans'), payload, { spans: [{ start: 0, end: 5, label: 'cat' }, { start: 3, end: 8, label: 'cat' }] }))).toEqual(['answer.spans[1]']);
    expect(fields(validateAnswer(rules('spans'), payload, { spans: [{ start: 4, end: 4, label: 'cat' }] }))).toEqual(['answer.spans[0]']);
  });

  it('bounds free text', () => {
    expect(validateAnswer(rules('text', []), {}, { text: 'fine' })).toEqual([]);
    expect(fields(validateAnswer(rules('text', []), {}, { text: '   ' }))).toEqual(['answer.text']);
    expect(fields(validateAnswer(rules('text', []), {}, { text: 'x'.repeat(21) }))).toEqual(['answer.text']);
  });
});
