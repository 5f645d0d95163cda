import { ChangeEvent, lazy, ReactNode, Suspense, useMemo, useState } from 'react';
import { Link, useLocation, useParams } from 'react-router-dom';
import { api, ApiError, describeError, fetchAll, isMissing, itemsOf, money } from '../api';
import { Card, download, ErrorNote, fmtDate, Notice, pct, Stat, StatusBadge, summarize, useLoad } from '../ui';
import { TASK_TYPES } from '../widgets/types';
import { Balance } from './Balance';
import { BarChart, LineChart, tick } from './lazy-charts';

const Histogram = lazy(() => import('./Histogram'));

export interface Campaign {
  id: string;
  name: string;
  taskType: string;
  labels: string[];
  instructions: string;
  rewardMinor: number;
  currency: string;
  redundancyMin: number;
  redundancyMax: number;
  confidenceTarget: number;
  leaseSeconds: number;
  deadline: string | null;
  autoApproveSeconds: number;
  goldRate: number;
  goldPassMark: number;
  aggregationMethod: string;
  status: string;
  publishedAt: string | null;
  createdAt: string;
  ownerEmail?: string;
}
interface Progress {
  tasks: number;
  tasksComplete: number;
  answersSubmitted: number;
  answersApproved: number;
  answersRejected: number;
  liveAssignments: number;
  spendMinor: number;
  currency: string;
  percentComplete: number;
}
export interface Consensus {
  label: unknown;
  confidence: number;
  method: string;
  agreement: number;
  answers: number;
}
export interface Task {
  id: string;
  seq: number;
  payload: Record<string, unknown>;
  gold: unknown;
  needed: number;
  taken: number;
  answersCount: number;
  status: string;
  consensus: Consensus | null;
  completedAt: string | null;
}
interface Insights {
  campaignId: string;
  bucket: 'hour' | 'day';
  currency: string;
  timeline: {
    at: string;
    submitted: number;
    approved: number;
    rejected: number;
    completedTasks: number;
    cumulativeCompleted: number;
    spendMinor: number;
    cumulativeSpendMinor: number;
    agreement: number | null;
  }[];
  workers: { pseudonym: string; submitted: number; approved: number; rejected: number; pending: number; agreementWithConsensus: number | null; medianDurationMs: number | null }[];
  labels: { label: string; answers: number; consensus: number }[];
  sampled: boolean;
}
interface ImportReport {
  rows: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; field?: string; problem: string }[];
  errorsTruncated?: boolean;
  durationMs?: number;
}

const typeName = (t: string) => TASK_TYPES.find((x) => x.value === t)?.name ?? t;
export const payloadSummary = (p: Record<string, unknown>) => {
  const t = typeof p.text === 'string' ? p.text : '';
  const img = typeof p.imageUrl === 'string' ? p.imageUrl.split('/').pop() : '';
  const s = [t, img].filter(Boolean).join(' · ');
  return s.length > 90 ? `${s.slice(0, 90)}…` : s || JSON.stringify(p).slice(0, 90);
};

export function CampaignsPage() {
  const list = useLoad(() => api('/campaigns', { query: { limit: 100 } }).then((r) => itemsOf<Campaign>(r)), []);
  return (
    <div className="page">
      <div className="page-head">
        <h1>My campaigns</h1>
        <div className="actions">
          <Link className="button secondary" to="/funding">
            Add funds
          </Link>
          <Link className="button primary" to="/campaigns/new">
            New campaign
          </Link>
        </div>
      </div>
      <Balance />
      <Card title="Campaigns">
        <ErrorNote error={list.error} />
        {list.data?.length === 0 && <Notice>No campaign yet. Create one to start collecting labels.</Notice>}
        {!!list.data?.length && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Reward</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={`/campaigns/${c.id}`}>{c.name}</Link>
                    </td>
                    <td>{typeName(c.taskType)}</td>
                    <td>
                      <StatusBadge status={c.status} />
                    </td>
                    <td>{money(c.rewardMinor, c.currency)}</td>
                    <td>{fmtDate(c.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}

const FORMAT_BY_EXT: Record<string, string> = { csv: 'text/csv', json: 'application/json', jsonl: 'application/x-ndjson', ndjson: 'application/x-ndjson' };

function UploadCard({ campaign, onDone }: { campaign: Campaign; onDone(): void }) {
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const upload = async () => {
    if (!file) return;
    const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
    const contentType = FORMAT_BY_EXT[ext];
    if (!contentType) return setError(new Error('Choose a .csv, .json, .jsonl or .ndjson file.'));
    setBusy(true);
    setError(undefined);
    setReport(null);
    try {
      const r = await api<ImportReport>(`/campaigns/${campaign.id}/items`, { raw: { text: await file.text(), contentType } });
      setReport(r);
      onDone();
    } catch (e) {
      // A strict import that failed carries its report.
      if (e instanceof ApiError && e.body.report) setReport(e.body.report as ImportReport);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const example =
    campaign.taskType === 'boxes'
      ? '{"imageUrl":"https://…/1.jpg","width":640,"height":480}'
      : campaign.taskType === 'spans'
        ? '{"text":"Ada Lovelace met Charles Babbage in London."}'
        : '{"text":"The product works great"}  or  {"payload":{…},"gold":{"label":"…"}}';
  return (
    <Card title="Upload items">
      <p className="muted small">
        CSV (columns are payload fields; optional <code>gold</code> column), JSON array or JSON Lines. One item per row, e.g. <code>{example}</code>
      </p>
      <div className="row upload-row">
        <label className="field grow">
          <span>Items file</span>
          <input type="file" name="items" accept=".csv,.json,.jsonl,.ndjson,text/csv,application/json" onChange={(e: ChangeEvent<HTMLInputElement>) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <button type="button" className="primary" onClick={upload} disabled={!file || busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </div>
      <ErrorNote error={error} />
      {report && (
        <div className="import-report" role="status" aria-label="Validation report">
          <div className="stats">
            <Stat label="rows read" value={report.rows} />
            <Stat label="imported" value={report.inserted} />
            <Stat label="duplicates skipped" value={report.duplicates} />
            <Stat label="rejected" value={report.rejected} />
          </div>
          {report.errors.length > 0 && (
            <div className="table-wrap short" tabIndex={0}>
              <table>
                <caption>Rejected rows{report.errorsTruncated ? ' (first 1000 problems)' : ''}</caption>
                <thead>
                  <tr>
                    <th scope="col">Line</th>
                    <th scope="col">Field</th>
                    <th scope="col">Problem</th>
                  </tr>
                </thead>
                <tbody>
                  {report.errors.map((e, i) => (
                    <tr key={i}>
                      <td>{e.line}</td>
                      <td>
                        <code>{e.field ?? ''}</code>
                      </td>
                      <td>{e.problem}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </Card>
  );
}

function exportRows(tasks: Task[]) {
  return tasks.map((t) => ({
    taskId: t.id,
    seq: t.seq,
    status: t.status,
    payload: t.payload,
    label: t.consensus?.label ?? null,
    confidence: t.consensus?.confidence ?? null,
    agreement: t.consensus?.agreement ?? null,
    method: t.consensus?.method ?? null,
    answers: t.consensus?.answers ?? t.answersCount,
  }));
}
const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
export function tasksToCsv(tasks: Task[]): string {
  const cols = ['taskId', 'seq', 'status', 'label', 'confidence', 'agreement', 'method', 'answers', 'payload'] as const;
  const rows = exportRows(tasks).map((r) => cols.map((c) => csvCell(r[c])).join(','));
  return [cols.join(','), ...rows].join('\n') + '\n';
}
export const tasksToJsonl = (tasks: Task[]) => exportRows(tasks).map((r) => JSON.stringify(r)).join('\n') + '\n';

export function CampaignDashboardPage() {
  const { id = '' } = useParams();
  const created = (useLocation().state as { created?: boolean } | null)?.created;
  const c = useLoad(() => api<Campaign>(`/campaigns/${id}`), [id]);
  const progress = useLoad(() => api<Progress>(`/campaigns/${id}/progress`), [id]);
  const tasks = useLoad(() => fetchAll<Task>(`/campaigns/${id}/tasks`), [id]);
  const insights = useLoad(() => api<Insights>(`/campaigns/${id}/insights`), [id]);
  const quality = useLoad(() => api<{ items: QualityWorker[] }>(`/campaigns/${id}/workers`).then((r) => new Map(r.items.map((w) => [w.worker, w]))), [id]);
  const summary = useLoad(() => api<{ lowConfidence: number; meanConfidence: number | null; krippendorffAlpha: number | null }>(`/campaigns/${id}/results/summary`), [id]);
  const [actionError, setActionError] = useState<unknown>();
  const [busy, setBusy] = useState('');
  const reloadAll = () => {
    c.reload();
    progress.reload();
    tasks.reload();
    insights.reload();
    quality.reload();
    summary.reload();
  };
  const act = async (action: 'publish' | 'pause' | 'resume' | 'cancel') => {
    if (action === 'cancel' && !window.confirm('Cancel this campaign? Workers can no longer claim its tasks.')) return;
    setBusy(action);
    setActionError(undefined);
    try {
      await api(`/campaigns/${id}/${action}`, { method: 'POST' });
      reloadAll();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy('');
    }
  };
  const confidences = useMemo(() => (tasks.data ?? []).filter((t) => t.consensus).map((t) => t.consensus!.confidence), [tasks.data]);
  const [exportError, setExportError] = useState<unknown>();
  /** The server's results export (streamed, never gold); the browser-built export when the server has none. */
  const exportAs = async (fmt: 'jsonl' | 'csv') => {
    setExportError(undefined);
    const name = (c.data?.name ?? 'campaign').replace(/[^\w-]+/g, '-').toLowerCase();
    const type = fmt === 'csv' ? 'text/csv' : 'application/x-ndjson';
    try {
      const text = await api<unknown>(`/campaigns/${id}/results`, { query: { format: fmt } });
      // A JSONL file of one row parses as JSON: turn it back into its line.
      download(`${name}-results.${fmt}`, typeof text === 'string' ? text : JSON.stringify(text) + '\n', type);
    } catch (e) {
      if (!isMissing(e)) return setExportError(e);
      const all = await fetchAll<Task>(`/campaigns/${id}/tasks`);
      download(`${name}-labels.${fmt}`, fmt === 'csv' ? tasksToCsv(all) : tasksToJsonl(all), type);
    }
  };

  if (c.error) return <div className="page"><ErrorNote error={c.error} /></div>;
  if (!c.data) return <div className="page"><p className="muted">Loading…</p></div>;
  const camp = c.data;
  const p = progress.data;
  const st = camp.status;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <Link to="/campaigns" className="muted">
            ← My campaigns
          </Link>
          <h1>
            {camp.name} <StatusBadge status={st} />
          </h1>
          <p className="muted">
            {typeName(camp.taskType)} · {money(camp.rewardMinor, camp.currency)} per answer · {camp.redundancyMin}–{camp.redundancyMax} answers per item, target confidence {camp.confidenceTarget} · {camp.aggregationMethod}
          </p>
        </div>
        <div className="actions">
          {st === 'draft' && (
            <button type="button" className="primary" onClick={() => act('publish')} disabled={!!busy}>
              {busy === 'publish' ? 'Publishing…' : 'Publish'}
            </button>
          )}
          {st === 'published' && (
            <button type="button" className="secondary" onClick={() => act('pause')} disabled={!!busy}>
              Pause
            </button>
          )}
          {st === 'paused' && (
            <button type="button" className="primary" onClick={() => act('resume')} disabled={!!busy}>
              Resume
            </button>
          )}
          {['draft', 'published', 'paused'].includes(st) && (
            <button type="button" className="danger" onClick={() => act('cancel')} disabled={!!busy}>
              Cancel campaign
            </button>
          )}
          <Link className="button secondary" to={`/campaigns/${id}/review`}>
            Review answers
          </Link>
        </div>
      </div>
      {created && st === 'draft' && <Notice kind="ok">Campaign created as a draft. Upload items, then publish.</Notice>}
      {st === 'completed' && p && p.tasksComplete < p.tasks && (
        <Notice kind="info">
          Ended at its deadline{camp.deadline ? ` (${fmtDate(camp.deadline)})` : ''}: {p.tasks - p.tasksComplete} of {p.tasks} tasks were not answered; their escrow went back to your balance.
        </Notice>
      )}
      {(st === 'published' || st === 'paused') && camp.deadline && new Date(camp.deadline).getTime() <= Date.now() && (
        <Notice kind="info">The deadline has passed: no new work is handed out; the campaign ends when the work already claimed is in.</Notice>
      )}
      {actionError !== undefined && (
        <p className="error" role="alert">
          {actionError instanceof ApiError && actionError.code === 'INSUFFICIENT_FUNDS' ? (
            <>
              Not enough funds to publish: {actionError.message} <Link to="/funding">Add funds →</Link>
            </>
          ) : (
            describeError(actionError)
          )}
        </p>
      )}
      <div className="stats big">
        <Stat label="items" value={p?.tasks ?? '—'} />
        <Stat label="complete" value={p ? `${p.tasksComplete} (${p.percentComplete}%)` : '—'} />
        <Stat label="answers" value={p?.answersSubmitted ?? '—'} />
        <Stat label="approved / rejected" value={p ? `${p.answersApproved} / ${p.answersRejected}` : '—'} />
        <Stat label="working now" value={p?.liveAssignments ?? '—'} />
        <Stat label="spent" value={p ? money(p.spendMinor, p.currency) : '—'} />
        {summary.data && (
          <>
            <Stat label="mean confidence" value={pct(summary.data.meanConfidence)} />
            <Stat label="low-confidence items" value={summary.data.lowConfidence} />
            {summary.data.krippendorffAlpha !== null && <Stat label="Krippendorff's alpha" value={summary.data.krippendorffAlpha.toFixed(3)} />}
          </>
        )}
      </div>
      {p && (
        <div className="progress" role="progressbar" aria-label="Items complete" aria-valuemin={0} aria-valuemax={100} aria-valuenow={p.percentComplete}>
          <div style={{ width: `${p.percentComplete}%` }} />
        </div>
      )}
      <div className="grid-2">
        {st === 'draft' || st === 'published' || st === 'paused' ? <UploadCard campaign={camp} onDone={reloadAll} /> : <Card title="Items">No more uploads: the campaign is {st}.</Card>}
        <Card title="Consensus confidence">
          {confidences.length ? (
            <Suspense fallback={<div className="chart-box" />}>
              <Histogram values={confidences} />
            </Suspense>
          ) : (
            <div className="chart-box empty">
              <p className="muted">No consensus yet: it appears as answers come in.</p>
            </div>
          )}
        </Card>
      </div>
      <CampaignCharts insights={insights.data} error={insights.error} quality={quality.data} />
      <QualityLog campaignId={id} />
      <QualityRulesCard campaignId={id} onChange={reloadAll} />
      <Card
        title={`Tasks (${tasks.data?.length ?? 0})`}
        actions={
          <>
            <button type="button" className="secondary" onClick={() => exportAs('jsonl')} disabled={!tasks.data?.length}>
              Export JSONL
            </button>
            <button type="button" className="secondary" onClick={() => exportAs('csv')} disabled={!tasks.data?.length}>
              Export CSV
            </button>
            <button type="button" className="link" onClick={reloadAll}>
              Refresh
            </button>
          </>
        }
      >
        <ErrorNote error={tasks.error} />
        <div className="table-wrap tall" tabIndex={0}>
          <table className="tasks-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Item</th>
                <th scope="col">Status</th>
                <th scope="col">Answers</th>
                <th scope="col">Consensus</th>
                <th scope="col">Confidence</th>
                <th scope="col">Agreement</th>
              </tr>
            </thead>
            <tbody>
              {tasks.data?.slice(0, 500).map((t) => (
                <tr key={t.id}>
                  <td>{t.seq}</td>
                  <td className="payload-cell">{payloadSummary(t.payload)}</td>
                  <td>
                    <StatusBadge status={t.status} />
                  </td>
                  <td>
                    {t.answersCount} / {t.needed}
                  </td>
                  <td className="answer-cell">{t.consensus ? summarize(t.consensus.label) : '—'}</td>
                  <td>{pct(t.consensus?.confidence)}</td>
                  <td>{pct(t.consensus?.agreement)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <ErrorNote error={exportError} />
        <p className="muted small">Exports hold one row per item: label, confidence, posterior, agreement, method and answer count (gold items are never included).</p>
      </Card>
    </div>
  );
}

function ChartOrEmpty({ has, children, empty }: { has: boolean; children: ReactNode; empty: string }) {
  return has ? (
    <>{children}</>
  ) : (
    <div className="chart-box empty">
      <p className="muted">{empty}</p>
    </div>
  );
}

/** Progress, spend and agreement over time, label counts and the pseudonymous worker table. */
function CampaignCharts({ insights, error, quality }: { insights?: Insights; error: unknown; quality?: Map<string, QualityWorker> }) {
  if (error) return <ErrorNote error={error} />;
  if (!insights) return <div className="charts-placeholder" aria-busy="true" />;
  // A zero point one period before the first, so a young campaign's single period still draws a line.
  const first = insights.timeline[0];
  const step = insights.bucket === 'hour' ? 3_600_000 : 86_400_000;
  const tl = first
    ? [{ ...first, at: new Date(Date.parse(first.at) - step).toISOString(), submitted: 0, approved: 0, rejected: 0, completedTasks: 0, cumulativeCompleted: 0, spendMinor: 0, cumulativeSpendMinor: 0, agreement: null }, ...insights.timeline]
    : [];
  const labels = tl.map((p) => tick(p.at, insights.bucket));
  const has = tl.length > 0;
  const cur = insights.currency;
  return (
    <>
      <div className="grid-2">
        <Card title="Progress over time">
          <ChartOrEmpty has={has} empty="No answers yet.">
            <LineChart
              title="Progress over time"
              labels={labels}
              series={[
                { label: 'Items complete (total)', data: tl.map((p) => p.cumulativeCompleted) },
                { label: `Answers per ${insights.bucket}`, data: tl.map((p) => p.submitted) },
              ]}
              yTitle="Count"
            />
          </ChartOrEmpty>
        </Card>
        <Card title="Spend over time">
          <ChartOrEmpty has={has} empty="Nothing spent yet: spend grows as answers are approved.">
            <LineChart
              title="Spend over time"
              labels={labels}
              series={[{ label: 'Spent (total)', data: tl.map((p) => p.cumulativeSpendMinor / 100) }]}
              yTitle={`Spent (${cur.toUpperCase()})`}
              format={(v) => money(Math.round(v * 100), cur)}
            />
          </ChartOrEmpty>
        </Card>
        <Card title="Agreement over time">
          <ChartOrEmpty has={tl.some((p) => p.agreement !== null)} empty="Agreement appears once items are complete.">
            <LineChart
              title="Mean agreement of the items completed in each period"
              labels={labels}
              series={[{ label: 'Agreement', data: tl.map((p) => (p.agreement === null ? null : Math.round(p.agreement * 1000) / 10)) }]}
              yTitle="Agreement (%)"
            />
          </ChartOrEmpty>
        </Card>
        <Card title="Labels: answers and consensus">
          <ChartOrEmpty has={insights.labels.some((l) => l.answers > 0)} empty={insights.labels.length ? 'No answers yet.' : 'Label counts are shown for label campaigns.'}>
            <BarChart
              title="How often each label was answered and chosen by consensus"
              labels={insights.labels.map((l) => l.label)}
              series={[
                { label: 'Answers', data: insights.labels.map((l) => l.answers) },
                { label: 'Consensus', data: insights.labels.map((l) => l.consensus) },
              ]}
            />
          </ChartOrEmpty>
        </Card>
      </div>
      <Card
        title={`Workers (${insights.workers.length})`}
        actions={
          quality ? (
            <button type="button" className="secondary" onClick={() => void downloadWorkersCsv(insights.campaignId)}>
              Download worker reliability (CSV)
            </button>
          ) : undefined
        }
      >
        <p className="muted small">Workers appear under a pseudonym that is stable for this campaign. Agreement is the share of their answers equal to the item's consensus.</p>
        {insights.workers.length === 0 ? (
          <p className="muted">No answers yet.</p>
        ) : (
          <div className="table-wrap" tabIndex={0}>
            <table className="workers-table">
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col" className="num">
                    Answers
                  </th>
                  <th scope="col" className="num">
                    Approved
                  </th>
                  <th scope="col" className="num">
                    Rejected
                  </th>
                  <th scope="col" className="num">
                    Waiting
                  </th>
                  <th scope="col">Agreement with consensus</th>
                  <th scope="col">Gold accuracy</th>
                  <th scope="col" className="num">
                    Dawid-Skene accuracy
                  </th>
                  <th scope="col" className="num">
                    Median time
                  </th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {insights.workers.map((w) => (
                  <tr key={w.pseudonym}>
                    <td>
                      <code>{w.pseudonym}</code>
                    </td>
                    <td className="num">{w.submitted}</td>
                    <td className="num">{w.approved}</td>
                    <td className="num">{w.rejected}</td>
                    <td className="num">{w.pending}</td>
                    <td>
                      <Meter value={w.agreementWithConsensus} label={`Agreement of ${w.pseudonym}`} />
                    </td>
                    <td>{goldText(quality?.get(w.pseudonym))}</td>
                    <td className="num">{quality?.get(w.pseudonym)?.dawidSkene ? pct(quality.get(w.pseudonym)!.dawidSkene!.accuracy) : '—'}</td>
                    <td className="num">{w.medianDurationMs === null ? '—' : `${(w.medianDurationMs / 1000).toFixed(1)} s`}</td>
                    <td>{quality?.get(w.pseudonym)?.blocked ? <span className="badge badge-blocked" title={quality.get(w.pseudonym)!.blocked!.reason}>blocked</span> : <span className="badge badge-active">active</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {insights.sampled && <p className="muted small">Figures over the latest 50,000 answers.</p>}
      </Card>
    </>
  );
}

async function downloadWorkersCsv(campaignId: string) {
  download(`workers-${campaignId}.csv`, await api<string>(`/campaigns/${campaignId}/workers`, { query: { format: 'csv' } }), 'text/csv');
}

interface QualityWorker {
  worker: string;
  goldAccuracy: { rate: number | null; low: number; high: number; n: number };
  dawidSkene: { accuracy: number } | null;
  blocked: { reason: string } | null;
}
const goldText = (q?: QualityWorker) => (!q || q.goldAccuracy.n === 0 || q.goldAccuracy.rate === null ? '—' : `${pct(q.goldAccuracy.rate)} of ${q.goldAccuracy.n}`);

interface RuleLogEntry {
  id: number;
  worker: string | null;
  rule: string;
  action: string;
  reason: string;
  createdAt: string;
}
interface Flag {
  id: string;
  kind: string;
  workers: string[];
  reason: string;
  resolvedAt: string | null;
  createdAt: string;
}

interface QualityRules {
  dynamicOverlap: boolean;
  minGoldAnswers: number;
  goldAction: 'flag' | 'block' | 'off';
  fastFactor: number;
  fastAction: 'flag' | 'block' | 'off';
  dailyCap: number | null;
  collusionMargin: number;
  reviewPolicy?: 'manual' | 'consensus';
  goldRateProven?: number | null;
}

/** The campaign's automatic quality rules, editable; and a button to re-estimate worker skills now. */
function QualityRulesCard({ campaignId, onChange }: { campaignId: string; onChange(): void }) {
  const rules = useLoad(() => api<QualityRules>(`/campaigns/${campaignId}/quality-rules`), [campaignId]);
  const [draft, setDraft] = useState<Partial<QualityRules>>({});
  const [msg, setMsg] = useState('');
  const [error, setError] = useState<unknown>();
  if (rules.missing) return null;
  const r = { ...rules.data, ...draft } as QualityRules;
  const set = (patch: Partial<QualityRules>) => setDraft((d) => ({ ...d, ...patch }));
  const save = async () => {
    setError(undefined);
    setMsg('');
    try {
      await api(`/campaigns/${campaignId}/quality-rules`, { method: 'PATCH', body: draft });
      setDraft({});
      setMsg('Quality rules saved.');
      rules.reload();
    } catch (e) {
      setError(e);
    }
  };
  const reestimate = async () => {
    setError(undefined);
    setMsg('');
    try {
      const out = await api<{ workers: number; answers: number; method: string }>(`/campaigns/${campaignId}/quality/reestimate`, { method: 'POST' });
      setMsg(`Re-estimated ${out.workers} workers over ${out.answers} answers (${out.method}).`);
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  const action = (name: 'goldAction' | 'fastAction', label: string) => (
    <label className="field">
      <span>{label}</span>
      <select value={r[name]} onChange={(e) => set({ [name]: e.target.value } as Partial<QualityRules>)}>
        <option value="block">block the worker here</option>
        <option value="flag">flag for review</option>
        <option value="off">do nothing</option>
      </select>
    </label>
  );
  return (
    <Card
      title="Quality rules"
      actions={
        <button type="button" className="secondary" onClick={reestimate}>
          Re-estimate worker skills now
        </button>
      }
    >
      <ErrorNote error={rules.error} />
      {rules.data && (
        <form
          className="quality-form"
          aria-label="Quality rules"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <div className="row">
            <label className="check">
              <input type="checkbox" checked={r.dynamicOverlap} onChange={(e) => set({ dynamicOverlap: e.target.checked })} /> Dynamic overlap (ask for more answers only where workers disagree)
            </label>
          </div>
          <div className="row">
            {action('goldAction', 'Gold accuracy under the pass mark')}
            <label className="field">
              <span>…after this many gold answers</span>
              <input type="number" min={1} max={1000} value={r.minGoldAnswers} onChange={(e) => set({ minGoldAnswers: Number(e.target.value) })} />
            </label>
            {r.goldRateProven !== undefined && (
              <label className="field">
                <span>Gold rate for workers proven on gold (empty: the campaign's rate)</span>
                <input
                  type="number"
                  min={0}
                  max={1}
                  step="any"
                  aria-label="Gold rate for proven workers"
                  value={r.goldRateProven ?? ''}
                  onChange={(e) => set({ goldRateProven: e.target.value === '' ? null : Number(e.target.value) })}
                />
              </label>
            )}
            {action('fastAction', 'Answers much faster than the median')}
            <label className="field">
              <span>“Fast” means under this share of the median time</span>
              <input type="number" min={0.01} max={1} step="any" value={r.fastFactor} onChange={(e) => set({ fastFactor: Number(e.target.value) })} />
            </label>
            {r.reviewPolicy !== undefined && (
              <label className="field">
                <span>Review</span>
                <select value={r.reviewPolicy} onChange={(e) => set({ reviewPolicy: e.target.value as 'manual' | 'consensus' })}>
                  <option value="manual">I review (auto-approval after the delay)</option>
                  <option value="consensus">Approve answers that agree with consensus at once</option>
                </select>
              </label>
            )}
            <label className="field">
              <span>Tasks per worker per 24 h (empty: no cap)</span>
              <input type="number" min={1} value={r.dailyCap ?? ''} onChange={(e) => set({ dailyCap: e.target.value === '' ? null : Number(e.target.value) })} />
            </label>
          </div>
          <button type="submit" className="primary" disabled={Object.keys(draft).length === 0}>
            Save rules
          </button>
        </form>
      )}
      {msg && <Notice kind="ok">{msg}</Notice>}
      <ErrorNote error={error} />
    </Card>
  );
}

/** What the quality rules did on this campaign: open flags and the rule log. */
function QualityLog({ campaignId }: { campaignId: string }) {
  const log = useLoad(() => api(`/campaigns/${campaignId}/rule-log`, { query: { limit: 50 } }).then((r) => itemsOf<RuleLogEntry>(r)), [campaignId]);
  const flags = useLoad(() => api(`/campaigns/${campaignId}/flags`, { query: { limit: 50 } }).then((r) => itemsOf<Flag>(r)), [campaignId]);
  if (log.missing && flags.missing) return null;
  return (
    <div className="grid-2">
      <Card title={`Quality flags (${flags.data?.filter((f) => !f.resolvedAt).length ?? 0} open)`}>
        <ErrorNote error={flags.error} />
        {flags.data?.length ? (
          <ul className="plain-list">
            {flags.data.map((f) => (
              <li key={f.id}>
                <span className={`badge ${f.resolvedAt ? '' : 'badge-warn'}`}>{f.kind}</span> {f.workers.map((w) => <code key={w}>{w}</code>)} — {f.reason}
                <span className="muted small"> · {fmtDate(f.createdAt)}{f.resolvedAt ? ' · resolved' : ''}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No flag: no worker looks suspicious so far.</p>
        )}
      </Card>
      <Card title="Quality rule log">
        <ErrorNote error={log.error} />
        {log.data?.length ? (
          <ul className="plain-list">
            {log.data.map((e) => (
              <li key={e.id}>
                {fmtDate(e.createdAt)} · <code>{e.rule}</code> → {e.action} {e.worker && <code>{e.worker}</code>} — {e.reason}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No rule has fired yet.</p>
        )}
      </Card>
    </div>
  );
}

/** A 0..1 value as a small bar with its percentage (text carries the value; the bar is decoration). */
export function Meter({ value, label }: { value: number | null | undefined; label: string }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  const p = Math.round(value * 100);
  return (
    <span className="meter" title={label}>
      <span className="meter-bar" aria-hidden="true">
        <span style={{ width: `${p}%` }} className={p < 60 ? 'low' : ''} />
      </span>
      {p}%
    </span>
  );
}

interface AnswerRow {
  id: string;
  taskId: string;
  workerId: string;
  status: string;
  answer: unknown;
  durationMs: number | null;
  submittedAt: string | null;
  rejectReason: string | null;
}

const canon = (v: unknown): string => {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if ('label' in o && Object.keys(o).length === 1) return canon(o.label);
    if (Array.isArray(o.labels)) return JSON.stringify([...o.labels].sort());
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return JSON.stringify([...v].sort());
  return JSON.stringify(v);
};

/** Answers to review, the ones that disagree with consensus or with each other first. */
export function ReviewPage() {
  const { id = '' } = useParams();
  const c = useLoad(() => api<Campaign>(`/campaigns/${id}`), [id]);
  const answers = useLoad(() => fetchAll<AnswerRow>(`/campaigns/${id}/answers`), [id]);
  const tasks = useLoad(() => fetchAll<Task>(`/campaigns/${id}/tasks`), [id]);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const [done, setDone] = useState<Record<string, string>>({});
  const [filter, setFilter] = useState<'submitted' | 'all'>('submitted');

  const rows = useMemo(() => {
    const byTask = new Map((tasks.data ?? []).map((t) => [t.id, t]));
    const perTask = new Map<string, Set<string>>();
    for (const a of answers.data ?? []) {
      const s = perTask.get(a.taskId) ?? new Set<string>();
      s.add(canon(a.answer));
      perTask.set(a.taskId, s);
    }
    return (answers.data ?? [])
      .map((a) => {
        const t = byTask.get(a.taskId);
        const cons = t?.consensus ? canon(t.consensus.label) : null;
        const mine = canon(a.answer);
        const disagree = (cons !== null && cons !== mine) || (perTask.get(a.taskId)?.size ?? 0) > 1;
        return { a, t, disagree, offConsensus: cons !== null && cons !== mine };
      })
      .filter((r) => filter === 'all' || (done[r.a.id] ?? r.a.status) === 'submitted' || done[r.a.id])
      .sort((x, y) => Number(y.disagree) - Number(x.disagree) || Number(y.offConsensus) - Number(x.offConsensus) || (x.t?.seq ?? 0) - (y.t?.seq ?? 0));
  }, [answers.data, tasks.data, filter, done]);

  const decide = async (a: AnswerRow, decision: 'approve' | 'reject') => {
    setErrors((e) => ({ ...e, [a.id]: undefined }));
    try {
      if (decision === 'approve') await api(`/assignments/${a.id}/approve`, { method: 'POST' });
      else await api(`/assignments/${a.id}/reject`, { body: { reason: reasons[a.id] ?? '' } });
      setDone((d) => ({ ...d, [a.id]: decision === 'approve' ? 'approved' : 'rejected' }));
    } catch (e) {
      setErrors((x) => ({ ...x, [a.id]: e }));
    }
  };

  // Answers waiting for review that match their item's consensus: safe to approve in one go.
  const agreeing = rows.filter((r) => !r.disagree && r.t?.consensus && (done[r.a.id] ?? r.a.status) === 'submitted').map((r) => r.a.id);
  const [bulkMsg, setBulkMsg] = useState('');
  const [bulkError, setBulkError] = useState<unknown>();
  const approveAgreeing = async () => {
    setBulkMsg('');
    setBulkError(undefined);
    try {
      const ids = agreeing.slice(0, 1000);
      const r = await api<{ approved: number; skipped: number; results: { assignmentId: string; outcome: string }[] }>(`/campaigns/${id}/assignments/review`, { body: { assignmentIds: ids, decision: 'approve' } });
      setDone((d) => ({ ...d, ...Object.fromEntries(r.results.filter((x) => x.outcome === 'approved').map((x) => [x.assignmentId, 'approved'])) }));
      setBulkMsg(`Approved ${r.approved} answer${r.approved === 1 ? '' : 's'}${r.skipped ? `; ${r.skipped} skipped (already reviewed)` : ''}.`);
    } catch (e) {
      setBulkError(e);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <Link to={`/campaigns/${id}`} className="muted">
            ← {c.data?.name ?? 'Campaign'}
          </Link>
          <h1>Review answers</h1>
        </div>
        <div className="actions">
          <label className="field inline">
            <span>Show</span>
            <select value={filter} onChange={(e) => setFilter(e.target.value as 'submitted' | 'all')}>
              <option value="submitted">Waiting for review</option>
              <option value="all">All answers</option>
            </select>
          </label>
          <button type="button" className="secondary" onClick={approveAgreeing} disabled={agreeing.length === 0}>
            Approve all that agree with consensus ({agreeing.length})
          </button>
        </div>
      </div>
      <ErrorNote error={answers.error ?? tasks.error} />
      {bulkMsg && <Notice kind="ok">{bulkMsg}</Notice>}
      <ErrorNote error={bulkError} />
      <p className="muted">Answers whose task has disagreeing answers, or that differ from the consensus, come first. Unreviewed answers are approved automatically after the campaign's delay.</p>
      {rows.length === 0 && !answers.loading && <Notice>Nothing to review.</Notice>}
      <ul className="review-list" aria-label="Answers">
        {rows.map(({ a, t, disagree, offConsensus }) => {
          const status = done[a.id] ?? a.status;
          return (
            <li key={a.id} className={`card review-item ${disagree ? 'disagree' : ''}`}>
              <div className="review-main">
                <p className="payload-cell">
                  <span className="muted">#{t?.seq ?? '?'}</span> {t ? payloadSummary(t.payload) : a.taskId}
                </p>
                <p>
                  <strong>Answer:</strong> <span className="answer-cell">{summarize(a.answer)}</span>
                  {disagree && <span className="badge badge-warn">{offConsensus ? 'differs from consensus' : 'answers disagree'}</span>}
                </p>
                <p className="muted small">
                  Consensus: {t?.consensus ? `${summarize(t.consensus.label)} (${pct(t.consensus.confidence)})` : '—'} · worker <code>{a.workerId.slice(0, 8)}</code> · {a.durationMs !== null ? `${(a.durationMs / 1000).toFixed(1)} s` : ''}
                </p>
              </div>
              <div className="review-actions">
                <StatusBadge status={status} />
                {status === 'submitted' ? (
                  <>
                    <button type="button" className="primary" onClick={() => decide(a, 'approve')}>
                      Approve
                    </button>
                    <label className="sr-only" htmlFor={`reason-${a.id}`}>
                      Reason for rejecting
                    </label>
                    <input id={`reason-${a.id}`} placeholder="Reason (shown to the worker)" value={reasons[a.id] ?? ''} onChange={(e) => setReasons((r) => ({ ...r, [a.id]: e.target.value }))} />
                    <button type="button" className="danger" onClick={() => decide(a, 'reject')} disabled={(reasons[a.id] ?? '').trim().length < 3}>
                      Reject
                    </button>
                  </>
                ) : (
                  a.rejectReason && <span className="muted small">{a.rejectReason}</span>
                )}
                <ErrorNote error={errors[a.id]} />
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
