import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../adapters/memory/memory-event-bus.js';
import { MemoryStore } from '../adapters/memory/memory-store.js';
import { EventLog } from './event-log.js';
import type { MessageView } from './events.js';
import type { EventBus } from './ports.js';
import type { SessionEvent } from './types.js';
import { makeKey, makeSession } from '../../test/store/fixtures.js';

/**
 * The log's mechanics (numbering, order, replay) do not depend on what an event says, so these
 * tests append marker payloads that name their own number instead of real messages.
 */
const marker = (data: Record<string, unknown>): MessageView => data as unknown as MessageView;

const SID = 'sess_1';
const T0 = 1_700_000_000_000;

/** A bus that counts its live subscriptions (to see that a reader unsubscribes). */
class CountingBus implements EventBus {
  readonly inner = new MemoryEventBus();
  subscribers = 0;
  published: SessionEvent[] = [];
  publish(event: SessionEvent): void {
    this.published.push(event);
    this.inner.publish(event);
  }
  subscribe(sessionId: string, listener: (event: SessionEvent) => void): () => void {
    this.subscribers++;
    const off = this.inner.subscribe(sessionId, listener);
    return () => {
      this.subscribers--;
      off();
    };
  }
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function seedStore(store: MemoryStore): Promise<void> {
  await store.insertKey(makeKey());
  await store.insertSession(makeSession('key_1', { id: SID }));
}

describe('EventLog', () => {
  let store: MemoryStore;
  let bus: CountingBus;
  let clock: { t: number; now(): number };
  let log: EventLog;

  beforeEach(async () => {
    store = new MemoryStore();
    await seedStore(store);
    bus = new CountingBus();
    clock = {
      t: T0,
      now() {
        return this.t++;
      },
    };
    log = new EventLog(store, bus, clock);
  });

  const append = (n: number): Promise<SessionEvent> =>
    log.append(SID, 'turn_1', 'message', (meta) => marker({ n, seq: meta.seq, at: meta.createdAt }));

  it('renumbers an event when another writer of the shared store took its number (another instance)', async () => {
    await append(1);
    await append(2);
    // A second instance, with its own log over the same store, appends meanwhile.
    const other = new EventLog(store, new MemoryEventBus(), clock);
    const theirs = await other.append(SID, 'turn_1', 'message', (meta) =>
      marker({ n: 'other', seq: meta.seq }),
    );
    expect(theirs.seq).toBe(3);
    // This log's cached head says 2: its next event is refused at 3 and stored as 4, its data
    // built again with the number it really has.
    const mine = await append(4);
    expect(mine.seq).toBe(4);
    expect(JSON.parse(mine.data)).toMatchObject({ n: 4, seq: 4 });
    expect((await store.listEvents(SID, 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(bus.published.map((e) => e.seq)).toEqual([1, 2, 4]);
  });

  /** Pulls `n` events from a reader. */
  async function take(reader: AsyncGenerator<SessionEvent>, n: number): Promise<number[]> {
    const seqs: number[] = [];
    while (seqs.length < n) {
      const next = await reader.next();
      if (next.done) break;
      seqs.push(next.value.seq);
    }
    return seqs;
  }

  const range = (from: number, to: number): number[] =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);

  describe('append', () => {
    it('numbers events by one in call order, even when the store answers out of order', async () => {
      // Earlier appends take longer to store: without serialisation, later calls would take
      // the same sequence number or overtake them.
      let call = 0;
      const appendEvents = store.appendEvents.bind(store);
      store.appendEvents = async (events) => {
        const delay = 30 - call++;
        for (let i = 0; i < delay; i++) await Promise.resolve();
        return appendEvents(events);
      };
      const events = await Promise.all(range(1, 30).map((n) => append(n)));
      expect(events.map((e) => e.seq)).toEqual(range(1, 30));
      expect(events.map((e) => (JSON.parse(e.data) as { n: number }).n)).toEqual(range(1, 30));
      const stored = await store.listEvents(SID, 0, 100);
      expect(stored.map((e) => e.seq)).toEqual(range(1, 30));
      expect(bus.published.map((e) => e.seq)).toEqual(range(1, 30));
    });

    it('builds data with the event’s own sequence number and time', async () => {
      await append(1);
      const event = await append(2);
      expect(JSON.parse(event.data)).toEqual({ n: 2, seq: 2, at: event.createdAt });
      expect(event).toMatchObject({ sessionId: SID, turnId: 'turn_1', type: 'message' });
    });

    it('continues after the highest sequence number already in the store', async () => {
      await store.appendEvents([1, 2, 3].map((seq) => ({ ...eventAt(seq) })));
      const event = await append(4);
      expect(event.seq).toBe(4);
      expect(await log.currentSeq(SID)).toBe(4);
    });

    it('publishes an event only after the store has it', async () => {
      const seenAtPublish: Array<Promise<number>> = [];
      bus.inner.subscribe(SID, () => {
        // MemoryStore reads its state synchronously when called: this is the store's
        // content at the moment of publication.
        seenAtPublish.push(store.lastEventSeq(SID));
      });
      const gate = deferred();
      const pending = log.appendWith(
        SID,
        null,
        'message',
        () => marker({}),
        async (event) => {
          await gate.promise;
          await store.appendEvents([event]);
        },
      );
      await Promise.resolve();
      await Promise.resolve();
      expect(bus.published).toHaveLength(0);
      gate.resolve();
      const event = await pending;
      expect(bus.published.map((e) => e.seq)).toEqual([event.seq]);
      expect(await Promise.all(seenAtPublish)).toEqual([event.seq]);
    });

    it('does not publish a failed append, and the next append takes its number', async () => {
      const failed = log.appendWith(
        SID,
        null,
        'message',
        () => marker({}),
        () => Promise.reject(new Error('disk full')),
      );
      const next = append(2);
      await expect(failed).rejects.toThrow('disk full');
      expect((await next).seq).toBe(1);
      expect(bus.published.map((e) => e.seq)).toEqual([1]);
    });

    it('settled() waits for every append already called', async () => {
      const gate = deferred();
      let stored = false;
      void log.appendWith(
        SID,
        null,
        'message',
        () => marker({}),
        async (event) => {
          await gate.promise;
          await store.appendEvents([event]);
          stored = true;
        },
      );
      const settled = log.settled(SID);
      gate.resolve();
      await settled;
      expect(stored).toBe(true);
    });
  });

  describe('read', () => {
    it('replays stored events after the cursor, then follows live ones', async () => {
      for (const n of range(1, 3)) await append(n);
      const abort = new AbortController();
      const reader = log.read(SID, 1, abort.signal);
      expect(await take(reader, 2)).toEqual([2, 3]);
      const next = reader.next(); // waits for a live event
      await append(4);
      expect((await next).value?.seq).toBe(4);
      await append(5);
      expect(await take(reader, 1)).toEqual([5]);
      abort.abort();
      expect((await reader.next()).done).toBe(true);
    });

    it('has no gap and no duplicate when events arrive while the replay reads the store', async () => {
      for (const n of range(1, 3)) await append(n);
      // The store's answer is taken (events 1..3), then held while 4..6 are stored and published.
      const held = deferred();
      const listEvents = store.listEvents.bind(store);
      let first = true;
      store.listEvents = async (...args) => {
        const page = await listEvents(...args);
        if (first) {
          first = false;
          await held.promise;
        }
        return page;
      };
      const abort = new AbortController();
      const reader = log.read(SID, 0, abort.signal);
      const firstEvent = reader.next();
      for (const n of range(4, 6)) await append(n);
      held.resolve();
      expect((await firstEvent).value?.seq).toBe(1);
      expect(await take(reader, 5)).toEqual([2, 3, 4, 5, 6]);
      const live = reader.next();
      await append(7);
      expect((await live).value?.seq).toBe(7);
      abort.abort();
    });

    it('drops the copies when the store already has the events that were also published', async () => {
      for (const n of range(1, 2)) await append(n);
      // Held before reading: the store's answer then includes 3..5, which the bus also delivered.
      const held = deferred();
      const listEvents = store.listEvents.bind(store);
      let first = true;
      store.listEvents = async (...args) => {
        if (first) {
          first = false;
          await held.promise;
        }
        return listEvents(...args);
      };
      const abort = new AbortController();
      const reader = log.read(SID, 0, abort.signal);
      const firstEvent = reader.next();
      for (const n of range(3, 5)) await append(n);
      held.resolve();
      expect((await firstEvent).value?.seq).toBe(1);
      expect(await take(reader, 4)).toEqual([2, 3, 4, 5]);
      const live = reader.next();
      await append(6);
      expect((await live).value?.seq).toBe(6);
      abort.abort();
    });

    it('keeps order across replay pages while events are appended between pulls', async () => {
      for (const n of range(1, 1200)) await append(n);
      const abort = new AbortController();
      const reader = log.read(SID, 0, abort.signal);
      const seqs = await take(reader, 10);
      for (const n of range(1201, 1210)) await append(n);
      seqs.push(...(await take(reader, 1200)));
      expect(seqs).toEqual(range(1, 1210));
      abort.abort();
    });

    it('catches up from the store when a reader falls more than 1000 events behind during replay', async () => {
      for (const n of range(1, 3)) await append(n);
      const abort = new AbortController();
      const reader = log.read(SID, 0, abort.signal);
      expect(await take(reader, 1)).toEqual([1]);
      // The reader is paused on a yield while 1500 events are published.
      for (const n of range(4, 1503)) await append(n);
      expect(await take(reader, 1502)).toEqual(range(2, 1503));
      const live = reader.next();
      await append(1504);
      expect((await live).value?.seq).toBe(1504);
      abort.abort();
    });

    it('catches up from the store when a live reader falls more than 1000 events behind', async () => {
      const abort = new AbortController();
      const reader = log.read(SID, 0, abort.signal);
      const first = reader.next();
      await append(1);
      expect((await first).value?.seq).toBe(1);
      for (const n of range(2, 2501)) await append(n);
      expect(await take(reader, 2500)).toEqual(range(2, 2501));
      abort.abort();
      expect((await reader.next()).done).toBe(true);
    });

    it('ends when aborted while waiting for a live event, and unsubscribes', async () => {
      const abort = new AbortController();
      const reader = log.read(SID, 0, abort.signal);
      const first = reader.next();
      await append(1);
      expect((await first).value?.seq).toBe(1); // it follows live now
      const next = reader.next();
      expect(bus.subscribers).toBe(1);
      abort.abort();
      expect((await next).done).toBe(true);
      expect(bus.subscribers).toBe(0);
    });

    it('ends at once when the signal is already aborted', async () => {
      await append(1);
      const abort = new AbortController();
      abort.abort();
      const reader = log.read(SID, 0, abort.signal);
      expect((await reader.next()).done).toBe(true);
      expect(bus.subscribers).toBe(0);
    });

    it('unsubscribes when the consumer stops early', async () => {
      for (const n of range(1, 3)) await append(n);
      const abort = new AbortController();
      for await (const event of log.read(SID, 0, abort.signal)) {
        if (event.seq === 2) break;
      }
      expect(bus.subscribers).toBe(0);
    });

    it('reads only its own session', async () => {
      const abort = new AbortController();
      const reader = log.read('sess_other', 0, abort.signal);
      const next = reader.next();
      await append(1);
      await log.settled(SID);
      abort.abort();
      // Had the reader received the other session's event, it would have yielded it first.
      expect((await next).done).toBe(true);
    });
  });

  describe('text deltas', () => {
    const delta = (text: string, index = 0) =>
      log.publishEphemeral(SID, 'turn_1', 'delta', {
        sessionId: SID,
        messageId: 'turn_1',
        kind: 'text',
        index,
        text,
        apiMessageId: 'msg_api_1',
      });
    const textOf = (event: SessionEvent) => (JSON.parse(event.data) as { text: string }).text;

    it('reach a reader that keeps up one by one, as they were published', async () => {
      const abort = new AbortController();
      const reader = log.read(SID, 0, abort.signal);
      const seen: string[] = [];
      for (const text of ['a', 'b', 'c']) {
        const next = reader.next();
        await delta(text);
        seen.push(textOf((await next).value as SessionEvent));
      }
      abort.abort();
      expect(seen).toEqual(['a', 'b', 'c']);
    });

    it('that piled up while the reader was busy come joined, per content block, in order', async () => {
      const abort = new AbortController();
      const reader = log.read(SID, 0, abort.signal);
      const first = reader.next();
      await delta('a');
      expect(textOf((await first).value as SessionEvent)).toBe('a');
      // The reader is busy (its client's socket is full): these queue up for it meanwhile.
      await delta('b');
      await delta('c');
      await delta('x', 1);
      await append(1);
      await delta('d');
      const rest: string[] = [];
      for (let i = 0; i < 4; i++) {
        const event = (await reader.next()).value as SessionEvent;
        rest.push(event.type === 'delta' ? textOf(event) : `message ${event.seq}`);
      }
      abort.abort();
      // Another block or a stored event in between ends a join: order is kept.
      expect(rest).toEqual(['bc', 'x', 'message 1', 'd']);
    });
  });

  it('forget() drops the cached sequence number; the store is asked again', async () => {
    await append(1);
    await store.appendEvents([eventAt(2)]); // written by someone else (another instance)
    expect(await log.currentSeq(SID)).toBe(1);
    await log.forget(SID);
    expect(await log.currentSeq(SID)).toBe(2);
  });
});

function eventAt(seq: number): SessionEvent {
  return { sessionId: SID, seq, turnId: null, type: 'message', data: '{}', createdAt: T0 + seq };
}
