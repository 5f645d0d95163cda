import { FormEvent, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, fetchAll } from '../api';
import { Card, CopyButton, ErrorNote, fmtDate, Notice, StatusBadge, useLoad } from '../ui';
import type { Campaign } from './RequesterPages';

// The API's shapes (apps/api/src/webhooks/webhooks.dto.ts).
interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  campaignId: string | null;
  hitTypeId: string | null;
  format: 'tally' | 'mturk';
  description: string;
  active: boolean;
  secretHint: string;
  createdAt: string;
  updatedAt: string;
}
interface WebhookEndpointWithSecret extends WebhookEndpoint {
  secret: string;
}
interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  campaignId: string;
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}
interface Paged<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

const EVENTS: { type: string; help: string }[] = [
  { type: 'task.completed', help: 'a task reached consensus (or its last answer)' },
  { type: 'campaign.completed', help: 'every task of a campaign is complete' },
  { type: 'worker.blocked', help: 'a worker was blocked from a campaign (shown by pseudonym)' },
];
const DELIVERY_PAGE = 25;


/** The signing secret of a just created or rotated endpoint, with how to check `Tally-Signature`. */
function SecretPanel({ shown, onHide }: { shown: { endpoint: WebhookEndpointWithSecret; rotated: boolean }; onHide(): void }) {
  const { endpoint, rotated } = shown;
  const title = useRef<HTMLHeadingElement>(null);
  // The panel appears above the form that made it: move focus (and the view) to it.
  useEffect(() => title.current?.focus(), [endpoint.secret]);
  return (
    <section className="card" aria-labelledby="webhook-secret-title" data-testid="webhook-secret">
      <h2 id="webhook-secret-title" ref={title} tabIndex={-1}>{rotated ? 'New signing secret' : 'Endpoint created'}</h2>
      <p className="muted small">
        <span className="sr-only">Endpoint: </span>
        {endpoint.url}
      </p>
      <Notice kind="warn">
        Copy the signing secret now: Tally shows it only this once.{rotated ? ' The previous secret no longer signs deliveries.' : ''}
      </Notice>
      <dl className="facts">
        <dt>Signing secret</dt>
        <dd>
          <code data-testid="webhook-secret-value" className="secret-value">
            {endpoint.secret}
          </code>{' '}
          <CopyButton text={endpoint.secret} what="signing secret" />
        </dd>
      </dl>
      <details className="verify-help">
        <summary>How to verify a delivery</summary>
        <p>
          Each delivery is a <code>POST</code> of JSON <code>{'{"id","type","createdAt","data"}'}</code> with the header{' '}
          <code>Tally-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</code>. Compute the HMAC-SHA256 of <code>&lt;t&gt;.&lt;raw body&gt;</code> keyed by this secret,
          compare it with <code>v1</code> in constant time, and refuse a <code>t</code> more than 5 minutes old. Check the <strong>raw</strong> body, before parsing
          it, and handle each <code>Tally-Event-Id</code> once: a delivery can be retried.
        </p>
        <pre className="code-block">
          {`const crypto = require('node:crypto');
function verifyTally(rawBody, header, secret) {
  const p = Object.fromEntries(header.split(',').map((s) => s.split('=')));
  const expected = crypto.createHmac('sha256', secret).update(\`\${p.t}.\${rawBody}\`).digest('hex');
  return Math.abs(Date.now() / 1000 - Number(p.t)) <= 300 && p.v1?.length === 64
    && crypto.timingSafeEqual(Buffer.from(p.v1), Buffer.from(expected));
}`}
        </pre>
      </details>
      <button type="button" className="link" onClick={onHide}>
        I have stored it; hide the secret
      </button>
    </section>
  );
}

function CreateEndpointForm({ campaigns, onCreated }: { campaigns: Campaign[]; onCreated(e: WebhookEndpointWithSecret): void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['task.completed']);
  const [campaignId, setCampaignId] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const noEvents = events.length === 0;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (noEvents) return;
    setBusy(true);
    setError(undefined);
    try {
      const created = await api<WebhookEndpointWithSecret>('/webhooks', {
        body: { url: url.trim(), events, ...(campaignId ? { campaignId } : {}), ...(description.trim() ? { description: description.trim() } : {}) },
      });
      setUrl('');
      setDescription('');
      onCreated(created);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} aria-label="Create a webhook endpoint" className="webhook-form">
      <ErrorNote error={error} />
      <div className="row">
        <label className="field grow">
          <span>Endpoint URL</span>
          <input name="url" type="url" required maxLength={2048} value={url} placeholder="https://example.org/tally-events" onChange={(e) => setUrl(e.target.value)} />
        </label>
        <label className="field">
          <span>Campaign</span>
          <select name="campaignId" value={campaignId} onChange={(e) => setCampaignId(e.target.value)}>
            <option value="">All my campaigns</option>
            {campaigns.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset className="field" aria-describedby={noEvents ? 'webhook-events-error' : undefined}>
        <legend>Events</legend>
        {EVENTS.map((ev) => (
          <label key={ev.type} className="check">
            <input
              type="checkbox"
              name="events"
              value={ev.type}
              checked={events.includes(ev.type)}
              onChange={(e) => setEvents((cur) => (e.target.checked ? [...cur, ev.type] : cur.filter((x) => x !== ev.type)))}
            />
            <span>
              <code>{ev.type}</code> <span className="muted">{ev.help}</span>
            </span>
          </label>
        ))}
        {noEvents && (
          <p className="field-error small" id="webhook-events-error">
            Choose at least one event.
          </p>
        )}
      </fieldset>
      <label className="field">
        <span>Description (optional)</span>
        <input name="description" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={busy || noEvents}>
        {busy ? 'Creating…' : 'Create endpoint'}
      </button>
    </form>
  );
}

/** The delivery log of one endpoint, newest first, filterable by status and paged. */
function DeliveryLog({ endpoint }: { endpoint: WebhookEndpoint }) {
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const log = useLoad(
    () => api<Paged<WebhookDelivery>>(`/webhooks/${endpoint.id}/deliveries`, { query: { status: status || undefined, limit: DELIVERY_PAGE, offset } }),
    [endpoint.id, status, offset],
  );
  const items = log.data?.items ?? [];
  const total = log.data?.total ?? 0;
  const titleId = `deliveries-${endpoint.id}`;
  return (
    <section className="card" id={`log-${endpoint.id}`} aria-labelledby={titleId} data-testid="delivery-log">
      <div className="card-head">
        <h2 id={titleId}>
          Deliveries to <span className="url-cell">{endpoint.url}</span>
        </h2>
        <div className="card-actions">
          <label className="field inline">
            <span>Status</span>
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.target.value);
                setOffset(0);
              }}
            >
              <option value="">Any</option>
              <option value="pending">pending</option>
              <option value="delivered">delivered</option>
              <option value="failed">failed</option>
              <option value="cancelled">cancelled</option>
            </select>
          </label>
          <button type="button" className="secondary" onClick={log.reload} disabled={log.loading}>
            Refresh
          </button>
        </div>
      </div>
      <ErrorNote error={log.error} />
      {!log.loading && !log.error && items.length === 0 && <p className="muted">No deliveries{status ? ` with status ${status}` : ''} yet.</p>}
      {items.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Delivery log">
          <table aria-label={`Deliveries to ${endpoint.url}`}>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Attempts
                </th>
                <th scope="col">Last response</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Delivered</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-delivery={d.id} data-status={d.status}>
                  <td>
                    <code>{d.eventType}</code>
                    <div className="muted small" title="Tally-Event-Id">
                      {d.eventId}
                    </div>
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td className="num">{d.attempts}</td>
                  <td className="answer-cell">
                    {d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : d.attempts === 0 ? 'not tried yet' : '—'}
                    {d.lastError && <div className="field-error small">{d.lastError}</div>}
                  </td>
                  <td>{d.nextAttemptAt ? fmtDate(d.nextAttemptAt) : '—'}</td>
                  <td>{d.deliveredAt ? fmtDate(d.deliveredAt) : '—'}</td>
                  <td>{fmtDate(d.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > DELIVERY_PAGE && (
        <div className="row pager">
          <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - DELIVERY_PAGE))}>
            Newer
          </button>
          <span className="muted small">
            {offset + 1}–{Math.min(offset + DELIVERY_PAGE, total)} of {total}
          </span>
          <button type="button" className="secondary" disabled={offset + DELIVERY_PAGE >= total} onClick={() => setOffset(offset + DELIVERY_PAGE)}>
            Older
          </button>
        </div>
      )}
    </section>
  );
}

/**
 * A requester's webhook endpoints (README "Webhooks"): create one for a campaign or all campaigns
 * (the signing secret is shown here once), pause or resume it, rotate its secret, delete it, and
 * read its delivery log. Endpoints made by MTurk UpdateNotificationSettings appear here too.
 */
export function WebhooksPage() {
  const endpoints = useLoad(() => api<Paged<WebhookEndpoint>>('/webhooks', { query: { limit: 100 } }), []);
  const campaigns = useLoad(() => fetchAll<Campaign>('/campaigns', {}, 2000), []);
  const [shown, setShown] = useState<{ endpoint: WebhookEndpointWithSecret; rotated: boolean } | null>(null);
  const [logOf, setLogOf] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [busyId, setBusyId] = useState<string | null>(null);

  const items = endpoints.data?.items ?? [];
  const campaignName = (id: string) => campaigns.data?.find((c) => c.id === id)?.name;
  const selected = items.find((e) => e.id === logOf) ?? null;

  const act = async (e: WebhookEndpoint, fn: () => Promise<void>) => {
    setBusyId(e.id);
    setError(undefined);
    try {
      await fn();
      endpoints.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusyId(null);
    }
  };
  const toggle = (e: WebhookEndpoint) =>
    act(e, async () => {
      await api(`/webhooks/${e.id}`, { method: 'PATCH', body: { active: !e.active } });
    });
  const rotate = (e: WebhookEndpoint) => {
    if (!window.confirm(`Rotate the signing secret of ${e.url}? The current secret stops signing deliveries at once.`)) return;
    return act(e, async () => {
      setShown({ endpoint: await api<WebhookEndpointWithSecret>(`/webhooks/${e.id}/rotate-secret`, { method: 'POST' }), rotated: true });
    });
  };
  const remove = (e: WebhookEndpoint) => {
    if (!window.confirm(`Delete the endpoint ${e.url}? Its pending deliveries are cancelled; this cannot be undone.`)) return;
    return act(e, async () => {
      await api(`/webhooks/${e.id}`, { method: 'DELETE' });
      if (shown?.endpoint.id === e.id) setShown(null);
      if (logOf === e.id) setLogOf(null);
    });
  };

  const scopeOf = (e: WebhookEndpoint) => {
    if (e.hitTypeId)
      return (
        <>
          MTurk HIT type <code>{e.hitTypeId}</code>
        </>
      );
    if (e.campaignId) return <Link to={`/campaigns/${e.campaignId}`}>{campaignName(e.campaignId) ?? 'Campaign'}</Link>;
    return 'All campaigns';
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>Webhooks</h1>
        <Link to="/campaigns">← My campaigns</Link>
      </div>
      <p className="muted">
        Tally POSTs signed JSON events of your campaigns to your endpoints, retries a failed delivery after 1, 2, 4, … minutes (8 attempts, about two hours in all), and keeps a delivery log
        here. Endpoints must use <code>https</code> and a public address.
      </p>
      <ErrorNote error={error} />
      {shown && <SecretPanel shown={shown} onHide={() => setShown(null)} />}
      <Card title="Add an endpoint">
        <ErrorNote error={campaigns.error} />
        <CreateEndpointForm
          campaigns={campaigns.data ?? []}
          onCreated={(created) => {
            setShown({ endpoint: created, rotated: false });
            endpoints.reload();
          }}
        />
      </Card>
      <Card title="Your endpoints">
        <ErrorNote error={endpoints.error} />
        {!endpoints.loading && !endpoints.error && items.length === 0 && <p className="muted">No endpoints yet.</p>}
        {items.length > 0 && (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Endpoints table">
            <table aria-label="Webhook endpoints">
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Events</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.id} data-endpoint={e.id}>
                    <td className="url-cell">
                      <code>{e.url}</code>
                      {e.description && <div className="small">{e.description}</div>}
                      <div className="muted small">
                        secret …{e.secretHint}
                        {e.format === 'mturk' && ' · MTurk event format'}
                      </div>
                    </td>
                    <td>{scopeOf(e)}</td>
                    <td>
                      {e.events.map((ev) => (
                        <div key={ev}>
                          <code>{ev}</code>
                        </div>
                      ))}
                    </td>
                    <td>
                      <StatusBadge status={e.active ? 'active' : 'paused'} />
                    </td>
                    <td>{fmtDate(e.createdAt)}</td>
                    <td>
                      <div className="row-actions wrap">
                        <button
                          type="button"
                          className="secondary small"
                          aria-expanded={logOf === e.id}
                          aria-controls={logOf === e.id ? `log-${e.id}` : undefined}
                          onClick={() => setLogOf(logOf === e.id ? null : e.id)}
                        >
                          {logOf === e.id ? 'Hide deliveries' : 'Deliveries'}
                          <span className="sr-only"> of {e.url}</span>
                        </button>
                        <button type="button" className="secondary small" disabled={busyId === e.id} onClick={() => void toggle(e)}>
                          {e.active ? 'Disable' : 'Enable'}
                          <span className="sr-only"> {e.url}</span>
                        </button>
                        <button type="button" className="secondary small" disabled={busyId === e.id} onClick={() => void rotate(e)}>
                          Rotate secret<span className="sr-only"> of {e.url}</span>
                        </button>
                        <button type="button" className="secondary small danger" disabled={busyId === e.id} onClick={() => void remove(e)}>
                          Delete<span className="sr-only"> {e.url}</span>
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {endpoints.data && endpoints.data.total > items.length && <p className="muted small">Showing {items.length} of {endpoints.data.total} endpoints.</p>}
      </Card>
      {selected && <DeliveryLog key={selected.id} endpoint={selected} />}
    </div>
  );
}
