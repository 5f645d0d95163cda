import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '@tally/audit';
import { clampPage, Page } from '@tally/common';
import { LedgerService } from '@tally/ledger';
import { CampaignErrors } from './campaigns.errors';
import { CampaignAction, CampaignPatch, CampaignSettings, checkSettings, NewCampaignInput, settingsOf, TRANSITIONS, withDefaults } from './campaign-settings';
import { CampaignEntity, CampaignStatus } from './entities/campaign.entity';

export interface CampaignListFilter {
  status?: CampaignStatus;
  limit?: number;
  offset?: number;
}

export interface CampaignSearch extends CampaignListFilter {
  /** Part of the campaign name. */
  q?: string;
  ownerId?: string;
  /** Part of the owner's email. */
  ownerEmail?: string;
}

/**
 * Work another lib must do inside a transition's transaction, after the status change and before
 * the money moves (e.g. @tally/work releasing a cancelled campaign's live claims, which this lib
 * cannot import without a cycle). Throwing rolls the whole transition back.
 */
export type TransitionHook = (em: EntityManager, campaign: CampaignEntity) => Promise<unknown>;

export interface CampaignWithOwner {
  campaign: CampaignEntity;
  ownerEmail: string;
}

export interface CampaignProgress {
  tasks: number;
  tasksComplete: number;
  answersSubmitted: number;
  answersApproved: number;
  answersRejected: number;
  liveAssignments: number;
  spendMinor: number;
  currency: string;
  percentComplete: number;
}

/**
 * A TypeORM `where` silently drops `undefined`, which would turn "this owner's campaign" into
 * "any campaign": every owner-scoped method refuses an empty owner id outright.
 */
export function requireOwner(ownerId: string): void {
  if (typeof ownerId !== 'string' || !ownerId) throw new Error('owner id is required for an owner-scoped query');
}

@Injectable()
export class CampaignsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly ledger: LedgerService,
  ) {}

  private get repo() {
    return this.ds.getRepository(CampaignEntity);
  }

  async create(ownerId: string, input: NewCampaignInput): Promise<CampaignEntity> {
    requireOwner(ownerId);
    const settings = withDefaults(input);
    checkSettings(settings, new Date());
    return this.ds.transaction(async (em) => {
      const campaign = await em.save(em.create(CampaignEntity, { ...settings, ownerId, status: 'draft' }));
      await this.audit.record({ actorId: ownerId, action: 'campaign.created', objectType: 'campaign', objectId: campaign.id }, em);
      return campaign;
    });
  }

  /**
   * Edits a draft. The row is locked so a racing publish either happens first (and this gets a
   * 409) or waits for the edit. Items already imported were validated against the task type and
   * label set, so those may only grow once items exist; their `needed` follows redundancyMin.
   */
  async update(ownerId: string, id: string, patch: CampaignPatch): Promise<CampaignEntity> {
    requireOwner(ownerId);
    return this.ds.transaction(async (em) => {
      const current = await em.findOne(CampaignEntity, { where: { id, ownerId }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw CampaignErrors.notFound();
      if (current.status !== 'draft') throw CampaignErrors.statusConflict(current.status, 'edit');
      const next: CampaignSettings = { ...settingsOf(current), ...stripUndefined(patch) };
      checkSettings(next, new Date());
      const hasItems = (await em.query(`SELECT EXISTS (SELECT 1 FROM tasks WHERE campaign_id = $1) AS x`, [id]))[0].x;
      if (hasItems) {
        if (next.taskType !== current.taskType) throw CampaignErrors.hasItems('The task type');
        if (current.labels.some((l) => !next.labels.includes(l))) throw CampaignErrors.hasItems('Existing labels (you may add new ones)');
        if (next.redundancyMin !== current.redundancyMin) {
          // Draft: nobody has claimed anything yet, so every task simply needs the new minimum.
          await em.query(`UPDATE tasks SET needed = $2 WHERE campaign_id = $1`, [id, next.redundancyMin]);
        }
      }
      const changed = Object.keys(stripUndefined(patch));
      Object.assign(current, next);
      const saved = await em.save(current);
      await this.audit.record({ actorId: ownerId, action: 'campaign.updated', objectType: 'campaign', objectId: id, data: { fields: changed } }, em);
      return saved;
    });
  }

  /** Any campaign by id, whoever owns it (the work side and admins). */
  async get(id: string): Promise<CampaignEntity> {
    const c = id ? await this.repo.findOne({ where: { id } }) : null;
    if (!c) throw CampaignErrors.notFound();
    return c;
  }

  /** The owner's campaign; someone else's is "not found", never "forbidden". */
  async findOwned(ownerId: string, id: string, em: EntityManager = this.ds.manager): Promise<CampaignEntity> {
    requireOwner(ownerId);
    const c = id ? await em.findOne(CampaignEntity, { where: { id, ownerId } }) : null;
    if (!c) throw CampaignErrors.notFound();
    return c;
  }

  async listOwned(ownerId: string, f: CampaignListFilter): Promise<Page<CampaignEntity>> {
    requireOwner(ownerId);
    const { limit, offset } = clampPage(f.limit, f.offset);
    const [items, total] = await this.repo.findAndCount({
      where: { ownerId, ...(f.status ? { status: f.status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }

  /** Admin search across every owner. */
  async search(s: CampaignSearch): Promise<Page<CampaignWithOwner>> {
    const { limit, offset } = clampPage(s.limit, s.offset);
    const qb = this.repo.createQueryBuilder('c').innerJoin('users', 'u', 'u.id = c.owner_id').addSelect('u.email', 'owner_email');
    if (s.q) qb.andWhere('c.name ILIKE :q', { q: `%${escapeLike(s.q)}%` });
    if (s.ownerId) qb.andWhere('c.owner_id = :ownerId', { ownerId: s.ownerId });
    if (s.ownerEmail) qb.andWhere('u.email ILIKE :email', { email: `%${escapeLike(s.ownerEmail)}%` });
    if (s.status) qb.andWhere('c.status = :status', { status: s.status });
    const total = await qb.getCount();
    const { entities, raw } = await qb.orderBy('c.created_at', 'DESC').addOrderBy('c.id').limit(limit).offset(offset).getRawAndEntities();
    const emails = new Map(raw.map((r: { c_id: string; owner_email: string }) => [r.c_id, r.owner_email]));
    return { items: entities.map((campaign) => ({ campaign, ownerEmail: emails.get(campaign.id) ?? '' })), total, limit, offset };
  }

  /** Admin view of one campaign: who owns it and how far it has got. */
  async inspect(id: string): Promise<CampaignWithOwner & { progress: CampaignProgress }> {
    const campaign = await this.get(id);
    const [row] = await this.ds.query(`SELECT email FROM users WHERE id = $1`, [campaign.ownerId]);
    return { campaign, ownerEmail: row?.email ?? '', progress: await this.progress(campaign) };
  }

  /**
   * publish / pause / resume / cancel as ONE conditional UPDATE: the CTE locks the row (waiting
   * for a racing transition to commit and then seeing its result), and the UPDATE applies only if
   * the status it found is one this action may start from. Of two racing calls exactly one wins;
   * the other gets a 409 naming the status the winner left. Publishing also needs an item and a
   * deadline still ahead, checked in the same statement.
   *
   * Money moves in the same transaction: publishing reserves the escrow (reward × redundancyMax ×
   * tasks × (1 + fee)) from the owner's cash — not enough → 422 INSUFFICIENT_FUNDS naming the
   * shortfall, and the status change rolls back with it; cancelling returns the escrow to the
   * owner's cash, keeping one slot for every assignment still claimed or awaiting review (those
   * may yet be approved). `opts.within` runs first (see TransitionHook).
   */
  async transition(ownerId: string, id: string, action: CampaignAction, opts: { within?: TransitionHook } = {}): Promise<CampaignEntity> {
    requireOwner(ownerId);
    const { from, to } = TRANSITIONS[action];
    return this.ds.transaction(async (em) => {
      const rows: { previous_status: CampaignStatus }[] = await em.query(
        `WITH prev AS (
           SELECT id, status FROM campaigns WHERE id = $1 AND owner_id = $2 FOR UPDATE
         )
         UPDATE campaigns c
            SET status = $3::text,
                updated_at = now(),
                published_at = CASE WHEN $3::text = 'published' THEN coalesce(c.published_at, now()) ELSE c.published_at END
           FROM prev
          WHERE c.id = prev.id
            AND prev.status = ANY($4::text[])
            AND ($3::text <> 'published' OR prev.status <> 'draft' OR (
                  EXISTS (SELECT 1 FROM tasks t WHERE t.campaign_id = c.id)
                  AND (c.deadline IS NULL OR c.deadline > now())))
        RETURNING prev.status AS previous_status`,
        [id, ownerId, to, from],
      );
      // em.query on an UPDATE ... RETURNING gives [rows, affected]
      const updated = (Array.isArray(rows[0]) ? rows[0] : rows) as { previous_status: CampaignStatus }[];
      const current = await this.findOwned(ownerId, id, em);
      if (!updated.length) {
        if (!(from as readonly string[]).includes(current.status)) throw CampaignErrors.statusConflict(current.status, action);
        const hasItems = (await em.query(`SELECT EXISTS (SELECT 1 FROM tasks WHERE campaign_id = $1) AS x`, [id]))[0].x;
        if (!hasItems) throw CampaignErrors.hasNoItems();
        throw CampaignErrors.deadlinePassed();
      }
      await opts.within?.(em, current);
      if (action === 'publish') {
        await assertGoldLooksReal(em, current);
        await this.ledger.reserveEscrow(em, current, { actorId: ownerId });
      }
      if (action === 'cancel') await this.releaseEscrow(em, current, 'campaign cancelled', ownerId);
      await this.audit.record(
        { actorId: ownerId, action: `campaign.${action}`, objectType: 'campaign', objectId: id, data: { from: updated[0].previous_status, to } },
        em,
      );
      return current;
    });
  }

  /**
   * Returns the campaign's unused escrow to the owner's cash, keeping (reward + fee) for every
   * assignment still claimed or submitted-but-unreviewed. Harmless when nothing is left (or the
   * campaign was never published). Runs in the caller's transaction.
   */
  async releaseEscrow(em: EntityManager, campaign: CampaignEntity, reason: string, actorId: string | null = null): Promise<void> {
    const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM assignments WHERE campaign_id = $1 AND status IN ('claimed', 'submitted')`, [campaign.id]);
    await this.ledger.releaseEscrow(em, campaign, reason, { keepSlots: n, actorId });
  }

  async progressOwned(ownerId: string, id: string): Promise<CampaignProgress> {
    return this.progress(await this.findOwned(ownerId, id));
  }

  /** Counts from tasks and assignments; spend is what approval has moved to workers so far. */
  async progress(c: CampaignEntity): Promise<CampaignProgress> {
    const [t] = await this.ds.query(
      `SELECT count(*) FILTER (WHERE status <> 'gold')::int AS tasks, count(*) FILTER (WHERE status = 'complete')::int AS complete FROM tasks WHERE campaign_id = $1`,
      [c.id],
    );
    const [a] = await this.ds.query(
      `SELECT count(*) FILTER (WHERE status IN ('submitted','approved','rejected'))::int AS submitted,
              count(*) FILTER (WHERE status = 'approved')::int AS approved,
              count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
              count(*) FILTER (WHERE status = 'claimed' AND lease_expires_at > now())::int AS live
         FROM assignments WHERE campaign_id = $1`,
      [c.id],
    );
    return {
      tasks: t.tasks,
      tasksComplete: t.complete,
      answersSubmitted: a.submitted,
      answersApproved: a.approved,
      answersRejected: a.rejected,
      liveAssignments: a.live,
      spendMinor: a.approved * c.rewardMinor,
      currency: c.currency,
      percentComplete: t.tasks ? Math.round((1000 * t.complete) / t.tasks) / 10 : 0,
    };
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/**
 * Publishing a campaign that shows model suggestions: every gold item must carry a pre-label
 * (imports refuse such rows, but modelLabels can be switched to `suggest` on a draft afterwards),
 * else workers could tell gold from real tasks by the missing suggestion.
 */
async function assertGoldLooksReal(em: EntityManager, c: CampaignEntity): Promise<void> {
  if (c.modelLabels !== 'suggest') return;
  const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM tasks WHERE campaign_id = $1 AND status = 'gold' AND prelabel IS NULL`, [c.id]);
  if (n > 0) throw CampaignErrors.goldWithoutPrelabel(n);
}
