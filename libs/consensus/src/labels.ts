const NUMERIC = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * The deterministic order of class labels used everywhere in this library (and so the tie-break
 * order): two labels that both look like decimal numbers compare numerically ("2" < "10"), any
 * other pair compares by UTF-16 code units (no locale involved, so every machine agrees).
 * Numbers sort before non-numbers.
 */
export function compareLabels(a: string, b: string): number {
  const na = NUMERIC.test(a);
  const nb = NUMERIC.test(b);
  if (na && nb) {
    const d = Number(a) - Number(b);
    if (d !== 0) return d < 0 ? -1 : 1;
  } else if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted, de-duplicated copy of `labels` in {@link compareLabels} order. */
export function sortLabels(labels: Iterable<string>): string[] {
  return [...new Set(labels)].sort(compareLabels);
}
