import { BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { Bar, Line } from 'react-chartjs-2';

// Loaded on demand (React.lazy) so a worker's first page never pays for chart.js.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Filler, Legend, Tooltip);
// Axis and legend text darker than chart.js's default grey, for 4.5:1 contrast on white.
Chart.defaults.color = '#444c56';

/** Colours with at least 3:1 contrast on white (WCAG non-text contrast), told apart by shape too. */
export const SERIES = ['#2f4fc4', '#b8560b', '#1d6b3a', '#8e2a8e', '#b3261e', '#0b6e8a'];

export interface Series {
  label: string;
  data: (number | null)[];
  /** Right-hand axis (e.g. money next to counts). */
  right?: boolean;
}

function summary(title: string, labels: string[], series: Series[]): string {
  const last = labels.length - 1;
  if (last < 0) return `${title}: no data yet`;
  return `${title}. ${series.map((s) => `${s.label}: latest ${s.data[last] ?? 'none'}`).join('; ')}. ${labels.length} points from ${labels[0]} to ${labels[last]}.`;
}

/** A line chart over time-ordered categories, with an accessible text summary. */
export function LineChart({ title, labels, series, yTitle, yMax, rightTitle, format }: { title: string; labels: string[]; series: Series[]; yTitle?: string; yMax?: number; rightTitle?: string; format?: (v: number) => string }) {
  return (
    <div className="chart-box">
      <Line
        role="img"
        aria-label={summary(title, labels, series)}
        data={{
          labels,
          datasets: series.map((s, i) => ({
            label: s.label,
            data: s.data,
            borderColor: SERIES[i % SERIES.length],
            backgroundColor: SERIES[i % SERIES.length],
            pointStyle: (['circle', 'rect', 'triangle', 'rectRot'] as const)[i % 4],
            pointRadius: labels.length > 40 ? 0 : 3,
            spanGaps: true,
            tension: 0.2,
            yAxisID: s.right ? 'y1' : 'y',
          })),
        }}
        options={{
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: 'index', intersect: false },
          plugins: {
            legend: { display: series.length > 1, labels: { usePointStyle: true } },
            tooltip: format ? { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${format(Number(ctx.parsed.y))}` } } : {},
          },
          scales: {
            x: { grid: { display: false }, ticks: { maxTicksLimit: 8, color: '#444c56' } },
            y: { beginAtZero: true, max: yMax, title: { display: !!yTitle, text: yTitle ?? '' }, ticks: { precision: yMax === 1 ? undefined : 0, color: '#444c56', callback: format && !rightTitle ? (v) => format(Number(v)) : undefined } },
            ...(rightTitle
              ? { y1: { position: 'right' as const, beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: rightTitle }, ticks: { color: '#444c56', callback: format ? (v: string | number) => format(Number(v)) : undefined } } }
              : {}),
          },
        }}
      />
    </div>
  );
}

/** Grouped bars by category. */
export function BarChart({ title, labels, series, yTitle, horizontal }: { title: string; labels: string[]; series: Series[]; yTitle?: string; horizontal?: boolean }) {
  return (
    <div className="chart-box">
      <Bar
        role="img"
        aria-label={`${title}. ${labels.map((l, i) => `${l}: ${series.map((s) => `${s.label} ${s.data[i] ?? 0}`).join(', ')}`).join('; ')}`}
        data={{ labels, datasets: series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: SERIES[i % SERIES.length], borderRadius: 3 })) }}
        options={{
          indexAxis: horizontal ? 'y' : 'x',
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: series.length > 1 } },
          scales: {
            x: { grid: { display: !!horizontal }, beginAtZero: true, ticks: { color: '#444c56' } },
            y: { beginAtZero: true, grid: { display: !horizontal }, title: { display: !!yTitle, text: yTitle ?? '' }, ticks: { precision: 0, color: '#444c56' } },
          },
        }}
      />
    </div>
  );
}

export default LineChart;
