import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '@tally/audit';
import { clampPage, conflict, notFound, Page } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { serverKey } from './server-key';
import { parseAuthorization, SignedRequest, SigV4Error, verifySignature } from './sigv4';

export const MTURK_SERVICE = 'mturk-requester';
/** Live keys one requester may hold at once (AWS allows two per user; Tally is a little more generous). */
export const MAX_LIVE_KEYS = 10;

export interface AccessKeyView {
  accessKeyId: string;
  label: string;
  /** The last four characters of the secret, to tell keys apart. */
  secretHint: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface NewAccessKey extends AccessKeyView {
  /** Shown once, at creation; Tally keeps it only encrypted. */
  secretAccessKey: string;
}

interface KeyRow {
  access_key_id: string;
  owner_id: string;
  label: string;
  secret_ciphertext: string;
  secret_hint: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Access key pairs for the MTurk-compatible API (SigV4). THE CHOICE: SigV4 proves possession of
 * the secret by an HMAC over the request, so the server must hold the secret itself (a hash
 * cannot recompute the HMAC, and AWS's derived signing key changes every day and region).
 * Tally therefore stores the secret AES-256-GCM encrypted under a server key: MTURK_KEY_SECRET
 * when set, else a key derived (HKDF-SHA256) from JWT_SECRET. Rotating that server secret
 * invalidates every issued key pair. The secret is returned once, at creation.
 */
@Injectable()
export class MturkAccessKeysService {
  private readonly key: Buffer;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    @Inject(TALLY_CONFIG) config: TallyConfig,
  ) {
    this.key = serverKey(config, 'access-keys/v1');
  }

  async create(ownerId: string, label = ''): Promise<NewAccessKey> {
    if (!ownerId) throw new Error('owner id is required');
    const accessKeyId = `AKTL${randomString(16)}`;
    const secretAccessKey = randomBytes(30).toString('base64'); // 40 characters, like AWS secrets
    return this.ds.transaction(async (em) => {
      const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM mturk_access_keys WHERE owner_id = $1 AND revoked_at IS NULL`, [ownerId]);
      if (n >= MAX_LIVE_KEYS) throw conflict('MTURK_KEY_LIMIT', `At most ${MAX_LIVE_KEYS} live access keys; revoke one first`);
      const [row]: KeyRow[] = await em.query(
        `INSERT INTO mturk_access_keys (access_key_id, owner_id, label, secret_ciphertext, secret_hint) VALUES ($1,$2,$3,$4,$5) RETURNING *`,
        [accessKeyId, ownerId, label.slice(0, 200), this.encrypt(secretAccessKey), secretAccessKey.slice(-4)],
      );
      await this.audit.record({ actorId: ownerId, action: 'mturk.key_created', objectType: 'mturk_access_key', objectId: row.access_key_id }, em);
      return { ...view(row), secretAccessKey };
    });
  }

  async list(ownerId: string, p: { limit?: number; offset?: number } = {}): Promise<Page<AccessKeyView>> {
    if (!ownerId) throw new Error('owner id is required');
    const { limit, offset } = clampPage(p.limit, p.offset);
    const rows: KeyRow[] = await this.ds.query(`SELECT * FROM mturk_access_keys WHERE owner_id = $1 ORDER BY created_at DESC, access_key_id LIMIT $2 OFFSET $3`, [ownerId, limit, offset]);
    const [{ n }] = await this.ds.query(`SELECT count(*)::int AS n FROM mturk_access_keys WHERE owner_id = $1`, [ownerId]);
    return { items: rows.map(view), total: n, limit, offset };
  }

  /** Revoking is final; revoking an already revoked key is a no-op. Someone else's key: 404. */
  async revoke(ownerId: string, accessKeyId: string): Promise<AccessKeyView> {
    if (!ownerId) throw new Error('owner id is required');
    return this.ds.transaction(async (em) => {
      const [rows] = await em.query(
        `UPDATE mturk_access_keys SET revoked_at = coalesce(revoked_at, now()) WHERE access_key_id = $1 AND owner_id = $2 RETURNING *`,
        [accessKeyId, ownerId],
      );
      const row = (rows as KeyRow[])[0];
      if (!row) throw notFound('MTURK_KEY_NOT_FOUND', 'Access key not found');
      await this.audit.record({ actorId: ownerId, action: 'mturk.key_revoked', objectType: 'mturk_access_key', objectId: accessKeyId }, em);
      return view(row);
    });
  }

  /**
   * Verifies a SigV4-signed request and returns the requester it speaks for. Unknown and revoked
   * keys get AWS's answer for an unknown key (UnrecognizedClientException); everything else that
   * is wrong is an InvalidSignatureException / IncompleteSignatureException (see sigv4.ts).
   */
  async authenticate(req: SignedRequest, now = new Date()): Promise<{ ownerId: string; accessKeyId: string }> {
    const parsed = parseAuthorization(req.headers);
    const rows: KeyRow[] = await this.ds.query(`SELECT * FROM mturk_access_keys WHERE access_key_id = $1`, [parsed.accessKeyId]);
    const row = rows[0];
    if (!row || row.revoked_at) throw new SigV4Error('UnrecognizedClientException', 'The security token included in the request is invalid.');
    verifySignature(req, parsed, this.decrypt(row.secret_ciphertext), { now, service: MTURK_SERVICE });
    // Best effort and coarse (once a minute): a busy key must not turn every call into a write.
    await this.ds.query(
      `UPDATE mturk_access_keys SET last_used_at = now() WHERE access_key_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [row.access_key_id],
    );
    return { ownerId: row.owner_id, accessKeyId: row.access_key_id };
  }

  private encrypt(secret: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
    return `v1:${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64')}`;
  }

  private decrypt(stored: string): string {
    const raw = Buffer.from(stored.replace(/^v1:/, ''), 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    } catch {
      // Encrypted under another server key (MTURK_KEY_SECRET / JWT_SECRET changed): the key is unusable.
      throw new SigV4Error('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
  }
}

function randomString(n: number): string {
  const bytes = randomBytes(n);
  return Array.from(bytes, (b) => BASE32[b & 31]).join('');
}

function view(r: KeyRow): AccessKeyView {
  return { accessKeyId: r.access_key_id, label: r.label, secretHint: r.secret_hint, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at };
}
