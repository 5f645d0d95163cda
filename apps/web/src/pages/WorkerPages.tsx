import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom';
import { api, ApiError, describeError, itemsOf, money } from '../api';
import { Card, ErrorNote, fmtDate, Notice, StatusBadge, summarize, useLoad } from '../ui';
import { framedKind, MturkFrame } from '../widgets/MturkFrame';
import { TaskWidget } from '../widgets/TaskWidget';
import { Answer, emptyAnswer, isComplete, Payload, TaskType, TASK_TYPES } from '../widgets/types';
import { isTyping } from '../widgets/keys';
import { Balance } from './Balance';

export interface OpenCampaign {
  id: string;
  name: string;
  taskType: TaskType;
  labels: string[];
  instructions: string;
  rewardMinor: number;
  currency: string;
  leaseSeconds: number;
  deadline: string | null;
  tasksTotal?: number;
  tasksComplete?: number;
  openSlots?: number;
  qualification?: Qualification;
  estimatedSeconds?: number | null;
}

export interface Qualification {
  minReliability?: number;
  minApprovedCount?: number;
  minApprovalRate?: number;
  qualificationTestSize?: number;
  requiredQualifications?: string[];
}

/** The campaign's requirements in words; empty when anyone may work on it. */
export function requirementsOf(q: Qualification | undefined): string[] {
  if (!q) return [];
  const out: string[] = [];
  if (q.minReliability !== undefined && q.minReliability > 0) out.push(`reliability ≥ ${Math.round(q.minReliability * 100)}%`);
  if (q.minApprovedCount) out.push(`${q.minApprovedCount}+ approved tasks`);
  if (q.minApprovalRate !== undefined && q.minApprovalRate > 0) out.push(`approval rate ≥ ${Math.round(q.minApprovalRate * 100)}%`);
  if (q.qualificationTestSize) out.push(`a ${q.qualificationTestSize}-question qualification test`);
  for (const name of q.requiredQualifications ?? []) out.push(`qualification “${name}”`);
  return out;
}

/** "about 40 s" / "about 3 min" per task, from the median of recent answers. */
export function estimateOf(c: Pick<OpenCampaign, 'estimatedSeconds'>): string {
  const s = c.estimatedSeconds;
  if (s === null || s === undefined) return 'time per task not known yet';
  return s < 90 ? `about ${Math.max(1, s)} s per task` : `about ${Math.round(s / 60)} min per task`;
}

interface Claim {
  assignmentId: string;
  taskId: string;
  campaignId: string;
  payload: Payload;
  /** payload.imageUrl served through Tally's image proxy (the page's CSP allows same-origin images only). */
  imageSrc?: string;
  taskType: TaskType;
  labels: string[];
  instructions: string;
  leaseExpiresAt: string;
  resumed?: boolean;
  /** A model's pre-label, when the campaign shows them as suggestions (modelLabels = suggest). */
  suggestion?: { answer: Answer; model: string | null; confidence: number | null };
}

const typeName = (t: string) => TASK_TYPES.find((x) => x.value === t)?.name ?? t;
const summaryOf = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n).trimEnd()}…` : s);

export function WorkCampaignsPage() {
  const list = useLoad(() => api('/work/campaigns', { query: { limit: 100 } }).then((r) => itemsOf<OpenCampaign>(r)), []);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Find work</h1>
        <nav className="actions" aria-label="Your work">
          <Link to="/work/history">My work</Link>
          <Link to="/work/earnings">Earnings</Link>
        </nav>
      </div>
      <ErrorNote error={list.error} />
      {list.loading && !list.data && <p className="muted">Loading campaigns…</p>}
      {list.data && list.data.length === 0 && <Notice>No campaign has work for you right now. Come back soon.</Notice>}
      <ul className="campaign-grid" aria-label="Campaigns with work">
        {list.data?.map((c) => (
          <li key={c.id} className="card campaign-card">
            <h2>{c.name}</h2>
            <p className="meta">
              <span className="badge">{typeName(c.taskType)}</span> <strong className="reward">{money(c.rewardMinor, c.currency)}</strong> per task
              {c.openSlots !== undefined && <> · {c.openSlots} open</>}
            </p>
            <p className="instructions-summary">{summaryOf(c.instructions || 'No instructions.')}</p>
            {c.labels.length > 0 && <p className="muted small">Labels: {c.labels.join(', ')}</p>}
            <dl className="facts small">
              <dt>Time</dt>
              <dd data-testid="estimate">
                {estimateOf(c)} · {Math.round(c.leaseSeconds / 60)} min to finish one{c.deadline ? ` · open until ${fmtDate(c.deadline)}` : ''}
              </dd>
              <dt>Requirements</dt>
              <dd data-testid="requirements">{requirementsOf(c.qualification).join(', ') || 'none: open to every worker'}</dd>
            </dl>
            <Link className="button primary" to={`/work/${c.id}`} state={{ campaign: c }} aria-label={`Start working on ${c.name}`}>
              Start
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

function useCountdown(until: string | undefined): number | undefined {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!until) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [until]);
  return until ? Math.max(0, Math.floor((Date.parse(until) - now) / 1000)) : undefined;
}
const mmss = (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;

type Phase = 'loading' | 'ready' | 'submitting' | 'empty' | 'error';

// React may run a mount effect twice (StrictMode, a remount); two concurrent claims would hold two
// tasks. Calls made while one claim is in flight share its answer; a later claim on the same
// campaign gets the live assignment back from the server (resumed).
const claimsInFlight = new Map<string, Promise<Claim>>();
function claimOnce(campaignId: string): Promise<Claim> {
  let p = claimsInFlight.get(campaignId);
  if (!p) {
    p = api<Claim>(`/work/campaigns/${campaignId}/claim`, { method: 'POST' }).finally(() => claimsInFlight.delete(campaignId));
    claimsInFlight.set(campaignId, p);
  }
  return p;
}

export function TaskPage() {
  const { campaignId = '' } = useParams();
  const nav = useNavigate();
  const fromList = (useLocation().state as { campaign?: OpenCampaign } | null)?.campaign;
  // Opened by a link or a reload: find the campaign's name, reward and instructions in the list.
  const looked = useLoad(
    () => (fromList ? Promise.resolve(fromList) : api('/work/campaigns', { query: { limit: 200 } }).then((r) => itemsOf<OpenCampaign>(r).find((c) => c.id === campaignId))),
    [campaignId],
  );
  const campaign = fromList ?? looked.data;
  const [claim, setClaim] = useState<Claim | null>(null);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [phase, setPhase] = useState<Phase>('loading');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(0);
  const [flash, setFlash] = useState('');
  const started = useRef(Date.now());
  const remaining = useCountdown(claim?.leaseExpiresAt);
  const expired = remaining === 0 && phase === 'ready';
  // MTurk HTMLQuestion / ExternalQuestion: the page in the frame submits itself (to externalSubmit).
  const framed = claim ? framedKind(claim.payload) : null;

  const claimNext = useCallback(async () => {
    setPhase('loading');
    setError(undefined);
    try {
      const c = await claimOnce(campaignId);
      setClaim(c);
      setAnswer(emptyAnswer(c.taskType));
      started.current = Date.now();
      setPhase('ready');
    } catch (e) {
      // Nothing (more) for this worker here: no task left, the campaign closed, or a qualification rule says no.
      if (e instanceof ApiError && ['NO_TASK_AVAILABLE', 'CAMPAIGN_NOT_OPEN', 'NOT_QUALIFIED', 'QUALIFICATION_TEST_UNAVAILABLE'].includes(e.code)) {
        setClaim(null);
        setPhase('empty');
        setError(e);
      } else {
        setError(e);
        setPhase('error');
      }
    }
  }, [campaignId]);

  useEffect(() => {
    void claimNext();
  }, [claimNext]);

  const framedSubmitted = async () => {
    setDone((d) => d + 1);
    setFlash('Submitted. Next task…');
    await claimNext();
  };

  const submit = async () => {
    if (!claim || phase !== 'ready' || framed) return;
    if (!isComplete(claim.taskType, answer)) {
      setFlash(claim.taskType === 'single-label' ? 'Choose a label first.' : 'Write an answer first.');
      return;
    }
    setPhase('submitting');
    setError(undefined);
    try {
      await api(`/work/assignments/${claim.assignmentId}/submit`, { body: { answer, durationMs: Math.min(86_400_000, Date.now() - started.current) } });
      setDone((d) => d + 1);
      setFlash('Submitted. Next task…');
      await claimNext();
    } catch (e) {
      setError(e);
      setPhase('ready');
    }
  };
  const skip = async () => {
    if (!claim || (phase !== 'ready' && phase !== 'error')) return;
    setFlash('Returned the task.');
    await api(`/work/assignments/${claim.assignmentId}/return`, { method: 'POST' }).catch(() => undefined);
    await claimNext();
  };

  useEffect(() => {
    const h = (e: KeyboardEvent) => {
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 's' || e.key === 'S') {
        e.preventDefault();
        void skip();
      }
    };
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  });

  const busy = phase === 'loading' || phase === 'submitting';
  const shownType = claim?.taskType ?? campaign?.taskType;
  return (
    <div className="page task-page">
      <div className="task-bar" role="region" aria-label="Task controls">
        <div className="task-title">
          <Link to="/work" className="muted">
            ← Campaigns
          </Link>
          <h1>{campaign?.name ?? 'Task'}</h1>
          {shownType && <span className="badge">{typeName(shownType)}</span>}
        </div>
        <div className="task-status">
          <span className="muted">{done} done this session</span>
          <span className={`lease ${remaining !== undefined && remaining < 60 ? 'lease-low' : ''}`} aria-live="off" title="Time left on this task's lease">
            <span className="muted small">Time left</span> <span data-testid="lease">{remaining !== undefined && claim ? mmss(remaining) : '–:––'}</span>
          </span>
          <button type="button" className="secondary" onClick={skip} disabled={!claim || busy}>
            Skip <kbd aria-hidden="true">S</kbd>
          </button>
          <button
            type="button"
            className="primary"
            onClick={submit}
            disabled={!claim || busy || expired || !!framed}
            title={framed ? 'Submit with the button inside the task page' : undefined}
            data-testid="submit"
          >
            {phase === 'submitting' ? 'Submitting…' : 'Submit'} <kbd aria-hidden="true">⏎</kbd>
          </button>
        </div>
      </div>
      <p className="flash" role="status" aria-live="polite">
        {flash}
      </p>
      <div className="task-layout">
        <div className="task-main" aria-busy={busy} data-phase={phase}>
          {phase === 'empty' && (
            <div className="task-empty">
              <h2>No more tasks here for now</h2>
              <p className="muted">{describeError(error)}</p>
              <p>
                <button type="button" className="primary" onClick={() => nav('/work')}>
                  Find other campaigns
                </button>{' '}
                <button type="button" className="secondary" onClick={claimNext}>
                  Try again
                </button>
              </p>
            </div>
          )}
          {phase !== 'empty' && error !== undefined && (
            <p className="error" role="alert">
              {describeError(error)}
            </p>
          )}
          {expired && (
            <p className="error" role="alert">
              The lease on this task has run out.{' '}
              <button type="button" className="link" onClick={claimNext}>
                Claim another task
              </button>
            </p>
          )}
          {claim && phase !== 'empty' && (
            <div className={`task-widget ${busy ? 'dim' : ''}`} key={claim.assignmentId} data-assignment={claim.assignmentId}>
              {framed ? (
                <MturkFrame assignmentId={claim.assignmentId} title={`Task page: ${campaign?.name ?? 'MTurk HIT'}`} onSubmitted={() => void framedSubmitted()} />
              ) : (
                <>
                  {claim.suggestion && (
                    <p className="model-suggestion muted">
                      Model suggestion{claim.suggestion.model ? ` (${claim.suggestion.model}` : ''}
                      {claim.suggestion.confidence !== null ? `${claim.suggestion.model ? ', ' : ' ('}${Math.round(claim.suggestion.confidence * 100)}% sure)` : claim.suggestion.model ? ')' : ''}:{' '}
                      <strong>{summarize(claim.suggestion.answer)}</strong>. Check it against the item; it may be wrong.{' '}
                      <button type="button" className="link" onClick={() => setAnswer(claim.suggestion!.answer)}>
                        Start from the suggestion
                      </button>
                    </p>
                  )}
                  <TaskWidget taskType={claim.taskType} labels={claim.labels} payload={claim.imageSrc ? { ...claim.payload, imageUrl: claim.imageSrc } : claim.payload} value={answer} onChange={setAnswer} onSubmit={submit} keys={phase === 'ready'} />
                </>
              )}
            </div>
          )}
          {!claim && phase === 'loading' && <p className="muted">Fetching a task…</p>}
        </div>
        <aside className="task-side card" aria-label="Instructions">
          <h2>Instructions</h2>
          <div className="instructions">{claim?.instructions || campaign?.instructions || '—'}</div>
          {campaign && (
            <p className="muted small">
              {money(campaign.rewardMinor, campaign.currency)} per approved task
            </p>
          )}
          <h3>Keys</h3>
          <ul className="keys-help">
            <li>
              <kbd>1</kbd>–<kbd>9</kbd> choose label / class / entity type
            </li>
            <li>
              <kbd>Enter</kbd> submit (<kbd>Ctrl</kbd>+<kbd>Enter</kbd> in a text box)
            </li>
            <li>
              <kbd>S</kbd> skip (return the task)
            </li>
          </ul>
        </aside>
      </div>
    </div>
  );
}

interface MyAssignment {
  id: string;
  campaignId: string;
  taskId: string;
  status: string;
  answer: unknown;
  submittedAt: string | null;
  reviewedAt: string | null;
  rejectReason: string | null;
  claimedAt: string;
}

export function MyWorkPage() {
  const list = useLoad(() => api('/work/assignments', { query: { limit: 200 } }).then((r) => itemsOf<MyAssignment>(r)), []);
  const names = useLoad(() => api('/work/campaigns', { query: { limit: 100 } }).then((r) => new Map(itemsOf<OpenCampaign>(r).map((c) => [c.id, c.name]))), []);
  const counts = (list.data ?? []).reduce<Record<string, number>>((m, a) => ((m[a.status] = (m[a.status] ?? 0) + 1), m), {});
  return (
    <div className="page">
      <div className="page-head">
        <h1>My work</h1>
        <Link to="/work">← Find work</Link>
      </div>
      <Balance />
      <Card title="Assignments">
        <p className="muted">
          {Object.entries(counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(' · ') || 'Nothing yet.'}
        </p>
        <ErrorNote error={list.error} />
        <div className="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Status</th>
                <th scope="col">Answer</th>
                <th scope="col">Submitted</th>
                <th scope="col">Rejection reason</th>
              </tr>
            </thead>
            <tbody>
              {list.data?.map((a) => (
                <tr key={a.id}>
                  <td>{names.data?.get(a.campaignId) ?? <code>{a.campaignId.slice(0, 8)}</code>}</td>
                  <td>
                    <StatusBadge status={a.status} />
                  </td>
                  <td className="answer-cell">{summarize(a.answer)}</td>
                  <td>{fmtDate(a.submittedAt)}</td>
                  <td>{a.rejectReason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </div>
  );
}
