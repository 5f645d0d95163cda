import { ComponentProps, lazy, Suspense } from 'react';

// chart.js loads on first use, in its own chunk, while a same-size box holds the place (no jump).
const LazyLine = lazy(() => import('./Charts').then((m) => ({ default: m.LineChart })));
const LazyBar = lazy(() => import('./Charts').then((m) => ({ default: m.BarChart })));

export function LineChart(props: ComponentProps<typeof LazyLine>) {
  return (
    <Suspense fallback={<div className="chart-box" />}>
      <LazyLine {...props} />
    </Suspense>
  );
}

export function BarChart(props: ComponentProps<typeof LazyBar>) {
  return (
    <Suspense fallback={<div className="chart-box" />}>
      <LazyBar {...props} />
    </Suspense>
  );
}

/** A short date-time label for a chart's x axis. */
export const tick = (iso: string, bucket: 'hour' | 'day' = 'day') => {
  const d = new Date(iso);
  return bucket === 'hour' ? d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
};
