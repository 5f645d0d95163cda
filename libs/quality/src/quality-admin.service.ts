import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '@tally/audit';
import { clampPage, invalidField, Page } from '@tally/common';
import { isUniqueViolation } from '@tally/database';
import { workSql as sql } from '@tally/work';
import { QualityErrors } from './errors';
import { QualityControlService } from './quality-control.service';
import { ReliabilityService } from './reliability.service';
import { mergeRules, QualityRules, rulesOf } from './rules';

export interface RuleLogEntry {
  id: number;
  campaignId: string;
  /** Real id for admins, pseudonym for the requester. */
  worker: string | null;
  rule: string;
  action: string;
  reason: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface QualityFlag {
  id: string;
  campaignId: string;
  kind: string;
  workers: string[];
  reason: string;
  data: Record<string, unknown>;
  resolvedAt: Date | null;
  createdAt: Date;
}

export interface Qualification {
  id: string;
  name: string;
  description: string;
  ownerId: string | null;
  createdAt: Date;
}

export interface Caller {
  id: string;
  admin: boolean;
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{1,63}$/;

/** Campaign quality rules, the rule log, flags, campaign blocks and named qualifications. */
@Injectable()
export class QualityAdminService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly control: QualityControlService,
    private readonly reliability: ReliabilityService,
  ) {}

  // ------------------------------------------------------------------ rules

  async getRules(ownerId: string, campaignId: string): Promise<QualityRules> {
    await this.reliability.ownedCampaign(ownerId, campaignId);
    const { rows } = await sql<{ quality_rules: Partial<QualityRules> }>(this.ds.manager, `SELECT quality_rules FROM campaigns WHERE id = $1`, [campaignId]);
    return rulesOf(rows[0].quality_rules);
  }

  /** Merges a patch (checked field by field) into the campaign's rules; audited. Any status but finished ones. */
  async setRules(ownerId: string, campaignId: string, patch: Record<string, unknown>): Promise<QualityRules> {
    await this.reliability.ownedCampaign(ownerId, campaignId);
    const { rows } = await sql<{ quality_rules: Partial<QualityRules> }>(this.ds.manager, `SELECT quality_rules FROM campaigns WHERE id = $1`, [campaignId]);
    const next = mergeRules(rows[0].quality_rules, patch);
    await sql(this.ds.manager, `UPDATE campaigns SET quality_rules = $2, updated_at = now() WHERE id = $1`, [campaignId, JSON.stringify(next)]);
    await this.audit.record({ actorId: ownerId, action: 'campaign.quality_rules_changed', objectType: 'campaign', objectId: campaignId, data: { patch } });
    return next;
  }

  // ------------------------------------------------------------------ rule log and flags

  async ruleLog(caller: Caller, q: { campaignId?: string; limit?: number; offset?: number }): Promise<Page<RuleLogEntry>> {
    if (!caller.admin) {
      if (!q.campaignId) throw invalidField('campaignId', 'is required');
      await this.reliability.ownedCampaign(caller.id, q.campaignId);
    }
    const { limit, offset } = clampPage(q.limit, q.offset);
    const params: unknown[] = [];
    const where = q.campaignId ? `WHERE campaign_id = $${params.push(q.campaignId)}` : '';
    const [{ rows }, count] = await Promise.all([
      sql<{ id: string; campaign_id: string; worker_id: string | null; rule: string; action: string; reason: string; data: Record<string, unknown>; created_at: Date }>(
        this.ds.manager,
        `SELECT id, campaign_id, worker_id, rule, action, reason, data, created_at FROM quality_rule_log ${where} ORDER BY id DESC LIMIT ${limit} OFFSET ${offset}`,
        params,
      ),
      sql<{ n: number }>(this.ds.manager, `SELECT count(*)::int AS n FROM quality_rule_log ${where}`, params),
    ]);
    return {
      items: rows.map((r) => ({
        id: Number(r.id),
        campaignId: r.campaign_id,
        worker: r.worker_id && !caller.admin ? this.reliability.pseudonym(r.campaign_id, r.worker_id) : r.worker_id,
        rule: r.rule,
        action: r.action,
        reason: r.reason,
        data: caller.admin ? r.data : { ...r.data, actorId: undefined },
        createdAt: r.created_at,
      })),
      total: count.rows[0].n,
      limit,
      offset,
    };
  }

  async flags(caller: Caller, q: { campaignId?: string; open?: boolean; limit?: number; offset?: number }): Promise<Page<QualityFlag>> {
    if (!caller.admin) {
      if (!q.campaignId) throw invalidField('campaignId', 'is required');
      await this.reliability.ownedCampaign(caller.id, q.campaignId);
    }
    const { limit, offset } = clampPage(q.limit, q.offset);
    const params: unknown[] = [];
    const conds: string[] = [];
    if (q.campaignId) conds.push(`campaign_id = $${params.push(q.campaignId)}`);
    if (q.open) conds.push(`resolved_at IS NULL`);
    const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
    const [{ rows }, count] = await Promise.all([
      sql<{ id: string; campaign_id: string; kind: string; worker_ids: string[]; reason: string; data: Record<string, unknown>; resolved_at: Date | null; created_at: Date }>(
        this.ds.manager,
        `SELECT id, campaign_id, kind, worker_ids, reason, data, resolved_at, created_at FROM quality_flags ${where} ORDER BY created_at DESC, id LIMIT ${limit} OFFSET ${offset}`,
        params,
      ),
      sql<{ n: number }>(this.ds.manager, `SELECT count(*)::int AS n FROM quality_flags ${where}`, params),
    ]);
    return {
      items: rows.map((r) => ({
        id: r.id,
        campaignId: r.campaign_id,
        kind: r.kind,
        workers: r.worker_ids.map((w) => (caller.admin ? w : this.reliability.pseudonym(r.campaign_id, w))),
        reason: r.reason,
        data: r.data,
        resolvedAt: r.resolved_at,
        createdAt: r.created_at,
      })),
      total: count.rows[0].n,
      limit,
      offset,
    };
  }

  async resolveFlag(adminId: string, flagId: string, note: string): Promise<void> {
    const { rows } = await sql<{ campaign_id: string }>(this.ds.manager, `UPDATE quality_flags SET resolved_at = now() WHERE id = $1 AND resolved_at IS NULL RETURNING campaign_id`, [flagId]);
    if (!rows.length) throw QualityErrors.flagNotFound();
    await this.audit.record({ actorId: adminId, action: 'quality.flag_resolved', objectType: 'quality_flag', objectId: flagId, reason: note, data: { campaignId: rows[0].campaign_id } });
  }

  // ------------------------------------------------------------------ blocks (admin)

  async block(adminId: string, campaignId: string, workerId: string, reason: string): Promise<boolean> {
    const { rows } = await sql(this.ds.manager, `SELECT 1 FROM campaigns WHERE id = $1`, [campaignId]);
    if (!rows.length) throw QualityErrors.campaignNotFound();
    const { rows: u } = await sql(this.ds.manager, `SELECT 1 FROM users WHERE id = $1`, [workerId]);
    if (!u.length) throw QualityErrors.workerNotFound();
    return this.control.blockFromCampaign(campaignId, workerId, 'admin', reason, adminId);
  }

  async unblock(adminId: string, campaignId: string, workerId: string, reason: string): Promise<void> {
    if (!(await this.control.unblock(campaignId, workerId, adminId, reason))) throw QualityErrors.blockNotFound();
  }

  // ------------------------------------------------------------------ qualifications

  async createQualification(caller: Caller, name: string, description = ''): Promise<Qualification> {
    if (!NAME_RE.test(name)) throw invalidField('name', 'must be 2-64 characters: lower-case letters, digits, ".", "_" or "-"');
    try {
      const { rows } = await sql<{ id: string; created_at: Date }>(
        this.ds.manager,
        `INSERT INTO qualifications (name, description, owner_id) VALUES ($1,$2,$3) RETURNING id, created_at`,
        [name, description, caller.admin ? null : caller.id],
      );
      await this.audit.record({ actorId: caller.id, action: 'qualification.created', objectType: 'qualification', objectId: rows[0].id, data: { name } });
      return { id: rows[0].id, name, description, ownerId: caller.admin ? null : caller.id, createdAt: rows[0].created_at };
    } catch (err) {
      if (isUniqueViolation(err, 'uq_qualifications_name')) throw QualityErrors.qualificationExists(name);
      throw err;
    }
  }

  async listQualifications(q: { limit?: number; offset?: number }): Promise<Page<Qualification>> {
    const { limit, offset } = clampPage(q.limit, q.offset);
    const [{ rows }, count] = await Promise.all([
      sql<{ id: string; name: string; description: string; owner_id: string | null; created_at: Date }>(
        this.ds.manager,
        `SELECT id, name, description, owner_id, created_at FROM qualifications ORDER BY name LIMIT ${limit} OFFSET ${offset}`,
      ),
      sql<{ n: number }>(this.ds.manager, `SELECT count(*)::int AS n FROM qualifications`),
    ]);
    return { items: rows.map((r) => ({ id: r.id, name: r.name, description: r.description, ownerId: r.owner_id, createdAt: r.created_at })), total: count.rows[0].n, limit, offset };
  }

  /**
   * Grants a qualification: an admin any, a requester only their own. A requester names the worker
   * by the pseudonym they see in one of their campaigns ({campaignId, pseudonym}); an admin by id.
   */
  async grant(caller: Caller, qualificationId: string, who: { workerId?: string; campaignId?: string; pseudonym?: string }): Promise<{ workerId?: string }> {
    await this.ownQualification(caller, qualificationId);
    const workerId = await this.resolveWorker(caller, who);
    await sql(this.ds.manager, `INSERT INTO worker_qualifications (qualification_id, worker_id, granted_by) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, [
      qualificationId,
      workerId,
      caller.id,
    ]);
    await this.audit.record({ actorId: caller.id, action: 'qualification.granted', objectType: 'qualification', objectId: qualificationId, data: { workerId } });
    return caller.admin ? { workerId } : {};
  }

  async revoke(caller: Caller, qualificationId: string, who: { workerId?: string; campaignId?: string; pseudonym?: string }): Promise<void> {
    await this.ownQualification(caller, qualificationId);
    const workerId = await this.resolveWorker(caller, who);
    const { rows } = await sql(this.ds.manager, `DELETE FROM worker_qualifications WHERE qualification_id = $1 AND worker_id = $2 RETURNING 1`, [qualificationId, workerId]);
    if (!rows.length) throw QualityErrors.workerNotFound();
    await this.audit.record({ actorId: caller.id, action: 'qualification.revoked', objectType: 'qualification', objectId: qualificationId, data: { workerId } });
  }

  private async ownQualification(caller: Caller, id: string): Promise<void> {
    const { rows } = await sql<{ owner_id: string | null }>(this.ds.manager, `SELECT owner_id FROM qualifications WHERE id = $1`, [id]);
    if (!rows.length) throw QualityErrors.qualificationNotFound();
    if (!caller.admin && rows[0].owner_id !== caller.id) throw QualityErrors.notOwner();
  }

  private async resolveWorker(caller: Caller, who: { workerId?: string; campaignId?: string; pseudonym?: string }): Promise<string> {
    if (caller.admin && who.workerId) {
      const { rows } = await sql(this.ds.manager, `SELECT 1 FROM users WHERE id = $1`, [who.workerId]);
      if (!rows.length) throw QualityErrors.workerNotFound();
      return who.workerId;
    }
    if (!who.campaignId || !who.pseudonym) throw invalidField('pseudonym', caller.admin ? 'give workerId, or campaignId and pseudonym' : 'campaignId and pseudonym are required');
    if (!caller.admin) await this.reliability.ownedCampaign(caller.id, who.campaignId);
    const id = await this.reliability.resolvePseudonym(who.campaignId, who.pseudonym);
    if (!id) throw QualityErrors.workerNotFound();
    return id;
  }
}
