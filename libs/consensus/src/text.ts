/** One worker's free-text answer. */
export interface TextAnswer {
  readonly worker: string;
  readonly text: string;
}

export interface TextOptions {
  /** Compare case-insensitively (default true). Whitespace runs always collapse and ends are trimmed. */
  readonly ignoreCase?: boolean;
}

export interface TextResult {
  /** The chosen answer, exactly as the worker wrote it (undefined without answers). */
  readonly text: string | undefined;
  readonly worker: string | undefined;
  /** 1 − the chosen answer's mean normalised distance to the others (1 for a single answer). */
  readonly confidence: number;
  /** Index of the chosen answer in the input. */
  readonly index: number;
}

/** Levenshtein distance (two-row dynamic programme over UTF-16 code units). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** Edit distance divided by the longer length: 0 = same, 1 = nothing in common. */
export function normalizedEditDistance(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 0 : editDistance(a, b) / n;
}

const normalise = (s: string, ignoreCase: boolean) => {
  const t = s.trim().replace(/\s+/g, ' ');
  return ignoreCase ? t.toLowerCase() : t;
};

/**
 * Free text: the medoid answer, the one with the smallest total normalised edit distance to the
 * other answers (after trimming, collapsing whitespace and, by default, ignoring case). A tie
 * goes to the earliest answer in input order.
 */
export function aggregateText(answers: readonly TextAnswer[], options: TextOptions = {}): TextResult {
  const n = answers.length;
  if (n === 0) return Object.freeze({ text: undefined, worker: undefined, confidence: 0, index: -1 });
  const norm = answers.map((a) => normalise(a.text, options.ignoreCase ?? true));
  const total = new Float64Array(n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const d = normalizedEditDistance(norm[i], norm[j]);
      total[i] += d;
      total[j] += d;
    }
  let best = 0;
  for (let i = 1; i < n; i++) if (total[i] < total[best]) best = i;
  return Object.freeze({ text: answers[best].text, worker: answers[best].worker, confidence: n > 1 ? 1 - total[best] / (n - 1) : 1, index: best });
}
