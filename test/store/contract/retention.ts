/**
 * Contract: event log retention. Pruning keeps the history's messages and each turn's terminal
 * event, and records the floor;
 * purging drops ended sessions' logs and keeps their records.
 */
import { describe, expect, it } from 'vitest';
import { makeEvent, seedSession, T0, type ContractContext } from '../fixtures.js';

export function retentionContract(ctx: ContractContext): void {
  describe('retention', () => {
    it('pruneEvents deletes old events but messages and terminal events, and raises the floor', async () => {
      await seedSession(ctx.store());
      await ctx
        .store()
        .appendEvents([
          makeEvent('ses_1', 1, { createdAt: T0 }),
          makeEvent('ses_1', 2, { type: 'status', createdAt: T0 + 1 }),
          makeEvent('ses_1', 3, { type: 'permission_request', createdAt: T0 + 2 }),
          makeEvent('ses_1', 4, { type: 'complete', createdAt: T0 + 3 }),
          makeEvent('ses_1', 5, { type: 'status', createdAt: T0 + 4 }),
          makeEvent('ses_1', 6, { type: 'error', createdAt: T0 + 5 }),
          makeEvent('ses_1', 7, { type: 'status', createdAt: T0 + 10 }),
        ]);
      expect(await ctx.store().logFloor('ses_1')).toBe(0);
      expect(await ctx.store().pruneEvents('ses_1', T0 + 6)).toBe(5);
      expect((await ctx.store().listEvents('ses_1', 0, 10)).map((e) => [e.seq, e.type])).toEqual([
        [1, 'message'],
        [4, 'complete'],
        [6, 'error'],
        [7, 'status'],
      ]);
      expect(await ctx.store().countMessages('ses_1')).toBe(1);
      expect(await ctx.store().logFloor('ses_1')).toBe(5);
      // Nothing more to prune: the floor stays.
      expect(await ctx.store().pruneEvents('ses_1', T0 + 6)).toBe(5);
      expect(await ctx.store().logFloor('ses_other')).toBe(0);
    });

    it('ids are never reused: the last seq stays at the floor when the log’s tail was pruned', async () => {
      await seedSession(ctx.store());
      await ctx
        .store()
        .appendEvents([
          makeEvent('ses_1', 1, { createdAt: T0 }),
          makeEvent('ses_1', 2, { type: 'complete', createdAt: T0 + 1 }),
          makeEvent('ses_1', 3, { type: 'status', createdAt: T0 + 2 }),
        ]);
      expect(await ctx.store().pruneEvents('ses_1', T0 + 5)).toBe(3);
      expect((await ctx.store().listEvents('ses_1', 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
      expect(await ctx.store().lastEventSeq('ses_1')).toBe(3);
      await ctx.store().appendEvents([makeEvent('ses_1', 4, { createdAt: T0 + 6 })]);
      expect(await ctx.store().lastEventSeq('ses_1')).toBe(4);
    });

    it('purgeEndedSessions drops the logs of sessions ended before a time, only those', async () => {
      await seedSession(ctx.store(), 'ses_old');
      await seedSession(ctx.store(), 'ses_new');
      await seedSession(ctx.store(), 'ses_open');
      for (const id of ['ses_old', 'ses_new', 'ses_open']) await ctx.store().appendEvents([makeEvent(id, 1)]);
      await ctx.store().updateSession('ses_old', { status: 'ended', endedAt: T0, endReason: 'deleted' });
      await ctx
        .store()
        .updateSession('ses_new', { status: 'ended', endedAt: T0 + 100, endReason: 'expired' });
      expect(await ctx.store().purgeEndedSessions(T0 + 50)).toBe(1);
      expect(await ctx.store().lastEventSeq('ses_old')).toBe(0);
      expect(await ctx.store().lastEventSeq('ses_new')).toBe(1);
      expect(await ctx.store().lastEventSeq('ses_open')).toBe(1);
      expect(await ctx.store().getSession('ses_old')).not.toBeNull();
      expect(await ctx.store().purgeEndedSessions(T0 + 50)).toBe(0);
    });
  });
}
