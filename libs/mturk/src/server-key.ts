import { createHash, createHmac, hkdfSync } from 'node:crypto';
import type { TallyConfig } from '@tally/config';

/**
 * A 32-byte key for one purpose, from MTURK_KEY_SECRET when set, else derived (HKDF-SHA256) from
 * JWT_SECRET. Changing the secret re-keys everything derived from it (issued access keys stop
 * working; WorkerIds change).
 */
export function serverKey(config: Pick<TallyConfig, 'jwtSecret' | 'mturkKeySecret'>, purpose: string): Buffer {
  const ikm = config.mturkKeySecret ? createHash('sha256').update(config.mturkKeySecret).digest() : Buffer.from(config.jwtSecret);
  return Buffer.from(hkdfSync('sha256', ikm, 'tally', `mturk/${purpose}`, 32));
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * The WorkerId a requester sees for a Tally user: "A" + 13 base32 characters (MTurk's shape), an
 * HMAC of (requester, user) — stable for that requester, unlinkable across requesters, and never
 * the user's id.
 */
export function mturkWorkerId(key: Buffer, ownerId: string, workerId: string): string {
  return `A${base32(createHmac('sha256', key).update(`${ownerId}:${workerId}`).digest()).slice(0, 13)}`;
}
