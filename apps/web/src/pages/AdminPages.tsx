import { FormEvent, useState } from 'react';
import { Link, NavLink, Outlet } from 'react-router-dom';
export { AdminAgreementPage, AdminPayoutsPage, AdminUserDetailPage } from './AdminMorePages';
import { api, describeError, itemsOf, money, totalOf, User } from '../api';
import { Card, ErrorNote, fmtDate, Notice, Stat, StatusBadge, useLoad } from '../ui';
import { MoneyStats } from './Balance';
import { BarChart } from './lazy-charts';
import { Campaign } from './RequesterPages';

export function AdminLayout() {
  return (
    <div className="page">
      <nav className="subnav" aria-label="Admin">
        <NavLink to="/admin" end>
          Overview
        </NavLink>
        <NavLink to="/admin/users">Users</NavLink>
        <NavLink to="/admin/audit">Audit log</NavLink>
        <NavLink to="/admin/ledger">Ledger</NavLink>
        <NavLink to="/admin/payouts">Payouts</NavLink>
      </nav>
      <Outlet />
    </div>
  );
}

export function AdminOverviewPage() {
  const users = useLoad(() => api('/admin/users', { query: { limit: 1 } }), []);
  const workers = useLoad(() => api('/admin/users', { query: { limit: 1, role: 'worker' } }), []);
  const requesters = useLoad(() => api('/admin/users', { query: { limit: 1, role: 'requester' } }), []);
  const blocked = useLoad(() => api('/admin/users', { query: { limit: 1, blocked: true } }), []);
  const campaigns = useLoad(() => api('/admin/campaigns', { query: { limit: 100 } }), []);
  const flags = useLoad(() => api('/admin/quality/flags', { query: { open: true, limit: 20 } }), []);
  const list = itemsOf<Campaign>(campaigns.data);
  const names = new Map(list.map((c) => [c.id, c.name]));
  return (
    <>
      <h1>Overview</h1>
      <div className="stats big">
        <Stat label="users" value={totalOf(users.data) ?? '—'} />
        <Stat label="workers" value={totalOf(workers.data) ?? '—'} />
        <Stat label="requesters" value={totalOf(requesters.data) ?? '—'} />
        <Stat label="blocked" value={totalOf(blocked.data) ?? '—'} />
        <Stat label="campaigns" value={totalOf(campaigns.data) ?? '—'} />
        <Stat label="published" value={campaigns.data ? list.filter((c) => c.status === 'published').length : '—'} />
        {!flags.missing && <Stat label="open quality flags" value={totalOf(flags.data) ?? '—'} />}
      </div>
      {!flags.missing && itemsOf<OpenFlag>(flags.data).length > 0 && (
        <Card title="Open quality flags">
          <ul className="plain-list">
            {itemsOf<OpenFlag>(flags.data).map((f) => (
              <li key={f.id}>
                <span className="badge badge-warn">{f.kind}</span> {names.get(f.campaignId) ?? <code>{f.campaignId.slice(0, 8)}</code>} — {f.reason} ·{' '}
                {f.workers.map((w) => (
                  <Link key={w} to={`/admin/users/${w}`} className="small">
                    worker {w.slice(0, 8)}
                  </Link>
                ))}
              </li>
            ))}
          </ul>
        </Card>
      )}
      <Card title="Campaigns">
        {campaigns.missing ? <Notice>The admin campaign list is not available on this server yet.</Notice> : <ErrorNote error={campaigns.error} />}
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Owner</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Reward</th>
                <th scope="col">Created</th>
                <th scope="col">Agreement</th>
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id}>
                  <td>{c.name}</td>
                  <td>{c.ownerEmail ?? ''}</td>
                  <td>{c.taskType}</td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>{money(c.rewardMinor, c.currency)}</td>
                  <td>{fmtDate(c.createdAt)}</td>
                  <td>
                    <Link to={`/admin/campaigns/${c.id}/agreement`} aria-label={`Agreement audit of ${c.name}`}>
                      Audit
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  );
}

interface OpenFlag {
  id: string;
  campaignId: string;
  kind: string;
  workers: string[];
  reason: string;
}

export function AdminUsersPage() {
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const users = useLoad(() => api('/admin/users', { query: { q: query || undefined, limit: 100 } }).then((r) => itemsOf<User>(r)), [query]);
  const [reason, setReason] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const act = async (u: User, what: 'block' | 'unblock') => {
    setError(undefined);
    try {
      await api(`/admin/users/${u.id}/${what}`, { body: what === 'block' ? { reason: reason[u.id] ?? '' } : {} });
      users.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <h1>Users</h1>
      <form
        className="row search-row"
        role="search"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setQuery(q.trim());
        }}
      >
        <label className="field grow">
          <span>Search by email or name</span>
          <input type="search" name="q" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <ErrorNote error={error ?? users.error} />
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Roles</th>
              <th scope="col">Joined</th>
              <th scope="col">State</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {users.data?.map((u) => (
              <tr key={u.id}>
                <td>
                  <Link to={`/admin/users/${u.id}`}>{u.displayName}</Link>
                </td>
                <td>{u.email}</td>
                <td>{u.roles.join(', ')}</td>
                <td>{fmtDate(u.createdAt)}</td>
                <td>{u.blocked ? <span title={u.blockedReason ?? ''}><StatusBadge status="blocked" /> {u.blockedReason}</span> : <StatusBadge status="active" />}</td>
                <td className="row-actions">
                  {u.roles.includes('admin') ? null : u.blocked ? (
                    <button type="button" className="secondary" onClick={() => act(u, 'unblock')}>
                      Unblock
                    </button>
                  ) : (
                    <>
                      <label className="sr-only" htmlFor={`block-${u.id}`}>
                        Reason for blocking {u.email}
                      </label>
                      <input id={`block-${u.id}`} placeholder="Reason" value={reason[u.id] ?? ''} onChange={(e) => setReason((r) => ({ ...r, [u.id]: e.target.value }))} />
                      <button type="button" className="danger" onClick={() => act(u, 'block')} disabled={(reason[u.id] ?? '').trim().length < 3}>
                        Block
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

interface AuditEvent {
  id: string;
  actorId: string | null;
  action: string;
  objectType: string;
  objectId: string;
  reason: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

export function AdminAuditPage() {
  const [type, setType] = useState('');
  const events = useLoad(() => api('/admin/audit', { query: { limit: 200, objectType: type || undefined } }).then((r) => itemsOf<AuditEvent>(r)), [type]);
  return (
    <>
      <div className="page-head">
        <h1>Audit log</h1>
        <label className="field inline">
          <span>Object</span>
          <select value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">All</option>
            <option value="user">Users</option>
            <option value="campaign">Campaigns</option>
            <option value="assignment">Assignments</option>
            <option value="ledger">Ledger</option>
          </select>
        </label>
      </div>
      <ErrorNote error={events.error} />
      <div className="table-wrap tall" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Object</th>
              <th scope="col">Actor</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {events.data?.map((e) => (
              <tr key={e.id}>
                <td>{fmtDate(e.createdAt)}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>
                  {e.objectType} <code>{e.objectId.slice(0, 8)}</code>
                </td>
                <td>{e.actorId ? <code>{e.actorId.slice(0, 8)}</code> : 'system'}</td>
                <td>{e.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {events.data?.length === 0 && <Notice>No events.</Notice>}
    </>
  );
}

export const TRIAL_BALANCE_PATH = '/admin/ledger/trial-balance';

export function AdminLedgerPage() {
  const tb = useLoad(() => api(TRIAL_BALANCE_PATH), []);
  const [form, setForm] = useState({ email: '', amount: '', currency: 'usd', reason: '' });
  const [msg, setMsg] = useState('');
  const [error, setError] = useState<unknown>();
  const credit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setMsg('');
    try {
      const found = itemsOf<User>(await api('/admin/users', { query: { q: form.email.trim(), limit: 5 } }));
      const u = found.find((x) => x.email.toLowerCase() === form.email.trim().toLowerCase()) ?? (found.length === 1 ? found[0] : undefined);
      if (!u) throw new Error(`No single user matches “${form.email}”.`);
      const amountMinor = Math.round(Number(form.amount) * 100);
      await api('/admin/ledger/credits', { body: { userId: u.id, amountMinor, currency: form.currency, reason: form.reason } });
      setMsg(`Credited ${money(amountMinor, form.currency)} to ${u.email}.`);
      tb.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h1>Ledger</h1>
      <Card title="Trial balance">
        {tb.missing ? (
          <Notice>The ledger endpoints are not available on this server yet.</Notice>
        ) : tb.error ? (
          <ErrorNote error={tb.error} />
        ) : tb.data ? (
          <TrialBalance data={tb.data} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </Card>
      <Card title="Manual credit">
        <p className="muted small">Credits a requester's cash account by hand (when Stripe is not configured). Recorded in the audit log.</p>
        <form className="row" onSubmit={credit} aria-label="Manual credit">
          <label className="field grow">
            <span>User email</span>
            <input type="search" name="creditEmail" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
          </label>
          <label className="field">
            <span>Amount</span>
            <input type="number" name="creditAmount" required min={0.01} step={0.01} value={form.amount} onChange={(e) => setForm({ ...form, amount: e.target.value })} />
          </label>
          <label className="field">
            <span>Currency</span>
            <select name="creditCurrency" value={form.currency} onChange={(e) => setForm({ ...form, currency: e.target.value })}>
              <option value="usd">USD</option>
              <option value="eur">EUR</option>
              <option value="gbp">GBP</option>
            </select>
          </label>
          <label className="field grow">
            <span>Reason</span>
            <input name="creditReason" required minLength={3} value={form.reason} onChange={(e) => setForm({ ...form, reason: e.target.value })} />
          </label>
          <button type="submit" className="primary">
            Credit
          </button>
        </form>
        {msg && <Notice kind="ok">{msg}</Notice>}
        {error !== undefined && (
          <p className="error" role="alert">
            {describeError(error)}
          </p>
        )}
      </Card>
      <p className="muted small">
        <Link to="/admin/payouts">Payouts and reconciliation →</Link> · <Link to="/admin/audit">Audit log →</Link>
      </p>
    </>
  );
}

interface TrialBalanceData {
  currencies: { currency: string; total: number; accounts: { kind: string; balance: number; accounts: number }[] }[];
  cacheMismatches: unknown[];
  unbalancedTransactions: string[];
  balanced: boolean;
}

/** The ledger's trial balance: per currency, each account kind's derived balance; the sum must be zero. */
function TrialBalance({ data }: { data: unknown }) {
  const tb = data as TrialBalanceData;
  if (!tb || !Array.isArray(tb.currencies)) return <MoneyStats data={data} />;
  return (
    <>
      <p className={tb.balanced ? 'notice notice-ok' : 'error'} role="status">
        {tb.balanced
          ? 'Balanced: every currency sums to zero and every cached balance matches the journal.'
          : `Out of balance: ${tb.unbalancedTransactions.length} unbalanced transaction(s), ${tb.cacheMismatches.length} cached balance mismatch(es).`}
      </p>
      {tb.currencies.length === 0 && <p className="muted">No ledger entries yet.</p>}
      {tb.currencies.map((c) => (
        <div key={c.currency}>
          <BarChart
            title={`Balances by account kind (${c.currency.toUpperCase()})`}
            horizontal
            labels={c.accounts.map((a) => a.kind.replace(/_/g, ' '))}
            series={[{ label: `Balance (${c.currency.toUpperCase()})`, data: c.accounts.map((a) => a.balance / 100) }]}
          />
        <div className="table-wrap" tabIndex={0}>
          <table className="ledger-table">
            <caption>{c.currency.toUpperCase()}</caption>
            <thead>
              <tr>
                <th scope="col">Account kind</th>
                <th scope="col">Accounts</th>
                <th scope="col" className="num">
                  Balance
                </th>
              </tr>
            </thead>
            <tbody>
              {c.accounts.map((a) => (
                <tr key={a.kind}>
                  <td>{a.kind.replace(/_/g, ' ')}</td>
                  <td>{a.accounts}</td>
                  <td className="num">{money(a.balance, c.currency)}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">Total</th>
                <td />
                <td className="num">
                  <strong>{money(c.total, c.currency)}</strong>
                </td>
              </tr>
            </tbody>
          </table>
        </div>
        </div>
      ))}
    </>
  );
}
