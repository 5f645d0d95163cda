import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Requester webhooks and worker notifications (libs/webhooks).
 *
 * - webhook_endpoints: where a requester wants events delivered, for one campaign, for all their
 *   campaigns, or (made by MTurk's UpdateNotificationSettings) for the campaigns of one HIT type.
 *   The signing secret is needed to sign, so it is stored AES-256-GCM encrypted with a server key
 *   (derived from JWT_SECRET); only its last characters (secret_hint) are ever shown again.
 * - webhook_events: the outbox. A row is inserted in the same transaction as the state change
 *   that causes it (task completed, campaign completed, worker blocked), and only when at least
 *   one endpoint wants it, together with one webhook_deliveries row per such endpoint.
 * - webhook_deliveries: one event to one endpoint: pending → delivered | failed (attempts capped)
 *   | cancelled (endpoint deleted or disabled). locked_until is the lease of the sender holding it.
 * - worker_notifications: MTurk NotifyWorkers messages, read by the worker at /api/me/notifications.
 */
export class Webhooks1764360000000 implements MigrationInterface {
  name = 'Webhooks1764360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "webhook_endpoints" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "campaign_id" uuid REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "mturk_hit_type_id" text REFERENCES "mturk_hit_types"("id"),
        "url" text NOT NULL,
        "events" text[] NOT NULL,
        "description" text NOT NULL DEFAULT '',
        "format" text NOT NULL DEFAULT 'tally',
        "secret_ciphertext" text NOT NULL,
        "secret_hint" text NOT NULL,
        "active" boolean NOT NULL DEFAULT true,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        "deleted_at" timestamptz,
        CONSTRAINT "ck_webhook_endpoints_events" CHECK (
          cardinality("events") > 0 AND "events" <@ ARRAY['task.completed','campaign.completed','worker.blocked']::text[]),
        CONSTRAINT "ck_webhook_endpoints_format" CHECK ("format" IN ('tally','mturk')),
        CONSTRAINT "ck_webhook_endpoints_scope" CHECK ("campaign_id" IS NULL OR "mturk_hit_type_id" IS NULL)
      )`);
    // The outbox insert looks up the live endpoints of a campaign's owner on every event.
    await q.query(`CREATE INDEX "ix_webhook_endpoints_owner" ON "webhook_endpoints" ("owner_id") WHERE "deleted_at" IS NULL`);
    // One live endpoint per HIT type from UpdateNotificationSettings (a second call replaces it).
    await q.query(
      `CREATE UNIQUE INDEX "uq_webhook_endpoints_hit_type" ON "webhook_endpoints" ("owner_id", "mturk_hit_type_id") WHERE "mturk_hit_type_id" IS NOT NULL AND "deleted_at" IS NULL`,
    );

    await q.query(`
      CREATE TABLE "webhook_events" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "type" text NOT NULL,
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "data" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "event_id" uuid NOT NULL REFERENCES "webhook_events"("id") ON DELETE CASCADE,
        "endpoint_id" uuid NOT NULL REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE,
        "status" text NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "locked_until" timestamptz,
        "last_status_code" integer,
        "last_error" text,
        "delivered_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_webhook_deliveries_event_endpoint" UNIQUE ("event_id", "endpoint_id"),
        CONSTRAINT "ck_webhook_deliveries_status" CHECK ("status" IN ('pending','delivered','failed','cancelled')),
        CONSTRAINT "ck_webhook_deliveries_attempts" CHECK ("attempts" >= 0)
      )`);
    await q.query(`CREATE INDEX "ix_webhook_deliveries_due" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'pending'`);
    await q.query(`CREATE INDEX "ix_webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "created_at")`);

    await q.query(`
      CREATE TABLE "worker_notifications" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        "sender_id" uuid NOT NULL REFERENCES "users"("id"),
        "subject" text NOT NULL,
        "message" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "read_at" timestamptz,
        CONSTRAINT "ck_worker_notifications_subject" CHECK (char_length("subject") BETWEEN 1 AND 200),
        CONSTRAINT "ck_worker_notifications_message" CHECK (char_length("message") BETWEEN 1 AND 4096)
      )`);
    await q.query(`CREATE INDEX "ix_worker_notifications_worker" ON "worker_notifications" ("worker_id", "created_at" DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "worker_notifications"`);
    await q.query(`DROP TABLE "webhook_deliveries"`);
    await q.query(`DROP TABLE "webhook_events"`);
    await q.query(`DROP TABLE "webhook_endpoints"`);
  }
}
