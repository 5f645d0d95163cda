import { api, money } from '../api';
import { Card, Notice, Stat, useLoad } from '../ui';

const human = (k: string) =>
  k
    .replace(/Minor$/, '')
    .replace(/([A-Z])/g, ' $1')
    .replace(/^./, (c) => c.toUpperCase());

/** Renders money fields (`*Minor`) of a balance object, or of each entry of a list of them. */
export function MoneyStats({ data }: { data: unknown }) {
  const rows: Record<string, unknown>[] = Array.isArray(data)
    ? data
    : data && typeof data === 'object'
      ? Array.isArray((data as { balances?: unknown }).balances)
        ? (data as { balances: Record<string, unknown>[] }).balances
        : Array.isArray((data as { items?: unknown }).items)
          ? (data as { items: Record<string, unknown>[] }).items
          : [data as Record<string, unknown>]
      : [];
  const stats = rows.flatMap((r, i) => {
    const cur = String(r.currency ?? 'usd');
    const prefix = typeof r.account === 'string' ? `${human(r.account)} ` : typeof r.kind === 'string' ? `${human(r.kind)} ` : '';
    return Object.entries(r)
      .filter(([k, v]) => /Minor$/.test(k) && (typeof v === 'number' || (typeof v === 'string' && /^-?\d+$/.test(v))))
      .map(([k, v]) => <Stat key={`${i}-${k}`} label={`${prefix}${human(k)}${rows.length > 1 ? ` (${cur.toUpperCase()})` : ''}`} value={money(Number(v), cur)} />);
  });
  return stats.length ? <div className="stats">{stats}</div> : <p className="muted">No balance yet.</p>;
}

/** The signed-in user's balance, when the money endpoints are there. */
export function Balance() {
  const b = useLoad(() => api('/me/balance'), []);
  return (
    <Card title="Balance and earnings">
      {b.missing || (b.error && !b.data) ? (
        <Notice>Earnings will show here once payments are enabled on this server.</Notice>
      ) : b.data ? (
        <MoneyStats data={b.data} />
      ) : (
        <p className="muted">Loading…</p>
      )}
    </Card>
  );
}
