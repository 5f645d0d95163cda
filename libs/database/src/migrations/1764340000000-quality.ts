import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quality control: hidden gold (control) tasks, worker skills from the Dawid-Skene job,
 * qualifications and qualification tests, campaign blocks, automatic rules with their log,
 * flags for admins, and dynamic-overlap bookkeeping on tasks.
 *
 * Gold tasks are the items imported with a gold answer. A trigger gives them status 'gold' on
 * insert, so every existing path that scans `status = 'open'` (claim, open-campaign list,
 * stragglers, campaign completion) leaves them alone; only the gold claim hands them out.
 */
export class Quality1764340000000 implements MigrationInterface {
  name = 'Quality1764340000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "tasks" DROP CONSTRAINT "ck_tasks_status"`);
    await q.query(`ALTER TABLE "tasks" ADD CONSTRAINT "ck_tasks_status" CHECK ("status" IN ('open','complete','gold'))`);
    await q.query(`ALTER TABLE "tasks" ADD COLUMN "exposures" integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "tasks" ADD COLUMN "low_confidence" boolean NOT NULL DEFAULT false`);
    await q.query(`UPDATE "tasks" SET "status" = 'gold' WHERE "gold" IS NOT NULL AND "status" = 'open'`);
    await q.query(`
      CREATE FUNCTION tally_gold_task() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.gold IS NOT NULL AND NEW.status = 'open' THEN NEW.status := 'gold'; END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER "tr_tasks_gold" BEFORE INSERT ON "tasks" FOR EACH ROW EXECUTE FUNCTION tally_gold_task()`);
    await q.query(`CREATE INDEX "ix_tasks_gold" ON "tasks" ("campaign_id", "exposures") WHERE "status" = 'gold'`);

    await q.query(`ALTER TABLE "assignments" ADD COLUMN "gold_correct" boolean`);
    await q.query(`ALTER TABLE "assignments" ADD COLUMN "excluded_at" timestamptz`);
    await q.query(`CREATE INDEX "ix_assignments_task" ON "assignments" ("task_id")`);

    await q.query(`ALTER TABLE "campaigns" ADD COLUMN "quality_rules" jsonb NOT NULL DEFAULT '{}'`);

    await q.query(`
      CREATE TABLE "worker_skills" (
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        "method" text NOT NULL,
        "classes" jsonb NOT NULL,
        "confusion" jsonb NOT NULL,
        "accuracy" double precision NOT NULL,
        "skill" double precision NOT NULL,
        "answers" integer NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("campaign_id", "worker_id")
      )`);
    await q.query(`
      CREATE TABLE "quality_runs" (
        "campaign_id" uuid PRIMARY KEY REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "answers_seen" integer NOT NULL,
        "ran_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE "campaign_blocks" (
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        "reason" text NOT NULL,
        "rule" text,
        "blocked_by" uuid REFERENCES "users"("id"),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("campaign_id", "worker_id")
      )`);
    await q.query(`
      CREATE TABLE "quality_rule_log" (
        "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "worker_id" uuid REFERENCES "users"("id"),
        "rule" text NOT NULL,
        "action" text NOT NULL,
        "reason" text NOT NULL,
        "data" jsonb NOT NULL DEFAULT '{}',
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX "ix_quality_rule_log_campaign" ON "quality_rule_log" ("campaign_id", "id")`);
    await q.query(`
      CREATE TABLE "quality_flags" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "kind" text NOT NULL,
        "worker_ids" uuid[] NOT NULL,
        "reason" text NOT NULL,
        "data" jsonb NOT NULL DEFAULT '{}',
        "resolved_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "ck_quality_flags_kind" CHECK ("kind" IN ('fast-answers','gold-accuracy','collusion'))
      )`);
    // one open flag per (campaign, kind, workers)
    await q.query(`CREATE UNIQUE INDEX "uq_quality_flags_open" ON "quality_flags" ("campaign_id", "kind", "worker_ids") WHERE "resolved_at" IS NULL`);
    await q.query(`
      CREATE TABLE "qualifications" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "description" text NOT NULL DEFAULT '',
        "owner_id" uuid REFERENCES "users"("id"),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_qualifications_name" UNIQUE ("name")
      )`);
    await q.query(`
      CREATE TABLE "worker_qualifications" (
        "qualification_id" uuid NOT NULL REFERENCES "qualifications"("id") ON DELETE CASCADE,
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        "granted_by" uuid REFERENCES "users"("id"),
        "granted_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("qualification_id", "worker_id")
      )`);
    await q.query(`
      CREATE TABLE "qualification_tests" (
        "campaign_id" uuid NOT NULL REFERENCES "campaigns"("id") ON DELETE CASCADE,
        "worker_id" uuid NOT NULL REFERENCES "users"("id"),
        "status" text NOT NULL,
        "attempt" integer NOT NULL DEFAULT 1,
        "started_at" timestamptz NOT NULL DEFAULT now(),
        "answered" integer NOT NULL DEFAULT 0,
        "correct" integer NOT NULL DEFAULT 0,
        "retry_at" timestamptz,
        PRIMARY KEY ("campaign_id", "worker_id"),
        CONSTRAINT "ck_qualification_tests_status" CHECK ("status" IN ('in_progress','passed','failed'))
      )`);
    // Why a worker may not claim from a campaign (NULL when they may): the one definition used by
    // the claim (403 with this text) and the open-campaign list (hidden). Global reliability is the
    // Wilson 95% lower bound of good outcomes (correct gold + approved answers) over graded gold and
    // reviewed answers; approval rate is approved / reviewed (no reviews yet: not held against them).
    await q.query(`
      CREATE FUNCTION tally_claim_refusal(p_campaign uuid, p_worker uuid) RETURNS text LANGUAGE plpgsql STABLE AS $$
      DECLARE
        q jsonb; r jsonb; why text; st record; n_ok int; n_trials int; rate double precision; rel double precision; z double precision := 1.96;
        missing text; t record; cap int; recent int;
      BEGIN
        SELECT c.qualification, c.quality_rules INTO q, r FROM campaigns c WHERE c.id = p_campaign;
        IF NOT FOUND THEN RETURN NULL; END IF;
        SELECT b.reason INTO why FROM campaign_blocks b WHERE b.campaign_id = p_campaign AND b.worker_id = p_worker;
        IF FOUND THEN RETURN 'You are blocked from this campaign: ' || why; END IF;
        IF q ? 'minApprovedCount' OR q ? 'minApprovalRate' OR q ? 'minReliability' THEN
          SELECT count(*) FILTER (WHERE a.status = 'approved' AND a.gold_correct IS NULL) AS approved,
                 count(*) FILTER (WHERE a.status = 'rejected' AND a.gold_correct IS NULL) AS rejected,
                 count(*) FILTER (WHERE a.gold_correct IS NOT NULL) AS gold_n,
                 count(*) FILTER (WHERE a.gold_correct) AS gold_ok
            INTO st FROM assignments a WHERE a.worker_id = p_worker AND a.excluded_at IS NULL;
          IF (q->>'minApprovedCount')::int > st.approved THEN
            RETURN format('This campaign requires at least %s approved answers; you have %s', q->>'minApprovedCount', st.approved);
          END IF;
          IF st.approved + st.rejected > 0 THEN
            rate := st.approved::double precision / (st.approved + st.rejected);
            IF (q->>'minApprovalRate')::double precision > rate THEN
              RETURN format('This campaign requires an approval rate of at least %s; yours is %s', q->>'minApprovalRate', round(rate::numeric, 3));
            END IF;
          END IF;
          IF q ? 'minReliability' THEN
            n_ok := st.gold_ok + st.approved; n_trials := st.gold_n + st.approved + st.rejected;
            IF n_trials = 0 THEN rel := 0;
            ELSE
              rate := n_ok::double precision / n_trials;
              rel := (rate + z*z/(2*n_trials) - z*sqrt(rate*(1-rate)/n_trials + z*z/(4.0*n_trials*n_trials))) / (1 + z*z/n_trials);
            END IF;
            IF (q->>'minReliability')::double precision > rel THEN
              RETURN format('This campaign requires a reliability of at least %s; yours is %s', q->>'minReliability', round(rel::numeric, 3));
            END IF;
          END IF;
        END IF;
        IF jsonb_typeof(q->'requiredQualifications') = 'array' THEN
          SELECT string_agg(n.name, ', ') INTO missing FROM jsonb_array_elements_text(q->'requiredQualifications') AS n(name)
           WHERE NOT EXISTS (SELECT 1 FROM qualifications ql JOIN worker_qualifications wq ON wq.qualification_id = ql.id
                              WHERE ql.name = n.name AND wq.worker_id = p_worker);
          IF missing IS NOT NULL THEN RETURN 'This campaign requires the qualification(s): ' || missing; END IF;
        END IF;
        IF (q->>'qualificationTestSize')::int > 0 THEN
          SELECT * INTO t FROM qualification_tests qt WHERE qt.campaign_id = p_campaign AND qt.worker_id = p_worker;
          IF FOUND AND t.status = 'failed' AND t.retry_at > now() THEN
            RETURN format('You did not pass this campaign''s qualification test (%s of %s right); you may retry after %s',
                          t.correct, t.answered, to_char(t.retry_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
          END IF;
        END IF;
        cap := (r->>'dailyCap')::int;
        IF cap > 0 THEN
          SELECT count(*) INTO recent FROM assignments a
           WHERE a.campaign_id = p_campaign AND a.worker_id = p_worker AND a.created_at > now() - interval '24 hours';
          IF recent >= cap THEN
            RETURN format('You reached this campaign''s daily cap of %s tasks in 24 hours; try again later', cap);
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION tally_claim_refusal(uuid, uuid)`);
    for (const t of ['qualification_tests', 'worker_qualifications', 'qualifications', 'quality_flags', 'quality_rule_log', 'campaign_blocks', 'quality_runs', 'worker_skills']) {
      await q.query(`DROP TABLE "${t}"`);
    }
    await q.query(`ALTER TABLE "campaigns" DROP COLUMN "quality_rules"`);
    await q.query(`DROP INDEX "ix_assignments_task"`);
    await q.query(`ALTER TABLE "assignments" DROP COLUMN "excluded_at", DROP COLUMN "gold_correct"`);
    await q.query(`DROP TRIGGER "tr_tasks_gold" ON "tasks"`);
    await q.query(`DROP FUNCTION tally_gold_task()`);
    await q.query(`DROP INDEX "ix_tasks_gold"`);
    await q.query(`UPDATE "tasks" SET "status" = 'open' WHERE "status" = 'gold'`);
    await q.query(`ALTER TABLE "tasks" DROP COLUMN "low_confidence", DROP COLUMN "exposures"`);
    await q.query(`ALTER TABLE "tasks" DROP CONSTRAINT "ck_tasks_status"`);
    await q.query(`ALTER TABLE "tasks" ADD CONSTRAINT "ck_tasks_status" CHECK ("status" IN ('open','complete'))`);
  }
}
