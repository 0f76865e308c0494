/**
 * The per-key buckets in Redis, shared by every instance: the same fixed one-hour windows as the
 * in-process limiter (memory-rate-limiter.ts), decided by one Lua script per call. Redis runs a
 * script alone, so check-and-spend is atomic across instances: a burst split over several
 * instances makes exactly the limit. The window's time is Redis's own clock (TIME), so instances
 * whose clocks differ still agree on when a window ends.
 */
import type { Redis } from 'ioredis';
import type { RateLimitDecision, RateLimiter } from '../../domain/ports.js';
import type { RateLimitBucket } from '../../domain/rate-limit-buckets.js';

const WINDOW_MS = 60 * 60 * 1000;

/**
 * KEYS[1]: the bucket's hash (start, used). ARGV: limit, cost, window ms.
 * Returns {allowed 0|1, used, resetAt ms}. A cost of 0 (peek) never opens a window.
 */
const DECIDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'start', 'used')
local start = tonumber(state[1])
local used = tonumber(state[2])
if start == nil or now >= start + window then
  if cost == 0 then return {1, 0, now + window} end
  start = now
  used = 0
end
if used + cost > limit then return {0, used, start + window} end
used = used + cost
redis.call('HSET', KEYS[1], 'start', start, 'used', used)
redis.call('PEXPIREAT', KEYS[1], start + window)
return {1, used, start + window}
`;

type DecideFn = (
  key: string,
  limit: number,
  cost: number,
  windowMs: number,
) => Promise<[number, number, number]>;

export class RedisRateLimiter implements RateLimiter {
  private readonly decide: DecideFn;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly windowMs: number = WINDOW_MS,
  ) {
    // defineCommand sends EVALSHA, and the script itself only when Redis does not know it yet.
    redis.defineCommand('ccrRateLimit', { numberOfKeys: 1, lua: DECIDE });
    const command = (redis as unknown as Record<string, DecideFn>).ccrRateLimit as DecideFn;
    this.decide = command.bind(redis);
  }

  consume(keyId: string, bucket: RateLimitBucket, limit: number, cost = 1): Promise<RateLimitDecision> {
    return this.take(keyId, bucket, limit, cost);
  }

  peek(keyId: string, bucket: RateLimitBucket, limit: number): Promise<RateLimitDecision> {
    return this.take(keyId, bucket, limit, 0);
  }

  private async take(
    keyId: string,
    bucket: RateLimitBucket,
    limit: number,
    cost: number,
  ): Promise<RateLimitDecision> {
    const [allowed, used, resetAt] = await this.decide(
      `${this.prefix}rl:${keyId}:${bucket}`,
      limit,
      cost,
      this.windowMs,
    );
    return { allowed: allowed === 1, limit, remaining: Math.max(0, limit - used), resetAt };
  }
}
