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
      await seedSession(ctx.stores());
      await ctx
        .stores()
        .events.appendEvents([
          makeEvent('ses_1', 1, { createdAt: T0 }),
          makeEvent('ses_1', 2, { type: 'status', createdAt: T0 + 1 }),
          makeEvent('ses_1', 3, { type: 'permission_request', createdAt: T0 + 2 }),
          makeEvent('ses_1', 4, { type: 'complete', createdAt: T0 + 3 }),
          makeEvent('ses_1', 5, { type: 'status', createdAt: T0 + 4 }),
          makeEvent('ses_1', 6, { type: 'error', createdAt: T0 + 5 }),
          makeEvent('ses_1', 7, { type: 'status', createdAt: T0 + 10 }),
        ]);
      expect(await ctx.stores().events.logFloor('ses_1')).toBe(0);
      expect(await ctx.stores().events.pruneEvents('ses_1', T0 + 6)).toBe(5);
      expect((await ctx.stores().events.listEvents('ses_1', 0, 10)).map((e) => [e.seq, e.type])).toEqual([
        [1, 'message'],
        [4, 'complete'],
        [6, 'error'],
        [7, 'status'],
      ]);
      expect(await ctx.stores().events.countMessages('ses_1')).toBe(1);
      expect(await ctx.stores().events.logFloor('ses_1')).toBe(5);
      // Nothing more to prune: the floor stays.
      expect(await ctx.stores().events.pruneEvents('ses_1', T0 + 6)).toBe(5);
      expect(await ctx.stores().events.logFloor('ses_other')).toBe(0);
    });

    it('ids are never reused: the last seq stays at the floor when the log’s tail was pruned', async () => {
      await seedSession(ctx.stores());
      await ctx
        .stores()
        .events.appendEvents([
          makeEvent('ses_1', 1, { createdAt: T0 }),
          makeEvent('ses_1', 2, { type: 'complete', createdAt: T0 + 1 }),
          makeEvent('ses_1', 3, { type: 'status', createdAt: T0 + 2 }),
        ]);
      expect(await ctx.stores().events.pruneEvents('ses_1', T0 + 5)).toBe(3);
      expect((await ctx.stores().events.listEvents('ses_1', 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(3);
      await ctx.stores().events.appendEvents([makeEvent('ses_1', 4, { createdAt: T0 + 6 })]);
      expect(await ctx.stores().events.lastEventSeq('ses_1')).toBe(4);
    });

    it('purgeEndedSessions drops the logs of sessions ended before a time, only those', async () => {
      await seedSession(ctx.stores(), 'ses_old');
      await seedSession(ctx.stores(), 'ses_new');
      await seedSession(ctx.stores(), 'ses_open');
      for (const id of ['ses_old', 'ses_new', 'ses_open'])
        await ctx.stores().events.appendEvents([makeEvent(id, 1)]);
      await ctx
        .stores()
        .sessions.updateSession('ses_old', { status: 'ended', endedAt: T0, endReason: 'deleted' });
      await ctx
        .stores()
        .sessions.updateSession('ses_new', { status: 'ended', endedAt: T0 + 100, endReason: 'expired' });
      expect(await ctx.stores().events.purgeEndedSessions(T0 + 50)).toBe(1);
      expect(await ctx.stores().events.lastEventSeq('ses_old')).toBe(0);
      expect(await ctx.stores().events.lastEventSeq('ses_new')).toBe(1);
      expect(await ctx.stores().events.lastEventSeq('ses_open')).toBe(1);
      expect(await ctx.stores().sessions.getSession('ses_old')).not.toBeNull();
      expect(await ctx.stores().events.purgeEndedSessions(T0 + 50)).toBe(0);
    });

    it("purgeEndedSessions drops the ended sessions' Claude Code transcripts too, only theirs", async () => {
      const old = await seedSession(ctx.stores(), 'ses_old');
      const open = await seedSession(ctx.stores(), 'ses_open');
      const { transcripts } = ctx.stores();
      for (const s of [old, open]) {
        await transcripts.append({ projectKey: 'p', sessionId: s.claudeSessionId }, [
          { type: 'user', uuid: s.id },
        ]);
        await ctx.stores().events.appendEvents([makeEvent(s.id, 1)]);
      }
      await ctx
        .stores()
        .sessions.updateSession('ses_old', { status: 'ended', endedAt: T0, endReason: 'deleted' });
      expect(await ctx.stores().events.purgeEndedSessions(T0 + 50)).toBe(1);
      expect(await transcripts.has(old.claudeSessionId)).toBe(false);
      expect(await transcripts.has(open.claudeSessionId)).toBe(true);
    });
  });
}
