/**
 * The Redis adapter against a real Redis: the rate-limit buckets are exact when two instances
 * spend from them at once, and an event published on one instance reaches the listeners of
 * another, once, while the publisher's own listeners get it once too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, type RedisServices } from '../../src/adapters/redis/index.js';
import type { Logger } from '../../src/domain/ports.js';
import type { SessionEvent } from '../../src/domain/types.js';
import { startRedis, type TestRedis } from '../helpers/services.js';

const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silent,
};

let server: TestRedis;
const opened: RedisServices[] = [];
beforeAll(async () => {
  server = await startRedis();
}, 60_000);
afterAll(async () => {
  for (const r of opened) await r.close();
  await server?.close();
});

/** Two instances' Redis services, sharing a fresh prefix. */
async function twoInstances(): Promise<[RedisServices, RedisServices]> {
  const prefix = server.freshPrefix();
  const a = await openRedis(server.url, prefix, silent);
  const b = await openRedis(server.url, prefix, silent);
  opened.push(a, b);
  return [a, b];
}

function event(seq: number, sessionId = 'sess_1'): SessionEvent {
  return { sessionId, seq, turnId: 't', type: 'message', data: `{"n":${seq}}`, createdAt: 1 };
}

describe('Redis rate limiter', () => {
  it('a parallel burst split over two instances makes exactly the limit', async () => {
    const [a, b] = await twoInstances();
    const decisions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).limiter.consume('key_1', 'sessions', 10)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    // Each allowed decision saw a different count: none was decided twice.
    expect(new Set(decisions.filter((d) => d.allowed).map((d) => d.remaining)).size).toBe(10);
    const after = await a.limiter.peek('key_1', 'sessions', 10);
    expect(after).toMatchObject({ allowed: true, remaining: 0 });
    expect(decisions.every((d) => d.resetAt === after.resetAt)).toBe(true);
  });

  it('peeking spends nothing and opens no window; buckets and keys are apart; a cost above what is left is refused whole', async () => {
    const [a] = await twoInstances();
    const peek = await a.limiter.peek('key_1', 'messages', 5);
    expect(peek).toMatchObject({ allowed: true, limit: 5, remaining: 5 });
    expect(await a.limiter.consume('key_1', 'messages', 5, 3)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await a.limiter.consume('key_1', 'messages', 5, 3)).toMatchObject({
      allowed: false,
      remaining: 2,
    });
    expect(await a.limiter.consume('key_1', 'events', 5)).toMatchObject({ allowed: true, remaining: 4 });
    expect(await a.limiter.consume('key_2', 'messages', 5)).toMatchObject({ allowed: true, remaining: 4 });
  });
});

describe('Redis event bus', () => {
  it('an event published on one instance reaches the other’s listeners once, and its own once', async () => {
    const [a, b] = await twoInstances();
    const onA: number[] = [];
    const onB: SessionEvent[] = [];
    a.bus.subscribe('sess_1', (e) => onA.push(e.seq));
    let arrived!: () => void;
    const three = new Promise<void>((resolve) => (arrived = resolve));
    b.bus.subscribe('sess_1', (e) => {
      onB.push(e);
      if (onB.length === 3) arrived();
    });
    b.bus.subscribe('sess_2', () => {
      throw new Error('another session’s listener was called');
    });
    for (const seq of [1, 2, 3]) a.bus.publish(event(seq));
    await three;
    expect(onB).toEqual([event(1), event(2), event(3)]);
    // Round trip through Redis for A too, then check A did not get its own events again.
    let back!: () => void;
    const echoed = new Promise<void>((resolve) => (back = resolve));
    a.bus.subscribe('sess_3', () => back());
    b.bus.publish(event(1, 'sess_3'));
    await echoed;
    expect(onA).toEqual([1, 2, 3]);
  });
});
