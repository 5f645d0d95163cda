import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Endpoint signing secrets are needed in clear to sign, so they cannot be hashed: they are stored
 * AES-256-GCM encrypted with a key derived (HKDF-SHA256) from JWT_SECRET. Changing JWT_SECRET makes
 * the stored secrets unreadable: rotate each endpoint's secret afterwards.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(serverSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(serverSecret), 'tally', 'webhooks/endpoint-secret/v1', 32));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('unreadable webhook secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('the endpoint secret cannot be decrypted (was JWT_SECRET changed?): rotate it with POST /api/webhooks/:id/rotate-secret');
    }
  }
}

/** A new endpoint secret: `whsec_` + 32 random bytes (base64url). The HMAC key is this whole string. */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
