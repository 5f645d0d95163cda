import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { clampPage, Page } from '@tally/common';
import { inTransaction } from '@tally/database';
import { WebhooksErrors } from './webhooks.errors';

/** MTurk's NotifyWorkers limits. */
export const NOTIFY_LIMITS = { workers: 100, subject: 200, message: 4096 } as const;

export interface WorkerNotificationView {
  id: string;
  subject: string;
  message: string;
  /** The requester's display name. */
  from: string;
  createdAt: Date;
  readAt: Date | null;
}

/**
 * Messages from a requester to workers (MTurk's NotifyWorkers). A requester may write only to
 * workers who have worked for them (an assignment in one of their campaigns); Tally stores the
 * message and the worker reads it in their inbox (GET /api/me/notifications). No e-mail is sent.
 */
@Injectable()
export class WorkerNotificationsService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * Stores one message per eligible worker, in one transaction. Returns the worker ids it was
   * stored for; the others have never worked for `senderId`. The caller validates the limits.
   */
  async notify(senderId: string, workerIds: string[], subject: string, message: string): Promise<Set<string>> {
    if (!senderId) throw new Error('sender id is required');
    const ids = [...new Set(workerIds)];
    if (!ids.length) return new Set();
    return inTransaction(this.ds, async (em) => {
      const rows: { worker_id: string }[] = await em.query(
        `INSERT INTO worker_notifications (worker_id, sender_id, subject, message)
         SELECT w.id, $1, $3, $4 FROM unnest($2::uuid[]) AS w(id)
          WHERE EXISTS (SELECT 1 FROM assignments a JOIN campaigns c ON c.id = a.campaign_id WHERE a.worker_id = w.id AND c.owner_id = $1)
         RETURNING worker_id`,
        [senderId, ids, subject, message],
      );
      return new Set(rows.map((r) => r.worker_id));
    });
  }

  /** A worker's own inbox, newest first. */
  async listMine(workerId: string, q: { unread?: boolean; limit?: number; offset?: number } = {}): Promise<Page<WorkerNotificationView> & { unread: number }> {
    if (!workerId) throw new Error('worker id is required');
    const { limit, offset } = clampPage(q.limit, q.offset);
    const rows = await this.ds.query(
      `SELECT n.id, n.subject, n.message, u.display_name, n.created_at, n.read_at, count(*) OVER ()::int AS total
         FROM worker_notifications n JOIN users u ON u.id = n.sender_id
        WHERE n.worker_id = $1 AND (NOT $2 OR n.read_at IS NULL)
        ORDER BY n.created_at DESC, n.id LIMIT $3 OFFSET $4`,
      [workerId, !!q.unread, limit, offset],
    );
    const [{ unread }] = await this.ds.query(`SELECT count(*)::int AS unread FROM worker_notifications WHERE worker_id = $1 AND read_at IS NULL`, [workerId]);
    return {
      items: rows.map((r: Record<string, any>) => ({ id: r.id, subject: r.subject, message: r.message, from: r.display_name, createdAt: r.created_at, readAt: r.read_at })),
      total: rows[0]?.total ?? 0,
      limit,
      offset,
      unread,
    };
  }

  /** Marks one of the worker's own notifications read (idempotent); anyone else's is a 404. */
  async markRead(workerId: string, id: string): Promise<void> {
    if (!workerId) throw new Error('worker id is required');
    const [rows] = await this.ds.query(
      `UPDATE worker_notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND worker_id = $2 RETURNING id`,
      [id, workerId],
    );
    if (!rows.length) throw WebhooksErrors.notificationNotFound();
  }
}
