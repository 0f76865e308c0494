/**
 * Fixed one-hour windows per key and bucket, in memory. A window opens at a key's first request
 * in the bucket and resets an hour later (that moment is `X-RateLimit-Reset`). Check-and-spend
 * is one synchronous step, so parallel requests can never overspend. Counts reset when the
 * server restarts; a Redis limiter behind the same port would share them between instances.
 */
import type { Clock, RateLimitDecision, RateLimiter } from '../../domain/ports.js';
import type { RateLimitBucket } from '../../domain/rate-limit-buckets.js';

const WINDOW_MS = 60 * 60 * 1000;

interface Window {
  startedAt: number;
  used: number;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number = WINDOW_MS,
  ) {}

  async consume(keyId: string, bucket: RateLimitBucket, limit: number, cost = 1): Promise<RateLimitDecision> {
    return this.take(keyId, bucket, limit, cost);
  }

  async peek(keyId: string, bucket: RateLimitBucket, limit: number): Promise<RateLimitDecision> {
    return this.take(keyId, bucket, limit, 0);
  }

  private take(keyId: string, bucket: RateLimitBucket, limit: number, cost: number): RateLimitDecision {
    const now = this.clock.now();
    this.sweep(now);
    const id = `${keyId}\u0000${bucket}`;
    let window = this.windows.get(id);
    if (!window || now >= window.startedAt + this.windowMs) {
      if (cost === 0) return { allowed: true, limit, remaining: limit, resetAt: now + this.windowMs };
      window = { startedAt: now, used: 0 };
      this.windows.set(id, window);
    }
    const resetAt = window.startedAt + this.windowMs;
    if (window.used + cost > limit) {
      return { allowed: false, limit, remaining: Math.max(0, limit - window.used), resetAt };
    }
    window.used += cost;
    return { allowed: true, limit, remaining: limit - window.used, resetAt };
  }

  /** Drops windows that have ended, at most once a minute. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [id, window] of this.windows) {
      if (now >= window.startedAt + this.windowMs) this.windows.delete(id);
    }
  }
}
