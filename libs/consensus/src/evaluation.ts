import type { GoldLabel } from './crowd';
import { sortLabels } from './labels';

export interface ClassScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Gold tasks of this class. */
  readonly support: number;
}

export interface Evaluation {
  /** Share of gold tasks whose prediction equals gold (a gold task without a prediction is wrong). */
  readonly accuracy: number;
  /** Gold tasks evaluated. */
  readonly tasks: number;
  /** Gold tasks that had no prediction. */
  readonly missing: number;
  readonly perClass: Readonly<Record<string, ClassScores>>;
  /** Unweighted mean F1 over the classes that occur in gold or predictions. */
  readonly macroF1: number;
  /** Row = gold class, column = predicted class, both in `classes` order (missing predictions not counted). */
  readonly confusion: { readonly classes: readonly string[]; readonly matrix: readonly (readonly number[])[] };
}

/** Scores predicted labels (a map task → label, or anything with `label(task)`) against gold. */
export function evaluate(
  predicted: ReadonlyMap<string, string> | { label(task: string): string | undefined },
  gold: readonly GoldLabel[] | ReadonlyMap<string, string>,
): Evaluation {
  const get = (t: string) => ('label' in predicted && typeof predicted.label === 'function' ? predicted.label(t) : (predicted as ReadonlyMap<string, string>).get(t));
  const pairs: [string, string | undefined][] = [];
  const entries: Iterable<readonly [string, string]> = Array.isArray(gold) ? (gold as readonly GoldLabel[]).map((g) => [g.task, g.label] as const) : (gold as ReadonlyMap<string, string>).entries();
  for (const [task, label] of entries) pairs.push([label, get(task)]);
  const classes = sortLabels(pairs.flatMap(([g, p]) => (p === undefined ? [g] : [g, p])));
  const ix = new Map(classes.map((c, i) => [c, i]));
  const matrix = classes.map(() => classes.map(() => 0));
  let right = 0;
  let missing = 0;
  for (const [g, p] of pairs) {
    if (p === undefined) {
      missing++;
      continue;
    }
    matrix[ix.get(g)!][ix.get(p)!]++;
    if (g === p) right++;
  }
  const perClass: Record<string, ClassScores> = {};
  let f1Sum = 0;
  classes.forEach((c, i) => {
    const tp = matrix[i][i];
    const predictedN = matrix.reduce((s, row) => s + row[i], 0);
    const support = pairs.filter(([g]) => g === c).length;
    const precision = predictedN ? tp / predictedN : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[c] = Object.freeze({ precision, recall, f1, support });
    f1Sum += f1;
  });
  return Object.freeze({
    accuracy: pairs.length ? right / pairs.length : NaN,
    tasks: pairs.length,
    missing,
    perClass: Object.freeze(perClass),
    macroF1: classes.length ? f1Sum / classes.length : NaN,
    confusion: Object.freeze({ classes, matrix }),
  });
}

/** Mean absolute error of numeric answers against numeric gold (for sets like `emotion`). */
export function meanAbsoluteError(predicted: ReadonlyMap<string, number>, gold: ReadonlyMap<string, number>): number {
  let s = 0;
  let n = 0;
  for (const [t, g] of gold) {
    const p = predicted.get(t);
    if (p === undefined) continue;
    s += Math.abs(p - g);
    n++;
  }
  return n ? s / n : NaN;
}
