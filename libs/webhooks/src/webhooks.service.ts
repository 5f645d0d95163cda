import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { assertPublicHttpUrl, clampPage, invalidField, Page } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { inTransaction } from '@tally/database';
import { WebhookEventType, WEBHOOK_EVENT_TYPES } from './webhook-events';
import { newEndpointSecret, SecretBox } from './secret-box';
import { WebhooksErrors } from './webhooks.errors';

/** Live endpoints one requester may have (each event fans out to every matching one). */
export const MAX_ENDPOINTS_PER_OWNER = 20;
export const MAX_URL_LENGTH = 2048;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'cancelled'];

/** An endpoint as its owner sees it: never the secret, only its last characters. */
export interface WebhookEndpointView {
  id: string;
  url: string;
  events: WebhookEventType[];
  /** null: every campaign of the owner (or, with hitTypeId, the campaigns of that MTurk HIT type). */
  campaignId: string | null;
  hitTypeId: string | null;
  format: 'tally' | 'mturk';
  description: string;
  active: boolean;
  secretHint: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The one response that carries the secret: create and rotate. */
export interface WebhookEndpointWithSecret {
  endpoint: WebhookEndpointView;
  secret: string;
}

export interface WebhookDeliveryView {
  id: string;
  eventId: string;
  eventType: WebhookEventType;
  campaignId: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** When the next attempt is due (pending only). */
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

export interface NewEndpoint {
  url: string;
  events: WebhookEventType[];
  campaignId?: string | null;
  description?: string;
}

export interface EndpointPatch {
  url?: string;
  events?: WebhookEventType[];
  description?: string;
  active?: boolean;
}

const ENDPOINT_COLUMNS = `id, url, events, campaign_id, mturk_hit_type_id, format, description, active, secret_hint, created_at, updated_at`;

interface EndpointRow {
  id: string;
  url: string;
  events: WebhookEventType[];
  campaign_id: string | null;
  mturk_hit_type_id: string | null;
  format: 'tally' | 'mturk';
  description: string;
  active: boolean;
  secret_hint: string;
  created_at: Date;
  updated_at: Date;
}

const toView = (r: EndpointRow): WebhookEndpointView => ({
  id: r.id,
  url: r.url,
  events: r.events,
  campaignId: r.campaign_id,
  hitTypeId: r.mturk_hit_type_id,
  format: r.format,
  description: r.description,
  active: r.active,
  secretHint: r.secret_hint,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/**
 * A requester's webhook endpoints and their delivery log. Every method takes the owner id first
 * and only ever touches that owner's rows; someone else's endpoint or campaign is a 404.
 */
@Injectable()
export class WebhooksService {
  private readonly box: SecretBox;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
  ) {
    this.box = new SecretBox(config.jwtSecret);
  }

  /** The clear secret of an endpoint, for signing (never returned by an endpoint of the API). */
  secretOf(ciphertext: string): string {
    return this.box.open(ciphertext);
  }

  /**
   * A URL Tally will deliver to: http(s) only, https unless the host is listed in
   * WEBHOOK_ALLOW_HOSTS, and resolving to public addresses only (unless listed). Checked again at
   * every delivery (DNS answers change). Throws a 400 naming `field`.
   */
  async assertDeliverableUrl(raw: unknown, field = 'url'): Promise<string> {
    if (typeof raw !== 'string' || !raw) throw invalidField(field, 'must be a URL');
    if (raw.length > MAX_URL_LENGTH) throw invalidField(field, `must be at most ${MAX_URL_LENGTH} characters`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidField(field, 'is not a valid URL', 'UNSAFE_URL');
    }
    if (url.protocol === 'http:' && !this.hostAllowed(url)) throw WebhooksErrors.insecureUrl(field);
    if (url.hash) throw invalidField(field, 'must not have a #fragment', 'UNSAFE_URL');
    await assertPublicHttpUrl(raw, { field, allowHosts: this.config.webhookAllowHosts });
    return url.toString();
  }

  hostAllowed(url: URL): boolean {
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return this.config.webhookAllowHosts.some((h) => [host, `${host}:${port}`].includes(h.trim().toLowerCase()));
  }

  async create(ownerId: string, input: NewEndpoint): Promise<WebhookEndpointWithSecret> {
    requireOwner(ownerId);
    const url = await this.assertDeliverableUrl(input.url);
    const events = checkEvents(input.events);
    return inTransaction(this.ds, async (em) => {
      if (input.campaignId) await this.ownedCampaign(em, ownerId, input.campaignId);
      // The owner's row lock serialises concurrent creates, so the cap holds.
      await em.query(`SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, [ownerId]);
      const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE owner_id = $1 AND deleted_at IS NULL`, [ownerId]);
      if (n >= MAX_ENDPOINTS_PER_OWNER) throw WebhooksErrors.tooManyEndpoints(MAX_ENDPOINTS_PER_OWNER);
      const secret = newEndpointSecret();
      const [row] = await em.query(
        `INSERT INTO webhook_endpoints (owner_id, campaign_id, url, events, description, secret_ciphertext, secret_hint)
         VALUES ($1, $2, $3, $4::text[], $5, $6, $7) RETURNING ${ENDPOINT_COLUMNS}`,
        [ownerId, input.campaignId ?? null, url, events, input.description ?? '', this.box.seal(secret), secret.slice(-4)],
      );
      return { endpoint: toView(row), secret };
    });
  }

  async list(ownerId: string, q: { campaignId?: string; limit?: number; offset?: number } = {}): Promise<Page<WebhookEndpointView>> {
    requireOwner(ownerId);
    const { limit, offset } = clampPage(q.limit, q.offset);
    const rows: (EndpointRow & { total: number })[] = await this.ds.query(
      `SELECT ${ENDPOINT_COLUMNS}, count(*) OVER ()::int AS total FROM webhook_endpoints
        WHERE owner_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR campaign_id = $2)
        ORDER BY created_at, id LIMIT $3 OFFSET $4`,
      [ownerId, q.campaignId ?? null, limit, offset],
    );
    return { items: rows.map(toView), total: rows[0]?.total ?? 0, limit, offset };
  }

  async get(ownerId: string, id: string): Promise<WebhookEndpointView> {
    return toView(await this.row(this.ds.manager, ownerId, id));
  }

  async update(ownerId: string, id: string, patch: EndpointPatch): Promise<WebhookEndpointView> {
    requireOwner(ownerId);
    const url = patch.url === undefined ? null : await this.assertDeliverableUrl(patch.url);
    const events = patch.events === undefined ? null : checkEvents(patch.events);
    return inTransaction(this.ds, async (em) => {
      await this.row(em, ownerId, id, true);
      const [rows] = await em.query(
        `UPDATE webhook_endpoints SET url = coalesce($3, url), events = coalesce($4::text[], events), description = coalesce($5, description),
                active = coalesce($6, active), updated_at = now()
          WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
        [id, ownerId, url, events, patch.description ?? null, patch.active ?? null],
      );
      return toView(rows[0]);
    });
  }

  /** Deletes an endpoint (kept for its delivery log); its pending deliveries are cancelled in the same transaction. */
  async remove(ownerId: string, id: string): Promise<void> {
    requireOwner(ownerId);
    await inTransaction(this.ds, async (em) => {
      await this.row(em, ownerId, id, true);
      await this.retire(em, id, 'endpoint deleted');
    });
  }

  /** A new secret, shown this once; the old one stops signing at once. */
  async rotateSecret(ownerId: string, id: string): Promise<WebhookEndpointWithSecret> {
    requireOwner(ownerId);
    const secret = newEndpointSecret();
    const [rows] = await this.ds.query(
      `UPDATE webhook_endpoints SET secret_ciphertext = $3, secret_hint = $4, updated_at = now()
        WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [id, ownerId, this.box.seal(secret), secret.slice(-4)],
    );
    if (!rows[0]) throw WebhooksErrors.endpointNotFound();
    return { endpoint: toView(rows[0]), secret };
  }

  /** The delivery log of one of the owner's endpoints (deleted ones too), newest first. */
  async deliveries(ownerId: string, endpointId: string, q: { status?: DeliveryStatus; limit?: number; offset?: number } = {}): Promise<Page<WebhookDeliveryView>> {
    requireOwner(ownerId);
    if (!isUuid(endpointId)) throw WebhooksErrors.endpointNotFound();
    const [own] = await this.ds.query(`SELECT 1 FROM webhook_endpoints WHERE id = $1 AND owner_id = $2`, [endpointId, ownerId]);
    if (!own) throw WebhooksErrors.endpointNotFound();
    const { limit, offset } = clampPage(q.limit, q.offset);
    const rows = await this.ds.query(
      `SELECT d.id, d.event_id, e.type, e.campaign_id, d.status, d.attempts, d.last_status_code, d.last_error, d.next_attempt_at,
              d.delivered_at, d.created_at, count(*) OVER ()::int AS total
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
        ORDER BY d.created_at DESC, d.id LIMIT $3 OFFSET $4`,
      [endpointId, q.status ?? null, limit, offset],
    );
    return {
      items: rows.map(
        (r: Record<string, any>): WebhookDeliveryView => ({
          id: r.id,
          eventId: r.event_id,
          eventType: r.type,
          campaignId: r.campaign_id,
          status: r.status,
          attempts: r.attempts,
          lastStatusCode: r.last_status_code,
          lastError: r.last_error,
          nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
          deliveredAt: r.delivered_at,
          createdAt: r.created_at,
        }),
      ),
      total: rows[0]?.total ?? 0,
      limit,
      offset,
    };
  }

  // ------------------------------------------------------------------ MTurk UpdateNotificationSettings

  /**
   * The endpoint of one MTurk HIT type (format 'mturk': MTurk's event document, signed the Tally
   * way): created, or its URL / events / active flag replaced. Returns the secret only when created
   * (the MTurk response has no place for it: the requester reads it with rotate-secret).
   */
  async upsertForHitType(ownerId: string, hitTypeId: string, input: { url: string; events: WebhookEventType[]; active?: boolean }): Promise<WebhookEndpointView> {
    requireOwner(ownerId);
    const url = await this.assertDeliverableUrl(input.url, 'Notification.Destination');
    const events = checkEvents(input.events, 'Notification.EventTypes');
    return inTransaction(this.ds, async (em) => {
      const [existing] = await em.query(
        `SELECT id FROM webhook_endpoints WHERE owner_id = $1 AND mturk_hit_type_id = $2 AND deleted_at IS NULL FOR UPDATE`,
        [ownerId, hitTypeId],
      );
      if (existing) {
        const [rows] = await em.query(
          `UPDATE webhook_endpoints SET url = $2, events = $3::text[], active = coalesce($4, active), updated_at = now() WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
          [existing.id, url, events, input.active ?? null],
        );
        return toView(rows[0]);
      }
      const secret = newEndpointSecret();
      const [row] = await em.query(
        `INSERT INTO webhook_endpoints (owner_id, mturk_hit_type_id, url, events, format, description, secret_ciphertext, secret_hint, active)
         VALUES ($1, $2, $3, $4::text[], 'mturk', $5, $6, $7, $8) RETURNING ${ENDPOINT_COLUMNS}`,
        [ownerId, hitTypeId, url, events, `MTurk notifications of HIT type ${hitTypeId}`, this.box.seal(secret), secret.slice(-4), input.active ?? true],
      );
      return toView(row);
    });
  }

  /** Turns a HIT type's endpoint on or off (UpdateNotificationSettings with Active only). Null when it has none. */
  async setHitTypeActive(ownerId: string, hitTypeId: string, active: boolean): Promise<WebhookEndpointView | null> {
    requireOwner(ownerId);
    const [rows] = await this.ds.query(
      `UPDATE webhook_endpoints SET active = $3, updated_at = now() WHERE owner_id = $1 AND mturk_hit_type_id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [ownerId, hitTypeId, active],
    );
    return rows[0] ? toView(rows[0]) : null;
  }

  // ------------------------------------------------------------------ helpers

  private async retire(em: EntityManager, id: string, why: string): Promise<void> {
    await em.query(`UPDATE webhook_endpoints SET deleted_at = now(), active = false, updated_at = now() WHERE id = $1`, [id]);
    await em.query(
      `UPDATE webhook_deliveries SET status = 'cancelled', last_error = $2, locked_until = NULL, updated_at = now() WHERE endpoint_id = $1 AND status = 'pending'`,
      [id, why],
    );
  }

  private async row(em: EntityManager, ownerId: string, id: string, lock = false): Promise<EndpointRow> {
    requireOwner(ownerId);
    if (!isUuid(id)) throw WebhooksErrors.endpointNotFound();
    const [row] = await em.query(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
      [id, ownerId],
    );
    if (!row) throw WebhooksErrors.endpointNotFound();
    return row;
  }

  private async ownedCampaign(em: EntityManager, ownerId: string, campaignId: string): Promise<void> {
    if (!isUuid(campaignId)) throw WebhooksErrors.campaignNotFound();
    const [c] = await em.query(`SELECT 1 FROM campaigns WHERE id = $1 AND owner_id = $2`, [campaignId, ownerId]);
    if (!c) throw WebhooksErrors.campaignNotFound();
  }
}

function requireOwner(ownerId: string): void {
  // TypeORM and SQL both treat a missing id as "no filter" in places: refuse it outright.
  if (!ownerId) throw new Error('owner id is required');
}

function checkEvents(events: unknown, field = 'events'): WebhookEventType[] {
  if (!Array.isArray(events) || !events.length) throw invalidField(field, `must list at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  for (const e of events) if (!WEBHOOK_EVENT_TYPES.includes(e)) throw invalidField(field, `unknown event "${String(e)}" (one of ${WEBHOOK_EVENT_TYPES.join(', ')})`);
  return [...new Set(events as WebhookEventType[])].sort();
}
