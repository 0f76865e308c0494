/**
 * The three per-key buckets of the contract (sessions, messages, events per hour), with the
 * server's defaults and per-key overrides from the key's policy.
 */
import { ApiError } from './errors.js';
import type { Policies } from './key-policy.js';
import type { Clock, RateLimitDecision, RateLimiter } from './ports.js';
import type { ApiKeyRecord } from './types.js';
import type { RateLimitBucket } from './rate-limit-buckets.js';

export interface BucketDecision extends RateLimitDecision {
  bucket: RateLimitBucket;
}

export class RateLimits {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly policies: Policies,
    private readonly clock: Clock,
  ) {}

  limitFor(key: ApiKeyRecord, bucket: RateLimitBucket): number {
    return this.policies.rateLimit(key, bucket);
  }

  async consume(key: ApiKeyRecord, bucket: RateLimitBucket, cost = 1): Promise<BucketDecision> {
    return { bucket, ...(await this.limiter.consume(key.id, bucket, this.limitFor(key, bucket), cost)) };
  }

  async peek(key: ApiKeyRecord, bucket: RateLimitBucket): Promise<BucketDecision> {
    return { bucket, ...(await this.limiter.peek(key.id, bucket, this.limitFor(key, bucket))) };
  }

  /** Like `consume`, but an empty bucket is thrown as RATE_LIMIT_EXCEEDED. */
  async take(key: ApiKeyRecord, bucket: RateLimitBucket): Promise<BucketDecision> {
    const decision = await this.consume(key, bucket);
    if (!decision.allowed) throw rateLimitExceeded(decision, this.clock.now());
    return decision;
  }
}

export function rateLimitExceeded(decision: BucketDecision, now: number): ApiError {
  const retryAfterSeconds = Math.max(1, Math.ceil((decision.resetAt - now) / 1000));
  return new ApiError(
    'RATE_LIMIT_EXCEEDED',
    `Rate limit exceeded: ${decision.limit} ${decision.bucket} per hour for this API key. Retry in ${retryAfterSeconds} s.`,
    {
      bucket: decision.bucket,
      limit: decision.limit,
      remaining: decision.remaining,
      resetAt: new Date(decision.resetAt).toISOString(),
    },
    retryAfterSeconds,
  );
}
