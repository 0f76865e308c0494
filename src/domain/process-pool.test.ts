/** The Claude Code processes of the sessions: started, counted, parked and resumed, stopped. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { reply, result } from '../../test/helpers/fake-agent-runner.js';
import { addKeys, codeOf, setup, T0 } from '../../test/helpers/session-setup.js';
import { SessionRegistry } from './session-registry.js';
import { SessionService } from './session-service.js';
import type { ApiKeyRecord } from './types.js';

describe('ProcessPool', () => {
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

  describe('stop', () => {
    it('closes a process whose start was under way, and starts none after', async () => {
      // create() starts the process in the background: stop() comes before it has started.
      const { session } = await h.sessions.create(keyA, {});
      await h.stop();
      expect(h.runner.processes.length).toBeGreaterThan(0);
      expect(h.runner.processes.every((p) => p.closed)).toBe(true);
      expect(await codeOf(h.pool.ensure(session))).toBe('SERVICE_UNAVAILABLE');
      expect(h.runner.processes.every((p) => p.closed)).toBe(true);
    });
  });

  describe('processes', () => {
    it('a concurrent ensureProcess shares one start; a dead process is replaced, with the cost so far', async () => {
      const { session } = await h.sessions.create(keyA, {});
      const [p1, p2] = await Promise.all([h.pool.ensure(session), h.pool.ensure(session)]);
      expect(p1).toBe(p2);
      expect(h.runner.starts).toHaveLength(1);

      const { turn } = await h.turns.start(keyA, session.id, { prompt: 'costs money' });
      await turn.done;
      await p1.close();
      expect(session.process).toBeNull();
      expect(h.registry.processCount).toBe(0);
      const p3 = await h.pool.ensure(session);
      expect(p3).not.toBe(p1);
      expect(h.runner.starts[1]?.priorCostUsd).toBe(0.001);
      expect(h.runner.starts[1]?.claudeSessionId).toBe(session.record.claudeSessionId);
    });

    it('start() loads the active sessions from the store (a restart); stop() closes every process', async () => {
      const { session } = await h.sessions.create(keyA, {});
      await h.runner.until(() => session.process !== null);
      await h.stop();
      expect(h.runner.lastProcess.closed).toBe(true);
      expect((await h.store.getSession(session.id))?.status).toBe('active');

      const registry = new SessionRegistry(10);
      const restarted = new SessionService({ ...h.deps, registry });
      await restarted.load();
      expect(registry.activeCount).toBe(1);
      expect(registry.find(keyA, session.id).record).toEqual(session.record);
    });

    it('counts running turns and live processes', async () => {
      const { session } = await h.sessions.create(keyA, {});
      await h.runner.until(() => session.process !== null);
      expect(h.registry.processCount).toBe(1);
      expect(h.registry.runningCount).toBe(0);
      h.runner.script({ end: 'hang' });
      const { turn } = await h.turns.start(keyA, session.id, { prompt: 'x' });
      expect(h.registry.runningCount).toBe(1);
      await turn.interrupt();
      await turn.done;
      expect(h.registry.runningCount).toBe(0);
    });
  });

  describe('MAX_LIVE_PROCESSES is never exceeded', () => {
    /** The live (started, not exited) processes of the fake runner. */
    const live = (): number => h.runner.processes.filter((p) => !p.closed && !p.exited).length;

    /** Three sessions, the cap two: the first two busy with turns that wait for `release`. */
    async function threeSessions(settings: Parameters<typeof setup>[0] = {}) {
      await h.stop();
      h = setup({ maxLiveProcesses: 2, ...settings });
      [keyA] = await addKeys(h.store);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await h.sessions.create(keyA, {})).session.id);
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      h.runner.script({ waitFor: released, end: { result: result({ text: 'one' }) } });
      h.runner.script({ waitFor: released, end: { result: result({ text: 'two' }) } });
      const first = await h.turns.start(keyA, ids[0]!, { prompt: 'one' });
      const second = await h.turns.start(keyA, ids[1]!, { prompt: 'two' });
      await h.runner.until(() => h.runner.prompts.length === 2);
      return { ids, first, second, release };
    }

    const statusesOf = async (sessionId: string) =>
      (await h.store.listEvents(sessionId, 0, 100))
        .filter((e) => e.type === 'status')
        .map((e) => JSON.parse(e.data) as { status: string; position?: number });

    it('a turn that finds every process busy waits in line, says so, and runs when one frees', async () => {
      const { ids, first, second, release } = await threeSessions();
      h.runner.script(reply('three'));
      const third = await h.turns.start(keyA, ids[2]!, { prompt: 'three' });
      await vi.advanceTimersByTimeAsync(0);
      expect(live()).toBe(2);
      expect(h.pool.waiting).toBe(1);
      expect(await statusesOf(ids[2]!)).toEqual([
        expect.objectContaining({ status: 'running' }),
        expect.objectContaining({ status: 'waiting_for_process', position: 1 }),
      ]);
      release();
      expect((await first.turn.done).status).toBe('completed');
      expect((await second.turn.done).status).toBe('completed');
      expect((await third.turn.done).completion?.response).toBe('three');
      // A busy session's process was parked to free the slot; never more than two at once.
      expect(h.runner.maxLive).toBeLessThanOrEqual(2);
      expect((await statusesOf(ids[2]!)).map((s) => s.status)).toEqual([
        'running',
        'waiting_for_process',
        'running',
        'idle',
      ]);
    });

    it('past PROCESS_WAIT_MAX_MS the turn fails with 503 SERVICE_UNAVAILABLE (process_capacity)', async () => {
      const { ids, release } = await threeSessions({ processWaitMaxMs: 5000 });
      const third = await h.turns.start(keyA, ids[2]!, { prompt: 'three' });
      await vi.advanceTimersByTimeAsync(5000);
      const ending = await third.turn.done;
      expect(ending.error).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        details: { reason: 'process_capacity', maxLiveProcesses: 2 },
      });
      expect(h.pool.waiting).toBe(0);
      release();
    });

    it('an interrupt, or the turn’s own timeout, ends a waiting turn before it ever runs', async () => {
      const { ids, release } = await threeSessions();
      const third = await h.turns.start(keyA, ids[2]!, { prompt: 'three' });
      await vi.advanceTimersByTimeAsync(0);
      await third.turn.interrupt();
      expect((await third.turn.done).status).toBe('interrupted');
      const fourth = await h.turns.start(keyA, ids[2]!, { prompt: 'four', timeoutMs: 2000 });
      await vi.advanceTimersByTimeAsync(2000);
      expect((await fourth.turn.done).error).toMatchObject({ code: 'REQUEST_TIMEOUT' });
      expect(h.pool.waiting).toBe(0);
      expect(h.runner.prompts).toEqual(['one', 'two']);
      release();
    });
  });
});
