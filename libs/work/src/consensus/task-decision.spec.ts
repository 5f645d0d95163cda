import { decideTask } from './task-decision';

const s = (over: Partial<{ min: number; max: number; target: number; method: string }> = {}) => ({ min: 2, max: 4, target: 0.9, method: 'ds', ...over });

describe('decideTask (dynamic overlap)', () => {
  it('single-label: skills decide; a skilled pair completes where a weak pair needs more', () => {
    const ans = [
      { worker: 'a', answer: { label: 'cat' } },
      { worker: 'b', answer: { label: 'cat' } },
    ];
    const strong = decideTask('single-label', ['cat', 'dog', 'bird'], {}, ans, s(), { a: { accuracy: 0.95 }, b: { accuracy: 0.95 } });
    expect(strong.outcome).toBe('complete');
    expect(strong.consensus).toMatchObject({ label: 'cat', answers: 2, lowConfidence: false });
    expect(strong.consensus!.confidence).toBeGreaterThan(0.99);
    const weak = decideTask('single-label', ['cat', 'dog', 'bird'], {}, ans, s(), { a: { accuracy: 0.5 }, b: { accuracy: 0.5 } });
    expect(weak.outcome).toBe('needs-more');
  });

  it('single-label: uses a worker confusion matrix over the label set', () => {
    // worker "x" always says dog whatever the truth: their "dog" carries no information
    const classes = ['cat', 'dog'];
    const skills = { x: { accuracy: 0.5, classes, confusion: [[0.01, 0.99], [0.01, 0.99]] }, y: { accuracy: 0.9 } };
    const d = decideTask('single-label', classes, {}, [{ worker: 'x', answer: { label: 'dog' } }, { worker: 'y', answer: { label: 'cat' } }], s({ target: 0.85 }), skills);
    expect(d.consensus!.label).toBe('cat');
    expect(d.outcome).toBe('complete');
  });

  it('at the maximum without reaching the target: low confidence', () => {
    const ans = ['cat', 'dog', 'cat', 'dog'].map((l, i) => ({ worker: `w${i}`, answer: { label: l } }));
    const d = decideTask('single-label', ['cat', 'dog'], {}, ans, s({ method: 'mv' }));
    expect(d.outcome).toBe('low-confidence');
    expect(d.consensus).toMatchObject({ label: 'cat', confidence: 0.5, lowConfidence: true, answers: 4 });
  });

  it('never completes under the minimum', () => {
    const d = decideTask('single-label', ['cat', 'dog'], {}, [{ worker: 'a', answer: { label: 'cat' } }], s({ min: 2, method: 'mv' }));
    expect(d.outcome).toBe('needs-more');
  });

  it('multi-label: the least sure label decides', () => {
    const ans = [
      { worker: 'a', answer: { labels: ['red', 'round'] } },
      { worker: 'b', answer: { labels: ['red'] } },
    ];
    const d = decideTask('multi-label', ['red', 'round', 'big'], {}, ans, s(), { a: { accuracy: 0.9 }, b: { accuracy: 0.9 } });
    expect(d.outcome).toBe('needs-more'); // "round" is 50/50
    expect(d.consensus!.posterior!.red).toBeGreaterThan(0.9);
    const agree = decideTask('multi-label', ['red', 'round', 'big'], {}, [ans[1], { worker: 'c', answer: { labels: ['red'] } }], s(), { b: { accuracy: 0.9 }, c: { accuracy: 0.9 } });
    expect(agree).toMatchObject({ outcome: 'complete', consensus: { label: ['red'] } });
  });

  it('spans: identical spans agree, a conflicting span keeps the task open', () => {
    const span = { start: 0, end: 5, label: 'PER' };
    const same = decideTask('spans', ['PER', 'LOC'], { text: 'Alice went home' }, [{ worker: 'a', answer: { spans: [span] } }, { worker: 'b', answer: { spans: [span] } }], s(), { a: { accuracy: 0.9 }, b: { accuracy: 0.9 } });
    expect(same).toMatchObject({ outcome: 'complete', consensus: { label: { spans: [span] }, agreement: 1 } });
    const differ = decideTask('spans', ['PER', 'LOC'], { text: 'Alice went home' }, [{ worker: 'a', answer: { spans: [span] } }, { worker: 'b', answer: { spans: [{ ...span, label: 'LOC' }] } }], s(), {});
    expect(differ.outcome).toBe('needs-more');
  });

  it('boxes: agreement by IoU, not exact coordinates', () => {
    const b1 = { boxes: [{ x: 10, y: 10, w: 40, h: 40, label: 'car' }] };
    const b2 = { boxes: [{ x: 12, y: 11, w: 40, h: 39, label: 'car' }] };
    const far = { boxes: [{ x: 60, y: 60, w: 20, h: 20, label: 'car' }] };
    expect(decideTask('boxes', ['car'], {}, [{ worker: 'a', answer: b1 }, { worker: 'b', answer: b2 }], s({ target: 0.8 })).outcome).toBe('complete');
    expect(decideTask('boxes', ['car'], {}, [{ worker: 'a', answer: b1 }, { worker: 'b', answer: far }], s({ target: 0.8 })).outcome).toBe('needs-more');
  });
});
