import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, ApiError, describeError, itemsOf, money, User } from '../api';
import { Card, ErrorNote, fmtDate, Notice, pct, Stat, StatusBadge, summarize, useLoad } from '../ui';
import { BarChart } from './lazy-charts';
import { Payout, PayoutsTable, StatementLine, StatementTable } from './MoneyPages';
import { Campaign } from './RequesterPages';

interface AgreementAudit {
  campaignId: string;
  name: string;
  taskType: string;
  labels: string[];
  answers: number;
  tasks: number;
  tasksWithOverlap: number;
  krippendorffAlpha: number | null;
  fleissKappa: number | null;
  percentAgreement: number | null;
  meanPairwiseScore: number | null;
  coincidence: number[][] | null;
  versusConsensus: number[][] | null;
  confusedPairs: { a: string; b: string; count: number; share: number }[];
  perLabel: { label: string; krippendorffAlpha: number | null; percentAgreement: number | null }[];
  lowAgreementTasks: { taskId: string; seq: number; agreement: number; answers: number; consensus: unknown }[];
  sampled: boolean;
}

interface MoneyStory {
  currency: string | null;
  escrowedMinor: number;
  paidMinor: number;
  feesMinor: number;
  releasedMinor: number;
  bonusesMinor: number;
  escrowBalanceMinor: number;
  approvals: number;
}

const num = (x: number | null, digits = 3) => (x === null ? '—' : x.toFixed(digits));

/** Krippendorff's own reading of alpha (2004): ≥ .800 reliable, ≥ .667 tentative, below that not. */
function alphaVerdict(a: number | null): { text: string; kind: 'ok' | 'warn' | 'info' } {
  if (a === null) return { text: 'Not enough overlapping answers to measure agreement yet.', kind: 'info' };
  if (a >= 0.8) return { text: 'Reliable: alpha ≥ 0.800.', kind: 'ok' };
  if (a >= 0.667) return { text: 'Tentative: 0.667 ≤ alpha < 0.800. Check the confused labels and the instructions.', kind: 'warn' };
  return { text: 'Unreliable: alpha < 0.667. Workers often disagree; look at the confused labels below.', kind: 'warn' };
}

/** A matrix as a table whose cells are shaded by value (the number is always printed). */
function Heatmap({ caption, labels, matrix, rowTitle, colTitle }: { caption: string; labels: string[]; matrix: number[][]; rowTitle: string; colTitle: string }) {
  const max = Math.max(1e-9, ...matrix.flat());
  return (
    <div className="table-wrap" tabIndex={0}>
      <table className="heatmap">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">
              <span className="small muted">
                {rowTitle} ↓ / {colTitle} →
              </span>
            </th>
            {labels.map((l) => (
              <th scope="col" key={l}>
                {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={labels[i]}>
              <th scope="row">{labels[i]}</th>
              {row.map((v, j) => {
                const share = v / max;
                // Shading stays light (alpha ≤ 0.55) so the dark number on it keeps a contrast above 5:1.
                const bg = i === j ? `rgba(29, 107, 58, ${0.08 + 0.47 * share})` : `rgba(179, 38, 30, ${v ? 0.08 + 0.47 * share : 0})`;
                return (
                  <td key={j} className="num" style={{ background: bg }} title={`${labels[i]} / ${labels[j]}: ${v}`}>
                    {Number.isInteger(v) ? v : v.toFixed(1)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AdminAgreementPage() {
  const { id = '' } = useParams();
  const campaign = useLoad(() => api<Campaign & { ownerEmail: string }>(`/admin/campaigns/${id}`), [id]);
  const audit = useLoad(() => api<AgreementAudit>(`/admin/campaigns/${id}/agreement-audit`), [id]);
  const story = useLoad(() => api<MoneyStory>(`/admin/ledger/campaigns/${id}`), [id]);
  const a = audit.data;
  const verdict = alphaVerdict(a?.krippendorffAlpha ?? null);
  return (
    <>
      <div className="page-head">
        <div>
          <Link to="/admin" className="muted">
            ← Overview
          </Link>
          <h1>Agreement audit: {campaign.data?.name ?? a?.name ?? '…'}</h1>
          {campaign.data && (
            <p className="muted">
              {campaign.data.taskType} · owner {campaign.data.ownerEmail} · <StatusBadge status={campaign.data.status} />
            </p>
          )}
        </div>
      </div>
      <ErrorNote error={audit.error ?? campaign.error} />
      {a && (
        <>
          <div className="stats big">
            <Stat label="Krippendorff's alpha" value={num(a.krippendorffAlpha)} />
            {a.fleissKappa !== null && <Stat label="Fleiss' kappa" value={num(a.fleissKappa)} />}
            <Stat label="pairwise agreement" value={pct(a.percentAgreement)} />
            {a.meanPairwiseScore !== null && <Stat label={a.taskType === 'boxes' ? 'mean pairwise IoU' : 'mean pairwise span F1'} value={num(a.meanPairwiseScore)} />}
            <Stat label="answers" value={a.answers} />
            <Stat label="items with ≥ 2 answers" value={`${a.tasksWithOverlap} / ${a.tasks}`} />
          </div>
          <Notice kind={verdict.kind}>{verdict.text}</Notice>
          {a.sampled && <p className="muted small">Computed over the latest 50,000 answers.</p>}
          {a.coincidence && a.versusConsensus && (
            <div className="grid-2">
              <Card title="Which labels get confused">
                <Heatmap caption="Coincidence matrix: pairs of answers on the same item (diagonal = agreement)" labels={a.labels} matrix={a.coincidence} rowTitle="one worker" colTitle="another" />
              </Card>
              <Card title="Answers against consensus">
                <Heatmap caption="Rows: the label a worker gave; columns: the item's consensus" labels={a.labels} matrix={a.versusConsensus} rowTitle="answer" colTitle="consensus" />
              </Card>
            </div>
          )}
          {a.confusedPairs.length > 0 && (
            <Card title="Most confused label pairs">
              <BarChart
                title="Most confused label pairs"
                horizontal
                labels={a.confusedPairs.map((p) => `${p.a} ↔ ${p.b}`)}
                series={[{ label: 'Disagreeing answer pairs', data: a.confusedPairs.map((p) => p.count) }]}
              />
            </Card>
          )}
          {a.perLabel.length > 0 && (
            <Card title="Agreement per label (each label as a yes / no question)">
              <div className="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Label</th>
                      <th scope="col" className="num">
                        Krippendorff's alpha
                      </th>
                      <th scope="col" className="num">
                        Pairwise agreement
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.perLabel.map((p) => (
                      <tr key={p.label}>
                        <td>{p.label}</td>
                        <td className="num">{num(p.krippendorffAlpha)}</td>
                        <td className="num">{pct(p.percentAgreement)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Card>
          )}
          <div className="grid-2">
            <Card title="Least agreed items">
              {a.lowAgreementTasks.length === 0 ? (
                <p className="muted">No decided item yet.</p>
              ) : (
                <div className="table-wrap" tabIndex={0}>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">#</th>
                        <th scope="col">Consensus</th>
                        <th scope="col" className="num">
                          Answers
                        </th>
                        <th scope="col" className="num">
                          Agreement
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {a.lowAgreementTasks.map((t) => (
                        <tr key={t.taskId}>
                          <td>{t.seq}</td>
                          <td className="answer-cell">{summarize(t.consensus)}</td>
                          <td className="num">{t.answers}</td>
                          <td className="num">{pct(t.agreement)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </Card>
            <Card title="Money">
              {story.data ? (
                <div className="stats">
                  <Stat label="escrowed" value={money(story.data.escrowedMinor, story.data.currency ?? 'usd')} />
                  <Stat label="paid to workers" value={money(story.data.paidMinor, story.data.currency ?? 'usd')} />
                  <Stat label="platform fees" value={money(story.data.feesMinor, story.data.currency ?? 'usd')} />
                  <Stat label="released back" value={money(story.data.releasedMinor, story.data.currency ?? 'usd')} />
                  <Stat label="escrow left" value={money(story.data.escrowBalanceMinor, story.data.currency ?? 'usd')} />
                  <Stat label="approvals paid" value={story.data.approvals} />
                </div>
              ) : (
                <ErrorNote error={story.error} />
              )}
            </Card>
          </div>
        </>
      )}
      {!a && !audit.error && <p className="muted">Loading…</p>}
    </>
  );
}

interface AdminAnswer {
  id: string;
  taskId: string;
  campaignId: string;
  status: string;
  answer: unknown;
  durationMs: number | null;
  submittedAt: string | null;
  rejectReason: string | null;
}
interface AuditEvent {
  id: string;
  actorId: string | null;
  action: string;
  reason: string | null;
  createdAt: string;
}

export function AdminUserDetailPage() {
  const { id = '' } = useParams();
  const user = useLoad(() => api<User>(`/admin/users/${id}`), [id]);
  const work = useLoad(() => api('/admin/assignments', { query: { workerId: id, limit: 200 } }).then((r) => ({ items: itemsOf<AdminAnswer>(r), total: (r as { total?: number }).total })), [id]);
  const money_ = useLoad(() => api<{ items: StatementLine[]; balances: { kind: string; currency: string; balance: number }[] }>(`/admin/ledger/users/${id}/statement`), [id]);
  const payouts = useLoad(() => api('/admin/payouts', { query: { userId: id, limit: 50 } }).then((r) => itemsOf<Payout>(r)), [id]);
  const events = useLoad(() => api('/admin/audit', { query: { objectType: 'user', objectId: id, limit: 50 } }).then((r) => itemsOf<AuditEvent>(r)), [id]);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  const act = async (what: 'block' | 'unblock') => {
    setError(undefined);
    try {
      await api(`/admin/users/${id}/${what}`, { body: what === 'block' ? { reason } : {} });
      setReason('');
      user.reload();
      events.reload();
    } catch (e) {
      setError(e);
    }
  };
  const u = user.data;
  const list = work.data?.items ?? [];
  const count = (s: string) => list.filter((a) => a.status === s).length;
  const reviewed = count('approved') + count('rejected');
  return (
    <>
      <div className="page-head">
        <div>
          <Link to="/admin/users" className="muted">
            ← Users
          </Link>
          <h1>{u ? u.displayName : 'User'}</h1>
          {u && (
            <p className="muted">
              {u.email} · {u.roles.join(', ')} · joined {fmtDate(u.createdAt)}
            </p>
          )}
        </div>
      </div>
      <ErrorNote error={user.error} />
      {u && (
        <Card title="Account">
          <p>
            State: {u.blocked ? <StatusBadge status="blocked" /> : <StatusBadge status="active" />} {u.blockedReason && <span className="muted">— {u.blockedReason}</span>}
          </p>
          {!u.roles.includes('admin') &&
            (u.blocked ? (
              <button type="button" className="secondary" onClick={() => act('unblock')}>
                Unblock
              </button>
            ) : (
              <div className="row">
                <label className="field grow">
                  <span>Reason for blocking</span>
                  <input name="blockReason" value={reason} onChange={(e) => setReason(e.target.value)} />
                </label>
                <button type="button" className="danger" onClick={() => act('block')} disabled={reason.trim().length < 3}>
                  Block
                </button>
              </div>
            ))}
          <ErrorNote error={error} />
        </Card>
      )}
      {u?.roles.includes('worker') && (
        <Card title="Work">
          <div className="stats">
            <Stat label="assignments" value={work.data?.total ?? list.length} />
            <Stat label="approved" value={count('approved')} />
            <Stat label="rejected" value={count('rejected')} />
            <Stat label="waiting" value={count('submitted')} />
            <Stat label="approval rate" value={pct(reviewed ? count('approved') / reviewed : null)} />
          </div>
          <ErrorNote error={work.error} />
          <div className="table-wrap short">
            <table>
              <thead>
                <tr>
                  <th scope="col">Submitted</th>
                  <th scope="col">Campaign</th>
                  <th scope="col">Status</th>
                  <th scope="col">Answer</th>
                  <th scope="col">Rejection reason</th>
                </tr>
              </thead>
              <tbody>
                {list.slice(0, 100).map((a) => (
                  <tr key={a.id}>
                    <td>{fmtDate(a.submittedAt)}</td>
                    <td>
                      <Link to={`/admin/campaigns/${a.campaignId}/agreement`}>
                        <code>{a.campaignId.slice(0, 8)}</code>
                      </Link>
                    </td>
                    <td>
                      <StatusBadge status={a.status} />
                    </td>
                    <td className="answer-cell">{summarize(a.answer)}</td>
                    <td>{a.rejectReason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
      <QualityCards userId={id} />
      <div className="grid-2">
        <Card title="Money">
          {money_.data ? (
            <>
              <div className="stats">
                {money_.data.balances.length === 0 && <p className="muted">No ledger account.</p>}
                {money_.data.balances.map((b) => (
                  <Stat key={`${b.kind}-${b.currency}`} label={`${b.kind.replace(/_/g, ' ')} (${b.currency.toUpperCase()})`} value={money(b.balance, b.currency)} />
                ))}
              </div>
              <StatementTable lines={money_.data.items} />
            </>
          ) : (
            <ErrorNote error={money_.error} />
          )}
        </Card>
        <Card title="Payouts">
          {payouts.data?.length ? <PayoutsTable payouts={payouts.data} /> : <p className="muted">No payout.</p>}
          <ErrorNote error={payouts.error} />
        </Card>
      </div>
      <Card title="Audit trail">
        {events.data?.length ? (
          <ul className="plain-list">
            {events.data.map((e) => (
              <li key={e.id}>
                {fmtDate(e.createdAt)} · <code>{e.action}</code>
                {e.reason ? ` — ${e.reason}` : ''}
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No event.</p>
        )}
      </Card>
    </>
  );
}

interface Interval {
  rate: number | null;
  low: number;
  high: number;
  n: number;
}
interface WorkerQuality {
  global: { answers: number; goldAccuracy: Interval; approvalRate: number | null; reliability: number; meanSkill: number | null; medianSeconds: number | null };
  campaigns: { campaignId: string; campaignName: string; answers: number; goldAccuracy: Interval; consensusAgreement: Interval; dawidSkene: { accuracy: number } | null; blocked: { reason: string } | null }[];
  goldHistory: { campaignId: string; campaignName: string; submittedAt: string | null; correct: boolean; status: string }[];
  ruleLog: { id: number; campaignId: string; campaignName: string; rule: string; action: string; reason: string; createdAt: string }[];
  flags: { id: string; campaignId: string; campaignName: string; kind: string; reason: string; otherWorkers: number; resolvedAt: string | null; createdAt: string }[];
  blocks: { campaignId: string; campaignName: string; reason: string; rule: string | null; createdAt: string }[];
}
const iv = (i: Interval) => (i.rate === null || i.n === 0 ? '—' : `${pct(i.rate)} (${pct(i.low)}–${pct(i.high)}, n=${i.n})`);

/** Reliability, gold history, flags, the rule log and per-campaign blocks (the quality endpoints). */
function QualityCards({ userId }: { userId: string }) {
  const q = useLoad(() => api<WorkerQuality>(`/admin/workers/${userId}/quality`), [userId]);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  if (q.missing) return null;
  if (!q.data) return <ErrorNote error={q.error} />;
  const d = q.data;
  const act = async (campaignId: string, block: boolean) => {
    setError(undefined);
    try {
      const reason = (reasons[campaignId] ?? '').trim();
      if (block) await api(`/admin/campaigns/${campaignId}/blocks`, { body: { workerId: userId, reason } });
      else await api(`/admin/campaigns/${campaignId}/blocks/${userId}/unblock`, { body: { reason } });
      setReasons((r) => ({ ...r, [campaignId]: '' }));
      q.reload();
    } catch (e) {
      setError(e);
    }
  };
  const resolve = async (flagId: string) => {
    setError(undefined);
    try {
      await api(`/admin/quality/flags/${flagId}/resolve`, { body: { reason: (reasons[`flag-${flagId}`] ?? '').trim() } });
      q.reload();
    } catch (e) {
      setError(e);
    }
  };
  const goldOk = d.goldHistory.filter((g) => g.correct).length;
  return (
    <>
      <Card title="Reliability">
        <div className="stats">
          <Stat label="reliability score" value={pct(d.global.reliability)} />
          <Stat label="gold accuracy (95% interval)" value={iv(d.global.goldAccuracy)} />
          <Stat label="approval rate" value={pct(d.global.approvalRate)} />
          <Stat label="Dawid-Skene skill" value={d.global.meanSkill === null ? '—' : d.global.meanSkill.toFixed(2)} />
          <Stat label="median time" value={d.global.medianSeconds === null ? '—' : `${d.global.medianSeconds.toFixed(1)} s`} />
        </div>
        <div className="table-wrap short">
          <table>
            <caption>Per campaign (block from one campaign: their answers there stop counting and the items reopen)</caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col" className="num">
                  Answers
                </th>
                <th scope="col">Gold accuracy</th>
                <th scope="col">Agreement with consensus</th>
                <th scope="col" className="num">
                  DS accuracy
                </th>
                <th scope="col">Campaign block</th>
              </tr>
            </thead>
            <tbody>
              {d.campaigns.map((c) => (
                <tr key={c.campaignId}>
                  <td>
                    <Link to={`/admin/campaigns/${c.campaignId}/agreement`}>{c.campaignName || c.campaignId.slice(0, 8)}</Link>
                  </td>
                  <td className="num">{c.answers}</td>
                  <td>{iv(c.goldAccuracy)}</td>
                  <td>{iv(c.consensusAgreement)}</td>
                  <td className="num">{c.dawidSkene ? pct(c.dawidSkene.accuracy) : '—'}</td>
                  <td className="row-actions">
                    {c.blocked && <span className="badge badge-blocked" title={c.blocked.reason}>blocked</span>}
                    <label className="sr-only" htmlFor={`cblock-${c.campaignId}`}>
                      Reason to {c.blocked ? 'unblock from' : 'block from'} {c.campaignName}
                    </label>
                    <input id={`cblock-${c.campaignId}`} placeholder="Reason" value={reasons[c.campaignId] ?? ''} onChange={(e) => setReasons((r) => ({ ...r, [c.campaignId]: e.target.value }))} />
                    <button type="button" className={c.blocked ? 'secondary' : 'danger'} onClick={() => act(c.campaignId, !c.blocked)} disabled={(reasons[c.campaignId] ?? '').trim().length < 3}>
                      {c.blocked ? 'Unblock here' : 'Block here'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <ErrorNote error={error} />
      </Card>
      <div className="grid-2">
        <Card title={`Gold history (${goldOk} of ${d.goldHistory.length} right)`}>
          {d.goldHistory.length === 0 ? (
            <p className="muted">No graded gold answer.</p>
          ) : (
            <ul className="plain-list">
              {d.goldHistory.map((g, i) => (
                <li key={i}>
                  <span className={`badge ${g.correct ? 'badge-approved' : 'badge-rejected'}`}>{g.correct ? 'right' : 'wrong'}</span> {g.campaignName} <span className="muted small">· {fmtDate(g.submittedAt)}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title={`Flags (${d.flags.filter((f) => !f.resolvedAt).length} open)`}>
          {d.flags.length === 0 ? (
            <p className="muted">No flag.</p>
          ) : (
            <ul className="plain-list">
              {d.flags.map((f) => (
                <li key={f.id}>
                  <span className={`badge ${f.resolvedAt ? '' : 'badge-warn'}`}>{f.kind}</span> {f.campaignName} — {f.reason}
                  {f.otherWorkers > 0 && <span className="muted small"> (with {f.otherWorkers} other worker{f.otherWorkers > 1 ? 's' : ''})</span>}
                  <span className="muted small"> · {fmtDate(f.createdAt)}{f.resolvedAt ? ' · resolved' : ''}</span>
                  {!f.resolvedAt && (
                    <span className="row-actions">
                      <label className="sr-only" htmlFor={`resolve-${f.id}`}>
                        Why the {f.kind} flag is resolved
                      </label>
                      <input id={`resolve-${f.id}`} placeholder="Resolution" value={reasons[`flag-${f.id}`] ?? ''} onChange={(e) => setReasons((r) => ({ ...r, [`flag-${f.id}`]: e.target.value }))} />
                      <button type="button" className="secondary small" onClick={() => resolve(f.id)} disabled={(reasons[`flag-${f.id}`] ?? '').trim().length < 3}>
                        Resolve
                      </button>
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
      <Card title="Rule log">
        {d.ruleLog.length === 0 ? (
          <p className="muted">No quality rule has acted on this worker.</p>
        ) : (
          <ul className="plain-list">
            {d.ruleLog.map((e) => (
              <li key={e.id}>
                {fmtDate(e.createdAt)} · {e.campaignName} · <code>{e.rule}</code> → {e.action} — {e.reason}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

interface Reconciliation {
  checkedPayouts: number;
  stripeTransfers: number;
  discrepancies: { kind: string; payoutId?: string; transferId?: string; detail: string }[];
  ok: boolean;
}

export function AdminPayoutsPage() {
  const [status, setStatus] = useState('');
  const list = useLoad(() => api('/admin/payouts', { query: { status: status || undefined, limit: 200 } }).then((r) => ({ items: itemsOf<Payout>(r), total: (r as { total?: number }).total ?? 0 })), [status]);
  const options = useLoad(() => api<{ stripe: boolean }>('/funding/options'), []);
  const [run, setRun] = useState<{ started: number; paid: number; failed: number; stillPending: number } | null>(null);
  const [rec, setRec] = useState<Reconciliation | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState('');
  const notConfigured = error instanceof ApiError && error.code === 'STRIPE_NOT_CONFIGURED';
  const go = async (what: 'run' | 'reconcile') => {
    setBusy(what);
    setError(undefined);
    try {
      if (what === 'run') {
        setRun(await api('/admin/payouts/run', { method: 'POST' }));
        list.reload();
      } else setRec(await api<Reconciliation>('/admin/payouts/reconciliation'));
    } catch (e) {
      setError(e);
    } finally {
      setBusy('');
    }
  };
  const items = list.data?.items ?? [];
  const totals = items.reduce<Record<string, number>>((m, p) => ((m[`${p.status} ${p.currency}`] = (m[`${p.status} ${p.currency}`] ?? 0) + p.amountMinor), m), {});
  return (
    <>
      <div className="page-head">
        <h1>Payouts</h1>
        <div className="actions">
          <button type="button" className="primary" onClick={() => go('run')} disabled={!!busy}>
            {busy === 'run' ? 'Running…' : 'Run payouts now'}
          </button>
          <button type="button" className="secondary" onClick={() => go('reconcile')} disabled={!!busy}>
            {busy === 'reconcile' ? 'Reconciling…' : 'Reconcile with Stripe'}
          </button>
        </div>
      </div>
      {options.data && !options.data.stripe && !notConfigured && (
        <Notice kind="warn">Stripe is not configured on this server: no payout can be sent (workers' earnings stay payable), and reconciliation can only check the ledger side.</Notice>
      )}
      {notConfigured ? <Notice kind="warn">Stripe is not configured on this server: payouts and reconciliation need STRIPE_SECRET_KEY. Worker balances stay payable meanwhile.</Notice> : error !== undefined && <p className="error" role="alert">{describeError(error)}</p>}
      {run && (
        <Notice kind="ok">
          Payout run: {run.started} started, {run.paid} paid, {run.failed} failed, {run.stillPending} still pending.
        </Notice>
      )}
      {rec && (
        <Card title="Reconciliation">
          <p className={rec.ok ? 'notice notice-ok' : 'error'} role="status">
            {rec.ok ? `Reconciled: ${rec.checkedPayouts} payouts match ${rec.stripeTransfers} Stripe transfers, and the ledger balances.` : `${rec.discrepancies.length} discrepancy(ies) over ${rec.checkedPayouts} payouts and ${rec.stripeTransfers} transfers.`}
          </p>
          {rec.discrepancies.length > 0 && (
            <div className="table-wrap short" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Kind</th>
                    <th scope="col">Payout</th>
                    <th scope="col">Transfer</th>
                    <th scope="col">Detail</th>
                  </tr>
                </thead>
                <tbody>
                  {rec.discrepancies.map((d, i) => (
                    <tr key={i}>
                      <td>{d.kind.replace(/_/g, ' ')}</td>
                      <td>{d.payoutId ? <code>{d.payoutId.slice(0, 8)}</code> : '—'}</td>
                      <td>{d.transferId ? <code>{d.transferId}</code> : '—'}</td>
                      <td>{d.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      )}
      <Card
        title={`Payouts (${list.data?.total ?? 0})`}
        actions={
          <label className="field inline">
            <span>Status</span>
            <select value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">All</option>
              <option value="pending">Pending</option>
              <option value="paid">Paid</option>
              <option value="failed">Failed</option>
            </select>
          </label>
        }
      >
        <ErrorNote error={list.error} />
        {Object.keys(totals).length > 0 && (
          <div className="stats">
            {Object.entries(totals).map(([k, v]) => (
              <Stat key={k} label={k.split(' ')[0]} value={money(v, k.split(' ')[1])} />
            ))}
          </div>
        )}
        {items.length === 0 ? (
          <p className="muted">No payout{status ? ` with status ${status}` : ''} yet. Payouts start when an onboarded worker's payable balance passes the minimum.</p>
        ) : (
          <PayoutsTable
            payouts={items}
            showUser={(uid) => (
              <Link to={`/admin/users/${uid}`}>
                <code>{uid.slice(0, 8)}</code>
              </Link>
            )}
          />
        )}
      </Card>
    </>
  );
}
