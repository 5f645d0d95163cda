import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DomainError } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { isUniqueViolation } from '@tally/database';
import { QualityAdminService, QualityControlService, ReliabilityService } from '@tally/quality';
import { MturkError, MturkErrors } from './mturk.errors';
import { base32, mturkWorkerId, serverKey } from './server-key';

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

const epoch = (d: Date | null | undefined) => (d ? Math.floor(new Date(d).getTime() / 1000) : undefined);
const MTURK_BLOCK_RULE = 'mturk-worker-block';

interface QualTypeRow {
  qualification_id: string;
  name: string;
  description: string;
  keywords: string | null;
  status: string;
  retry_delay_seconds: number | null;
  created_at: Date;
  tally_name: string;
}

/**
 * Workers as a requester sees them through the MTurk API (pseudonymous WorkerIds), and the
 * qualification and block operations, on top of libs/quality: a QualificationType is a Tally
 * qualification owned by the requester; Associate / Disassociate are its grant / revoke; a
 * requester-wide worker block is a Tally campaign block on each of the requester's MTurk campaigns.
 */
@Injectable()
export class MturkWorkersService {
  private readonly key: Buffer;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly quality: QualityAdminService,
    private readonly control: QualityControlService,
    private readonly reliability: ReliabilityService,
    @Inject(TALLY_CONFIG) config: TallyConfig,
  ) {
    this.key = serverKey(config, 'worker-ids/v1');
  }

  readonly operations: Record<string, (ownerId: string, input: Input) => Promise<Output>> = {
    CreateQualificationType: (o, i) => this.createQualificationType(o, i),
    GetQualificationType: (o, i) => this.getQualificationType(o, i),
    ListQualificationTypes: (o, i) => this.listQualificationTypes(o, i),
    AssociateQualificationWithWorker: (o, i) => this.associate(o, i),
    DisassociateQualificationFromWorker: (o, i) => this.disassociate(o, i),
    ListWorkersWithQualificationType: (o, i) => this.listWorkersWithQualificationType(o, i),
    CreateWorkerBlock: (o, i) => this.createWorkerBlock(o, i),
    DeleteWorkerBlock: (o, i) => this.deleteWorkerBlock(o, i),
    ListWorkerBlocks: (o, i) => this.listWorkerBlocks(o, i),
  };

  // ------------------------------------------------------------------ WorkerIds

  /** The WorkerId `ownerId` sees for a Tally user (stable per requester, never the user id). */
  workerIdFor(ownerId: string, workerId: string): string {
    return mturkWorkerId(this.key, ownerId, workerId);
  }

  /** Records the WorkerIds handed out, so a later call naming one can be resolved. */
  async remember(ownerId: string, workerIds: string[]): Promise<void> {
    const ids = [...new Set(workerIds)];
    if (!ids.length) return;
    await this.ds.query(
      `INSERT INTO mturk_workers (owner_id, mturk_worker_id, worker_id) SELECT $1, m, w FROM unnest($2::text[], $3::uuid[]) AS x(m, w) ON CONFLICT DO NOTHING`,
      [ownerId, ids.map((w) => this.workerIdFor(ownerId, w)), ids],
    );
  }

  /** The Tally user behind a WorkerId this requester was given; unknown → MTurk's error. */
  async resolve(ownerId: string, mturkId: unknown, name = 'WorkerId'): Promise<string> {
    if (typeof mturkId !== 'string' || !mturkId) throw MturkErrors.missing(name);
    const [row] = await this.ds.query(`SELECT worker_id FROM mturk_workers WHERE owner_id = $1 AND mturk_worker_id = $2`, [ownerId, mturkId]);
    if (!row) throw new MturkError('RequestError', `Worker ${mturkId} does not exist or has not worked for you.`, 'AWS.MechanicalTurk.WorkerDoesNotExist');
    return row.worker_id;
  }

  // ------------------------------------------------------------------ qualification types

  private async qualType(ownerId: string, id: unknown): Promise<QualTypeRow> {
    if (typeof id !== 'string' || !id) throw MturkErrors.missing('QualificationTypeId');
    const rows: QualTypeRow[] = /^[0-9a-f-]{36}$/i.test(id)
      ? await this.ds.query(
          `SELECT m.*, q.name AS tally_name FROM mturk_qualification_types m JOIN qualifications q ON q.id = m.qualification_id WHERE m.qualification_id = $1 AND m.owner_id = $2`,
          [id, ownerId],
        )
      : [];
    if (!rows[0]) throw new MturkError('RequestError', `QualificationType ${id} does not exist.`, 'AWS.MechanicalTurk.QualificationTypeDoesNotExist');
    return rows[0];
  }

  /** Tally names of the requester's own qualification types (for HIT QualificationRequirements). */
  async tallyNames(ownerId: string, ids: string[]): Promise<Map<string, string>> {
    const uuids = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
    if (!uuids.length) return new Map();
    const rows: { qualification_id: string; name: string }[] = await this.ds.query(
      `SELECT m.qualification_id, q.name FROM mturk_qualification_types m JOIN qualifications q ON q.id = m.qualification_id WHERE m.owner_id = $1 AND m.qualification_id = ANY($2::uuid[])`,
      [ownerId, uuids],
    );
    return new Map(rows.map((r) => [r.qualification_id, r.name]));
  }

  async createQualificationType(ownerId: string, i: Input): Promise<Output> {
    const name = str(i, 'Name', 256, true)!;
    const description = str(i, 'Description', 2000, true)!;
    const keywords = str(i, 'Keywords', 1000, false);
    const status = i.QualificationTypeStatus;
    if (status !== 'Active' && status !== 'Inactive') throw MturkErrors.parameter('QualificationTypeStatus', 'must be Active or Inactive');
    if (i.Test !== undefined || i.AnswerKey !== undefined) throw MturkErrors.unsupported('Qualification tests (Test / AnswerKey)', 'use a Tally campaign qualification test (qualificationTestSize) instead');
    if (i.AutoGranted === true) throw MturkErrors.unsupported('AutoGranted', 'Tally qualifications are granted by the requester');
    const retry = i.RetryDelayInSeconds === undefined ? null : Number(i.RetryDelayInSeconds);
    if (retry !== null && (!Number.isInteger(retry) || retry < 0)) throw MturkErrors.parameter('RetryDelayInSeconds', 'must be a non-negative integer');
    // Tally's names are global and slug-shaped; MTurk's are free text, unique per requester.
    const tallyName = `mt-${base32(createHash('sha256').update(`${ownerId}\n${name}`).digest()).slice(0, 24).toLowerCase()}`;
    const [dup] = await this.ds.query(`SELECT 1 FROM mturk_qualification_types WHERE owner_id = $1 AND name = $2`, [ownerId, name]);
    if (dup) throw alreadyExists();
    let q;
    try {
      q = await this.quality.createQualification({ id: ownerId, admin: false }, tallyName, description.slice(0, 2000));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'QUALIFICATION_EXISTS') throw alreadyExists();
      throw err;
    }
    try {
      await this.ds.query(
        `INSERT INTO mturk_qualification_types (qualification_id, owner_id, name, description, keywords, status, retry_delay_seconds) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
        [q.id, ownerId, name, description, keywords, status, retry],
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists();
      throw err;
    }
    return { QualificationType: toQualType(await this.qualType(ownerId, q.id)) };
  }

  async getQualificationType(ownerId: string, i: Input): Promise<Output> {
    return { QualificationType: toQualType(await this.qualType(ownerId, i.QualificationTypeId)) };
  }

  async listQualificationTypes(ownerId: string, i: Input): Promise<Output> {
    if (typeof i.MustBeRequestable !== 'boolean') throw MturkErrors.missing('MustBeRequestable');
    const { limit, offset } = page(i);
    // Tally qualifications are granted, never requested by workers: none is "requestable".
    if (i.MustBeRequestable) return { NumResults: 0, QualificationTypes: [] };
    const query = typeof i.Query === 'string' && i.Query ? `%${i.Query.replace(/[\\%_]/g, (m) => `\\${m}`)}%` : '%';
    const rows: QualTypeRow[] = await this.ds.query(
      `SELECT m.*, q.name AS tally_name FROM mturk_qualification_types m JOIN qualifications q ON q.id = m.qualification_id
        WHERE m.owner_id = $1 AND (m.name ILIKE $2 OR coalesce(m.keywords, '') ILIKE $2) ORDER BY m.created_at, m.qualification_id LIMIT $3 OFFSET $4`,
      [ownerId, query, limit + 1, offset],
    );
    return paged(rows, limit, offset, 'QualificationTypes', toQualType);
  }

  /** Grant through libs/quality (a requester names a worker of one of their campaigns). */
  private async viaCampaign(ownerId: string, workerId: string): Promise<{ campaignId: string; pseudonym: string }> {
    const [row] = await this.ds.query(
      `SELECT a.campaign_id FROM assignments a JOIN campaigns c ON c.id = a.campaign_id WHERE c.owner_id = $1 AND a.worker_id = $2 LIMIT 1`,
      [ownerId, workerId],
    );
    if (!row) throw new MturkError('RequestError', 'The worker has not worked for you.', 'AWS.MechanicalTurk.WorkerDoesNotExist');
    return { campaignId: row.campaign_id, pseudonym: this.reliability.pseudonym(row.campaign_id, workerId) };
  }

  async associate(ownerId: string, i: Input): Promise<Output> {
    const q = await this.qualType(ownerId, i.QualificationTypeId);
    const workerId = await this.resolve(ownerId, i.WorkerId);
    if (i.IntegerValue !== undefined && i.IntegerValue !== 1) {
      throw MturkErrors.unsupported('IntegerValue other than 1', 'a Tally qualification is held or not; use Comparator Exists in QualificationRequirements');
    }
    await this.quality.grant({ id: ownerId, admin: false }, q.qualification_id, await this.viaCampaign(ownerId, workerId));
    return {};
  }

  async disassociate(ownerId: string, i: Input): Promise<Output> {
    const q = await this.qualType(ownerId, i.QualificationTypeId);
    const workerId = await this.resolve(ownerId, i.WorkerId);
    try {
      await this.quality.revoke({ id: ownerId, admin: false }, q.qualification_id, await this.viaCampaign(ownerId, workerId));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'WORKER_NOT_FOUND') {
        throw new MturkError('RequestError', `Worker ${String(i.WorkerId)} does not have qualification ${q.qualification_id}.`, 'AWS.MechanicalTurk.QualificationDoesNotExist');
      }
      throw err;
    }
    return {};
  }

  async listWorkersWithQualificationType(ownerId: string, i: Input): Promise<Output> {
    const q = await this.qualType(ownerId, i.QualificationTypeId);
    if (i.Status !== undefined && i.Status !== 'Granted' && i.Status !== 'Revoked') throw MturkErrors.parameter('Status', 'must be Granted or Revoked');
    const { limit, offset } = page(i);
    if (i.Status === 'Revoked') return { NumResults: 0, Qualifications: [] }; // Tally deletes a revoked grant
    const rows: { worker_id: string; granted_at: Date }[] = await this.ds.query(
      `SELECT worker_id, granted_at FROM worker_qualifications WHERE qualification_id = $1 ORDER BY granted_at, worker_id LIMIT $2 OFFSET $3`,
      [q.qualification_id, limit + 1, offset],
    );
    await this.remember(ownerId, rows.map((r) => r.worker_id));
    return paged(rows, limit, offset, 'Qualifications', (r) => ({
      QualificationTypeId: q.qualification_id,
      WorkerId: this.workerIdFor(ownerId, r.worker_id),
      GrantTime: epoch(r.granted_at),
      IntegerValue: 1,
      Status: 'Granted',
    }));
  }

  // ------------------------------------------------------------------ blocks

  async createWorkerBlock(ownerId: string, i: Input): Promise<Output> {
    const workerId = await this.resolve(ownerId, i.WorkerId);
    const reason = str(i, 'Reason', 1024, true)!;
    await this.ds.query(`INSERT INTO mturk_worker_blocks (owner_id, worker_id, reason) VALUES ($1,$2,$3) ON CONFLICT (owner_id, worker_id) DO UPDATE SET reason = EXCLUDED.reason`, [
      ownerId,
      workerId,
      reason,
    ]);
    const campaigns: { id: string }[] = await this.ds.query(`SELECT id FROM campaigns WHERE owner_id = $1 AND status NOT IN ('completed','cancelled')`, [ownerId]);
    for (const c of campaigns) await this.control.blockFromCampaign(c.id, workerId, MTURK_BLOCK_RULE, reason, ownerId);
    return {};
  }

  /** Applies the requester's worker blocks to a campaign created later (called for new MTurk campaigns). */
  async applyBlocks(ownerId: string, campaignId: string): Promise<void> {
    const blocks: { worker_id: string; reason: string }[] = await this.ds.query(`SELECT worker_id, reason FROM mturk_worker_blocks WHERE owner_id = $1`, [ownerId]);
    for (const b of blocks) await this.control.blockFromCampaign(campaignId, b.worker_id, MTURK_BLOCK_RULE, b.reason, ownerId);
  }

  async deleteWorkerBlock(ownerId: string, i: Input): Promise<Output> {
    const workerId = await this.resolve(ownerId, i.WorkerId);
    const reason = str(i, 'Reason', 1024, false) ?? 'worker block removed';
    const [rows] = await this.ds.query(`DELETE FROM mturk_worker_blocks WHERE owner_id = $1 AND worker_id = $2 RETURNING 1`, [ownerId, workerId]);
    if (!(rows as unknown[]).length) return {}; // MTurk: deleting a block that does not exist succeeds
    const blocked: { campaign_id: string }[] = await this.ds.query(
      `SELECT b.campaign_id FROM campaign_blocks b JOIN campaigns c ON c.id = b.campaign_id WHERE c.owner_id = $1 AND b.worker_id = $2 AND b.rule = $3`,
      [ownerId, workerId, MTURK_BLOCK_RULE],
    );
    for (const b of blocked) await this.control.unblock(b.campaign_id, workerId, ownerId, reason);
    return {};
  }

  async listWorkerBlocks(ownerId: string, i: Input): Promise<Output> {
    const { limit, offset } = page(i);
    const rows: { worker_id: string; reason: string }[] = await this.ds.query(
      `SELECT worker_id, reason FROM mturk_worker_blocks WHERE owner_id = $1 ORDER BY created_at, worker_id LIMIT $2 OFFSET $3`,
      [ownerId, limit + 1, offset],
    );
    return paged(rows, limit, offset, 'WorkerBlocks', (r) => ({ WorkerId: this.workerIdFor(ownerId, r.worker_id), Reason: r.reason }));
  }
}

function alreadyExists(): MturkError {
  return new MturkError('RequestError', 'You have already created a QualificationType with this name. A QualificationType\'s name must be unique among all of the QualificationTypes created by the same user.', 'AWS.MechanicalTurk.QualificationTypeAlreadyExists');
}

function toQualType(r: QualTypeRow): Output {
  return {
    QualificationTypeId: r.qualification_id,
    CreationTime: epoch(r.created_at),
    Name: r.name,
    Description: r.description,
    ...(r.keywords ? { Keywords: r.keywords } : {}),
    QualificationTypeStatus: r.status,
    ...(r.retry_delay_seconds !== null ? { RetryDelayInSeconds: r.retry_delay_seconds } : {}),
    IsRequestable: false,
    AutoGranted: false,
  };
}

function str(i: Input, name: string, max: number, required: boolean): string | null {
  const v = i[name];
  if (v === undefined || v === null) {
    if (required) throw MturkErrors.missing(name);
    return null;
  }
  if (typeof v !== 'string' || (required && !v.trim())) throw MturkErrors.parameter(name, 'must be a non-empty string');
  if (v.length > max) throw MturkErrors.parameter(name, `must have at most ${max} characters`);
  return v;
}

/** MaxResults 1–100 (default 10); NextToken is the opaque base64 of the next offset. */
export function page(i: Input): { limit: number; offset: number } {
  const m = i.MaxResults;
  if (m !== undefined && (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 100)) throw MturkErrors.parameter('MaxResults', 'must be an integer between 1 and 100');
  const limit = (m as number | undefined) ?? 10;
  let offset = 0;
  if (i.NextToken !== undefined) {
    try {
      offset = JSON.parse(Buffer.from(String(i.NextToken), 'base64url').toString('utf8')).o;
    } catch {
      offset = -1;
    }
    if (!Number.isInteger(offset) || offset < 0) throw MturkErrors.invalidNextToken();
  }
  return { limit, offset };
}

export function paged<R>(rows: R[], limit: number, offset: number, key: string, map: (r: R) => Output): Output {
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map(map);
  return {
    ...(more ? { NextToken: Buffer.from(JSON.stringify({ o: offset + limit })).toString('base64url') } : {}),
    NumResults: items.length,
    [key]: items,
  };
}
