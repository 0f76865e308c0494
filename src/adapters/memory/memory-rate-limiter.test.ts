import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from './memory-rate-limiter.js';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

describe('MemoryRateLimiter', () => {
  let clock: { t: number; now(): number };
  let limiter: MemoryRateLimiter;

  beforeEach(() => {
    clock = {
      t: T0,
      now() {
        return this.t;
      },
    };
    limiter = new MemoryRateLimiter(clock);
  });

  it('spends one unit per consume and refuses once the window is used up', async () => {
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.consume('k', 'sessions', 3));
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(decisions.every((d) => d.limit === 3 && d.resetAt === T0 + HOUR)).toBe(true);
  });

  it('opens the window at the first request and resets it an hour later', async () => {
    clock.t = T0 + 1000;
    await limiter.consume('k', 'messages', 1);
    clock.t = T0 + 30 * 60_000;
    const refused = await limiter.consume('k', 'messages', 1);
    expect(refused).toEqual({ allowed: false, limit: 1, remaining: 0, resetAt: T0 + 1000 + HOUR });
    clock.t = T0 + 1000 + HOUR - 1;
    expect((await limiter.consume('k', 'messages', 1)).allowed).toBe(false);
    clock.t = T0 + 1000 + HOUR;
    expect(await limiter.consume('k', 'messages', 1)).toEqual({
      allowed: true,
      limit: 1,
      remaining: 0,
      resetAt: T0 + 1000 + 2 * HOUR,
    });
  });

  it('keeps keys and buckets apart', async () => {
    await limiter.consume('a', 'sessions', 1);
    expect((await limiter.consume('a', 'sessions', 1)).allowed).toBe(false);
    expect((await limiter.consume('b', 'sessions', 1)).allowed).toBe(true);
    expect((await limiter.consume('a', 'messages', 1)).allowed).toBe(true);
  });

  it('peek reports the state without spending, and opens no window', async () => {
    expect(await limiter.peek('k', 'events', 5)).toEqual({
      allowed: true,
      limit: 5,
      remaining: 5,
      resetAt: T0 + HOUR,
    });
    clock.t = T0 + 10 * 60_000;
    // No window was opened by the peek: the first consume opens it now.
    expect((await limiter.consume('k', 'events', 5)).resetAt).toBe(T0 + 10 * 60_000 + HOUR);
    for (let i = 0; i < 10; i++) expect((await limiter.peek('k', 'events', 5)).remaining).toBe(4);
    expect((await limiter.consume('k', 'events', 5)).remaining).toBe(3);
  });

  it('a cost larger than what is left is refused whole and spends nothing', async () => {
    await limiter.consume('k', 'events', 5, 3);
    const refused = await limiter.consume('k', 'events', 5, 3);
    expect(refused).toMatchObject({ allowed: false, remaining: 2 });
    expect(await limiter.consume('k', 'events', 5, 2)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('is atomic: 50 concurrent consumes against a limit of 10 allow exactly 10', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 50 }, () => limiter.consume('k', 'sessions', 10)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(
      decisions
        .filter((d) => d.allowed)
        .map((d) => d.remaining)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('honours a custom window length', async () => {
    const short = new MemoryRateLimiter(clock, 1000);
    await short.consume('k', 'sessions', 1);
    clock.t += 1000;
    expect((await short.consume('k', 'sessions', 1)).allowed).toBe(true);
  });
});
