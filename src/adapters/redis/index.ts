/**
 * The Redis adapter (REDIS_URL, ioredis): the rate-limit buckets and the live event fan-out that
 * several instances share. Two connections: a subscribed connection can run no other command.
 */
import { Redis } from 'ioredis';
import type { EventBus, Logger, RateLimiter } from '../../domain/ports.js';
import { RedisEventBus } from './redis-event-bus.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

export { RedisEventBus } from './redis-event-bus.js';
export { RedisRateLimiter } from './redis-rate-limiter.js';

export interface RedisServices {
  limiter: RateLimiter;
  bus: EventBus;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable REDIS_URL)';
  }
}

export async function openRedis(url: string, prefix: string, logger: Logger): Promise<RedisServices> {
  const connect = (): Redis => {
    // Commands wait (and retry) while the connection is down, rather than fail at once; a
    // rate-limit decision that cannot be made in time fails its request with a 500.
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableReadyCheck: true });
    redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'Redis connection error'));
    return redis;
  };
  const publisher = connect();
  const subscriber = connect();
  try {
    await publisher.connect();
    await subscriber.connect();
    const bus = await RedisEventBus.open(publisher, subscriber, prefix, logger);
    return {
      limiter: new RedisRateLimiter(publisher, prefix),
      bus,
      async ping() {
        await publisher.ping();
      },
      async close() {
        publisher.disconnect();
        subscriber.disconnect();
      },
    };
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw new Error(`Cannot use Redis at ${redactRedisUrl(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
