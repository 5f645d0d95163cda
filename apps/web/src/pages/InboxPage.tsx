import { useState } from 'react';
import { api } from '../api';
import { notificationsChanged } from '../notifications';
import { Card, ErrorNote, fmtDate, Notice, useLoad } from '../ui';

interface WorkerNotification {
  id: string;
  subject: string;
  message: string;
  /** The requester's display name. */
  from: string;
  createdAt: string;
  readAt: string | null;
}
interface NotificationPage {
  items: WorkerNotification[];
  total: number;
  unread: number;
  limit: number;
  offset: number;
}

const PAGE = 25;

/**
 * A worker's inbox: messages from requesters they have worked for (MTurk NotifyWorkers), newest
 * first, unread ones marked; reading one marks it read on the server and updates the nav badge.
 */
export function InboxPage() {
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [offset, setOffset] = useState(0);
  const inbox = useLoad(() => api<NotificationPage>('/me/notifications', { query: { unread: unreadOnly || undefined, limit: PAGE, offset } }), [unreadOnly, offset]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<string | null>(null);
  const [announce, setAnnounce] = useState('');

  const markRead = async (n: WorkerNotification) => {
    setBusy(n.id);
    setError(undefined);
    try {
      await api(`/me/notifications/${n.id}/read`, { method: 'POST' });
      setAnnounce(`Marked “${n.subject}” as read.`);
      notificationsChanged();
      inbox.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const items = inbox.data?.items ?? [];
  const total = inbox.data?.total ?? 0;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Inbox</h1>
        <label className="check">
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(e) => {
              setUnreadOnly(e.target.checked);
              setOffset(0);
            }}
          />
          Unread only
        </label>
      </div>
      <p className="muted">Messages from requesters you have worked for.</p>
      <ErrorNote error={error} />
      <p className="sr-only" role="status">
        {announce}
      </p>
      <Card title={inbox.data ? `Messages (${inbox.data.unread} unread)` : 'Messages'}>
        <ErrorNote error={inbox.error} />
        {!inbox.loading && !inbox.error && items.length === 0 && <Notice>{unreadOnly ? 'No unread messages.' : 'No messages yet.'}</Notice>}
        {items.length > 0 && (
          <ul className="inbox-list" aria-label="Messages">
            {items.map((n) => {
              const titleId = `msg-${n.id}`;
              return (
                <li key={n.id} className={n.readAt ? 'inbox-item' : 'inbox-item unread'} data-notification={n.id}>
                  <article aria-labelledby={titleId}>
                    <div className="inbox-head">
                      <h3 id={titleId} className="inbox-subject">
                        {!n.readAt && <span className="badge badge-open">new</span>} {n.subject}
                      </h3>
                      {!n.readAt && (
                        <button type="button" className="secondary small" disabled={busy === n.id} onClick={() => void markRead(n)}>
                          Mark as read<span className="sr-only"> “{n.subject}”</span>
                        </button>
                      )}
                    </div>
                    <p className="muted small">
                      {n.from ? <>From {n.from} · </> : null}
                      <time dateTime={n.createdAt}>{fmtDate(n.createdAt)}</time>
                      {n.readAt && <> · read {fmtDate(n.readAt)}</>}
                    </p>
                    <p className="inbox-message">{n.message}</p>
                  </article>
                </li>
              );
            })}
          </ul>
        )}
        {total > PAGE && (
          <div className="row pager">
            <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Newer
            </button>
            <span className="muted small">
              {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
            </span>
            <button type="button" className="secondary" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
              Older
            </button>
          </div>
        )}
      </Card>
    </div>
  );
}
