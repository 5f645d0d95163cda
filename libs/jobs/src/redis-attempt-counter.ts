import type { Redis } from 'ioredis';
import type { AttemptCount, AttemptCounter } from '@tally/common';

// KEYS: the counter. ARGV: window ms. Counted and given its expiry atomically.
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
`;

/**
 * Attempt counts (failed logins) in Redis, so every API process shares them: with REDIS_URL,
 * "5 failed logins" means 5 across the cluster, not 5 per process. A fixed window per key.
 */
export class RedisAttemptCounter implements AttemptCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'tally',
  ) {}

  private key(k: string): string {
    return `${this.prefix}:attempts:${k}`;
  }

  async hit(key: string, windowMs: number): Promise<AttemptCount> {
    const [count, ttl] = (await this.redis.eval(HIT, 1, this.key(key), Math.max(1, Math.ceil(windowMs)))) as number[];
    return { count: Number(count), resetInMs: Math.max(0, Number(ttl)) };
  }

  async peek(key: string): Promise<AttemptCount> {
    const [[, count], [, ttl]] = (await this.redis.multi().get(this.key(key)).pttl(this.key(key)).exec()) as [unknown, string | null][];
    const n = Number(count ?? 0);
    return n > 0 ? { count: n, resetInMs: Math.max(0, Number(ttl)) } : { count: 0, resetInMs: 0 };
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.key(key));
  }
}
