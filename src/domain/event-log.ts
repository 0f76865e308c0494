/**
 * The spine: every session has an append-only log of events with a sequence number that grows
 * by one. Each event is stored first and published second, so anything a client has seen is on
 * disk. Every SSE stream is a view of this log (replay from a cursor, then follow live), and the
 * message history is its `message` entries.
 */
import type { Clock, EventBus } from './ports.js';
import { EventSeqTaken, type EventStore } from './stores.js';
import type { Page, SessionEvent } from './types.js';
import { joinDeltas, type EphemeralEventType, type EventPayload, type StoredEventType } from './events.js';

export interface EventMeta {
  seq: number;
  createdAt: number;
}

/** How many events a slow reader may have waiting in memory before it re-reads from the store. */
const MAX_BUFFERED_EVENTS = 1000;
const REPLAY_PAGE = 500;
/**
 * How often one append renumbers after its number was taken by another writer of the log (an
 * instance that shares the database); each retry reads the log's head again.
 */
const MAX_RENUMBERS = 20;

export class EventLog {
  private readonly lastSeq = new Map<string, number>();
  /** Appends of one session run one after another, so sequence numbers follow call order. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Counts this instance's stored appends (never reset), for `appendMark`. */
  private appends = 0;
  private readonly marks = new Map<string, number>();

  constructor(
    private readonly store: EventStore,
    private readonly bus: EventBus,
    private readonly clock: Clock,
  ) {}

  /** Appends one event; `data` is built with the event's own sequence number and time. */
  append<T extends StoredEventType>(
    sessionId: string,
    turnId: string | null,
    type: T,
    data: (meta: EventMeta) => EventPayload<T>,
  ): Promise<SessionEvent> {
    return this.appendWith(sessionId, turnId, type, data, (event) => this.store.appendEvents([event]));
  }

  /**
   * Like `append`, but the caller stores the event itself, in the same transaction as other
   * state (a turn that begins or ends with its event).
   */
  appendWith<T extends StoredEventType>(
    sessionId: string,
    turnId: string | null,
    type: T,
    data: (meta: EventMeta) => EventPayload<T>,
    persist: (event: SessionEvent) => Promise<void>,
  ): Promise<SessionEvent> {
    return this.serialize(sessionId, async () => {
      for (let renumbers = 0; ; renumbers++) {
        const seq = (await this.currentSeq(sessionId)) + 1;
        const createdAt = this.clock.now();
        const event: SessionEvent = {
          sessionId,
          seq,
          turnId,
          type,
          data: JSON.stringify(data({ seq, createdAt })),
          createdAt,
        };
        // Marked before and after the write: whatever was read from the log while it ran is stale.
        this.mark(sessionId);
        try {
          await persist(event);
        } catch (err) {
          this.mark(sessionId);
          // The cached head was stale: another instance appended to this log (one that took the
          // session over, or recorded its cut turn). Read the head again and renumber.
          if (!(err instanceof EventSeqTaken) || renumbers >= MAX_RENUMBERS) throw err;
          this.lastSeq.delete(sessionId);
          continue;
        }
        this.mark(sessionId);
        this.lastSeq.set(sessionId, seq);
        this.bus.publish(event);
        return event;
      }
    });
  }

  /**
   * Publishes an event that is never stored (a text delta). It goes through the same chain as the
   * stored events, so readers get it in call order, placed after the last stored event.
   */
  publishEphemeral<T extends EphemeralEventType>(
    sessionId: string,
    turnId: string | null,
    type: T,
    data: EventPayload<T>,
  ): Promise<void> {
    return this.serialize(sessionId, async () => {
      this.bus.publish({
        sessionId,
        seq: await this.currentSeq(sessionId),
        turnId,
        type,
        data: JSON.stringify(data),
        createdAt: this.clock.now(),
        ephemeral: true,
      });
    });
  }

  /**
   * Moves whenever this instance writes to the session's log (an event, and with it a turn's
   * begin or end): a figure read from the store is still current while the mark has not moved,
   * as long as no other instance writes to the log (see SessionTotals).
   */
  appendMark(sessionId: string): number {
    const known = this.marks.get(sessionId);
    if (known !== undefined) return known;
    // A new number, never one an earlier (forgotten) mark of the session had.
    this.mark(sessionId);
    return this.appends;
  }

  private mark(sessionId: string): void {
    this.marks.set(sessionId, ++this.appends);
  }

  async currentSeq(sessionId: string): Promise<number> {
    const known = this.lastSeq.get(sessionId);
    if (known !== undefined) return known;
    const stored = await this.store.lastEventSeq(sessionId);
    this.lastSeq.set(sessionId, stored);
    return stored;
  }

  /**
   * The sequence number of the log's last stored event, as the store has it: unlike
   * `currentSeq` (this instance's own appends), it counts what other instances appended too.
   */
  storedHead(sessionId: string): Promise<number> {
    return this.store.lastEventSeq(sessionId);
  }

  /** Stored events after `afterSeq`, ascending, at most `limit` (a page of the whole log). */
  list(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]> {
    return this.store.listEvents(sessionId, afterSeq, limit);
  }

  /** The history: the session's `message` events, a page of them, as their JSON data. */
  async history(sessionId: string, page: { limit: number; offset: number }): Promise<Page<unknown>> {
    const result = await this.store.listMessages(sessionId, page);
    return { total: result.total, items: result.items.map((event) => JSON.parse(event.data) as unknown) };
  }

  /** Resolves after every append already called for the session has finished. */
  settled(sessionId: string): Promise<void> {
    return this.serialize(sessionId, async () => undefined);
  }

  /**
   * Drops cached state of an ended session, once its pending appends are done: an append still
   * in flight must not find the chain gone and number its event from a stale store read.
   */
  async forget(sessionId: string): Promise<void> {
    await this.settled(sessionId);
    this.lastSeq.delete(sessionId);
    this.chains.delete(sessionId);
    this.marks.delete(sessionId);
  }

  /**
   * Every event after `afterSeq`: first those stored, then live ones as they are published,
   * in order, without a gap or a duplicate, until `signal` aborts.
   */
  async *read(sessionId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<SessionEvent> {
    let buffer: SessionEvent[] = [];
    let overflowed = false;
    let wake: (() => void) | null = null;
    const notify = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    // Subscribe before reading the store: an event stored meanwhile is then in both, and the
    // sequence numbers drop the copy.
    const unsubscribe = this.bus.subscribe(sessionId, (event) => {
      if (buffer.length >= MAX_BUFFERED_EVENTS) {
        buffer = [];
        overflowed = true;
      } else {
        buffer.push(event);
      }
      notify();
    });
    signal.addEventListener('abort', notify);
    let cursor = afterSeq;
    try {
      let replaying = true;
      while (!signal.aborted) {
        if (replaying) {
          const page = await this.store.listEvents(sessionId, cursor, REPLAY_PAGE);
          for (const event of page) {
            if (signal.aborted) return;
            yield event;
            cursor = event.seq;
          }
          if (page.length === REPLAY_PAGE) continue;
          replaying = false;
        }
        while (buffer.length > 0 && !overflowed) {
          const event = buffer.shift() as SessionEvent;
          if (event.ephemeral) {
            // Published after stored event `seq`: it belongs here unless the reader is already
            // past that point (it replayed later events from the store).
            if (event.seq >= cursor) yield joinQueuedDeltas(event, buffer);
            if (signal.aborted) return;
            continue;
          }
          if (event.seq <= cursor) continue;
          if (event.seq > cursor + 1) {
            // A gap can only come from a dropped buffer: read the missing part from the store.
            buffer.unshift(event);
            replaying = true;
            break;
          }
          yield event;
          cursor = event.seq;
          if (signal.aborted) return;
        }
        if (overflowed) {
          // The reader fell behind: the store has everything, read from there.
          overflowed = false;
          buffer = [];
          replaying = true;
        }
        if (replaying || buffer.length > 0) continue;
        await new Promise<void>((resolve) => {
          // Checked inside the executor: an abort or an event that came in since the loop's
          // own checks would otherwise find no `wake` to call.
          if (signal.aborted || buffer.length > 0 || overflowed) resolve();
          else wake = resolve;
        });
      }
    } finally {
      unsubscribe();
      signal.removeEventListener('abort', notify);
    }
  }

  private serialize<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(sessionId) ?? Promise.resolve();
    const next = previous.then(task, task);
    // The chain itself never rejects, so one failed append does not poison the next.
    this.chains.set(
      sessionId,
      next.catch(() => undefined),
    );
    return next;
  }
}

/**
 * The delta and the deltas queued right behind it for the same content block, as one event. Deltas
 * pile up only while the reader is busy (its client's socket is not keeping up), so a reader that
 * keeps up gets each delta as it was published, and a slow one gets fewer, larger ones.
 */
function joinQueuedDeltas(event: SessionEvent, queue: SessionEvent[]): SessionEvent {
  let joined = event;
  for (let next = queue[0]; next !== undefined; next = queue[0]) {
    const both = joinDeltas(joined, next);
    if (both === null) break;
    joined = both;
    queue.shift();
  }
  return joined;
}
