import { beforeEach, describe, expect, it } from 'vitest';
import { testPolicies } from '../../test/helpers/policies.js';
import { MemoryRateLimiter } from '../adapters/memory/memory-rate-limiter.js';
import { ApiError } from './errors.js';
import { RateLimits } from './rate-limits.js';
import type { ApiKeyRecord } from './types.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

function key(id: string, rateLimits?: ApiKeyRecord['policy']['rateLimits']): ApiKeyRecord {
  return {
    id,
    name: id,
    prefix: id,
    hash: id,
    role: 'user',
    policy: rateLimits ? { rateLimits } : {},
    createdAt: T0,
    lastUsedAt: null,
    revokedAt: null,
  };
}

describe('RateLimits', () => {
  let clock: { t: number; now(): number };
  let limits: RateLimits;

  beforeEach(() => {
    clock = {
      t: T0,
      now() {
        return this.t;
      },
    };
    limits = new RateLimits(
      new MemoryRateLimiter(clock),
      testPolicies({ sessions: 2, messages: 100, events: 1000 }),
      clock,
    );
  });

  it('uses the server defaults, and a key’s policy overrides them per bucket', async () => {
    const plain = key('plain');
    const special = key('special', { sessions: 5 });
    expect(limits.limitFor(plain, 'sessions')).toBe(2);
    expect(limits.limitFor(special, 'sessions')).toBe(5);
    expect(limits.limitFor(special, 'messages')).toBe(100);
    const decision = await limits.consume(special, 'sessions');
    expect(decision).toMatchObject({ bucket: 'sessions', allowed: true, limit: 5, remaining: 4 });
  });

  it('take() returns the decision while allowed and throws RATE_LIMIT_EXCEEDED after', async () => {
    const k = key('k');
    expect(await limits.take(k, 'sessions')).toMatchObject({ bucket: 'sessions', remaining: 1 });
    await limits.take(k, 'sessions');
    clock.t = T0 + 20 * 60_000 + 300; // 40 min minus 300 ms left
    const err = await limits.take(k, 'sessions').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      code: 'RATE_LIMIT_EXCEEDED',
      retryAfterSeconds: 40 * 60,
      details: { bucket: 'sessions', limit: 2, remaining: 0, resetAt: new Date(T0 + HOUR).toISOString() },
    });
  });

  it('Retry-After is at least one second', async () => {
    const k = key('k', { messages: 1 });
    await limits.take(k, 'messages');
    clock.t = T0 + HOUR - 1;
    await expect(limits.take(k, 'messages')).rejects.toMatchObject({ retryAfterSeconds: 1 });
  });

  it('peek does not spend', async () => {
    const k = key('k');
    for (let i = 0; i < 5; i++) expect((await limits.peek(k, 'sessions')).remaining).toBe(2);
    expect((await limits.consume(k, 'sessions')).remaining).toBe(1);
    expect(await limits.peek(k, 'sessions')).toMatchObject({ bucket: 'sessions', remaining: 1, limit: 2 });
  });

  it('is atomic: 50 concurrent takes against a per-key limit of 10 allow exactly 10', async () => {
    const k = key('k', { sessions: 10 });
    const settled = await Promise.allSettled(Array.from({ length: 50 }, () => limits.take(k, 'sessions')));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(10);
    const refused = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(refused).toHaveLength(40);
    expect(refused.every((r) => (r.reason as ApiError).code === 'RATE_LIMIT_EXCEEDED')).toBe(true);
  });
});
