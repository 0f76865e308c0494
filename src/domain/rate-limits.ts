/**
 * The three per-key buckets of the contract (sessions, messages, events per hour), with the
 * server's defaults and per-key overrides from the key's policy.
 */
import { rateLimitExceeded } from './error-situations.js';
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
