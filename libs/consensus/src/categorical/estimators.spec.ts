import { ConsensusError } from '../errors';
import { DawidSkene } from './dawid-skene';
import { aggregateMultiLabel } from './multi-label';
import { posteriorForTask } from './posterior';
import { WeightedMajorityVote } from './weighted-majority-vote';
import { assignFolds, AutoAggregator } from './auto';
import { toCrowd } from '../crowd';
import { Glad } from './glad';

/** A small crowd: 3 good workers, 1 adversarial worker who swaps a and b. */
function crowd() {
  const answers = [];
  for (let t = 0; t < 40; t++) {
    const truth = t % 2 ? 'a' : 'b';
    for (const w of ['g1', 'g2', 'g3']) answers.push({ task: `t${t}`, worker: w, label: t % 7 === 0 && w === 'g3' ? (truth === 'a' ? 'b' : 'a') : truth });
    answers.push({ task: `t${t}`, worker: 'adv', label: truth === 'a' ? 'b' : 'a' });
  }
  return answers;
}

describe('DawidSkene', () => {
  it('learns confusion matrices, including an adversarial worker', () => {
    const fit = new DawidSkene().fit(crowd());
    expect(fit.workerConfusion('adv')![0][1]).toBeGreaterThan(0.9);
    expect(fit.workerSkill[fit.workers.indexOf('adv')]).toBeLessThan(-0.8);
    expect(fit.converged).toBe(true);
    for (let i = 1; i < fit.logLikelihood.length; i++) expect(fit.logLikelihood[i]).toBeGreaterThanOrEqual(fit.logLikelihood[i - 1] - 1e-6);
  });

  it('clamps gold and carries prior confusion matrices', () => {
    const answers = [{ task: 'x', worker: 'new', label: 'a' }, { task: 'x', worker: 'old', label: 'b' }];
    const fit = new DawidSkene({ gold: [{ task: 'x', label: 'b' }] }).fit(answers);
    expect(fit.label('x')).toBe('b');
    const prior = new DawidSkene({ priorConfusions: { old: [[0.1, 0.9], [0.1, 0.9]] }, priorStrength: 100 }).fit(answers);
    // "old" always says b: uninformative, so "new" decides
    expect(prior.label('x')).toBe('a');
  });

  it('rejects invalid options with a coded error', () => {
    expect(() => new DawidSkene({ maxIterations: 0 })).toThrow(ConsensusError);
    expect(() => new DawidSkene({ smoothing: -1 })).toThrow(/smoothing/);
    expect(() => new DawidSkene({ classes: ['a'] }).fit([{ task: 't', worker: 'w', label: 'z' }])).toThrow(expect.objectContaining({ code: 'UNKNOWN_LABEL' }));
  });

  it('accelerated and plain EM reach the same labels', () => {
    const a = new DawidSkene().fit(crowd());
    const b = new DawidSkene({ accelerate: false }).fit(crowd());
    expect(a.labels).toEqual(b.labels);
  });
});

describe('Glad', () => {
  it('the fused pass computes the same fit as the three separate passes (with gold clamped, estimated priors, K = 3)', () => {
    // a crowd with good, noisy and adversarial workers and uneven task lengths
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const answers = [];
    for (let t = 0; t < 300; t++) {
      const truth = ['a', 'b', 'c'][t % 3];
      for (let j = 0; j < 2 + (t % 5); j++) {
        const w = Math.floor(rnd() * 25);
        const right = w < 5 ? rnd() < 0.2 : rnd() < (w < 15 ? 0.85 : 0.55);
        answers.push({ task: `t${t}`, worker: `w${w}`, label: right ? truth : ['a', 'b', 'c'][Math.floor(rnd() * 3)] });
      }
    }
    for (const o of [{}, { classPriors: 'estimate' as const }, { gold: [{ task: 't0', label: 'a' }, { task: 't4', label: 'b' }] }]) {
      const fused = new Glad(o).fit(answers);
      const separate = new Glad({ ...o, passes: 'separate' }).fit(answers);
      expect(fused.iterations).toBe(separate.iterations);
      expect(fused.labels).toEqual(separate.labels);
      fused.posteriors.forEach((p, i) => expect(Math.abs(p - separate.posteriors[i])).toBeLessThan(1e-9));
      fused.workerParams.alpha.forEach((a, i) => expect(Math.abs(a - separate.workerParams.alpha[i])).toBeLessThan(1e-9));
      const last = (f: typeof fused) => f.logLikelihood[f.logLikelihood.length - 1];
      expect(Math.abs(last(fused) - last(separate))).toBeLessThan(1e-6);
    }
  });
});

describe('posteriorForTask', () => {
  it('combines known confusion matrices with priors; unknown workers by policy', () => {
    const conf = { good: [[0.9, 0.1], [0.1, 0.9]], coin: [[0.5, 0.5], [0.5, 0.5]] };
    const p = posteriorForTask([{ worker: 'good', label: 'b' }, { worker: 'coin', label: 'a' }], conf, { a: 0.5, b: 0.5 });
    expect(p.label).toBe('b');
    expect(p.posterior.b).toBeCloseTo(0.9);
    expect(() => posteriorForTask([{ worker: 'x', label: 'a' }], conf, { a: 0.5, b: 0.5 }, { onMissingSkill: 'error' })).toThrow(/worker "x"/);
    expect(posteriorForTask([{ worker: 'x', label: 'a' }], conf, { a: 0.5, b: 0.5 }, { onMissingSkill: 'ignore' }).used).toBe(0);
    expect(posteriorForTask([{ worker: 'x', label: 'a' }], conf, { a: 0.5, b: 0.5 }).posterior.a).toBeCloseTo(0.7);
  });
});

describe('WeightedMajorityVote', () => {
  it('weights from gold outvote a majority of bad workers', () => {
    const answers = ['b1', 'b2', 'g'].flatMap((w) => ['t1', 't2', 't3'].map((t) => ({ task: t, worker: w, label: w === 'g' ? 'yes' : 'no' })));
    const gold = [{ task: 't1', label: 'yes' }, { task: 't2', label: 'yes' }];
    const fit = new WeightedMajorityVote({ gold }).fit(answers);
    expect(fit.label('t3')).toBe('yes');
    expect(new WeightedMajorityVote({ weights: { g: 10, b1: 1, b2: 1 } }).fit(answers).label('t3')).toBe('yes');
  });
});

describe('multi-label by binary relevance', () => {
  it('keeps the labels most workers ticked', () => {
    const r = aggregateMultiLabel([
      { task: 't', worker: 'a', labels: ['cat', 'dog'] },
      { task: 't', worker: 'b', labels: ['cat'] },
      { task: 't', worker: 'c', labels: ['cat', 'dog'] },
      { task: 'u', worker: 'a', labels: [] },
    ]);
    expect(r.labels[0]).toEqual(['cat', 'dog']);
    expect(r.labels[1]).toEqual([]);
  });
});

describe('auto', () => {
  it('reports its choice and the reason', () => {
    const fit = new AutoAggregator().fit(crowd());
    expect(fit.method).toBe('auto');
    expect(fit.chosen?.reason).toMatch(/held-out/);
  });

  it('holds out a repeated (task, worker) pair as a whole, so no answer is predicted from its own repeat', () => {
    const answers = [];
    for (let t = 0; t < 30; t++) for (const w of ['w1', 'w2', 'w3']) for (let r = 0; r < (w === 'w1' ? 3 : 1); r++) answers.push({ task: `t${t}`, worker: w, label: r === 1 ? 'b' : 'a' });
    const c = toCrowd(answers, 'keep');
    const fold = assignFolds(c, 3);
    const byPair = new Map<string, Set<number>>();
    for (let t = 0; t < c.nTasks; t++) for (let i = c.taskStart[t]; i < c.taskStart[t + 1]; i++) {
      const key = `${t}/${c.ansWorker[i]}`;
      byPair.set(key, (byPair.get(key) ?? new Set()).add(fold[i]));
    }
    expect(byPair.size).toBe(90);
    for (const folds of byPair.values()) expect(folds.size).toBe(1);
    // and the pairs themselves are spread over every fold
    expect(new Set(fold)).toEqual(new Set([0, 1, 2]));
  });
});
