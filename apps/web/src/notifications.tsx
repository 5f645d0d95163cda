import { useEffect, useState } from 'react';
import { NavLink, useLocation } from 'react-router-dom';
import { api } from './api';

// The worker's unread message count, shown in the main navigation. Loaded eagerly (it is small):
// refreshed on navigation, every minute, and when the inbox marks something read.

const CHANGED = 'tally:notifications-changed';
const POLL_MS = 60_000;

/** Tells the navigation badge to reload its count (after marking a message read). */
export const notificationsChanged = () => window.dispatchEvent(new Event(CHANGED));

export function useUnreadCount(enabled: boolean): number | undefined {
  const { pathname } = useLocation();
  const [count, setCount] = useState<number>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    const bump = () => setTick((t) => t + 1);
    window.addEventListener(CHANGED, bump);
    const timer = window.setInterval(bump, POLL_MS);
    return () => {
      window.removeEventListener(CHANGED, bump);
      window.clearInterval(timer);
    };
  }, [enabled]);
  useEffect(() => {
    if (!enabled) {
      setCount(undefined);
      return;
    }
    let alive = true;
    api<{ unread: number }>('/me/notifications', { query: { unread: true, limit: 1 } })
      .then((r) => alive && setCount(r.unread))
      .catch(() => undefined); // the badge is a hint: a failed count leaves the last one
    return () => {
      alive = false;
    };
  }, [enabled, pathname, tick]);
  return count;
}

/** "Inbox" in the worker's navigation, with the unread count when there is any. */
export function InboxNavLink() {
  const unread = useUnreadCount(true);
  return (
    <NavLink to="/work/inbox">
      Inbox
      {!!unread && ' '}
      {!!unread && (
        <span className="badge nav-count" data-testid="unread-count">
          {unread > 99 ? '99+' : unread}
          <span className="sr-only"> unread</span>
        </span>
      )}
    </NavLink>
  );
}
