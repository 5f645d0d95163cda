import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Money: a double-entry, append-only journal (ledger_accounts / ledger_transactions /
 * ledger_entries), campaign escrow terms, Stripe events, connected accounts and payouts.
 *
 * What the database itself guarantees, whatever the application does:
 * - every transaction sums to zero per currency (deferred constraint trigger, checked at commit);
 * - an entry's currency is its account's currency (composite foreign key);
 * - entries and transactions are never updated or deleted (triggers raising on UPDATE/DELETE/TRUNCATE);
 * - accounts that may not go negative never do: their cached balance is maintained by a trigger
 *   from the entries in the same transaction and is under CHECK (balance >= 0).
 */
export class Ledger1764330000000 implements MigrationInterface {
  name = 'Ledger1764330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "ledger_accounts" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "kind" text NOT NULL,
        "owner_id" uuid,
        "currency" char(3) NOT NULL,
        "guarded" boolean NOT NULL GENERATED ALWAYS AS ("kind" IN ('requester_cash','campaign_escrow','worker_payable','payouts_in_transit')) STORED,
        "balance" bigint NOT NULL DEFAULT 0,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_ledger_accounts_owner" UNIQUE NULLS NOT DISTINCT ("kind", "owner_id", "currency"),
        CONSTRAINT "uq_ledger_accounts_id_currency" UNIQUE ("id", "currency"),
        CONSTRAINT "ck_ledger_accounts_kind" CHECK ("kind" IN ('requester_cash','campaign_escrow','worker_payable','payouts_in_transit',
          'platform_revenue','processor_fees','disputes','stripe_clearing','manual_adjustments')),
        CONSTRAINT "ck_ledger_accounts_currency" CHECK ("currency" ~ '^[a-z]{3}$'),
        CONSTRAINT "ck_ledger_accounts_not_negative" CHECK (NOT "guarded" OR "balance" >= 0),
        CONSTRAINT "ck_ledger_accounts_unguarded_no_cache" CHECK ("guarded" OR "balance" = 0)
      )`);
    await q.query(`
      CREATE TABLE "ledger_transactions" (
        "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        "idempotency_key" text NOT NULL,
        "kind" text NOT NULL,
        "memo" text NOT NULL DEFAULT '',
        "reference" text,
        "actor_id" uuid,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_ledger_transactions_key" UNIQUE ("idempotency_key"),
        CONSTRAINT "ck_ledger_transactions_key" CHECK (length("idempotency_key") BETWEEN 1 AND 300)
      )`);
    await q.query(`CREATE INDEX "ix_ledger_transactions_reference" ON "ledger_transactions" ("reference") WHERE "reference" IS NOT NULL`);
    await q.query(`
      CREATE TABLE "ledger_entries" (
        "id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        "transaction_id" bigint NOT NULL REFERENCES "ledger_transactions"("id"),
        "account_id" uuid NOT NULL,
        "currency" char(3) NOT NULL,
        "amount" bigint NOT NULL,
        CONSTRAINT "fk_ledger_entries_account" FOREIGN KEY ("account_id", "currency") REFERENCES "ledger_accounts"("id", "currency"),
        CONSTRAINT "ck_ledger_entries_nonzero" CHECK ("amount" <> 0)
      )`);
    await q.query(`CREATE INDEX "ix_ledger_entries_account" ON "ledger_entries" ("account_id", "transaction_id") INCLUDE ("amount")`);
    await q.query(`CREATE INDEX "ix_ledger_entries_transaction" ON "ledger_entries" ("transaction_id")`);

    // Append-only: corrections are compensating transactions, never edits.
    await q.query(`
      CREATE FUNCTION "ledger_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
      END $$`);
    for (const t of ['ledger_entries', 'ledger_transactions']) {
      await q.query(`CREATE TRIGGER "${t}_no_update_delete" BEFORE UPDATE OR DELETE ON "${t}" FOR EACH ROW EXECUTE FUNCTION "ledger_append_only"()`);
      await q.query(`CREATE TRIGGER "${t}_no_truncate" BEFORE TRUNCATE ON "${t}" FOR EACH STATEMENT EXECUTE FUNCTION "ledger_append_only"()`);
    }

    // Balanced per currency, checked at commit so a transaction's entries can be inserted one by one.
    await q.query(`
      CREATE FUNCTION "ledger_check_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE bad record;
      BEGIN
        SELECT currency, sum(amount) AS total INTO bad FROM ledger_entries
         WHERE transaction_id = NEW.transaction_id GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'ledger transaction % does not balance: % % off', NEW.transaction_id, bad.total, bad.currency
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER "ledger_entries_balanced" AFTER INSERT ON "ledger_entries"
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "ledger_check_balanced"()`);

    // The cached balance of guarded accounts moves with every entry, in the same transaction, so the
    // CHECK (balance >= 0) above is the database's own overdraft guard. Unguarded (platform) accounts
    // are not cached: updating one hot row per approval would serialise every campaign.
    await q.query(`
      CREATE FUNCTION "ledger_apply_entry"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.account_id AND guarded;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER "ledger_entries_apply" AFTER INSERT ON "ledger_entries" FOR EACH ROW EXECUTE FUNCTION "ledger_apply_entry"()`);

    // Escrow terms fixed at publish: later approvals pay exactly what was reserved per slot, even if
    // the platform fee setting changes in between.
    await q.query(`
      CREATE TABLE "campaign_escrows" (
        "campaign_id" uuid PRIMARY KEY REFERENCES "campaigns"("id"),
        "currency" char(3) NOT NULL,
        "reward_minor" bigint NOT NULL,
        "fee_minor" bigint NOT NULL,
        "fee_bps" integer NOT NULL,
        "slots" bigint NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "ck_campaign_escrows_amounts" CHECK ("reward_minor" >= 0 AND "fee_minor" >= 0 AND "slots" >= 0)
      )`);

    await q.query(`
      CREATE TABLE "stripe_events" (
        "id" text PRIMARY KEY,
        "type" text NOT NULL,
        "created" timestamptz NOT NULL,
        "outcome" text NOT NULL,
        "payload" jsonb NOT NULL,
        "received_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE "stripe_payments" (
        "payment_intent_id" text PRIMARY KEY,
        "user_id" uuid NOT NULL REFERENCES "users"("id"),
        "currency" char(3) NOT NULL,
        "amount_minor" bigint NOT NULL,
        "checkout_session_id" text,
        "created_at" timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE "payout_accounts" (
        "user_id" uuid PRIMARY KEY REFERENCES "users"("id"),
        "stripe_account_id" text NOT NULL,
        "details_submitted" boolean NOT NULL DEFAULT false,
        "charges_enabled" boolean NOT NULL DEFAULT false,
        "transfers_enabled" boolean NOT NULL DEFAULT false,
        "stripe_updated_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_payout_accounts_stripe" UNIQUE ("stripe_account_id")
      )`);
    await q.query(`
      CREATE TABLE "payouts" (
        "id" uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL REFERENCES "users"("id"),
        "currency" char(3) NOT NULL,
        "amount_minor" bigint NOT NULL,
        "destination" text NOT NULL,
        "idempotency_key" text NOT NULL,
        "transfer_group" text NOT NULL,
        "status" text NOT NULL DEFAULT 'pending',
        "stripe_transfer_id" text,
        "reversed_minor" bigint NOT NULL DEFAULT 0,
        "attempts" integer NOT NULL DEFAULT 0,
        "locked_until" timestamptz,
        "last_error" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_payouts_key" UNIQUE ("idempotency_key"),
        CONSTRAINT "uq_payouts_group" UNIQUE ("transfer_group"),
        CONSTRAINT "ck_payouts_status" CHECK ("status" IN ('pending','paid','failed')),
        CONSTRAINT "ck_payouts_amount" CHECK ("amount_minor" > 0),
        CONSTRAINT "ck_payouts_paid_has_transfer" CHECK ("status" <> 'paid' OR "stripe_transfer_id" IS NOT NULL)
      )`);
    // At most one payout in flight per worker and currency: the next one waits for this one's outcome.
    await q.query(`CREATE UNIQUE INDEX "uq_payouts_one_pending" ON "payouts" ("user_id", "currency") WHERE "status" = 'pending'`);
    await q.query(`CREATE INDEX "ix_payouts_user" ON "payouts" ("user_id", "created_at")`);
    await q.query(`CREATE UNIQUE INDEX "uq_payouts_transfer" ON "payouts" ("stripe_transfer_id") WHERE "stripe_transfer_id" IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['payouts', 'payout_accounts', 'stripe_payments', 'stripe_events', 'campaign_escrows']) await q.query(`DROP TABLE "${t}"`);
    // Dropping the tables drops their triggers; the append-only guard does not stop DROP TABLE.
    await q.query(`DROP TABLE "ledger_entries"`);
    await q.query(`DROP TABLE "ledger_transactions"`);
    await q.query(`DROP TABLE "ledger_accounts"`);
    for (const f of ['ledger_append_only', 'ledger_check_balanced', 'ledger_apply_entry']) await q.query(`DROP FUNCTION "${f}"()`);
  }
}
