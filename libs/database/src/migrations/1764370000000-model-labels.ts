import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Models as annotators (issue 3, item 8).
 *
 * - campaigns.model_labels: what the campaign does with items' model pre-labels — 'off' (kept,
 *   never used), 'suggest' (shown to the worker in the claim as a suggestion) or 'annotator' (the
 *   model is one more annotator in consensus; never paid, never a human answer).
 * - tasks.prelabel_model / prelabel_confidence: which model gave the pre-label and how sure it was
 *   (both optional, from the import).
 * - model_skills: per campaign and model, the Dawid-Skene confusion matrix the quality job learns
 *   for a model in 'annotator' mode (the model's counterpart of worker_skills, which references
 *   users and so cannot hold a model).
 */
export class ModelLabels1764370000000 implements MigrationInterface {
  name = 'ModelLabels1764370000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "campaigns" ADD COLUMN "model_labels" text NOT NULL DEFAULT 'off'`);
    await q.query(`ALTER TABLE "campaigns" ADD CONSTRAINT "ck_campaigns_model_labels" CHECK ("model_labels" IN ('off','suggest','annotator'))`);
    await q.query(`ALTER TABLE "tasks" ADD COLUMN "prelabel_model" text, ADD COLUMN "prelabel_confidence" double precision`);
    await q.query(
      `ALTER TABLE "tasks" ADD CONSTRAINT "ck_tasks_prelabel_confidence" CHECK ("prelabel_confidence" IS NULL OR ("prelabel_confidence" >= 0 AND "prelabel_confidence" <= 1))`,
    );
    await q.query(`
      CREATE TABLE "model_skills" (
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "model" text NOT NULL,
        "method" text NOT NULL,
        "classes" jsonb NOT NULL,
        "confusion" jsonb NOT NULL,
        "accuracy" double precision NOT NULL,
        "skill" double precision NOT NULL,
        "answers" integer NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("campaign_id", "model")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "model_skills"`);
    await q.query(`ALTER TABLE "tasks" DROP CONSTRAINT "ck_tasks_prelabel_confidence"`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "prelabel_confidence", DROP COLUMN "prelabel_model"`);
    await q.query(`ALTER TABLE "campaigns" DROP CONSTRAINT "ck_campaigns_model_labels"`);
    await q.query(`ALTER TABLE "campaigns" DROP COLUMN "model_labels"`);
  }
}
