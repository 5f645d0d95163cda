import fc from 'fast-check';
import type { Answer } from '../crowd';
import { createEstimator } from './estimators';
import { majorityVote } from './majority-vote';
import type { CategoricalMethod } from './result';

const METHODS: CategoricalMethod[] = ['mv', 'wmv', 'wawa', 'ds', 'one-coin-ds', 'glad', 'mace', 'bayes-ds', 'auto'];

/** A random crowd: tasks with a hidden truth, workers of random accuracy. */
const crowdArb = fc
  .record({
    nTasks: fc.integer({ min: 1, max: 25 }),
    nWorkers: fc.integer({ min: 1, max: 6 }),
    K: fc.integer({ min: 2, max: 4 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map(({ nTasks, nWorkers, K, seed }) => {
    let s = seed;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff) / 0x80000000);
    const acc = Array.from({ length: nWorkers }, () => 0.4 + 0.6 * rnd());
    const answers: Answer[] = [];
    for (let t = 0; t < nTasks; t++) {
      const truth = Math.floor(rnd() * K);
      for (let w = 0; w < nWorkers; w++) {
        if (rnd() < 0.3 && w > 0) continue;
        const label = rnd() < acc[w] ? truth : Math.floor(rnd() * K);
        answers.push({ task: `t${t}`, worker: `w${w}`, label: `c${label}` });
      }
    }
    return answers;
  });

describe('properties of every categorical method', () => {
  it.each(METHODS.map((m) => [m]))('%s: posteriors sum to 1, reordering and renaming change nothing', (method) => {
    fc.assert(
      fc.property(crowdArb, fc.integer({ min: 0, max: 1000 }), (answers, shift) => {
        const fit = createEstimator(method).fit(answers);
        const K = fit.classes.length;
        for (let t = 0; t < fit.tasks.length; t++) {
          let z = 0;
          for (let k = 0; k < K; k++) z += fit.posteriors[t * K + k];
          expect(z).toBeCloseTo(1, 9);
        }
        // auto's cross-validation folds follow the input order, so auto is only checked for renaming
        const rows = method === 'auto' ? answers : [...answers].reverse();
        // reverse the rows and rename tasks and workers (order-preserving label renaming keeps the tie order)
        const renamed = rows.map((a) => ({ task: `T-${a.task}`, worker: `W${shift}-${a.worker}`, label: a.label.replace('c', 'class') }));
        const fit2 = createEstimator(method).fit(renamed);
        for (const task of fit.tasks) {
          const p1 = fit.posterior(task)!;
          const p2 = fit2.posterior(`T-${task}`)!;
          for (const c of fit.classes) expect(p2[c.replace('c', 'class')]).toBeCloseTo(p1[c], 6);
        }
      }),
      { numRuns: method === 'auto' ? 10 : 30 },
    );
  });

  it.each(METHODS.map((m) => [m]))('%s: perfect workers are recovered exactly', (method) => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 30 }), fc.integer({ min: 2, max: 5 }), (truth, nWorkers) => {
        const answers = truth.flatMap((l, t) => Array.from({ length: nWorkers }, (_, w) => ({ task: `t${t}`, worker: `w${w}`, label: `L${l}` })));
        const fit = createEstimator(method).fit(answers);
        truth.forEach((l, t) => expect(fit.label(`t${t}`)).toBe(`L${l}`));
      }),
      { numRuns: method === 'auto' ? 10 : 25 },
    );
  });

  it.each(['mv', 'wawa', 'ds', 'one-coin-ds', 'bayes-ds', 'mace'] as CategoricalMethod[])('%s: a worker who always gives the same label gets a chance-level skill', (method) => {
    const answers: Answer[] = [];
    for (let t = 0; t < 60; t++) {
      const truth = `c${t % 3}`;
      for (let w = 0; w < 4; w++) answers.push({ task: `t${t}`, worker: `good${w}`, label: truth });
      answers.push({ task: `t${t}`, worker: 'lazy', label: 'c0' });
    }
    const fit = createEstimator(method).fit(answers);
    const lazy = fit.workers.indexOf('lazy');
    // bayes-ds shrinks every worker towards its prior (70% right, 2K pseudo-answers per row)
    expect(Math.abs(fit.workerSkill[lazy])).toBeLessThan(method === 'bayes-ds' ? 0.15 : 0.05);
    // mv and wawa measure workers against soft vote shares, which the lazy worker dilutes
    expect(fit.workerSkill[fit.workers.indexOf('good0')]).toBeGreaterThan(['mv', 'wawa', 'bayes-ds'].includes(method) ? 0.75 : 0.9);
  });

  it.each(METHODS.map((m) => [m]))('%s: empty input gives an empty result', (method) => {
    const fit = createEstimator(method).fit([]);
    expect(fit.tasks).toEqual([]);
    expect(fit.labels).toEqual([]);
    expect(fit.posteriors.length).toBe(0);
    expect(Object.isFrozen(fit)).toBe(true);
  });
});

describe('tie-breaking', () => {
  it('majority vote: a tie goes to the first class in compareLabels order, or in the given label set', () => {
    expect(majorityVote(['b', 'a']).label).toBe('a');
    expect(majorityVote(['10', '9']).label).toBe('9');
    expect(majorityVote(['b', 'a'], { classes: ['b', 'a'] }).label).toBe('b');
    expect(majorityVote([]).label).toBeUndefined();
    expect(majorityVote(['x', 'y', 'y']).confidence).toBeCloseTo(2 / 3);
  });

  it.each(METHODS.map((m) => [m]))('%s: a perfectly symmetric tie goes to the first class', (method) => {
    const answers: Answer[] = [
      { task: 't', worker: 'a', label: 'yes' },
      { task: 't', worker: 'b', label: 'no' },
    ];
    expect(createEstimator(method).fit(answers).label('t')).toBe('no');
    expect(createEstimator(method, { classes: ['yes', 'no'] }).fit(answers).label('t')).toBe('yes');
  });
});

describe('repeated (task, worker) pairs', () => {
  const answers: Answer[] = [
    { task: 't', worker: 'a', label: 'x' },
    { task: 't', worker: 'a', label: 'x' },
    { task: 't', worker: 'b', label: 'y' },
    { task: 't', worker: 'a', label: 'y' },
  ];
  it('keep counts every row; first/last keep one answer per worker', () => {
    expect(createEstimator('mv').fit(answers).posterior('t')).toEqual({ x: 0.5, y: 0.5 });
    expect(createEstimator('mv', { repeats: 'first' }).fit(answers).posterior('t')).toEqual({ x: 0.5, y: 0.5 });
    expect(createEstimator('mv', { repeats: 'last' }).fit(answers).posterior('t')).toEqual({ x: 0, y: 1 });
    expect(createEstimator('mv', { repeats: 'first' }).fit(answers).answers).toBe(2);
  });
});
