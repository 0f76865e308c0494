/** The periodic sweeps: ended sessions' workspaces, and sessions idle past their expiry. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addKeys, IDLE_MS, setup, T0 } from '../../test/helpers/session-setup.js';
import type { ApiKeyRecord } from './types.js';

describe('Housekeeping', () => {
  let h: ReturnType<typeof setup>;
  let keyA: ApiKeyRecord;

  beforeEach(async () => {
    vi.useFakeTimers({ now: T0 });
    h = setup();
    [keyA] = await addKeys(h.store);
  });

  afterEach(async () => {
    await h.stop();
    vi.useRealTimers();
  });

  describe('workspace retention', () => {
    it('keeps an ended session’s own workspace for the retention time, then a sweep removes it', async () => {
      const local = setup({ workspaceRetentionMs: 10 * 60_000 });
      const [key] = await addKeys(local.store);
      await local.start();
      const { session } = await local.sessions.create(key, {});
      await local.sessions.end(key, session.id);
      expect(local.workspaces.removed).toEqual([]);

      await vi.advanceTimersByTimeAsync(10 * 60_000 - 1);
      expect(await local.sessions.removeEndedWorkspaces()).toBe(0);
      await vi.advanceTimersByTimeAsync(60_000); // the periodic sweep passes the retention time
      expect(local.workspaces.removed).toEqual([`/data/workspaces/${session.id}`]);
      await local.stop();
    });

    it('removes a workspace that has no session at all, never one of an open session', async () => {
      const local = setup({ workspaceRetentionMs: 10 * 60_000 });
      const [key] = await addKeys(local.store);
      const { session } = await local.sessions.create(key, {});
      local.workspaces.created.push('/data/workspaces/sess_orphan');
      expect(await local.sessions.removeEndedWorkspaces()).toBe(1);
      expect(local.workspaces.removed).toEqual(['/data/workspaces/sess_orphan']);
      expect(local.workspaces.removed).not.toContain(`/data/workspaces/${session.id}`);
      await local.stop();
    });
  });

  describe('idle expiry', () => {
    it('ends a session idle for longer than the expiry, with fake time', async () => {
      await h.start();
      const { session } = await h.sessions.create(keyA, {});
      expect(h.sessions.expiresAt(session.record)).toBe(T0 + IDLE_MS);
      await h.runner.until(() => session.process !== null);

      await vi.advanceTimersByTimeAsync(IDLE_MS - 1);
      expect(h.registry.find(keyA, session.id)).toBe(session);

      await vi.advanceTimersByTimeAsync(60_000); // the next sweep after the expiry
      expect(() => h.registry.find(keyA, session.id)).toThrow(
        expect.objectContaining({ code: 'SESSION_NOT_FOUND' }),
      );
      expect(await h.store.getSession(session.id)).toMatchObject({ status: 'ended', endReason: 'expired' });
      expect(h.runner.lastProcess.closed).toBe(true);
      expect(h.workspaces.removed).toEqual([`/data/workspaces/${session.id}`]);
    });

    it('activity moves the expiry', async () => {
      await h.start();
      const { session } = await h.sessions.create(keyA, {});
      await vi.advanceTimersByTimeAsync(IDLE_MS / 2);
      await h.sessions.touch(session);
      expect(h.sessions.expiresAt(session.record)).toBe(T0 + IDLE_MS / 2 + IDLE_MS);
      expect((await h.store.getSession(session.id))?.lastActivityAt).toBe(T0 + IDLE_MS / 2);
      await vi.advanceTimersByTimeAsync(IDLE_MS - 60_000);
      expect(h.registry.find(keyA, session.id)).toBe(session);
    });

    it('never expires a session while a turn runs in it', async () => {
      await h.start();
      const { session } = await h.sessions.create(keyA, {});
      h.runner.script({ end: 'hang' });
      const { turn } = await h.turns.start(keyA, session.id, { prompt: 'long' });
      await vi.advanceTimersByTimeAsync(IDLE_MS + 5 * 60_000);
      expect(h.registry.find(keyA, session.id)).toBe(session);
      await turn.interrupt();
      await turn.done;
      await vi.advanceTimersByTimeAsync(IDLE_MS + 60_000);
      expect(() => h.registry.find(keyA, session.id)).toThrow(
        expect.objectContaining({ code: 'SESSION_NOT_FOUND' }),
      );
    });
  });
});
