/** Contract: the event log (SSE replay) and the history (its `message` events). */
import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../../src/domain/types.js';
import { makeEvent, seedSession, type ContractContext } from '../fixtures.js';

const seqs = (events: SessionEvent[]): number[] => events.map((e) => e.seq);

/** Events 1..n of a session; every third one (3, 6, …) is a `complete`, the rest messages. */
function log(sessionId: string, n: number): SessionEvent[] {
  return Array.from({ length: n }, (_, i) =>
    makeEvent(sessionId, i + 1, { type: (i + 1) % 3 === 0 ? 'complete' : 'message', turnId: `t${i}` }),
  );
}

export function eventsContract(ctx: ContractContext): void {
  describe('events', () => {
    it('round-trips every field and keeps `data` byte for byte', async () => {
      await seedSession(ctx.stores());
      const events = [
        makeEvent('ses_1', 1),
        makeEvent('ses_1', 2, { turnId: 'turn_1', type: 'error', data: '{"b":1,"a":[ ] }' }),
        makeEvent('ses_1', 3, { type: 'complete', data: '"\\n\\u2028 emoji 🎉"' }),
      ];
      await ctx.stores().events.appendEvents(events);
      expect(await ctx.stores().events.listEvents('ses_1', 0, 10)).toEqual(events);
    });

    it('an empty batch is a no-op', async () => {
      await seedSession(ctx.stores());
      await ctx.stores().events.appendEvents([]);
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(0);
    });

    it('listEvents returns events after the cursor, ascending, at most `limit`', async () => {
      await seedSession(ctx.stores(), 'ses_1');
      await seedSession(ctx.stores(), 'ses_2');
      await ctx.stores().events.appendEvents(log('ses_1', 7));
      await ctx.stores().events.appendEvents(log('ses_2', 4));

      expect(seqs(await ctx.stores().events.listEvents('ses_1', 0, 100))).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(seqs(await ctx.stores().events.listEvents('ses_1', 2, 3))).toEqual([3, 4, 5]);
      expect(seqs(await ctx.stores().events.listEvents('ses_1', 5, 100))).toEqual([6, 7]);
      expect(await ctx.stores().events.listEvents('ses_1', 7, 100)).toEqual([]);
      expect(await ctx.stores().events.listEvents('ses_1', 0, 0)).toEqual([]);
      expect(await ctx.stores().events.listEvents('ses_9', 0, 100)).toEqual([]);
      const other = await ctx.stores().events.listEvents('ses_2', 0, 100);
      expect(other.every((e) => e.sessionId === 'ses_2') && seqs(other)).toEqual([1, 2, 3, 4]);
    });

    it('lastEventSeq is the highest seq of the session, 0 when it has none', async () => {
      await seedSession(ctx.stores(), 'ses_1');
      await seedSession(ctx.stores(), 'ses_2');
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(0);
      expect(await ctx.stores().events.lastEventSeq('ses_9')).toBe(0);
      await ctx.stores().events.appendEvents(log('ses_1', 5));
      await ctx.stores().events.appendEvents([makeEvent('ses_1', 6)]);
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(6);
      expect(await ctx.stores().events.lastEventSeq('ses_2')).toBe(0);
    });

    it('refuses a duplicate seq and stores none of that batch', async () => {
      await seedSession(ctx.stores());
      await ctx.stores().events.appendEvents([makeEvent('ses_1', 1), makeEvent('ses_1', 2)]);
      await expect(
        ctx.stores().events.appendEvents([makeEvent('ses_1', 3), makeEvent('ses_1', 2)]),
      ).rejects.toThrow();
      await expect(
        ctx.stores().events.appendEvents([makeEvent('ses_1', 4), makeEvent('ses_1', 4)]),
      ).rejects.toThrow();
      expect(seqs(await ctx.stores().events.listEvents('ses_1', 0, 10))).toEqual([1, 2]);
      // The original of the clashing seq is untouched.
      expect((await ctx.stores().events.listEvents('ses_1', 1, 1))[0]).toEqual(makeEvent('ses_1', 2));
    });

    it('the same seq in two sessions is no clash; an unknown session is refused', async () => {
      await seedSession(ctx.stores(), 'ses_1');
      await seedSession(ctx.stores(), 'ses_2');
      await ctx.stores().events.appendEvents([makeEvent('ses_1', 1), makeEvent('ses_2', 1)]);
      expect(await ctx.stores().events.lastEventSeq('ses_2')).toBe(1);
      await expect(ctx.stores().events.appendEvents([makeEvent('ses_zz', 1)])).rejects.toThrow();
      expect(await ctx.stores().events.lastEventSeq('ses_zz')).toBe(0);
    });

    it('listMessages pages through the message events in order, with the total', async () => {
      await seedSession(ctx.stores(), 'ses_1');
      await seedSession(ctx.stores(), 'ses_2');
      await ctx.stores().events.appendEvents(log('ses_1', 10)); // messages: 1 2 4 5 7 8 10
      await ctx.stores().events.appendEvents(log('ses_2', 2));

      const all = await ctx.stores().events.listMessages('ses_1', { limit: 100, offset: 0 });
      expect(seqs(all.items)).toEqual([1, 2, 4, 5, 7, 8, 10]);
      expect(all.items.every((e) => e.type === 'message')).toBe(true);
      expect(all.total).toBe(7);

      const page = await ctx.stores().events.listMessages('ses_1', { limit: 3, offset: 2 });
      expect(seqs(page.items)).toEqual([4, 5, 7]);
      expect(page.total).toBe(7);
      expect(await ctx.stores().events.listMessages('ses_1', { limit: 3, offset: 7 })).toEqual({
        items: [],
        total: 7,
      });
      expect(await ctx.stores().events.listMessages('ses_9', { limit: 3, offset: 0 })).toEqual({
        items: [],
        total: 0,
      });

      expect(await ctx.stores().events.countMessages('ses_1')).toBe(7);
      expect(await ctx.stores().events.countMessages('ses_2')).toBe(2);
      expect(await ctx.stores().events.countMessages('ses_9')).toBe(0);
    });

    it('keeps its own copy of events', async () => {
      await seedSession(ctx.stores());
      const event = makeEvent('ses_1', 1);
      await ctx.stores().events.appendEvents([event]);
      event.data = '{}';
      event.seq = 42;

      const [read] = await ctx.stores().events.listEvents('ses_1', 0, 10);
      if (read) read.type = 'error';
      const history = await ctx.stores().events.listMessages('ses_1', { limit: 10, offset: 0 });
      if (history.items[0]) history.items[0].data = 'x';
      expect(await ctx.stores().events.listEvents('ses_1', 0, 10)).toEqual([makeEvent('ses_1', 1)]);
    });
  });
}
