import { canonicalJson, exactMatchVote, multiLabelVote, singleLabelVote, taskConsensus } from './task-consensus';

describe('task consensus (@tally/consensus per task type)', () => {
  it('single-label: majority wins with its share as confidence and pairwise agreement', () => {
    expect(singleLabelVote(['cat', 'dog'], ['dog', 'cat', 'dog'])).toEqual({
      label: 'dog',
      confidence: 2 / 3,
      method: 'mv',
      agreement: 1 / 3,
      answers: 3,
    });
  });

  it('single-label: a tie goes to the label listed first in the label set', () => {
    expect(singleLabelVote(['cat', 'dog'], ['dog', 'cat']).label).toBe('cat');
    expect(singleLabelVote(['dog', 'cat'], ['cat', 'dog']).label).toBe('dog');
  });

  it('single-label: one answer is full agreement', () => {
    expect(singleLabelVote(['a'], ['a'])).toMatchObject({ label: 'a', confidence: 1, agreement: 1, answers: 1 });
  });

  it('multi-label: a label is in when more than half the answers include it', () => {
    const c = multiLabelVote(['a', 'b', 'c'], [['a', 'b'], ['a'], ['a', 'c']]);
    expect(c.label).toEqual(['a']);
    expect(c.method).toBe('mv-per-label');
    expect(c.confidence).toBeCloseTo((1 + 2 / 3 + 2 / 3) / 3);
  });

  it('exact match: key order does not matter; ties go to the earliest answer', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe('{"a":[{"x":1,"y":2}],"b":1}');
    const c = exactMatchVote([{ text: 'x' }, { text: 'y' }]);
    expect(c).toMatchObject({ label: { text: 'x' }, confidence: 0.5, agreement: 0 });
    expect(exactMatchVote([{ text: 'y' }, { text: 'x' }, { text: 'x' }]).label).toEqual({ text: 'x' });
  });

  it('multi-label: a label ticked by exactly half the answers stays out', () => {
    expect(multiLabelVote(['a', 'b'], [['a', 'b'], ['a']]).label).toEqual(['a']);
  });

  it('boxes: overlapping boxes are fused by IoU, a box only one of three drew is dropped', () => {
    const c = taskConsensus('boxes', ['car', 'person'], [
      { boxes: [{ x: 10, y: 10, w: 40, h: 40, label: 'car' }] },
      { boxes: [{ x: 12, y: 10, w: 40, h: 40, label: 'car' }, { x: 80, y: 80, w: 5, h: 5, label: 'person' }] },
      { boxes: [{ x: 11, y: 10, w: 40, h: 40, label: 'car' }] },
    ])!;
    expect(c.method).toBe('iou-cluster');
    expect(c.label).toEqual({ boxes: [{ x: 11, y: 10, w: 40, h: 40, label: 'car' }] });
    expect(c.confidence).toBeGreaterThan(0.9);
    expect(c.confidence).toBeLessThanOrEqual(1);
    expect(c.agreement).toBeLessThan(1);
    // Everyone saw nothing: full agreement on no boxes.
    expect(taskConsensus('boxes', ['car'], [{ boxes: [] }, { boxes: [] }])).toMatchObject({ label: { boxes: [] }, confidence: 1, agreement: 1 });
  });

  it('spans: a vote per character (BIO tags), decoded back into spans', () => {
    const c = taskConsensus('spans', ['PER', 'LOC'], [
      { spans: [{ start: 0, end: 12, label: 'PER' }, { start: 20, end: 26, label: 'LOC' }] },
      { spans: [{ start: 0, end: 12, label: 'PER' }] },
      { spans: [{ start: 0, end: 12, label: 'PER' }] },
    ])!;
    expect(c.label).toEqual({ spans: [{ start: 0, end: 12, label: 'PER' }] });
    expect(c.method).toBe('span-vote');
    expect(c.confidence).toBe(1);
    expect(c.agreement).toBeCloseTo((2 / 3 + 1 + 2 / 3) / 3);
  });

  it('text: the medoid answer, exactly as written', () => {
    const c = taskConsensus('text', [], [{ text: 'The review is negative.' }, { text: 'the review is  negative' }, { text: 'Positive!' }])!;
    expect(c.label).toEqual({ text: 'The review is negative.' });
    expect(c.method).toBe('medoid');
    expect(c.confidence).toBeGreaterThan(0.4);
    expect(taskConsensus('text', [], [{ text: 'x' }])).toMatchObject({ label: { text: 'x' }, confidence: 1, agreement: 1, answers: 1 });
  });

  it('no answers, no consensus', () => {
    expect(taskConsensus('single-label', ['a'], [])).toBeNull();
  });
});
