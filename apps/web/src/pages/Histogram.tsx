import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { Bar } from 'react-chartjs-2';

// Only the pieces a bar chart needs, so the chart chunk stays small.
Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);
// Axis and legend text darker than chart.js's default grey, for 4.5:1 contrast on white.
Chart.defaults.color = '#444c56';

/** Histogram of consensus confidences in ten bins of 0.1. */
export default function Histogram({ values, label = 'Tasks' }: { values: number[]; label?: string }) {
  const bins = new Array(10).fill(0);
  for (const v of values) bins[Math.min(9, Math.max(0, Math.floor(v * 10)))]++;
  const labels = bins.map((_, i) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`);
  return (
    <div className="chart-box">
      <Bar
        aria-label={`Histogram of consensus confidence: ${bins.map((b, i) => `${labels[i]}: ${b}`).join(', ')}`}
        role="img"
        data={{ labels, datasets: [{ label, data: bins, backgroundColor: '#3657c9', borderRadius: 3 }] }}
        options={{
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { tooltip: { enabled: true } },
          scales: {
            x: { title: { display: true, text: 'Consensus confidence' }, grid: { display: false } },
            y: { title: { display: true, text: label }, beginAtZero: true, ticks: { precision: 0 } },
          },
        }}
      />
    </div>
  );
}
