import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Mechanical Turk requester API compatibility (libs/mturk).
 *
 * - mturk_access_keys: AWS-style key pairs a requester creates for SigV4. SigV4 needs the secret
 *   itself to recompute a signature, so it cannot be hashed: it is stored AES-256-GCM encrypted
 *   with a server key (MTURK_KEY_SECRET, or one derived from JWT_SECRET).
 * - mturk_hit_types: a HIT type (title, reward, durations, ...); equal parameters → the same id.
 * - mturk_hit_campaigns: the Tally campaign that holds the HITs of one HIT type with one question
 *   shape (task type + label set) and one MaxAssignments.
 * - mturk_hits: one row per HIT = one Tally task, with what MTurk has and Tally does not
 *   (question XML, expiration, review status, annotation, UniqueRequestToken).
 * - mturk_bonuses: SendBonus records (assignment, token) next to the ledger transaction.
 * - mturk_workers: the WorkerIds a requester sees — a per-requester pseudonym of the Tally user,
 *   never the user's id — and the user each stands for.
 * - mturk_qualification_types: MTurk's view (name, status, keywords) of a Tally qualification.
 * - mturk_worker_blocks: requester-wide blocks (CreateWorkerBlock), applied to each of the
 *   requester's MTurk campaigns as Tally campaign blocks.
 */
export class Mturk1764350000000 implements MigrationInterface {
  name = 'Mturk1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "mturk_access_keys" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "access_key_id" text NOT NULL UNIQUE,
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "label" text NOT NULL DEFAULT '',
        "secret_ciphertext" text NOT NULL,
        "secret_hint" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz,
        "revoked_at" timestamptz
      )`);
    await q.query(`CREATE INDEX "ix_mturk_access_keys_owner" ON "mturk_access_keys" ("owner_id", "created_at")`);

    await q.query(`
      CREATE TABLE "mturk_hit_types" (
        "id" text PRIMARY KEY,
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "params_hash" text NOT NULL,
        "title" text NOT NULL,
        "description" text NOT NULL,
        "keywords" text,
        "reward_minor" bigint NOT NULL CHECK ("reward_minor" >= 0),
        "currency" char(3) NOT NULL,
        "assignment_duration_seconds" integer NOT NULL,
        "auto_approval_delay_seconds" integer NOT NULL,
        "qualification_requirements" jsonb NOT NULL DEFAULT '[]',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_mturk_hit_types_params" UNIQUE ("owner_id", "params_hash")
      )`);

    await q.query(`
      CREATE TABLE "mturk_hit_campaigns" (
        "hit_type_id" text NOT NULL REFERENCES "mturk_hit_types"("id"),
        "shape_key" text NOT NULL,
        "campaign_id" uuid NOT NULL UNIQUE REFERENCES "campaigns"("id"),
        PRIMARY KEY ("hit_type_id", "shape_key")
      )`);

    await q.query(`
      CREATE TABLE "mturk_hits" (
        "task_id" uuid PRIMARY KEY REFERENCES "tasks"("id"),
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "hit_type_id" text NOT NULL REFERENCES "mturk_hit_types"("id"),
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id"),
        "hit_group_id" text NOT NULL,
        "question_kind" text NOT NULL CHECK ("question_kind" IN ('QuestionForm','HTMLQuestion','ExternalQuestion')),
        "question" text NOT NULL,
        "requester_annotation" text,
        "max_assignments" integer NOT NULL CHECK ("max_assignments" >= 1),
        "lifetime_seconds" integer NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "expired_applied" boolean NOT NULL DEFAULT false,
        "review_status" text NOT NULL DEFAULT 'NotReviewed' CHECK ("review_status" IN ('NotReviewed','MarkedForReview','ReviewedAppropriate','ReviewedInappropriate')),
        "reviewing" boolean NOT NULL DEFAULT false,
        "unique_request_token" text,
        "deleted_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_mturk_hits_token" UNIQUE ("owner_id", "unique_request_token")
      )`);
    await q.query(`CREATE INDEX "ix_mturk_hits_owner" ON "mturk_hits" ("owner_id", "created_at")`);
    await q.query(`CREATE INDEX "ix_mturk_hits_due" ON "mturk_hits" ("expires_at") WHERE NOT "expired_applied"`);

    await q.query(`
      CREATE TABLE "mturk_bonuses" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        "assignment_id" uuid NOT NULL REFERENCES "assignments"("id"),
        "task_id" uuid NOT NULL REFERENCES "tasks"("id"),
        "amount_minor" bigint NOT NULL CHECK ("amount_minor" > 0),
        "currency" char(3) NOT NULL,
        "reason" text NOT NULL,
        "unique_request_token" text NOT NULL,
        "ledger_transaction_id" bigint,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_mturk_bonuses_token" UNIQUE ("owner_id", "unique_request_token")
      )`);
    await q.query(`CREATE INDEX "ix_mturk_bonuses_task" ON "mturk_bonuses" ("task_id", "created_at")`);
    await q.query(`CREATE INDEX "ix_mturk_bonuses_assignment" ON "mturk_bonuses" ("assignment_id")`);

    await q.query(`
      CREATE TABLE "mturk_workers" (
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "mturk_worker_id" text NOT NULL,
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        PRIMARY KEY ("owner_id", "mturk_worker_id"),
        CONSTRAINT "uq_mturk_workers_worker" UNIQUE ("owner_id", "worker_id")
      )`);

    await q.query(`
      CREATE TABLE "mturk_qualification_types" (
        "qualification_id" uuid PRIMARY KEY REFERENCES "qualifications"("id") ON DELETE CASCADE,
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "name" text NOT NULL,
        "description" text NOT NULL,
        "keywords" text,
        "status" text NOT NULL CHECK ("status" IN ('Active','Inactive')),
        "retry_delay_seconds" integer,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_mturk_qualification_types_name" UNIQUE ("owner_id", "name")
      )`);

    await q.query(`
      CREATE TABLE "mturk_worker_blocks" (
        "owner_id" uuid NOT NULL REFERENCES "users"("id"),
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        "reason" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("owner_id", "worker_id")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "mturk_worker_blocks"`);
    await q.query(`DROP TABLE "mturk_qualification_types"`);
    await q.query(`DROP TABLE "mturk_workers"`);
    await q.query(`DROP TABLE "mturk_bonuses"`);
    await q.query(`DROP TABLE "mturk_hits"`);
    await q.query(`DROP TABLE "mturk_hit_campaigns"`);
    await q.query(`DROP TABLE "mturk_hit_types"`);
    await q.query(`DROP TABLE "mturk_access_keys"`);
  }
}
