/**
 * Numeric answers (e.g. 0–100 ratings such as the `emotion` set): the per-task median (robust to
 * a wild answer; the mean of the two middle values for an even count) or mean. Categorical
 * methods do not apply; evaluate with `meanAbsoluteError`.
 */
export function aggregateNumeric(answers: readonly { task: string; value: number }[], statistic: 'median' | 'mean' = 'median'): Map<string, number> {
  const by = new Map<string, number[]>();
  for (const a of answers) {
    if (!Number.isFinite(a.value)) continue;
    let v = by.get(a.task);
    if (!v) by.set(a.task, (v = []));
    v.push(a.value);
  }
  const out = new Map<string, number>();
  for (const [t, v] of by) {
    if (statistic === 'mean') out.set(t, v.reduce((s, x) => s + x, 0) / v.length);
    else {
      v.sort((a, b) => a - b);
      const m = v.length >> 1;
      out.set(t, v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2);
    }
  }
  return out;
}
