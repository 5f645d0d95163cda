import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NOTIFY_LIMITS, WebhooksService, WorkerNotificationsService } from '@tally/webhooks';
import type { WebhookEventType } from '@tally/webhooks';
import { MturkErrors } from './mturk.errors';

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

/** MTurk's notification event types, and the Tally webhook event each maps to (null: Tally has no such event). */
const MTURK_EVENT_TYPES: Record<string, WebhookEventType | null> = {
  HITReviewable: 'task.completed',
  AssignmentAccepted: null,
  AssignmentAbandoned: null,
  AssignmentReturned: null,
  AssignmentSubmitted: null,
  AssignmentRejected: null,
  AssignmentApproved: null,
  HITCreated: null,
  HITExtended: null,
  HITDisposed: null,
  HITExpired: null,
  Ping: null,
};
const SUPPORTED_EVENTS = Object.keys(MTURK_EVENT_TYPES).filter((k) => MTURK_EVENT_TYPES[k]);
/** Transports Tally delivers over: its signed webhooks (the Destination URL's scheme decides; http only for WEBHOOK_ALLOW_HOSTS). */
const TALLY_TRANSPORTS = ['HTTPS', 'HTTP'];
const NOTIFICATION_VERSION = '2006-05-05';

/**
 * NotifyWorkers and UpdateNotificationSettings on top of libs/webhooks.
 *
 * - UpdateNotificationSettings: MTurk delivers to SQS, SNS or e-mail, none of which Tally can
 *   reach; Tally instead accepts Transport "HTTPS" (an extension) with an https:// URL as Destination
 *   and makes it a signed Tally webhook for the HIT type's campaigns, in MTurk's event-document
 *   format. SQS / SNS / Email are refused with a message saying so. Only HITReviewable exists in
 *   Tally (a HIT's task completed); other event types are refused by name.
 * - NotifyWorkers: the message is stored for each worker who has worked for the requester (read in
 *   Tally at /api/me/notifications); the others come back in NotifyWorkersFailureStatuses.
 */
@Injectable()
export class MturkNotificationsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly webhooks: WebhooksService,
    private readonly inbox: WorkerNotificationsService,
  ) {}

  readonly operations: Record<string, (ownerId: string, input: Input) => Promise<Output>> = {
    UpdateNotificationSettings: (o, i) => this.updateNotificationSettings(o, i),
    NotifyWorkers: (o, i) => this.notifyWorkers(o, i),
  };

  async updateNotificationSettings(ownerId: string, i: Input): Promise<Output> {
    const hitTypeId = i.HITTypeId;
    if (typeof hitTypeId !== 'string' || !hitTypeId) throw MturkErrors.missing('HITTypeId');
    const [own] = await this.ds.query(`SELECT 1 FROM mturk_hit_types WHERE id = $1 AND owner_id = $2`, [hitTypeId, ownerId]);
    if (!own) throw MturkErrors.hitTypeNotFound(hitTypeId);
    if (i.Active !== undefined && typeof i.Active !== 'boolean') throw MturkErrors.parameter('Active', 'must be true or false');
    const active = i.Active as boolean | undefined;
    const n = i.Notification as Input | undefined;
    if (n === undefined || n === null) {
      if (active === undefined) throw MturkErrors.missing('Notification or Active');
      const updated = await this.webhooks.setHitTypeActive(ownerId, hitTypeId, active);
      if (!updated) throw MturkErrors.parameter('Active', `cannot be set: HIT type ${hitTypeId} has no notification settings yet (send a Notification first)`);
      return {};
    }
    if (typeof n !== 'object' || Array.isArray(n)) throw MturkErrors.parameter('Notification', 'must be a structure');
    const transport = n.Transport;
    if (typeof transport !== 'string' || !transport) throw MturkErrors.missing('Notification.Transport');
    if (!TALLY_TRANSPORTS.includes(transport)) {
      throw MturkErrors.parameter(
        'Notification.Transport',
        `"${transport}" is not supported by Tally, which cannot deliver to SQS, SNS or Email. ` +
          `Use Transport "HTTPS" with an https:// URL as Destination: Tally POSTs each event to it as JSON signed with the Tally-Signature header (see README "Webhooks").`,
      );
    }
    if (typeof n.Destination !== 'string' || !n.Destination) throw MturkErrors.missing('Notification.Destination');
    if (n.Version !== NOTIFICATION_VERSION) throw MturkErrors.parameter('Notification.Version', `must be "${NOTIFICATION_VERSION}"`);
    if (!Array.isArray(n.EventTypes) || !n.EventTypes.length) throw MturkErrors.missing('Notification.EventTypes');
    const events = new Set<WebhookEventType>();
    for (const e of n.EventTypes) {
      if (typeof e !== 'string' || !(e in MTURK_EVENT_TYPES)) throw MturkErrors.parameter('Notification.EventTypes', `has an unknown event type "${String(e)}"`);
      const mapped = MTURK_EVENT_TYPES[e];
      if (!mapped) throw MturkErrors.parameter('Notification.EventTypes', `"${e}" is not delivered by Tally; supported: ${SUPPORTED_EVENTS.join(', ')}`);
      events.add(mapped);
    }
    await this.webhooks.upsertForHitType(ownerId, hitTypeId, { url: n.Destination, events: [...events], active });
    return {};
  }

  async notifyWorkers(ownerId: string, i: Input): Promise<Output> {
    const subject = bounded(i, 'Subject', NOTIFY_LIMITS.subject);
    const message = bounded(i, 'MessageText', NOTIFY_LIMITS.message);
    const ids = i.WorkerIds;
    if (!Array.isArray(ids) || !ids.length) throw MturkErrors.missing('WorkerIds');
    if (ids.length > NOTIFY_LIMITS.workers) throw MturkErrors.parameter('WorkerIds', `must list at most ${NOTIFY_LIMITS.workers} workers`);
    if (ids.some((w) => typeof w !== 'string' || !w)) throw MturkErrors.parameter('WorkerIds', 'must be a list of WorkerIds');
    const mturkIds = [...new Set(ids as string[])];
    const rows: { mturk_worker_id: string; worker_id: string }[] = await this.ds.query(
      `SELECT mturk_worker_id, worker_id FROM mturk_workers WHERE owner_id = $1 AND mturk_worker_id = ANY($2::text[])`,
      [ownerId, mturkIds],
    );
    const userOf = new Map(rows.map((r) => [r.mturk_worker_id, r.worker_id]));
    const sent = await this.inbox.notify(ownerId, [...userOf.values()], subject, message);
    const failures = mturkIds
      .filter((m) => !sent.has(userOf.get(m) ?? ''))
      .map((m) => ({
        NotifyWorkersFailureCode: 'HardFailure',
        NotifyWorkersFailureMessage: `Cannot send notification to worker ${m}: the worker has not worked for you.`,
        WorkerId: m,
      }));
    return { NotifyWorkersFailureStatuses: failures };
  }
}

function bounded(i: Input, name: string, max: number): string {
  const v = i[name];
  if (v === undefined || v === null) throw MturkErrors.missing(name);
  if (typeof v !== 'string' || !v.trim()) throw MturkErrors.parameter(name, 'must be a non-empty string');
  if (v.length > max) throw MturkErrors.parameter(name, `must have at most ${max} characters`);
  return v;
}
