import type { Redis } from 'ioredis';

/** The record @nestjs/throttler (v6) expects from a storage; times in SECONDS. */
export interface ThrottleRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

// KEYS: hits, block. ARGV: ttl ms, limit, block ms. Atomic, so N api processes count as one.
const SCRIPT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
  return {hits, redis.call('PTTL', KEYS[1]), 1, blocked}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  local block = tonumber(ARGV[3])
  if block > 0 then redis.call('SET', KEYS[2], '1', 'PX', block) end
  return {hits, ttl, 1, block}
end
return {hits, ttl, 0, 0}
`;

/**
 * A @nestjs/throttler storage (structurally its ThrottlerStorage: `increment(key, ttl, limit,
 * blockDuration, throttlerName)`, ttl and blockDuration in ms) over Redis, so every API process
 * shares one count per key: with REDIS_URL, "5 logins a minute" means 5 across the cluster, not 5
 * per process. A fixed window per key, counted and blocked atomically in one Lua script.
 * Wire it with `storage: redis.client ? new RedisThrottlerStorage(redis.client, prefix) : undefined`
 * (RedisConnection from this lib; undefined keeps the throttler's in-memory storage).
 */
export class RedisThrottlerStorage {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'tally',
  ) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottleRecord> {
    const base = `${this.prefix}:throttle:${throttlerName}:${key}`;
    const [hits, ttlMs, blocked, blockMs] = (await this.redis.eval(SCRIPT, 2, `${base}:hits`, `${base}:block`, Math.max(1, Math.ceil(ttl)), limit, Math.max(0, Math.ceil(blockDuration)))) as number[];
    return {
      totalHits: Number(hits),
      timeToExpire: Math.max(0, Math.ceil(Number(ttlMs) / 1000)),
      isBlocked: Number(blocked) === 1,
      timeToBlockExpire: Math.max(0, Math.ceil(Number(blockMs) / 1000)),
    };
  }
}
