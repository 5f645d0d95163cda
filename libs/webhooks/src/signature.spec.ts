import { createHmac } from 'node:crypto';
import { SecretBox } from './secret-box';
import { signPayload, verifySignature } from './signature';
import { retryDelayMs } from './webhook-delivery.service';

describe('webhook signatures (Stripe-style t=,v1=)', () => {
  const secret = 'whsec_test';
  const body = '{"id":"e1","type":"task.completed"}';

  it('signs HMAC-SHA256 of "<t>.<body>" in hex', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(signPayload(secret, body, 1700000000)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies within the tolerance only, with the right secret and the exact body', () => {
    const header = signPayload(secret, body, 1700000000);
    expect(verifySignature(secret, body, header, { now: 1700000100 })).toBe(true);
    expect(verifySignature(secret, body, header, { now: 1700000000 + 301 })).toBe(false);
    expect(verifySignature('whsec_other', body, header, { now: 1700000000 })).toBe(false);
    expect(verifySignature(secret, body + ' ', header, { now: 1700000000 })).toBe(false);
    expect(verifySignature(secret, body, undefined)).toBe(false);
    expect(verifySignature(secret, body, 'v1=abc', { now: 1700000000 })).toBe(false);
    // Several v1 values (a rotation in progress): any match counts.
    expect(verifySignature(secret, body, `t=1700000000,v1=${'0'.repeat(64)},${header.split(',')[1]}`, { now: 1700000000 })).toBe(true);
  });

  it('seals secrets so that only the same server key opens them', () => {
    const box = new SecretBox('a'.repeat(40));
    const sealed = box.seal('whsec_x');
    expect(sealed).not.toContain('whsec_x');
    expect(box.open(sealed)).toBe('whsec_x');
    expect(() => new SecretBox('b'.repeat(40)).open(sealed)).toThrow();
  });

  it('backs off exponentially from a minute, capped', () => {
    expect([1, 2, 3, 7].map(retryDelayMs)).toEqual([60_000, 120_000, 240_000, 3_840_000]);
    expect(retryDelayMs(30)).toBe(6 * 3600_000);
  });
});
