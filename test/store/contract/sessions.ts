/** Contract: sessions, their listing per key (tenancy) and the active set. */
import { describe, expect, it } from 'vitest';
import type { Stores } from '../../../src/domain/stores.js';
import { makeKey, makeSession, T0, type ContractContext } from '../fixtures.js';

async function twoKeys(stores: Stores): Promise<void> {
  await stores.keys.insertKey(makeKey({ id: 'key_a', hash: 'a' }));
  await stores.keys.insertKey(makeKey({ id: 'key_b', hash: 'b' }));
}

const ids = (page: { items: { id: string }[] } | { id: string }[]): string[] =>
  ('items' in page ? page.items : page).map((x) => x.id);

export function sessionsContract(ctx: ContractContext): void {
  describe('sessions', () => {
    it('round-trips every field: nested config and metadata, nulls, an ended session', async () => {
      await twoKeys(ctx.stores());
      const active = makeSession('key_a', { id: 'ses_1' });
      const ended = makeSession('key_b', {
        id: 'ses_2',
        status: 'ended',
        endedAt: T0 + 99,
        endReason: 'expired',
        metadata: {},
        config: {
          ...active.config,
          model: 'claude-x',
          maxTurns: 3,
          systemPrompt: 'S',
          workspace: 'external',
        },
      });
      await ctx.stores().sessions.insertSession(active);
      await ctx.stores().sessions.insertSession(ended);
      expect(await ctx.stores().sessions.getSession('ses_1')).toEqual(active);
      expect(await ctx.stores().sessions.getSession('ses_2')).toEqual(ended);
      expect(await ctx.stores().sessions.getSession('ses_9')).toBeNull();
    });

    it('refuses a duplicate id and a session of an unknown key', async () => {
      await twoKeys(ctx.stores());
      await ctx.stores().sessions.insertSession(makeSession('key_a'));
      await expect(ctx.stores().sessions.insertSession(makeSession('key_b'))).rejects.toThrow();
      await expect(
        ctx.stores().sessions.insertSession(makeSession('key_zz', { id: 'ses_2' })),
      ).rejects.toThrow();
      expect(await ctx.stores().sessions.getSession('ses_2')).toBeNull();
      expect((await ctx.stores().sessions.getSession('ses_1'))?.keyId).toBe('key_a');
    });

    it('keeps its own copy of config and metadata', async () => {
      await twoKeys(ctx.stores());
      const session = makeSession('key_a');
      await ctx.stores().sessions.insertSession(session);
      session.config.allowedTools.push('Write');
      session.metadata.team = 'other';

      const read = await ctx.stores().sessions.getSession('ses_1');
      expect(read).toEqual(makeSession('key_a'));
      read?.config.disallowedTools.push('Bash');
      const listed = await ctx.stores().sessions.listActiveSessions();
      if (listed[0]) listed[0].metadata.extra = 1;
      const page = await ctx.stores().sessions.listSessions('key_a', { limit: 10, offset: 0 });
      if (page.items[0]) page.items[0].status = 'ended';
      expect(await ctx.stores().sessions.getSession('ses_1')).toEqual(makeSession('key_a'));
    });

    it('updateSession writes only the given fields', async () => {
      await twoKeys(ctx.stores());
      const session = makeSession('key_a');
      await ctx.stores().sessions.insertSession(session);

      await ctx.stores().sessions.updateSession('ses_1', { lastActivityAt: T0 + 500 });
      expect(await ctx.stores().sessions.getSession('ses_1')).toEqual({
        ...session,
        lastActivityAt: T0 + 500,
      });

      await ctx
        .stores()
        .sessions.updateSession('ses_1', { status: 'ended', endedAt: T0 + 600, endReason: 'deleted' });
      await ctx.stores().sessions.updateSession('ses_1', { lastActivityAt: undefined });
      expect(await ctx.stores().sessions.getSession('ses_1')).toEqual({
        ...session,
        lastActivityAt: T0 + 500,
        status: 'ended',
        endedAt: T0 + 600,
        endReason: 'deleted',
      });

      await ctx.stores().sessions.updateSession('ses_9', { status: 'ended' });
      expect(await ctx.stores().sessions.getSession('ses_9')).toBeNull();
    });

    it('updateSession moves a session to another Claude Code conversation (a rewind)', async () => {
      await twoKeys(ctx.stores());
      const session = makeSession('key_a');
      await ctx.stores().sessions.insertSession(session);
      const other = '7c0a4ab7-8d43-4f4e-9c4c-3f5d0c1e2a9b';
      await ctx.stores().sessions.updateSession('ses_1', { claudeSessionId: other });
      expect(await ctx.stores().sessions.getSession('ses_1')).toEqual({ ...session, claudeSessionId: other });
    });

    it('lists a key’s active sessions newest first (ties by id), with paging and the total', async () => {
      await twoKeys(ctx.stores());
      const created = { ses_1: T0 + 1, ses_2: T0 + 3, ses_3: T0 + 2, ses_4: T0 + 3, ses_5: T0 + 4 };
      for (const [id, createdAt] of Object.entries(created)) {
        await ctx.stores().sessions.insertSession(makeSession('key_a', { id, createdAt }));
      }
      const all = await ctx.stores().sessions.listSessions('key_a', { limit: 100, offset: 0 });
      expect(ids(all)).toEqual(['ses_5', 'ses_2', 'ses_4', 'ses_3', 'ses_1']);
      expect(all.total).toBe(5);

      const second = await ctx.stores().sessions.listSessions('key_a', { limit: 2, offset: 2 });
      expect(ids(second)).toEqual(['ses_4', 'ses_3']);
      expect(second.total).toBe(5);
      const past = await ctx.stores().sessions.listSessions('key_a', { limit: 2, offset: 10 });
      expect(past).toEqual({ items: [], total: 5 });
      expect((await ctx.stores().sessions.listSessions('key_a', { limit: 0, offset: 0 })).items).toEqual([]);
    });

    it('tenancy: a key sees only its own active sessions; ended ones drop out', async () => {
      await twoKeys(ctx.stores());
      await ctx.stores().sessions.insertSession(makeSession('key_a', { id: 'a1', createdAt: T0 + 1 }));
      await ctx.stores().sessions.insertSession(makeSession('key_a', { id: 'a2', createdAt: T0 + 2 }));
      await ctx.stores().sessions.insertSession(makeSession('key_b', { id: 'b1', createdAt: T0 + 3 }));
      await ctx
        .stores()
        .sessions.insertSession(
          makeSession('key_a', { id: 'a0', status: 'ended', endedAt: T0, endReason: 'deleted' }),
        );

      expect(await ctx.stores().sessions.listSessions('key_a', { limit: 10, offset: 0 })).toMatchObject({
        items: [{ id: 'a2' }, { id: 'a1' }],
        total: 2,
      });
      expect(ids(await ctx.stores().sessions.listSessions('key_b', { limit: 10, offset: 0 }))).toEqual([
        'b1',
      ]);
      expect(await ctx.stores().sessions.listSessions('key_zz', { limit: 10, offset: 0 })).toEqual({
        items: [],
        total: 0,
      });

      await ctx
        .stores()
        .sessions.updateSession('a2', { status: 'ended', endedAt: T0 + 9, endReason: 'expired' });
      expect(await ctx.stores().sessions.listSessions('key_a', { limit: 10, offset: 0 })).toMatchObject({
        items: [{ id: 'a1' }],
        total: 1,
      });
    });

    it('lists and counts the active sessions of every key, oldest first', async () => {
      expect(await ctx.stores().sessions.listActiveSessions()).toEqual([]);
      expect((await ctx.stores().sessions.listActiveSessions()).length).toBe(0);
      await twoKeys(ctx.stores());
      await ctx.stores().sessions.insertSession(makeSession('key_b', { id: 'b1', createdAt: T0 + 3 }));
      await ctx.stores().sessions.insertSession(makeSession('key_a', { id: 'a1', createdAt: T0 + 1 }));
      await ctx.stores().sessions.insertSession(makeSession('key_a', { id: 'a2', createdAt: T0 + 2 }));
      await ctx
        .stores()
        .sessions.insertSession(
          makeSession('key_b', { id: 'b0', status: 'ended', endedAt: T0, endReason: 'deleted' }),
        );
      expect(ids(await ctx.stores().sessions.listActiveSessions())).toEqual(['a1', 'a2', 'b1']);
      expect((await ctx.stores().sessions.listActiveSessions()).length).toBe(3);

      await ctx
        .stores()
        .sessions.updateSession('a1', { status: 'ended', endedAt: T0 + 9, endReason: 'deleted' });
      expect(ids(await ctx.stores().sessions.listActiveSessions())).toEqual(['a2', 'b1']);
      expect((await ctx.stores().sessions.listActiveSessions()).length).toBe(2);
    });
  });
}
