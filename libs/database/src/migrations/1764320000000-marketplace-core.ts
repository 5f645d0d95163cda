import { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts, campaigns, tasks, assignments, imports and the audit log. */
export class MarketplaceCore1764320000000 implements MigrationInterface {
  name = 'MarketplaceCore1764320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "users" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "email" text NOT NULL,
        "display_name" text NOT NULL,
        "password_hash" text NOT NULL,
        "roles" text[] NOT NULL,
        "blocked_at" timestamptz,
        "blocked_reason" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_users_email" UNIQUE ("email"),
        CONSTRAINT "ck_users_email_lower" CHECK ("email" = lower("email")),
        CONSTRAINT "ck_users_roles" CHECK ("roles" <@ ARRAY['requester','worker','admin']::text[] AND cardinality("roles") > 0)
      )`);
    await q.query(`
      CREATE TABLE "refresh_tokens" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
        "family_id" uuid NOT NULL,
        "token_hash" text NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "used_at" timestamptz,
        "revoked_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_refresh_tokens_hash" UNIQUE ("token_hash")
      )`);
    await q.query(`CREATE INDEX "ix_refresh_tokens_family" ON "refresh_tokens" ("family_id")`);
    await q.query(`
      CREATE TABLE "campaigns" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "name" text NOT NULL,
        "task_type" text NOT NULL,
        "labels" jsonb NOT NULL DEFAULT '[]',
        "instructions" text NOT NULL DEFAULT '',
        "reward_minor" bigint NOT NULL,
        "currency" char(3) NOT NULL,
        "redundancy_min" integer NOT NULL,
        "redundancy_max" integer NOT NULL,
        "confidence_target" double precision NOT NULL,
        "lease_seconds" integer NOT NULL,
        "deadline" timestamptz,
        "auto_approve_seconds" integer NOT NULL,
        "max_text_length" integer NOT NULL DEFAULT 2000,
        "gold_rate" double precision NOT NULL DEFAULT 0,
        "gold_pass_mark" double precision NOT NULL DEFAULT 0.8,
        "qualification" jsonb NOT NULL DEFAULT '{}',
        "aggregation_method" text NOT NULL DEFAULT 'mv',
        "status" text NOT NULL DEFAULT 'draft',
        "published_at" timestamptz,
        "completed_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "ck_campaigns_task_type" CHECK ("task_type" IN ('single-label','multi-label','boxes','spans','text')),
        CONSTRAINT "ck_campaigns_status" CHECK ("status" IN ('draft','published','paused','completed','cancelled')),
        CONSTRAINT "ck_campaigns_reward" CHECK ("reward_minor" >= 0),
        CONSTRAINT "ck_campaigns_redundancy" CHECK ("redundancy_min" >= 1 AND "redundancy_max" >= "redundancy_min"),
        CONSTRAINT "ck_campaigns_confidence" CHECK ("confidence_target" > 0 AND "confidence_target" <= 1),
        CONSTRAINT "ck_campaigns_lease" CHECK ("lease_seconds" > 0),
        CONSTRAINT "ck_campaigns_gold_rate" CHECK ("gold_rate" >= 0 AND "gold_rate" <= 1)
      )`);
    await q.query(`CREATE INDEX "ix_campaigns_owner" ON "campaigns" ("owner_id", "created_at")`);
    await q.query(`CREATE INDEX "ix_campaigns_status" ON "campaigns" ("status")`);
    await q.query(`
      CREATE TABLE "tasks" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "seq" bigint GENERATED ALWAYS AS IDENTITY,
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "payload" jsonb NOT NULL,
        "content_hash" text NOT NULL,
        "gold" jsonb,
        "prelabel" jsonb,
        "needed" integer NOT NULL,
        "taken" integer NOT NULL DEFAULT 0,
        "answers_count" integer NOT NULL DEFAULT 0,
        "status" text NOT NULL DEFAULT 'open',
        "consensus" jsonb,
        "completed_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_tasks_campaign_hash" UNIQUE ("campaign_id", "content_hash"),
        CONSTRAINT "ck_tasks_status" CHECK ("status" IN ('open','complete')),
        CONSTRAINT "ck_tasks_taken" CHECK ("taken" >= 0 AND "taken" <= "needed"),
        CONSTRAINT "ck_tasks_answers" CHECK ("answers_count" >= 0)
      )`);
    // The claim path scans a campaign's open tasks with free slots in seq order.
    await q.query(`CREATE INDEX "ix_tasks_claimable" ON "tasks" ("campaign_id", "seq") WHERE "status" = 'open'`);
    await q.query(`
      CREATE TABLE "assignments" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "task_id" uuid NOT NULL REFERENCES "tasks"("id") ON DELETE CASCADE,
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        "status" text NOT NULL DEFAULT 'claimed',
        "claimed_at" timestamptz NOT NULL DEFAULT now(),
        "lease_expires_at" timestamptz NOT NULL,
        "submitted_at" timestamptz,
        "answer" jsonb,
        "duration_ms" integer,
        "auto_approve_at" timestamptz,
        "reviewed_at" timestamptz,
        "reviewed_by" uuid REFERENCES "users"("id"),
        "reject_reason" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_assignments_task_worker" UNIQUE ("task_id", "worker_id"),
        CONSTRAINT "ck_assignments_status" CHECK ("status" IN ('claimed','submitted','approved','rejected','returned','expired')),
        CONSTRAINT "ck_assignments_reject_reason" CHECK ("status" <> 'rejected' OR "reject_reason" IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX "ix_assignments_worker" ON "assignments" ("worker_id", "created_at")`);
    await q.query(`CREATE INDEX "ix_assignments_campaign" ON "assignments" ("campaign_id", "status")`);
    await q.query(`CREATE INDEX "ix_assignments_lease" ON "assignments" ("lease_expires_at") WHERE "status" = 'claimed'`);
    await q.query(`CREATE INDEX "ix_assignments_auto_approve" ON "assignments" ("auto_approve_at") WHERE "status" = 'submitted'`);
    await q.query(`
      CREATE TABLE "item_imports" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "format" text NOT NULL,
        "rows" integer NOT NULL,
        "inserted" integer NOT NULL,
        "duplicates" integer NOT NULL,
        "rejected" integer NOT NULL,
        "errors" jsonb NOT NULL DEFAULT '[]',
        "duration_ms" integer NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE "audit_events" (
        "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        "actor_id" uuid REFERENCES "users"("id"),
        "action" text NOT NULL,
        "object_type" text NOT NULL,
        "object_id" text NOT NULL,
        "reason" text,
        "data" jsonb NOT NULL DEFAULT '{}',
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX "ix_audit_events_object" ON "audit_events" ("object_type", "object_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['audit_events', 'item_imports', 'assignments', 'tasks', 'campaigns', 'refresh_tokens', 'users']) {
      await q.query(`DROP TABLE "${t}"`);
    }
  }
}
