import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../adapters/memory/memory-event-bus.js';
import { MemoryStore } from '../adapters/memory/memory-store.js';
import { EventLog } from './event-log.js';
import type { MessageView } from './events.js';
import { SessionTotals } from './session-totals.js';
import { makeKey, makeSession, makeTurn, usage } from '../../test/store/fixtures.js';

const SID = 'sess_1';
const marker = (n: number): MessageView => ({ n }) as unknown as MessageView;

describe('SessionTotals', () => {
  let store: MemoryStore;
  let log: EventLog;
  let reads: number;

  beforeEach(async () => {
    store = new MemoryStore();
    await store.insertKey(makeKey());
    await store.insertSession(makeSession('key_1', { id: SID }));
    log = new EventLog(store, new MemoryEventBus(), { now: () => 1_700_000_000_000 });
    reads = 0;
    // Counts the store's aggregate reads.
    const count = store.countMessages.bind(store);
    store.countMessages = (sessionId) => {
      reads++;
      return count(sessionId);
    };
  });

  const totals = (soleWriter: boolean) =>
    new SessionTotals({ stores: { events: store, usage: store }, events: log, soleWriter });
  const message = (n: number) => log.append(SID, null, 'message', () => marker(n));
  /** A turn begun and finished through the log, as the turn service stores them. */
  async function turn(id: string, n: number, costUsd: number): Promise<void> {
    const begun = await log.appendWith(
      SID,
      id,
      'message',
      () => marker(0),
      (event) => store.beginTurn(makeTurn(SID, { id, firstSeq: 0 }), event),
    );
    expect(begun.seq).toBeGreaterThan(0);
    await log.appendWith(
      SID,
      id,
      'error',
      () => ({ code: 'INTERNAL_ERROR', message: 'x' }) as never,
      (event) =>
        store.finishTurn(
          id,
          { status: 'failed', endedAt: 1, completion: null, error: null, usage: usage(n), costUsd },
          event,
        ),
    );
  }

  it('one instance: read once, kept until this instance writes to the log, then read again', async () => {
    const t = totals(true);
    await message(1);
    expect(await t.of(SID)).toEqual({ messageCount: 1, usage: usage(0), costUsd: 0 });
    expect(await t.of(SID)).toEqual({ messageCount: 1, usage: usage(0), costUsd: 0 });
    expect(reads).toBe(1);

    await message(2);
    expect((await t.of(SID)).messageCount).toBe(2);
    await turn('turn_1', 5, 0.5);
    expect(await t.of(SID)).toEqual({ messageCount: 3, usage: usage(5), costUsd: 0.5 });
    expect(await t.of(SID)).toEqual({ messageCount: 3, usage: usage(5), costUsd: 0.5 });
    expect(reads).toBe(3);
  });

  it('a read that overlapped a write is answered but not kept', async () => {
    const t = totals(true);
    const count = store.countMessages.bind(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    store.countMessages = async (sessionId) => {
      const n = await count(sessionId);
      await held;
      return n;
    };
    const overlapped = t.of(SID);
    await message(1);
    release();
    expect((await overlapped).messageCount).toBe(0);
    expect((await t.of(SID)).messageCount).toBe(1);
  });

  it('a forgotten log starts a new mark: what was kept before is not taken for current', async () => {
    const t = totals(true);
    await t.of(SID);
    const before = log.appendMark(SID);
    await log.forget(SID);
    expect(log.appendMark(SID)).not.toBe(before);
    // Written behind this log's back (as another instance would): seen after the forget.
    await new EventLog(store, new MemoryEventBus(), { now: () => 1 }).append(SID, null, 'message', () =>
      marker(1),
    );
    expect((await t.of(SID)).messageCount).toBe(1);
  });

  it('several instances: nothing is kept, every read adds up again', async () => {
    const t = totals(false);
    await t.of(SID);
    // Another instance writes to the same log.
    await new EventLog(store, new MemoryEventBus(), { now: () => 1 }).append(SID, null, 'message', () =>
      marker(1),
    );
    expect((await t.of(SID)).messageCount).toBe(1);
    expect(reads).toBe(2);
  });
});
