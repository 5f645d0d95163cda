import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (Stripe's scheme). */
export const SIGNATURE_HEADER = 'Tally-Signature';
/** The event's id: the same on every attempt, so a receiver can drop duplicates. */
export const EVENT_ID_HEADER = 'Tally-Event-Id';
/** How old a signature a receiver should accept by default (seconds). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The `Tally-Signature` value for `body` sent at `timestamp` (unix seconds), keyed by the endpoint's secret. */
export function signPayload(secret: string, body: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/**
 * Verifies a `Tally-Signature` header against the raw body: any `v1` matching (compared in
 * constant time) and `t` within `toleranceSeconds` of `now`. What a receiver does; used by the tests
 * and shown in the README.
 */
export function verifySignature(secret: string, body: string, header: string | undefined, opts: { toleranceSeconds?: number; now?: number } = {}): boolean {
  if (!header) return false;
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) return false;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (opts.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return parts
    .filter(([k, v]) => k === 'v1' && v)
    .some(([, v]) => {
      const given = Buffer.from(v);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}
