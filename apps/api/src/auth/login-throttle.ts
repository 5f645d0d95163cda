import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AttemptCounter, DomainError, MemoryAttemptCounter } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { RedisAttemptCounter, RedisConnection } from '@tally/jobs';

/**
 * Failed-login throttling. Only failures count, in three fixed windows: one account from one
 * address (LOGIN_MAX_FAILURES, the usual guessing case), one account from anywhere (a distributed
 * guess), and one address across accounts (credential stuffing). A throttled login is refused with
 * 429 and Retry-After before the password is even checked, so it answers nothing about it; a
 * successful login clears its account-and-address count. Counts live in Redis with REDIS_URL (shared
 * by every API process), else in this process.
 */
@Injectable()
export class LoginThrottle {
  private readonly counter: AttemptCounter;

  constructor(@Inject(TALLY_CONFIG) private readonly config: TallyConfig, redis: RedisConnection) {
    this.counter = redis.client ? new RedisAttemptCounter(redis.client, config.redisPrefix) : new MemoryAttemptCounter();
  }

  private keys(email: string, ip: string): { key: string; limit: number }[] {
    const account = createHash('sha256').update(email.trim().toLowerCase()).digest('base64url').slice(0, 22);
    return [
      { key: `login:account-ip:${account}:${ip}`, limit: this.config.loginMaxFailures },
      { key: `login:account:${account}`, limit: this.config.loginMaxFailuresPerAccount },
      { key: `login:ip:${ip}`, limit: this.config.loginMaxFailuresPerIp },
    ];
  }

  /** Runs `attempt` (the credential check) unless throttled; counts it when it fails with bad credentials. */
  async guard<T>(email: string, ip: string, attempt: () => Promise<T>): Promise<T> {
    const keys = this.keys(email, ip);
    const counts = await Promise.all(keys.map((k) => this.counter.peek(k.key)));
    const waits = counts.filter((c, i) => c.count >= keys[i].limit).map((c) => c.resetInMs);
    if (waits.length) {
      const retryAfterSeconds = Math.max(1, Math.ceil(Math.max(...waits) / 1000));
      throw new DomainError('TOO_MANY_LOGIN_ATTEMPTS', 'too_many', `Too many failed logins: try again in ${retryAfterSeconds} seconds`, { retryAfterSeconds });
    }
    try {
      const result = await attempt();
      await this.counter.reset(keys[0].key);
      return result;
    } catch (err) {
      if ((err as DomainError).code === 'INVALID_CREDENTIALS') {
        const windowMs = this.config.loginFailureWindowSeconds * 1000;
        await Promise.all(keys.map((k) => this.counter.hit(k.key, windowMs)));
      }
      throw err;
    }
  }
}
