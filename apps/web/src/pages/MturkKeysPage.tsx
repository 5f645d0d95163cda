import { FormEvent, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { Card, CopyButton, ErrorNote, fmtDate, Notice, StatusBadge, useLoad } from '../ui';

interface AccessKey {
  accessKeyId: string;
  label: string;
  secretHint: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
interface NewAccessKey extends AccessKey {
  secretAccessKey: string;
}


/**
 * A requester's access key pairs for the MTurk-compatible API (/api/mturk, SigV4): create (the
 * secret is shown here once and never again), list with when each was last used, revoke.
 */
export function MturkKeysPage() {
  const keys = useLoad(() => api<{ items: AccessKey[]; total: number }>('/mturk/keys', { query: { limit: 100 } }), []);
  const [label, setLabel] = useState('');
  const [created, setCreated] = useState<NewAccessKey | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const endpoint = `${window.location.origin}/api/mturk`;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setCreated(await api<NewAccessKey>('/mturk/keys', { body: { label: label.trim() } }));
      setLabel('');
      keys.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (k: AccessKey) => {
    if (!window.confirm(`Revoke ${k.accessKeyId}${k.label ? ` (${k.label})` : ''}? Scripts using it stop working at once; this cannot be undone.`)) return;
    setError(undefined);
    try {
      await api(`/mturk/keys/${encodeURIComponent(k.accessKeyId)}/revoke`, { method: 'POST' });
      if (created?.accessKeyId === k.accessKeyId) setCreated(null);
      keys.reload();
    } catch (err) {
      setError(err);
    }
  };

  const items = keys.data?.items ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>MTurk access keys</h1>
        <Link to="/campaigns">← My campaigns</Link>
      </div>
      <p className="muted">
        Scripts written for Amazon Mechanical Turk (boto3, the AWS SDKs) run against Tally with a key pair from this page and the endpoint <code>{endpoint}</code>.
      </p>
      <ErrorNote error={error} />
      {created && (
        <section className="card" aria-labelledby="new-key-title" data-testid="new-key">
          <h2 id="new-key-title">New key pair</h2>
          <Notice kind="warn">Copy the secret access key now: Tally keeps it only encrypted and will not show it again.</Notice>
          <dl className="facts">
            <dt>Access key ID</dt>
            <dd>
              <code data-testid="new-key-id">{created.accessKeyId}</code> <CopyButton text={created.accessKeyId} what="access key ID" />
            </dd>
            <dt>Secret access key</dt>
            <dd>
              <code data-testid="new-key-secret">{created.secretAccessKey}</code> <CopyButton text={created.secretAccessKey} what="secret access key" />
            </dd>
          </dl>
          <button type="button" className="link" onClick={() => setCreated(null)}>
            I have stored it; hide the secret
          </button>
        </section>
      )}
      <Card title="Create a key pair">
        <form onSubmit={create} aria-label="Create an access key" className="row">
          <label className="field">
            <span>Label (optional)</span>
            <input name="label" maxLength={200} value={label} placeholder="e.g. psiTurk laptop" onChange={(e) => setLabel(e.target.value)} />
          </label>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create key'}
          </button>
        </form>
      </Card>
      <Card title="Your keys">
        <ErrorNote error={keys.error} />
        {!keys.loading && items.length === 0 && <p className="muted">No keys yet.</p>}
        {items.length > 0 && (
          <div className="table-wrap" tabIndex={0}>
            <table aria-label="Access keys">
              <thead>
                <tr>
                  <th scope="col">Access key ID</th>
                  <th scope="col">Label</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((k) => (
                  <tr key={k.accessKeyId} data-key={k.accessKeyId}>
                    <td>
                      <code>{k.accessKeyId}</code>
                      <div className="muted small">secret …{k.secretHint}</div>
                    </td>
                    <td>{k.label || '—'}</td>
                    <td>{fmtDate(k.createdAt)}</td>
                    <td>{k.lastUsedAt ? fmtDate(k.lastUsedAt) : 'never'}</td>
                    <td>
                      <StatusBadge status={k.revokedAt ? 'revoked' : 'active'} />
                      {k.revokedAt && <div className="muted small">{fmtDate(k.revokedAt)}</div>}
                    </td>
                    <td>
                      {!k.revokedAt && (
                        <button type="button" className="secondary danger" onClick={() => void revoke(k)} aria-label={`Revoke ${k.accessKeyId}`}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {keys.data && keys.data.total > items.length && <p className="muted small">Showing the newest {items.length} of {keys.data.total} keys.</p>}
      </Card>
    </div>
  );
}
