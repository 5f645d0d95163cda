// The one HTTP client of the UI. The access token lives only in memory; the refresh token in
// localStorage so a reload keeps the session. A 401 triggers one refresh and one retry. Refresh
// tokens rotate and a reused one revokes its whole family, so concurrent refreshes must share a
// single in-flight request.

export interface FieldProblem {
  field: string;
  problem: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface User {
  id: string;
  email: string;
  displayName: string;
  roles: ('requester' | 'worker' | 'admin')[];
  blocked: boolean;
  blockedReason: string | null;
  createdAt: string;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user?: User;
}

const RT_KEY = 'tally.refreshToken';
let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
let onSignedOut: () => void = () => undefined;

export const session = {
  set(s: Session) {
    accessToken = s.accessToken;
    localStorage.setItem(RT_KEY, s.refreshToken);
  },
  clear() {
    accessToken = null;
    localStorage.removeItem(RT_KEY);
  },
  refreshToken: () => localStorage.getItem(RT_KEY),
  hasAccess: () => accessToken !== null,
  onSignedOut(fn: () => void) {
    onSignedOut = fn;
  },
};

/** Trades the stored refresh token for new tokens; false when there is none or it was refused. */
export function refreshSession(): Promise<boolean> {
  if (refreshing) return refreshing;
  const rt = session.refreshToken();
  if (!rt) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const res = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refreshToken: rt }),
      });
      if (!res.ok) {
        session.clear();
        return false;
      }
      session.set(await res.json());
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Send this string as is with this content type (bulk imports). */
  raw?: { text: string; contentType: string };
  query?: Record<string, string | number | boolean | undefined>;
}

export async function api<T = unknown>(path: string, opts: RequestOptions = {}, retried = false): Promise<T> {
  const qs = opts.query
    ? '?' +
      Object.entries(opts.query)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  const headers: Record<string, string> = {};
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  let body: BodyInit | undefined;
  if (opts.raw) {
    headers['Content-Type'] = opts.raw.contentType;
    body = opts.raw.text;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const method = opts.method ?? (body !== undefined ? 'POST' : 'GET');
  let res: Response;
  try {
    res = await fetch(`/api${path}${qs}`, { method, headers, body });
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR', 'Could not reach the server. Check your connection and try again.');
  }
  if (res.status === 401 && !retried && !path.startsWith('/auth/')) {
    if (await refreshSession()) return api<T>(path, opts, true);
    onSignedOut();
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const b = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
    throw new ApiError(
      res.status,
      String(b.code ?? `HTTP_${res.status}`),
      String(b.message ?? res.statusText ?? 'Request failed'),
      (b.fields as FieldProblem[]) ?? [],
      b,
    );
  }
  return data as T;
}

/** Whether an endpoint is simply not there yet (an API feature still being built). */
export const isMissing = (e: unknown) => e instanceof ApiError && (e.status === 404 || e.status === 405) && /^(NOT_FOUND|HTTP_404|Not Found)/i.test(e.code);

/** A human sentence for an error, with field problems appended. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const f = e.fields.length ? ': ' + e.fields.map((p) => `${p.field} ${p.problem}`).join('; ') : '';
    return `${e.message}${f}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Lists come back either as arrays or as pages {items, total}. */
export function itemsOf<T>(r: unknown): T[] {
  if (Array.isArray(r)) return r as T[];
  if (r && typeof r === 'object' && Array.isArray((r as { items?: unknown }).items)) return (r as { items: T[] }).items;
  return [];
}

export function totalOf(r: unknown): number | undefined {
  if (Array.isArray(r)) return r.length;
  const t = (r as { total?: unknown })?.total;
  return typeof t === 'number' ? t : undefined;
}

/** Fetches every page of a paged list (limit/offset), up to `max` items. */
export async function fetchAll<T>(path: string, query: Record<string, string | number | undefined> = {}, max = 20000): Promise<T[]> {
  const out: T[] = [];
  const limit = 200;
  for (let offset = 0; offset < max; offset += limit) {
    const r = await api<unknown>(path, { query: { ...query, limit, offset } });
    const items = itemsOf<T>(r);
    out.push(...items);
    const total = totalOf(r);
    if (Array.isArray(r) || items.length < limit || (total !== undefined && out.length >= total)) break;
  }
  return out;
}

export function money(minor: number | string | undefined | null, currency = 'usd'): string {
  if (minor === undefined || minor === null) return '—';
  const n = Number(minor);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() }).format(n / 100);
  } catch {
    return `${(n / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}
