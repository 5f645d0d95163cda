import { decideTask, reachable } from './task-decision';

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

  it('a model answer weighs in the posterior but never counts toward the minimum or the maximum', () => {
    const labels = ['cat', 'dog', 'bird'];
    const skills = { a: { accuracy: 0.9 }, 'model:m': { accuracy: 0.9 } };
    // one human + the model agreeing: sure enough, but under the minimum of 2 human answers
    const one = decideTask('single-label', labels, {}, [{ worker: 'a', answer: { label: 'cat' } }, { worker: 'model:m', answer: { label: 'cat' }, model: true }], s({ min: 2 }), skills);
    expect(one.outcome).toBe('needs-more');
    expect(one.consensus).toMatchObject({ answers: 1, modelAnswers: 1 });
    expect(one.consensus!.confidence).toBeGreaterThan(0.9);
    // at max = 1 human answer the task ends; the model does not make it 2
    const atMax = decideTask('single-label', labels, {}, [{ worker: 'a', answer: { label: 'cat' } }, { worker: 'model:m', answer: { label: 'dog' }, model: true }], s({ min: 1, max: 1, target: 0.99 }), skills);
    expect(atMax).toMatchObject({ outcome: 'low-confidence', consensus: { answers: 1, modelAnswers: 1 } });
    // a model learnt to say "dog" for cats: its "dog" is evidence for cat
    const biased = { 'model:m': { accuracy: 0.1, classes: labels, confusion: [[0.05, 0.9, 0.05], [0.3, 0.4, 0.3], [0.05, 0.05, 0.9]] }, a: { accuracy: 0.6 } };
    const flip = decideTask('single-label', labels, {}, [{ worker: 'a', answer: { label: 'cat' } }, { worker: 'model:m', answer: { label: 'dog' }, model: true }], s({ min: 1 }), biased);
    expect(flip.consensus!.label).toBe('cat');
  });

  it('futility: stops as low-confidence when even unanimous further answers could not reach the target', () => {
    const labels = ['a', 'b', 'c', 'd'];
    const split = ['a', 'b', 'a', 'b', 'a', 'b'].map((l, i) => ({ worker: `w${i}`, answer: { label: l } }));
    const skills = Object.fromEntries(split.map((x) => [x.worker, { accuracy: 0.9 }]));
    // one answer left (max 7) from a worker of accuracy 0.6 cannot lift a 50/50 split to 0.95
    const d = decideTask('single-label', labels, {}, split, { min: 2, max: 7, target: 0.95, method: 'ds', bestAccuracy: 0.6 }, skills);
    expect(d.outcome).toBe('low-confidence');
    expect(d.consensus!.lowConfidence).toBe(true);
    // a very good worker could still settle it: buy the answer
    expect(decideTask('single-label', labels, {}, split, { min: 2, max: 7, target: 0.95, method: 'ds', bestAccuracy: 0.99 }, skills).outcome).toBe('needs-more');
    // without a known best accuracy there is no early stop
    expect(decideTask('single-label', labels, {}, split, { min: 2, max: 7, target: 0.95, method: 'ds' }, skills).outcome).toBe('needs-more');
  });

  it('reachable: the best case over every class', () => {
    expect(reachable(['a', 'b'], { a: 0.5, b: 0.5 }, 1, 0.9, 0.89)).toBe(true);
    expect(reachable(['a', 'b'], { a: 0.5, b: 0.5 }, 1, 0.9, 0.95)).toBe(false);
    expect(reachable(['a', 'b'], { a: 0.5, b: 0.5 }, 2, 0.9, 0.95)).toBe(true);
    expect(reachable(['a', 'b'], { a: 0.99, b: 0.01 }, 0, 0.9, 0.5)).toBe(false);
  });
});
