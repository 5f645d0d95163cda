/**
 * Counts attempts per key in a fixed window (failed logins, ...). The in-memory one serves a single
 * process; with REDIS_URL, libs/jobs' RedisAttemptCounter shares the counts between processes.
 */
export interface AttemptCount {
  count: number;
  /** Milliseconds until the window (and the count) resets; 0 when nothing is counted. */
  resetInMs: number;
}

export interface AttemptCounter {
  /** Counts one attempt; the window starts at the first attempt. */
  hit(key: string, windowMs: number): Promise<AttemptCount>;
  /** The count so far, without counting. */
  peek(key: string): Promise<AttemptCount>;
  reset(key: string): Promise<void>;
}

export class MemoryAttemptCounter implements AttemptCounter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async hit(key: string, windowMs: number): Promise<AttemptCount> {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || w.endsAt <= t) {
      if (this.windows.size > 100_000) this.prune(t);
      w = { count: 0, endsAt: t + windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    return { count: w.count, resetInMs: w.endsAt - t };
  }

  async peek(key: string): Promise<AttemptCount> {
    const t = this.now();
    const w = this.windows.get(key);
    return w && w.endsAt > t ? { count: w.count, resetInMs: w.endsAt - t } : { count: 0, resetInMs: 0 };
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  private prune(t: number): void {
    for (const [k, w] of this.windows) if (w.endsAt <= t) this.windows.delete(k);
  }
}
