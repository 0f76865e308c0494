/** The Claude Code processes of the sessions: started, counted, parked and resumed, stopped. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
});
