import { FormEvent, ReactNode, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, ApiError, describeError, itemsOf, money } from '../api';
import { Card, download, ErrorNote, fmtDate, Notice, Stat, StatusBadge, useLoad } from '../ui';
import { LineChart } from './lazy-charts';

export interface BalanceRow {
  currency: string;
  availableMinor: number;
  escrowMinor: number;
  payableMinor: number;
  inTransitMinor: number;
}
export interface StatementLine {
  transactionId: string;
  createdAt: string;
  kind: string;
  memo: string;
  reference: string | null;
  account: string;
  currency: string;
  amountMinor: number;
  balanceAfterMinor: number;
}
export interface Payout {
  id: string;
  userId: string;
  currency: string;
  amountMinor: number;
  status: string;
  stripeTransferId: string | null;
  reversedMinor: number;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}
interface PayoutAccount {
  stripe: boolean;
  connected: boolean;
  transfersEnabled: boolean;
  detailsSubmitted: boolean;
}

const human = (s: string) => s.replace(/_/g, ' ');

const balancesOf = (r: unknown): BalanceRow[] => ((r as { balances?: BalanceRow[] })?.balances ?? []);

/** Saves the signed-in user's statement as CSV (fetched with the access token, saved through a link). */
async function downloadStatementCsv() {
  const text = await api<string>('/me/statement', { query: { format: 'csv' } });
  download('tally-statement.csv', text, 'text/csv');
}

export function StatementTable({ lines, accounts, empty = 'No money movements yet.' }: { lines: StatementLine[]; accounts?: string[]; empty?: string }) {
  const shown = (accounts ? lines.filter((l) => accounts.includes(l.account)) : lines).slice().reverse();
  if (!shown.length) return <p className="muted">{empty}</p>;
  return (
    <div className="table-wrap" tabIndex={0}>
      <table>
        <caption className="sr-only">Statement, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
            <th scope="col">Account</th>
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col" className="num">
              Balance after
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.slice(0, 300).map((l, i) => (
            <tr key={`${l.transactionId}-${l.account}-${i}`}>
              <td>{fmtDate(l.createdAt)}</td>
              <td>
                {human(l.kind)}
                {l.memo ? <span className="muted small"> · {l.memo}</span> : null}
              </td>
              <td>{human(l.account)}</td>
              <td className={`num ${l.amountMinor < 0 ? 'neg' : 'pos'}`}>{money(l.amountMinor, l.currency)}</td>
              <td className="num">{money(l.balanceAfterMinor, l.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Cumulative money in on some accounts, per day: "earned so far" for a worker, "funded so far" for a requester. */
function cumulativeByDay(lines: StatementLine[], pick: (l: StatementLine) => number): { labels: string[]; values: number[] } {
  const byDay = new Map<string, number>();
  for (const l of lines) {
    const day = l.createdAt.slice(0, 10);
    byDay.set(day, (byDay.get(day) ?? 0) + pick(l));
  }
  let run = 0;
  const days = [...byDay.keys()].sort();
  if (!days.length) return { labels: [], values: [] };
  // Start from zero the day before, so even one day of data draws a line.
  const before = new Date(Date.parse(days[0]) - 86_400_000).toISOString().slice(0, 10);
  return { labels: [before, ...days], values: [0, ...days.map((d) => (run += byDay.get(d)!) / 100)] };
}

export function EarningsPage() {
  const [params] = useSearchParams();
  const onboarding = params.get('onboarding');
  const balance = useLoad(() => api('/me/balance').then(balancesOf), []);
  const account = useLoad(() => api<PayoutAccount>('/me/payout-account'), []);
  const payouts = useLoad(() => api('/payouts', { query: { limit: 100 } }).then((r) => itemsOf<Payout>(r)), []);
  const statement = useLoad(() => api<{ items: StatementLine[] }>('/me/statement').then((r) => r.items), []);
  const [connectError, setConnectError] = useState<unknown>();
  const [connecting, setConnecting] = useState(false);
  const earned = useMemo(() => cumulativeByDay(statement.data ?? [], (l) => (l.account === 'worker_payable' && l.amountMinor > 0 && l.kind !== 'payout_failed' ? l.amountMinor : 0)), [statement.data]);

  const connect = async () => {
    setConnecting(true);
    setConnectError(undefined);
    try {
      const back = `${window.location.origin}/work/earnings`;
      const r = await api<{ url: string }>('/payouts/account', { body: { returnUrl: `${back}?onboarding=done`, refreshUrl: `${back}?onboarding=refresh` } });
      window.location.assign(r.url);
    } catch (e) {
      setConnectError(e);
      setConnecting(false);
    }
  };

  const rows = balance.data ?? [];
  const acc = account.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Earnings and payouts</h1>
        <Link to="/work/history">My work →</Link>
      </div>
      {onboarding === 'done' && <Notice kind="ok">Welcome back from Stripe. Your payout account status is below; it can take a minute to update.</Notice>}
      {onboarding === 'refresh' && <Notice kind="warn">The Stripe onboarding link expired. Start again with “Connect payout account”.</Notice>}
      <Card title="Balance">
        <ErrorNote error={balance.error} />
        {rows.length === 0 && !balance.loading && <p className="muted">Nothing earned yet. Approved tasks add their reward here.</p>}
        <div className="stats">
          {rows.map((b) => (
            <div key={b.currency} className="stat-group" aria-label={`${b.currency.toUpperCase()} balances`}>
              <Stat label={`earned, not yet paid (${b.currency.toUpperCase()})`} value={money(b.payableMinor, b.currency)} />
              <Stat label={`on the way to your bank (${b.currency.toUpperCase()})`} value={money(b.inTransitMinor, b.currency)} />
            </div>
          ))}
        </div>
      </Card>
      <div className="grid-2">
        <Card title="Payout account">
          {account.error ? (
            <ErrorNote error={account.error} />
          ) : !acc ? (
            <p className="muted">Loading…</p>
          ) : !acc.stripe ? (
            <Notice>Payouts through Stripe are not enabled on this server. Your earnings stay on your balance; ask the operator how they pay out.</Notice>
          ) : (
            <>
              <p>
                Status:{' '}
                {acc.transfersEnabled ? (
                  <StatusBadge status="active" />
                ) : acc.connected ? (
                  <span className="badge badge-warn">onboarding not finished</span>
                ) : (
                  <span className="badge">not connected</span>
                )}
              </p>
              <p className="muted small">Tally pays your balance to a Stripe Express account in batches once it passes the payout minimum. Stripe asks for your identity and bank details; Tally never sees them.</p>
              <button type="button" className={acc.transfersEnabled ? 'secondary' : 'primary'} onClick={connect} disabled={connecting}>
                {connecting ? 'Opening Stripe…' : acc.transfersEnabled ? 'Update payout details on Stripe' : acc.connected ? 'Continue Stripe onboarding' : 'Connect payout account'}
              </button>
              <ErrorNote error={connectError} />
            </>
          )}
        </Card>
        <Card title="Earned over time">
          {earned.labels.length ? (
            <LineChart title="Cumulative earnings" labels={earned.labels} series={[{ label: 'Earned so far', data: earned.values }]} yTitle="Amount" />
          ) : (
            <div className="chart-box empty">
              <p className="muted">Your earnings appear here once work is approved.</p>
            </div>
          )}
        </Card>
      </div>
      <Card title="Payouts">
        <ErrorNote error={payouts.error} />
        {payouts.data?.length === 0 && <p className="muted">No payout yet.</p>}
        {!!payouts.data?.length && <PayoutsTable payouts={payouts.data} />}
      </Card>
      <Card
        title="Statement"
        actions={
          <button type="button" className="secondary" onClick={() => void downloadStatementCsv()}>
            Download CSV
          </button>
        }
      >
        <ErrorNote error={statement.error} />
        <StatementTable lines={statement.data ?? []} accounts={['worker_payable', 'payouts_in_transit']} />
      </Card>
    </div>
  );
}

export function PayoutsTable({ payouts, showUser }: { payouts: Payout[]; showUser?: (id: string) => ReactNode }) {
  return (
    <div className="table-wrap" tabIndex={0}>
      <table>
        <thead>
          <tr>
            <th scope="col">Started</th>
            {showUser && <th scope="col">Worker</th>}
            <th scope="col" className="num">
              Amount
            </th>
            <th scope="col">Status</th>
            <th scope="col">Stripe transfer</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {payouts.map((p) => (
            <tr key={p.id}>
              <td>{fmtDate(p.createdAt)}</td>
              {showUser && <td>{showUser(p.userId)}</td>}
              <td className="num">
                {money(p.amountMinor, p.currency)}
                {p.reversedMinor > 0 && <span className="muted small"> ({money(p.reversedMinor, p.currency)} reversed)</span>}
              </td>
              <td>
                <StatusBadge status={p.status} />
              </td>
              <td>{p.stripeTransferId ? <code>{p.stripeTransferId}</code> : '—'}</td>
              <td>{p.attempts}</td>
              <td className="small">{p.lastError ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function FundingPage() {
  const [params] = useSearchParams();
  const status = params.get('status');
  const options = useLoad(() => api<{ stripe: boolean }>('/funding/options'), []);
  const balance = useLoad(() => api('/me/balance').then(balancesOf), []);
  const statement = useLoad(() => api<{ items: StatementLine[] }>('/me/statement').then((r) => r.items), []);
  const [amount, setAmount] = useState('50');
  const [currency, setCurrency] = useState('usd');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const funded = useMemo(() => cumulativeByDay(statement.data ?? [], (l) => (l.account === 'requester_cash' && (l.kind === 'funding' || l.kind === 'manual_credit') ? l.amountMinor : 0)), [statement.data]);

  const topUp = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const amountMinor = Math.round(Number(amount) * 100);
    if (!Number.isFinite(amountMinor) || amountMinor < 100) return setError(new Error('Enter an amount of at least 1.00.'));
    setBusy(true);
    try {
      const back = `${window.location.origin}/funding`;
      const r = await api<{ url: string | null }>('/funding/checkout', { body: { amountMinor, currency, successUrl: `${back}?status=success`, cancelUrl: `${back}?status=cancelled` } });
      if (!r.url) throw new Error('Stripe did not return a payment page.');
      window.location.assign(r.url);
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'STRIPE_NOT_CONFIGURED' ? new Error('Card payments are not enabled on this server: ask an admin to credit your account.') : err);
      setBusy(false);
    }
  };

  const rows = balance.data ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Funding</h1>
        <Link to="/campaigns">← My campaigns</Link>
      </div>
      {status === 'success' && <Notice kind="ok">Payment received by Stripe. Your balance updates as soon as Stripe confirms it (usually seconds).</Notice>}
      {status === 'cancelled' && <Notice kind="warn">The payment was cancelled; nothing was charged.</Notice>}
      <Card title="Balance">
        <ErrorNote error={balance.error} />
        {rows.length === 0 && !balance.loading && <p className="muted">No funds yet.</p>}
        <div className="stats big">
          {rows.map((b) => (
            <div key={b.currency} className="stat-group" aria-label={`${b.currency.toUpperCase()} balances`}>
              <Stat label={`available (${b.currency.toUpperCase()})`} value={money(b.availableMinor, b.currency)} />
              <Stat label={`held in escrow for campaigns (${b.currency.toUpperCase()})`} value={money(b.escrowMinor, b.currency)} />
            </div>
          ))}
        </div>
        <p className="muted small">Publishing a campaign moves reward × answers × (1 + platform fee) from available funds into escrow; unused escrow comes back when the campaign ends.</p>
      </Card>
      <div className="grid-2">
        <Card title="Add funds">
          {options.data?.stripe ? (
            <form onSubmit={topUp} aria-label="Add funds">
              <div className="row">
                <label className="field">
                  <span>Amount</span>
                  <input type="number" name="amount" min={1} step={0.01} required value={amount} onChange={(e) => setAmount(e.target.value)} />
                </label>
                <label className="field">
                  <span>Currency</span>
                  <select name="currency" value={currency} onChange={(e) => setCurrency(e.target.value)}>
                    <option value="usd">USD</option>
                    <option value="eur">EUR</option>
                    <option value="gbp">GBP</option>
                  </select>
                </label>
              </div>
              <button type="submit" className="primary" disabled={busy}>
                {busy ? 'Opening Stripe Checkout…' : 'Pay with Stripe'}
              </button>
              <p className="muted small">You pay on Stripe's page; your balance is credited when Stripe confirms the payment.</p>
            </form>
          ) : options.data ? (
            <Notice>Card payments are not enabled on this server. An admin credits your account by hand (Admin → Ledger → Manual credit) — send them the amount you need.</Notice>
          ) : (
            <ErrorNote error={options.error} />
          )}
          {error !== undefined && (
            <p className="error" role="alert">
              {describeError(error)}
            </p>
          )}
        </Card>
        <Card title="Funds added over time">
          {funded.labels.length ? (
            <LineChart title="Cumulative funding" labels={funded.labels} series={[{ label: 'Funded so far', data: funded.values }]} yTitle="Amount" />
          ) : (
            <div className="chart-box empty">
              <p className="muted">Top-ups and credits appear here.</p>
            </div>
          )}
        </Card>
      </div>
      <Card
        title="Statement"
        actions={
          <button type="button" className="secondary" onClick={() => void downloadStatementCsv()}>
            Download CSV
          </button>
        }
      >
        <ErrorNote error={statement.error} />
        <StatementTable lines={statement.data ?? []} accounts={['requester_cash']} />
      </Card>
    </div>
  );
}
