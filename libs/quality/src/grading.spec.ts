import { answersMatch, median, wilson } from './grading';
import { binomialTail } from './reestimate.service';
import { mergeRules, rulesOf } from './rules';

describe('gold grading', () => {
  it('matches per task type', () => {
    expect(answersMatch('single-label', { label: 'a' }, { label: 'a' })).toBe(true);
    expect(answersMatch('single-label', { label: 'a' }, { label: 'b' })).toBe(false);
    expect(answersMatch('multi-label', { labels: ['x', 'y'] }, { labels: ['y', 'x'] })).toBe(true);
    expect(answersMatch('multi-label', { labels: ['x'] }, { labels: ['y', 'x'] })).toBe(false);
    const box = { x: 0, y: 0, w: 10, h: 10, label: 'car' };
    expect(answersMatch('boxes', { boxes: [{ ...box, x: 1 }] }, { boxes: [box] })).toBe(true); // IoU 0.82
    expect(answersMatch('boxes', { boxes: [{ ...box, x: 6 }] }, { boxes: [box] })).toBe(false); // IoU 0.25
    expect(answersMatch('boxes', { boxes: [{ ...box, label: 'bus' }] }, { boxes: [box] })).toBe(false);
    expect(answersMatch('boxes', { boxes: [] }, { boxes: [box] })).toBe(false);
    expect(answersMatch('spans', { spans: [{ start: 0, end: 3, label: 'P' }] }, { spans: [{ start: 0, end: 3, label: 'P' }] })).toBe(true);
    expect(answersMatch('spans', { spans: [{ start: 0, end: 4, label: 'P' }] }, { spans: [{ start: 0, end: 3, label: 'P' }] })).toBe(false);
    expect(answersMatch('text', { text: '  A  red Bike ' }, { text: 'a red bike' })).toBe(true);
  });

  it('Wilson interval and median', () => {
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1, rate: null });
    const w = wilson(10, 10);
    expect(w.rate).toBe(1);
    expect(w.low).toBeCloseTo(0.7225, 3);
    expect(wilson(5, 10).low).toBeCloseTo(0.2366, 3);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('rules: defaults, merge and field errors', () => {
    expect(rulesOf({})).toMatchObject({ dynamicOverlap: false, minGoldAnswers: 5, goldAction: 'block', fastAction: 'flag', dailyCap: null });
    expect(mergeRules({ minGoldAnswers: 3 }, { dailyCap: 10 })).toMatchObject({ minGoldAnswers: 3, dailyCap: 10 });
    expect(() => mergeRules({}, { dailyCap: 0 })).toThrow(/dailyCap/);
    expect(() => mergeRules({}, { goldAction: 'explode' })).toThrow(/goldAction/);
    expect(() => mergeRules({}, { nope: 1 })).toThrow(/nope: is not a quality rule/);
    expect(mergeRules({}, { goldStatistic: 'upper-bound', reviewPolicy: 'consensus' })).toMatchObject({ goldStatistic: 'upper-bound', reviewPolicy: 'consensus' });
    expect(() => mergeRules({}, { goldStatistic: 'median' })).toThrow(/goldStatistic/);
  });
});

describe('binomialTail', () => {
  it('P(X >= k)', () => {
    expect(binomialTail(0, 5, 0.3)).toBe(1);
    expect(binomialTail(5, 5, 0.2)).toBeCloseTo(0.00032, 6);
    expect(binomialTail(2, 6, 0.02)).toBeCloseTo(1 - 0.98 ** 6 - 6 * 0.02 * 0.98 ** 5, 9);
  });
});
