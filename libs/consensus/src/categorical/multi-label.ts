import { ConsensusError } from '../errors';
import { sortLabels } from '../labels';
import { createEstimator } from './estimators';
import type { CategoricalMethod } from './result';

/** One worker's answer to a multi-label task: the set of labels that apply. */
export interface MultiLabelAnswer {
  readonly task: string;
  readonly worker: string;
  readonly labels: readonly string[];
}

export interface MultiLabelOptions {
  /** The label set (default: labels seen, sorted). */
  readonly classes?: readonly string[];
  /** Categorical method run per label (default `mv`). */
  readonly method?: CategoricalMethod;
  /** A label is in the result when its posterior is at least this (default 0.5; ties at 0.5 are in). */
  readonly threshold?: number;
}

export interface MultiLabelResult {
  readonly tasks: readonly string[];
  readonly classes: readonly string[];
  /** Per task, the chosen labels in `classes` order. */
  readonly labels: readonly (readonly string[])[];
  /** Per task, P(label applies) per class. */
  readonly probabilities: readonly Readonly<Record<string, number>>[];
  /** Per task, the mean over classes of max(p, 1 − p): how sure the whole set is. */
  readonly confidence: readonly number[];
}

/**
 * Multi-label aggregation by binary relevance: each class becomes its own yes/no question
 * ("does label c apply?"), answered "1" by the workers who ticked it and "0" by those who
 * answered the task without it, and any categorical method aggregates each question.
 * Every worker keeps one skill per class. (Binary relevance: Tsoumakas & Katakis 2007.)
 */
export function aggregateMultiLabel(answers: readonly MultiLabelAnswer[], options: MultiLabelOptions = {}): MultiLabelResult {
  const classes = options.classes ? [...options.classes] : sortLabels(answers.flatMap((a) => a.labels));
  const threshold = options.threshold ?? 0.5;
  const known = new Set(classes);
  for (const a of answers) for (const l of a.labels) if (!known.has(l)) throw new ConsensusError('UNKNOWN_LABEL', `label "${l}" is not in the label set`);
  const tasks: string[] = [];
  const seen = new Set<string>();
  for (const a of answers) if (!seen.has(a.task)) (seen.add(a.task), tasks.push(a.task));
  const probs = tasks.map(() => ({}) as Record<string, number>);
  const taskIx = new Map(tasks.map((t, i) => [t, i]));
  for (const c of classes) {
    const binary = answers.map((a) => ({ task: a.task, worker: a.worker, label: a.labels.includes(c) ? '1' : '0' }));
    const fit = createEstimator(options.method ?? 'mv', { classes: ['0', '1'] }).fit(binary);
    fit.tasks.forEach((t, i) => (probs[taskIx.get(t)!][c] = fit.posteriors[i * 2 + 1]));
  }
  const labels = probs.map((p) => classes.filter((c) => p[c] >= threshold));
  const confidence = probs.map((p) => (classes.length ? classes.reduce((s, c) => s + Math.max(p[c], 1 - p[c]), 0) / classes.length : 1));
  return Object.freeze({ tasks, classes, labels, probabilities: probs, confidence });
}
