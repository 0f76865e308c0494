/** Prewarmed processes (PREWARM_PROCESSES): taken by new sessions that fit, within the slots. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addKeys, setup, T0 } from '../../test/helpers/session-setup.js';
import { REFILL_DELAY_MS } from './spare-pool.js';
import type { ApiKeyRecord } from './types.js';

describe('ProcessPool spares', () => {
  let h: ReturnType<typeof setup>;
  let keyA: ApiKeyRecord;

  async function withSpare(maxLiveProcesses = 4): Promise<void> {
    h = setup({ maxLiveProcesses }, undefined, {}, 1);
    [keyA] = await addKeys(h.store);
    h.pool.spares.refill();
    await h.runner.until(() => h.pool.spares.counts.ready === 1);
  }

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(async () => {
    await h.stop();
    vi.useRealTimers();
  });

  /** A session that asks more than a plain one: spares are parked, not claimed ahead, from now on. */
  async function withParkedSpare(): Promise<void> {
    await withSpare();
    await h.sessions.create(keyA, { appendSystemPrompt: 'teaches the pool' });
    await vi.advanceTimersByTimeAsync(REFILL_DELAY_MS);
    await h.runner.until(() => h.pool.spares.counts.ready === 1);
  }

  it('a spare is claimed as soon as it parks, as a plain session would claim it; such a session takes it', async () => {
    await withSpare();
    const spare = h.runner.prewarms[0]!;
    // Claimed ahead in its own (empty) workspace, with the server's defaults and no prompt.
    await h.runner.until(() => h.runner.claims.length === 1);
    expect(h.runner.claims[0]).toEqual(spare);
    const { session } = await h.sessions.create(keyA, {});
    expect(session.id).toBe(spare.sessionId);
    expect(session.record.claudeSessionId).toBe(spare.claudeSessionId);
    expect(session.record.config.cwd).toBe(spare.cwd);
    const process = await h.pool.ensure(session);
    expect(process).toBe(h.runner.spareProcesses[0]);
    // No claim of its own, and no cold start: the first message finds the process claimed.
    expect(h.runner.claims).toHaveLength(1);
    expect(h.runner.starts).toEqual([]);
    expect(h.pool.spares.counts.claimed).toBe(1);
    // Another spare follows, in a workspace of its own: not beside the first turn, but once the
    // refill delay has passed (or a turn ended: the next test).
    expect(h.runner.prewarms).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(REFILL_DELAY_MS);
    await h.runner.until(() => h.pool.spares.counts.ready === 1);
    expect(h.runner.prewarms[1]!.cwd).not.toBe(spare.cwd);
    expect(h.pool.inUse).toBe(2);
  });

  it('a session asking for more turns claiming ahead off: it starts cold, the claimed spare is replaced by a parked one, which the next such session claims with its options', async () => {
    // Slots for three sessions and a spare beside them.
    await withSpare(5);
    await h.runner.until(() => h.runner.claims.length === 1);
    const first = (await h.sessions.create(keyA, { systemPrompt: 'be brief', permissionMode: 'plan' }))
      .session;
    // Not told this session's prompt nor its mode: the spare claimed ahead cannot serve it.
    expect(first.id).not.toBe(h.runner.prewarms[0]!.sessionId);
    expect(await h.pool.ensure(first)).not.toBe(h.runner.spareProcesses[0]);
    expect(h.runner.starts).toHaveLength(1);
    expect(h.runner.spareProcesses[0]!.closed).toBe(true);
    expect(h.workspaces.removed).toContain(h.runner.prewarms[0]!.cwd);

    await vi.advanceTimersByTimeAsync(REFILL_DELAY_MS);
    await h.runner.until(() => h.pool.spares.counts.ready === 1);
    expect(h.runner.claims).toHaveLength(1);
    const spare = h.runner.prewarms[1]!;
    // The spare was started with no prompt of any session; the claim carries this one's.
    expect(spare.systemPrompt).toBeNull();
    const second = (await h.sessions.create(keyA, { systemPrompt: 'be brief', permissionMode: 'plan' }))
      .session;
    expect(second.id).toBe(spare.sessionId);
    expect(await h.pool.ensure(second)).toBe(h.runner.spareProcesses[1]);
    expect(h.runner.claims.at(-1)).toMatchObject({
      sessionId: second.id,
      systemPrompt: 'be brief',
      permissionMode: 'plan',
    });

    // A plain session turns it on again: the next spare is claimed as it parks.
    await h.sessions.create(keyA, {});
    await vi.advanceTimersByTimeAsync(REFILL_DELAY_MS);
    await h.runner.until(() => h.runner.claims.length === 3);
    expect(h.runner.claims.at(-1)).toEqual(h.runner.prewarms.at(-1));
  });

  it('a session with files or a repository put in its workspace at create does not take a spare claimed in an empty one', async () => {
    await withSpare();
    await h.runner.until(() => h.runner.claims.length === 1);
    const plain = h.runner.prewarms[0]!;
    expect(await h.pool.spares.take({ ...plain, seeded: true })).toBeNull();
    // And such sessions turn claiming ahead off, as a system prompt does.
    expect(h.runner.spareProcesses[0]!.closed).toBe(true);
  });

  it('the spare taken is replaced as soon as a turn ends, without waiting for the delay', async () => {
    await withSpare();
    const { session } = await h.sessions.create(keyA, {});
    await h.pool.ensure(session);
    expect(h.runner.prewarms).toHaveLength(1);
    await h.pool.sessionIdle(session);
    await h.runner.until(() => h.pool.spares.counts.ready === 1);
    expect(h.runner.prewarms).toHaveLength(2);
  });

  it('a session whose options Claude Code fixes at start starts cold and leaves the spare', async () => {
    await withSpare();
    const { session } = await h.sessions.create(keyA, { maxTurns: 3 });
    const process = await h.pool.ensure(session);
    expect(process).not.toBe(h.runner.spareProcesses[0]);
    expect(h.runner.starts).toHaveLength(1);
    expect(h.runner.claims.filter((c) => c.sessionId === session.id)).toEqual([]);
    expect(session.id).not.toBe(h.runner.prewarms[0]!.sessionId);
    expect(h.pool.spares.counts).toEqual({ ready: 1, claimed: 0 });
  });

  it('a refused claim at create: the session starts cold in the workspace it took', async () => {
    await withParkedSpare();
    h.runner.refuseClaims = true;
    const spare = h.runner.prewarms.at(-1)!;
    const { session } = await h.sessions.create(keyA, { appendSystemPrompt: 'again' });
    const process = await h.pool.ensure(session);
    expect(h.runner.spareProcesses.at(-1)!.closed).toBe(true);
    expect(process).not.toBe(h.runner.spareProcesses.at(-1));
    expect(h.runner.starts.at(-1)).toMatchObject({ sessionId: spare.sessionId, cwd: spare.cwd });
    expect(h.workspaces.removed).not.toContain(spare.cwd);
    expect(h.pool.spares.counts.claimed).toBe(0);
  });

  it('a refused claim ahead: the spare goes, and a plain session starts cold', async () => {
    h = setup({ maxLiveProcesses: 4 }, undefined, {}, 1);
    [keyA] = await addKeys(h.store);
    h.runner.refuseClaims = true;
    h.pool.spares.refill();
    await h.runner.until(() => h.runner.claims.length === 1 && h.pool.spares.counts.ready === 0);
    expect(h.workspaces.removed).toContain(h.runner.prewarms[0]!.cwd);
    const { session } = await h.sessions.create(keyA, {});
    await h.pool.ensure(session);
    expect(h.runner.starts).toMatchObject([{ sessionId: session.id }]);
    expect(h.pool.spares.counts.claimed).toBe(0);
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
    h.pool.spares.refill();
    expect(h.runner.prewarms).toEqual([]);
  });
});
