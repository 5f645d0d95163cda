import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, safeFetch } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signPayload } from './signature';
import { WebhooksService } from './webhooks.service';

/** Attempts before a delivery is left `failed`. */
export const MAX_DELIVERY_ATTEMPTS = 8;
/** Timeout of one HTTP attempt (connect and each wait for data). */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Backoff after failed attempt n: 1 min × 2^(n-1), capped at 6 h (1, 2, 4, ... 64 min: about 2 h over 8 attempts). */
export const RETRY_BASE_MS = 60_000;
export const RETRY_CAP_MS = 6 * 3600_000;
/** Whole attempt, however slowly the receiver trickles its answer (the per-read timeout alone would not bound it). */
export const DELIVERY_DEADLINE_MS = 30_000;
/** How long a sender holds a claimed delivery: well above the HTTP timeout, so two senders never overlap. */
const LEASE_SECONDS = 120;
const PARALLEL = 8;

export const retryDelayMs = (attempt: number): number => Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_CAP_MS);

export interface DeliveryRunResult {
  delivered: number;
  retrying: number;
  failed: number;
  cancelled: number;
}

interface ClaimedDelivery {
  id: string;
  attempts: number;
  event_id: string;
  type: string;
  data: Record<string, unknown>;
  event_created_at: Date;
  url: string;
  format: 'tally' | 'mturk';
  mturk_hit_type_id: string | null;
  owner_id: string;
  secret_ciphertext: string;
  live: boolean;
}

/**
 * Sends due webhook deliveries (the 'webhook-deliveries' job). A delivery is claimed by one
 * conditional UPDATE over rows picked FOR UPDATE SKIP LOCKED, which also takes a lease
 * (locked_until) longer than the HTTP timeout and counts the attempt: two senders never hold the same
 * delivery, and the outcome is written only if this sender's attempt is still the latest
 * (`attempts = n`). 2xx = delivered; anything else (including redirects, timeouts, refused
 * addresses) schedules a retry with exponential backoff, up to MAX_DELIVERY_ATTEMPTS, then
 * `failed`. A crash after the POST and before recording it means one more POST after the lease:
 * delivery is at least once, and Tally-Event-Id lets the receiver drop the repeat.
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly log = new Logger('Webhooks');

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
    private readonly webhooks: WebhooksService,
  ) {}

  async deliverDue(limit = 100): Promise<DeliveryRunResult> {
    const result: DeliveryRunResult = { delivered: 0, retrying: 0, failed: 0, cancelled: 0 };
    const [claimed] = (await this.ds.query(
      `UPDATE webhook_deliveries d SET locked_until = now() + $2::int * interval '1 second', attempts = d.attempts + 1, updated_at = now()
         FROM (SELECT id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
        WHERE d.id = due.id
        RETURNING d.id`,
      [Math.min(Math.max(1, limit), 1000), LEASE_SECONDS],
    )) as [{ id: string }[], number];
    if (!claimed.length) return result;
    const rows: ClaimedDelivery[] = await this.ds.query(
      `SELECT d.id, d.attempts, e.id AS event_id, e.type, e.data, e.created_at AS event_created_at, p.url, p.format, p.mturk_hit_type_id,
              p.owner_id, p.secret_ciphertext, (p.deleted_at IS NULL AND p.active) AS live
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhook_endpoints p ON p.id = d.endpoint_id
        WHERE d.id = ANY($1::uuid[])`,
      [claimed.map((c) => c.id)],
    );
    const queue = [...rows];
    const worker = async () => {
      for (let d = queue.shift(); d; d = queue.shift()) result[await this.attempt(d)]++;
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, rows.length) }, worker));
    if (result.failed || result.delivered) this.log.log(`webhooks ${JSON.stringify(result)}`);
    return result;
  }

  /** The JSON body of an event: Tally's envelope, or MTurk's event document for endpoints made by UpdateNotificationSettings. */
  static body(d: Pick<ClaimedDelivery, 'event_id' | 'type' | 'data' | 'event_created_at' | 'format' | 'mturk_hit_type_id' | 'owner_id'>): string {
    const createdAt = new Date(d.event_created_at).toISOString();
    if (d.format === 'mturk') {
      return JSON.stringify({
        EventDocId: d.event_id,
        SourceAccount: d.owner_id,
        CustomerId: d.owner_id,
        EventDocVersion: '2014-08-15',
        Events: [{ EventType: 'HITReviewable', EventTimestamp: createdAt, HITTypeId: d.mturk_hit_type_id, HITId: d.data.taskId }],
      });
    }
    return JSON.stringify({ id: d.event_id, type: d.type, createdAt, data: d.data });
  }

  private async attempt(d: ClaimedDelivery): Promise<keyof DeliveryRunResult> {
    if (!d.live) {
      await this.record(d, { status: 'cancelled', code: null, error: 'endpoint deleted or disabled' });
      return 'cancelled';
    }
    let code: number | null = null;
    let error: string | null = null;
    try {
      // http:// only for hosts listed in WEBHOOK_ALLOW_HOSTS (checked again: the list may have changed since).
      if (new URL(d.url).protocol !== 'https:' && !this.webhooks.hostAllowed(new URL(d.url))) throw new Error('plain http is not allowed for this host');
      const body = WebhookDeliveryService.body(d);
      const res = await withDeadline(safeFetch(d.url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Tally-Webhooks/1',
          [SIGNATURE_HEADER]: signPayload(this.webhooks.secretOf(d.secret_ciphertext), body, Math.floor(Date.now() / 1000)),
          [EVENT_ID_HEADER]: d.event_id,
          'Tally-Event-Type': d.type,
          'Tally-Delivery-Attempt': String(d.attempts),
        },
        timeoutMs: DELIVERY_TIMEOUT_MS,
        maxRedirects: 0, // a redirect is a failure: the endpoint is the URL the requester registered
        maxBytes: 1024 * 1024, // the answer is read and dropped; a bigger one counts as a failed attempt
        allowHosts: this.config.webhookAllowHosts,
      }), DELIVERY_DEADLINE_MS);
      code = res.status;
      if (res.status >= 200 && res.status < 300) {
        await this.record(d, { status: 'delivered', code, error: null });
        return 'delivered';
      }
      error = `HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`;
    } catch (err) {
      error = err instanceof DomainError ? err.message : `${(err as Error)?.message ?? err}`;
    }
    if (d.attempts >= MAX_DELIVERY_ATTEMPTS) {
      await this.record(d, { status: 'failed', code, error });
      return 'failed';
    }
    await this.record(d, { status: 'pending', code, error, retryInMs: retryDelayMs(d.attempts) });
    return 'retrying';
  }

  /** Writes the outcome if this attempt is still the delivery's latest (a stale sender changes nothing). */
  private async record(d: ClaimedDelivery, o: { status: string; code: number | null; error: string | null; retryInMs?: number }): Promise<void> {
    await this.ds.query(
      `UPDATE webhook_deliveries
          SET status = $3, last_status_code = $4, last_error = $5, locked_until = NULL, updated_at = now(),
              delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END,
              next_attempt_at = CASE WHEN $6::bigint IS NULL THEN next_attempt_at ELSE now() + $6::bigint * interval '1 millisecond' END
        WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [d.id, d.attempts, o.status, o.code, o.error?.slice(0, 500) ?? null, o.retryInMs ?? null],
    );
  }
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no complete answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
