import { DependencyList, ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { describeError, isMissing } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** The endpoint does not exist (yet): a feature still being built on the API side. */
  missing: boolean;
  reload(): void;
}

/** Runs an async loader on mount and whenever deps change; keeps the last data while reloading. */
export function useLoad<T>(fn: () => Promise<T>, deps: DependencyList): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let alive = true;
    setLoading(true);
    fnRef
      .current()
      .then((d) => alive && (setData(d), setError(undefined)))
      .catch((e) => alive && setError(e))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, missing: !!error && isMissing(error), reload };
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {describeError(error)}
    </p>
  );
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'ok' | 'warn'; children: ReactNode }) {
  return (
    <p className={`notice notice-${kind}`} role="status">
      {children}
    </p>
  );
}

export function Card({ title, children, actions, className }: { title?: ReactNode; children: ReactNode; actions?: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ''}`}>
      {(title || actions) && (
        <div className="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

export function Stat({ label, value }: { label: string; value: ReactNode }) {
  return (
    <div className="stat">
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export const fmtDate = (s?: string | null) => (s ? new Date(s).toLocaleString() : '—');
export const pct = (x?: number | null) => (x === undefined || x === null || Number.isNaN(x) ? '—' : `${Math.round(x * 100)}%`);

/** Saves a string as a file through a temporary link. */
export function download(filename: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A compact one-line rendering of any answer or consensus label. */
export function summarize(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(summarize).join(', ') || '(none)';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('label' in o && Object.keys(o).length === 1) return summarize(o.label);
    if ('labels' in o) return summarize(o.labels);
    if ('text' in o && Object.keys(o).length === 1) return String(o.text);
    if (Array.isArray(o.boxes)) return `${o.boxes.length} box${o.boxes.length === 1 ? '' : 'es'}: ${(o.boxes as { label: string }[]).map((b) => b.label).join(', ')}`;
    if (Array.isArray(o.spans)) return `${o.spans.length} span${o.spans.length === 1 ? '' : 's'}: ${(o.spans as { label: string; start: number; end: number }[]).map((s) => `${s.label}[${s.start}-${s.end}]`).join(', ')}`;
    return JSON.stringify(v);
  }
  return String(v);
}

/** Copies a string; false when the browser refuses (no clipboard permission, an insecure origin). */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A "Copy" button for a secret shown once; says when the browser refused (then select and copy by hand). */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      className="secondary"
      onClick={async () => {
        setState((await copyText(text)) ? 'copied' : 'failed');
        setTimeout(() => setState('idle'), 3000);
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select and copy' : 'Copy'}
      <span className="sr-only"> the {what}</span>
    </button>
  );
}
