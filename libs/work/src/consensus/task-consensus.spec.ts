import { canonicalJson, exactMatchVote, multiLabelVote, singleLabelVote, taskConsensus } from './task-consensus';

describe('task consensus (majority vote placeholder)', () => {
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

  it('no answers, no consensus', () => {
    expect(taskConsensus('single-label', ['a'], [])).toBeNull();
  });
});
