import { JwtService } from '@nestjs/jwt';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { inTransaction } from '@tally/database';
import { cash, escrowFor, LedgerService, manualAdjustments } from '@tally/ledger';
import type { TestApp, TestUser } from './test-app';

/** The app's DataSource, for fixtures that insert rows directly and for asserting on tables. */
export const dataSourceOf = (t: TestApp): DataSource => t.app.get(DataSource);

export interface SeedCampaignOverrides {
  name?: string;
  taskType?: 'single-label' | 'multi-label' | 'boxes' | 'spans' | 'text';
  labels?: string[];
  instructions?: string;
  rewardMinor?: number;
  currency?: string;
  redundancyMin?: number;
  redundancyMax?: number;
  leaseSeconds?: number;
  autoApproveSeconds?: number;
  deadline?: Date | null;
  maxTextLength?: number;
  status?: 'draft' | 'published' | 'paused' | 'completed' | 'cancelled';
}

export interface SeedItem {
  payload: Record<string, unknown>;
  gold?: unknown;
  prelabel?: unknown;
}

export interface SeededCampaign {
  id: string;
  taskIds: string[];
}

/**
 * Inserts a campaign (published by default) and its tasks straight into the database, with
 * needed = redundancyMin, so work tests do not depend on the campaigns API. A campaign seeded past
 * draft also gets its escrow, funded by a matching manual credit (see fundAndEscrow). `items` may be a count
 * (texts "item 0", "item 1", ...) or explicit items. Tasks are inserted in order, so their seq
 * follows the array.
 */
export async function seedCampaign(
  t: TestApp,
  ownerId: string,
  overrides: SeedCampaignOverrides = {},
  items: SeedItem[] | number = 3,
): Promise<SeededCampaign> {
  const ds = dataSourceOf(t);
  const c = {
    name: 'Seeded campaign',
    taskType: 'single-label' as const,
    labels: ['cat', 'dog', 'bird'],
    instructions: 'Pick the animal.',
    rewardMinor: 5,
    currency: 'usd',
    redundancyMin: 3,
    redundancyMax: 5,
    leaseSeconds: 600,
    autoApproveSeconds: 3 * 86400,
    deadline: null,
    maxTextLength: 2000,
    status: 'published' as const,
    ...overrides,
  };
  const [row] = await ds.query(
    `INSERT INTO campaigns (owner_id, name, task_type, labels, instructions, reward_minor, currency, redundancy_min, redundancy_max,
       confidence_target, lease_seconds, deadline, auto_approve_seconds, max_text_length, status, published_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,0.9,$10,$11,$12,$13,$14, CASE WHEN $14 = 'draft' THEN NULL ELSE now() END)
     RETURNING id`,
    [ownerId, c.name, c.taskType, JSON.stringify(c.labels), c.instructions, c.rewardMinor, c.currency, c.redundancyMin, c.redundancyMax,
      c.leaseSeconds, c.deadline, c.autoApproveSeconds, c.maxTextLength, c.status],
  );
  const list: SeedItem[] = typeof items === 'number' ? Array.from({ length: items }, (_, i) => ({ payload: { text: `item ${i}` } })) : items;
  const taskIds: string[] = [];
  // One multi-row INSERT per chunk keeps large seeds (concurrency test) fast.
  for (let i = 0; i < list.length; i += 500) {
    const chunk = list.slice(i, i + 500);
    const params: unknown[] = [row.id, c.redundancyMin];
    const values = chunk.map((it) => {
      const payload = JSON.stringify(it.payload);
      const base = params.length;
      params.push(payload, createHash('sha256').update(payload).digest('hex'), it.gold === undefined ? null : JSON.stringify(it.gold),
        it.prelabel === undefined ? null : JSON.stringify(it.prelabel));
      return `($1, $${base + 1}::jsonb, $${base + 2}, $${base + 3}::jsonb, $${base + 4}::jsonb, $2)`;
    });
    const rows: { id: string }[] = await ds.query(
      `INSERT INTO tasks (campaign_id, payload, content_hash, gold, prelabel, needed) VALUES ${values.join(',')} RETURNING id, seq`,
      params,
    );
    taskIds.push(...rows.map((r) => r.id));
  }
  if (c.status !== 'draft') await fundAndEscrow(t, { id: row.id, ownerId, currency: c.currency, rewardMinor: c.rewardMinor, redundancyMax: c.redundancyMax }, taskIds.length);
  return { id: row.id, taskIds };
}

/**
 * What publishing does to money, for a campaign seeded past draft: the owner is credited exactly
 * the escrow (so their spendable cash is unchanged) and the escrow is reserved, as the real publish
 * would, so approvals in work tests are paid from it.
 */
async function fundAndEscrow(
  t: TestApp,
  campaign: { id: string; ownerId: string; currency: string; rewardMinor: number; redundancyMax: number },
  tasks: number,
): Promise<void> {
  const ledger = t.app.get(LedgerService, { strict: false });
  const { total } = escrowFor(campaign.rewardMinor, campaign.redundancyMax * tasks, ledger.feeBps);
  await inTransaction(dataSourceOf(t), async (em) => {
    if (total > 0) {
      await ledger.post(em, {
        idempotencyKey: `seed-funding:${campaign.id}`,
        kind: 'manual_credit',
        memo: 'test fixture: funds for the seeded campaign',
        entries: [
          { account: manualAdjustments(campaign.currency), amount: -total },
          { account: cash(campaign.ownerId, campaign.currency), amount: total },
        ],
      });
    }
    await ledger.reserveEscrow(em, campaign, { taskCount: tasks });
  });
}

/**
 * Creates users directly (no argon2 hashing, no HTTP) and signs their access tokens with the app's
 * JwtService: for tests that need a hundred workers quickly. They cannot log in with a password.
 */
export async function seedUsers(t: TestApp, n: number, roles: ('requester' | 'worker')[] = ['worker']): Promise<TestUser[]> {
  const ds = dataSourceOf(t);
  const jwt = t.app.get(JwtService, { strict: false });
  const users: TestUser[] = [];
  for (let i = 0; i < n; i += 500) {
    const emails = Array.from({ length: Math.min(500, n - i) }, () => `seeded-${randomUUID()}@test.tally`);
    const rows: { id: string; email: string }[] = await ds.query(
      `INSERT INTO users (email, display_name, password_hash, roles)
       SELECT e, 'seeded', 'not-a-password-hash', $2::text[] FROM unnest($1::text[]) AS e RETURNING id, email`,
      [emails, roles],
    );
    for (const r of rows) {
      const token = await jwt.signAsync({ sub: r.id, email: r.email, roles });
      users.push({ id: r.id, email: r.email, token, refreshToken: '', auth: { Authorization: `Bearer ${token}` } });
    }
  }
  return users;
}
