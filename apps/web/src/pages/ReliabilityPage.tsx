import { useMemo } from 'react';
import { Link } from 'react-router-dom';
import { api, fetchAll, itemsOf } from '../api';
import { Card, ErrorNote, Notice, pct, Stat, useLoad } from '../ui';
import { BarChart } from './lazy-charts';

interface MyAssignment {
  id: string;
  campaignId: string;
  status: string;
  durationMs: number | null;
  submittedAt: string | null;
}

/**
 * The worker's own track record: what the server's reliability score says (when the quality
 * endpoints are there) and the plain facts from their assignments (approval rate, speed).
 */
export function ReliabilityPage() {
  const mine = useLoad(() => fetchAll<MyAssignment>('/work/assignments', {}, 5000), []);
  const score = useLoad(() => api<MyReliability>('/me/reliability'), []);
  const names = useLoad(() => api('/work/campaigns', { query: { limit: 100 } }).then((r) => new Map(itemsOf<{ id: string; name: string }>(r).map((c) => [c.id, c.name]))), []);
  const facts = useMemo(() => {
    const list = mine.data ?? [];
    const approved = list.filter((a) => a.status === 'approved').length;
    const rejected = list.filter((a) => a.status === 'rejected').length;
    const waiting = list.filter((a) => a.status === 'submitted').length;
    const durations = list.map((a) => a.durationMs).filter((d): d is number => d !== null).sort((a, b) => a - b);
    const byWeek = new Map<string, { approved: number; rejected: number }>();
    for (const a of list) {
      if (!a.submittedAt || (a.status !== 'approved' && a.status !== 'rejected')) continue;
      const d = new Date(a.submittedAt);
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      const k = d.toISOString().slice(0, 10);
      const w = byWeek.get(k) ?? { approved: 0, rejected: 0 };
      w[a.status]++;
      byWeek.set(k, w);
    }
    return {
      approved,
      rejected,
      waiting,
      rate: approved + rejected ? approved / (approved + rejected) : null,
      median: durations.length ? durations[Math.floor((durations.length - 1) / 2)] : null,
      weeks: [...byWeek].sort(([a], [b]) => a.localeCompare(b)),
    };
  }, [mine.data]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>My reliability</h1>
        <Link to="/work/history">My work →</Link>
      </div>
      <Card title="Reliability score">
        {score.missing || (score.error && !score.data) ? (
          <Notice>Your reliability score (gold accuracy, agreement with consensus) will show here once quality scoring is enabled on this server.</Notice>
        ) : score.data ? (
          <ScoreView data={score.data} names={names.data} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </Card>
      <Card title="Track record">
        <ErrorNote error={mine.error} />
        <div className="stats">
          <Stat label="approved" value={facts.approved} />
          <Stat label="rejected" value={facts.rejected} />
          <Stat label="waiting for review" value={facts.waiting} />
          <Stat label="approval rate" value={pct(facts.rate)} />
          <Stat label="median time per task" value={facts.median === null ? '—' : `${(facts.median / 1000).toFixed(1)} s`} />
        </div>
        {facts.weeks.length > 0 ? (
          <BarChart
            title="Reviewed answers per week"
            labels={facts.weeks.map(([k]) => `week of ${k}`)}
            series={[
              { label: 'Approved', data: facts.weeks.map(([, w]) => w.approved) },
              { label: 'Rejected', data: facts.weeks.map(([, w]) => w.rejected) },
            ]}
          />
        ) : (
          <p className="muted">Reviewed answers appear here week by week.</p>
        )}
      </Card>
    </div>
  );
}

interface Interval {
  rate: number | null;
  low: number;
  high: number;
  n: number;
}
interface MyReliability {
  global: { answers: number; goldAccuracy: Interval; approved: number; rejected: number; approvalRate: number | null; reliability: number; meanSkill: number | null; medianSeconds: number | null };
  campaigns: { campaignId: string; answers: number; goldAccuracy: Interval; consensusAgreement: Interval; medianSeconds: number | null; approvalRate: number | null; blocked: { reason: string } | null }[];
}

/** A rate with its 95% interval, e.g. "83% (61–94%, 12 graded)". */
export const interval = (i: Interval | undefined) => (!i || i.rate === null || i.n === 0 ? '—' : `${pct(i.rate)} (${pct(i.low)}–${pct(i.high)}, ${i.n})`);

function ScoreView({ data, names }: { data: MyReliability; names?: Map<string, string> }) {
  const g = data.global;
  return (
    <>
      <div className="stats big">
        <Stat label="reliability score" value={pct(g.reliability)} />
        <Stat label="gold accuracy (95% interval, graded)" value={interval(g.goldAccuracy)} />
        <Stat label="approval rate" value={pct(g.approvalRate)} />
        <Stat label="Dawid-Skene skill" value={g.meanSkill === null ? '—' : g.meanSkill.toFixed(2)} />
      </div>
      <p className="muted small">
        The score is a cautious estimate (the lower end of a 95% interval) of how often your work is right, from hidden gold items and reviews. Some campaigns require a
        minimum score.
      </p>
      {data.campaigns.length > 0 && (
        <div className="table-wrap short" tabIndex={0}>
          <table>
            <caption>Per campaign</caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col" className="num">
                  Answers
                </th>
                <th scope="col">Gold accuracy</th>
                <th scope="col">Agreement with consensus</th>
                <th scope="col">Approval rate</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {data.campaigns.map((c) => (
                <tr key={c.campaignId}>
                  <td>{names?.get(c.campaignId) ?? <code>{c.campaignId.slice(0, 8)}</code>}</td>
                  <td className="num">{c.answers}</td>
                  <td>{interval(c.goldAccuracy)}</td>
                  <td>{interval(c.consensusAgreement)}</td>
                  <td>{pct(c.approvalRate)}</td>
                  <td>{c.blocked ? <span className="badge badge-blocked">blocked: {c.blocked.reason}</span> : <span className="badge badge-active">ok</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
