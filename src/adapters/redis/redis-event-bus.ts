/**
 * Live fan-out of the event logs across instances, over Redis pub/sub. An event is stored first
 * (by the instance that runs the session) and published second, as in one process; a stream on
 * any instance replays from the shared store and follows this bus, dropping what it already has
 * by sequence number (EventLog.read), so a message Redis delivers late or twice changes nothing.
 *
 * One channel for every session, subscribed once at start (and awaited, so no event published
 * after the start is missed): a per-session SUBSCRIBE would race the reader's store read. Each
 * instance gets every event and hands it to its own listeners of that session. Listeners on the
 * publishing instance get the event at once, in process; the copy Redis brings back is skipped.
 *
 * Why pub/sub and not Redis streams or PostgreSQL LISTEN/NOTIFY: the store is already the
 * durable log, so the bus only needs to be fast and at-most-once (a reader that misses a message
 * reads the gap from the store). Streams would keep a second copy to trim; NOTIFY payloads stop at
 * 8000 bytes, smaller than many events. See docs/deployment.md for the measured latency.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EventBus, Logger } from '../../domain/ports.js';
import type { SessionEvent } from '../../domain/types.js';
import { MemoryEventBus } from '../memory/memory-event-bus.js';

interface Envelope {
  /** The publishing instance, which has delivered the event to its own listeners already. */
  from: string;
  event: SessionEvent;
}

export class RedisEventBus implements EventBus {
  private readonly local = new MemoryEventBus();
  private readonly origin = randomBytes(8).toString('hex');
  private readonly channel: string;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.channel = `${prefix}events`;
  }

  /** Subscribes before returning: events published from then on reach this instance. */
  static async open(
    publisher: Redis,
    subscriber: Redis,
    prefix: string,
    logger: Logger,
  ): Promise<RedisEventBus> {
    const bus = new RedisEventBus(publisher, subscriber, prefix, logger);
    subscriber.on('message', (channel: string, text: string) => bus.receive(channel, text));
    await subscriber.subscribe(bus.channel);
    return bus;
  }

  publish(event: SessionEvent): void {
    this.local.publish(event);
    const envelope: Envelope = { from: this.origin, event };
    this.publisher.publish(this.channel, JSON.stringify(envelope)).catch((err: unknown) => {
      // Readers elsewhere find the event in the store at their next gap or reconnect.
      this.logger.warn(
        { err, sessionId: event.sessionId, seq: event.seq },
        'could not publish an event to Redis',
      );
    });
  }

  subscribe(sessionId: string, listener: (event: SessionEvent) => void): () => void {
    return this.local.subscribe(sessionId, listener);
  }

  private receive(channel: string, text: string): void {
    if (channel !== this.channel) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (envelope.from === this.origin) return;
    this.local.publish(envelope.event);
  }
}
