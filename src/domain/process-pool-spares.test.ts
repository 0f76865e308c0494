/** Prewarmed processes (PREWARM_PROCESSES): taken by new sessions that fit, within the slots. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addKeys, setup, T0 } from '../../test/helpers/session-setup.js';
import { REFILL_DELAY_MS } from './process-pool.js';
import type { ApiKeyRecord } from './types.js';

describe('ProcessPool spares', () => {
  let h: ReturnType<typeof setup>;
  let keyA: ApiKeyRecord;

  async function withSpare(maxLiveProcesses = 4): Promise<void> {
    h = setup({ maxLiveProcesses }, undefined, {}, 1);
    [keyA] = await addKeys(h.store);
    h.pool.refillSpares();
    await h.runner.until(() => h.pool.spareCounts.ready === 1);
  }

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(async () => {
    await h.stop();
    vi.useRealTimers();
  });

  it('a new session takes the spare’s id, Claude Code session id and workspace, and claims its process', async () => {
    await withSpare();
    const spare = h.runner.prewarms[0]!;
    const { session } = await h.sessions.create(keyA, { systemPrompt: 'be brief', permissionMode: 'plan' });
    expect(session.id).toBe(spare.sessionId);
    expect(session.record.claudeSessionId).toBe(spare.claudeSessionId);
    expect(session.record.config.cwd).toBe(spare.cwd);
    // The spare was started with no prompt of any session; the claim carries this one's.
    expect(spare.systemPrompt).toBeNull();
    const process = await h.pool.ensure(session);
    expect(process).toBe(h.runner.spareProcesses[0]);
    expect(h.runner.starts).toEqual([]);
    expect(h.runner.claims).toMatchObject([
      { sessionId: session.id, systemPrompt: 'be brief', permissionMode: 'plan' },
    ]);
    expect(h.pool.spareCounts.claimed).toBe(1);
    // Another spare follows, in a workspace of its own: not beside the first turn, but once the
    // refill delay has passed (or a turn ended: the next test).
    expect(h.runner.prewarms).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(REFILL_DELAY_MS);
    await h.runner.until(() => h.pool.spareCounts.ready === 1);
    expect(h.runner.prewarms[1]!.cwd).not.toBe(spare.cwd);
    expect(h.pool.inUse).toBe(2);
  });

  it('the spare taken is replaced as soon as a turn ends, without waiting for the delay', async () => {
    await withSpare();
    const { session } = await h.sessions.create(keyA, {});
    await h.pool.ensure(session);
    expect(h.runner.prewarms).toHaveLength(1);
    await h.pool.sessionIdle(session);
    await h.runner.until(() => h.pool.spareCounts.ready === 1);
    expect(h.runner.prewarms).toHaveLength(2);
  });

  it('a session whose options Claude Code fixes at start starts cold and leaves the spare', async () => {
    await withSpare();
    const { session } = await h.sessions.create(keyA, { maxTurns: 3 });
    const process = await h.pool.ensure(session);
    expect(process).not.toBe(h.runner.spareProcesses[0]);
    expect(h.runner.starts).toHaveLength(1);
    expect(h.runner.claims).toEqual([]);
    expect(session.id).not.toBe(h.runner.prewarms[0]!.sessionId);
    expect(h.pool.spareCounts).toEqual({ ready: 1, claimed: 0 });
  });

  it('a refused claim: the session starts cold in the workspace it took', async () => {
    await withSpare();
    h.runner.refuseClaims = true;
    const spare = h.runner.prewarms[0]!;
    const { session } = await h.sessions.create(keyA, {});
    const process = await h.pool.ensure(session);
    expect(h.runner.spareProcesses[0]!.closed).toBe(true);
    expect(process).not.toBe(h.runner.spareProcesses[0]);
    expect(h.runner.starts).toMatchObject([{ sessionId: spare.sessionId, cwd: spare.cwd }]);
    expect(h.workspaces.removed).not.toContain(spare.cwd);
    expect(h.pool.spareCounts.claimed).toBe(0);
  });

  it('a spare never takes the last free slot, and is the first process closed when a start needs one', async () => {
    await withSpare(2);
    const spare = h.runner.spareProcesses[0]!;
    expect(h.pool.inUse).toBe(1);
    const a = (await h.sessions.create(keyA, { maxTurns: 3 })).session;
    const pa = await h.pool.ensure(a);
    expect(h.pool.inUse).toBe(2);
    const b = (await h.sessions.create(keyA, { maxTurns: 3 })).session;
    const pb = await h.pool.ensure(b);
    // The spare went, and its workspace with it; both sessions run.
    expect(spare.closed).toBe(true);
    expect(h.workspaces.removed).toContain(h.runner.prewarms[0]!.cwd);
    expect([pa.exited, pb.exited]).toEqual([false, false]);
    expect(h.pool.inUse).toBe(2);
    // No slot is free: no new spare.
    expect(h.runner.prewarms).toHaveLength(1);
  });

  it('with one slot, no spare runs', async () => {
    h = setup({ maxLiveProcesses: 1 }, undefined, {}, 1);
    h.pool.refillSpares();
    expect(h.runner.prewarms).toEqual([]);
  });
});
