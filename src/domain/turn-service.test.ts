import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TURN_TIMEOUT_MS, wireDomain } from '../../test/helpers/domain.js';
import { FakeAgentRunner, msg, reply, result, results } from '../../test/helpers/fake-agent-runner.js';
import { makeTurn } from '../../test/store/fixtures.js';
import type { MemoryStore } from '../adapters/memory/memory-store.js';
import { keyRecordFor } from './api-keys.js';
import { ApiError } from './errors.js';
import type { PolicyDefaults } from './policy-fields.js';
import type { MessageView } from './events.js';
import type { AgentSpec, Logger } from './ports.js';
import type { TurnRun } from './turn-run.js';
import type { StartedTurn } from './turn-service.js';
import type { ApiKeyRecord, SessionEvent } from './types.js';
import type { RateLimitBucket } from './rate-limit-buckets.js';

const T0 = Date.UTC(2026, 0, 1);
const MAX_TIMEOUT_MS = MAX_TURN_TIMEOUT_MS;

function setup(
  limits?: Record<RateLimitBucket, number>,
  runner = new FakeAgentRunner(),
  logger?: Logger,
  policyDefaults: Partial<PolicyDefaults> = {},
) {
  return wireDomain({ limits, runner, logger, policyDefaults });
}

/** The session's whole event log, with each event's data parsed. */
async function logOf(store: MemoryStore, sessionId: string) {
  const events = await store.listEvents(sessionId, 0, 10_000);
  return events.map((e: SessionEvent) => ({
    seq: e.seq,
    type: e.type,
    turnId: e.turnId,
    data: JSON.parse(e.data) as unknown,
  }));
}

describe('TurnService', () => {
  let h: ReturnType<typeof setup>;
  let key: ApiKeyRecord;
  let sessionId: string;

  async function init(
    limits?: Parameters<typeof setup>[0],
    runner?: FakeAgentRunner,
    logger?: Logger,
  ): Promise<void> {
    h = setup(limits, runner, logger);
    key = keyRecordFor('ccr_key', { name: 'k', now: T0 });
    await h.store.insertKey(key);
    sessionId = (await h.sessions.create(key, { model: 'opus' })).session.id;
  }

  beforeEach(async () => {
    vi.useFakeTimers({ now: T0 });
    await init();
  });

  afterEach(async () => {
    await h.stop();
    vi.useRealTimers();
  });

  it('runs a turn: the prompt, Claude Code’s messages in order, then exactly one terminal event', async () => {
    h.runner.script({
      messages: [
        msg.init(),
        msg.assistant('Let me look.', 'm1'),
        msg.toolUse('toolu_1', 'Bash', { command: 'ls' }, 'm1'),
        msg.toolResult('toolu_1', 'a.txt'),
        msg.assistant('There is a.txt.', 'm2'),
      ],
      end: { result: result({ text: 'There is a.txt.', numTurns: 2, costUsd: 0.25 }) },
    });
    const { turn, rateLimit } = await h.turns.start(key, sessionId, { prompt: 'What is here?' });
    expect(turn.id).toMatch(/^msg_/);
    expect(turn.firstSeq).toBe(1);
    expect(rateLimit).toMatchObject({ bucket: 'messages', remaining: 99 });
    const ending = await turn.done;
    expect(ending.status).toBe('completed');
    expect(ending.completion).toMatchObject({
      messageId: turn.id,
      sessionId,
      response: 'There is a.txt.',
      numTurns: 2,
      costUsd: 0.25,
      status: 'completed',
    });
    expect(h.runner.prompts).toEqual(['What is here?']);

    const log = await logOf(h.store, sessionId);
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log.map((e) => e.type)).toEqual([
      'message',
      'status',
      'message',
      'message',
      'message',
      'message',
      'message',
      'status',
      'complete',
    ]);
    expect(log.every((e) => e.turnId === turn.id)).toBe(true);
    // The session is running from the prompt on, idle as the turn ends (its terminal event last).
    expect(log[1]?.data).toMatchObject({ status: 'running', messageId: turn.id });
    expect(log[7]?.data).toMatchObject({ status: 'idle', messageId: turn.id });
    const views = log.filter((e) => e.type === 'message').map((e) => e.data as MessageView);
    expect(views.map((v) => [v.sequence, v.type, v.role, v.source])).toEqual([
      [1, 'user', 'user', 'client'],
      [3, 'system', 'system', 'claude_code'],
      [4, 'assistant', 'assistant', 'claude_code'],
      [5, 'assistant', 'assistant', 'claude_code'],
      [6, 'user', 'user', 'claude_code'],
      [7, 'assistant', 'assistant', 'claude_code'],
    ]);
    expect(views[0]).toMatchObject({ id: turn.id, content: { message: { content: 'What is here?' } } });
    // The stable summary names the tool call and its result.
    expect(views[3]?.summary).toEqual([
      { type: 'tool_use', toolUseId: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
    ]);
    expect(views[4]?.summary).toEqual([
      { type: 'tool_result', toolUseId: 'toolu_1', name: 'Bash', isError: false, content: 'a.txt' },
    ]);
    expect(log[8]?.data).toEqual(ending.completion);

    expect(await h.store.getTurn(turn.id)).toMatchObject({ status: 'completed', costUsd: 0.25, endedAt: T0 });
    expect((await h.store.sessionUsage(sessionId)).costUsd).toBe(0.25);
    expect(h.registry.find(key, sessionId).busy).toBe(false);
  });

  it('a second turn while one runs is SESSION_BUSY, naming the running one', async () => {
    h.runner.script({ end: 'hang' });
    const { turn } = await h.turns.start(key, sessionId, { prompt: 'first' });
    const err = (await h.turns
      .start(key, sessionId, { prompt: 'second' })
      .catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('SESSION_BUSY');
    expect(err.details).toEqual({ sessionId, runningMessageId: turn.id });
    await turn.interrupt();
    await turn.done;
    await expect(h.turns.start(key, sessionId, { prompt: 'third' })).resolves.toBeDefined();
    // Interrupted before its prompt reached Claude Code, the first turn never ran.
    expect(h.runner.prompts).toEqual(['third']);
  });

  it('reserves the session atomically: of two concurrent starts exactly one runs', async () => {
    const settled = await Promise.allSettled([
      h.turns.start(key, sessionId, { prompt: 'a' }),
      h.turns.start(key, sessionId, { prompt: 'b' }),
    ]);
    const ok = settled.filter((s) => s.status === 'fulfilled');
    const refused = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused.map((r) => (r.reason as ApiError).code)).toEqual(['SESSION_BUSY']);
    await ok[0]?.value.turn.done;
    expect(h.runner.prompts).toHaveLength(1);
    expect((await h.store.listMessages(sessionId, { limit: 100, offset: 0 })).items[0]?.seq).toBe(1);
  });

  it('spends the messages bucket; an empty one is RATE_LIMIT_EXCEEDED and frees the session', async () => {
    await h.stop();
    await init({ sessions: 10, messages: 1, events: 1000 });
    await (
      await h.turns.start(key, sessionId, { prompt: 'one' })
    ).turn.done;
    const err = await h.turns.start(key, sessionId, { prompt: 'two' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    const session = h.registry.find(key, sessionId);
    expect(session.busy).toBe(false);
    expect(session.turn).toBeNull();
    expect(h.runner.prompts).toEqual(['one']);
    expect(await h.store.countMessages(sessionId)).toBe(3); // prompt, init, assistant of turn one
  });

  describe('per-key policy', () => {
    it('caps the turns of one key running at once across its sessions', async () => {
      await h.stop();
      h = setup(undefined, undefined, undefined, { maxRunningTurns: 1 });
      await h.store.insertKey(key);
      const a = (await h.sessions.create(key, {})).session.id;
      const b = (await h.sessions.create(key, {})).session.id;
      h.runner.script({ end: 'hang' });
      const { turn } = await h.turns.start(key, a, { prompt: 'long' });
      const err = await h.turns.start(key, b, { prompt: 'second' }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'MAX_RUNNING_TURNS_REACHED',
        details: { policy: 'maxRunningTurns', limit: 1 },
      });
      expect(h.registry.find(key, b).busy).toBe(false);
      await turn.interrupt();
      await turn.done;
      await expect(h.turns.start(key, b, { prompt: 'now' })).resolves.toBeDefined();
    });

    it('refuses a turn once the key spent its daily budget, until the next UTC day', async () => {
      await h.stop();
      h = setup(undefined, undefined, undefined, { dailyBudgetUsd: 0.002 });
      await h.store.insertKey(key);
      sessionId = (await h.sessions.create(key, {})).session.id;
      h.runner.script(reply('one', { costUsd: 0.0015 }), reply('two', { costUsd: 0.0015 }), reply('three'));
      await (
        await h.turns.start(key, sessionId, { prompt: 'one' })
      ).turn.done;
      // Under the cap when it starts: the turn runs, even if it ends over the cap.
      await (
        await h.turns.start(key, sessionId, { prompt: 'two' })
      ).turn.done;
      const err = (await h.turns
        .start(key, sessionId, { prompt: 'three' })
        .catch((e: unknown) => e)) as ApiError;
      expect(err).toMatchObject({
        code: 'BUDGET_EXCEEDED',
        details: { policy: 'dailyBudgetUsd', dailyBudgetUsd: 0.002, spentUsd: 0.003 },
      });
      const midnight = Date.UTC(2026, 0, 2);
      expect(err.details.resetsAt).toBe(new Date(midnight).toISOString());
      expect(err.retryAfterSeconds).toBe(Math.ceil((midnight - Date.now()) / 1000));
      expect(h.registry.find(key, sessionId).busy).toBe(false);

      vi.setSystemTime(midnight);
      await expect(h.turns.start(key, sessionId, { prompt: 'three' })).resolves.toBeDefined();
    });
  });

  it('an unknown session is SESSION_NOT_FOUND', async () => {
    await expect(h.turns.start(key, 'sess_nope', { prompt: 'x' })).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
    });
  });

  describe('timeout', () => {
    it('interrupts the turn when its timeout runs out and ends it with REQUEST_TIMEOUT', async () => {
      h.runner.script({ messages: [msg.assistant('Working on it')], end: 'hang' });
      const { turn } = await h.turns.start(key, sessionId, { prompt: 'slow', timeoutMs: 5000 });
      await h.runner.until(() => h.runner.lastProcess.running);
      await vi.advanceTimersByTimeAsync(4999);
      expect(h.runner.lastProcess.interrupts).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      const ending = await turn.done;
      expect(h.runner.lastProcess.interrupts).toBe(1);
      expect(ending.status).toBe('timed_out');
      expect(ending.error).toMatchObject({
        code: 'REQUEST_TIMEOUT',
        details: { timeoutMs: 5000, messageId: turn.id },
      });
      const log = await logOf(h.store, sessionId);
      expect(log.map((e) => e.type)).toEqual(['message', 'status', 'message', 'status', 'error']);
      expect(log[4]?.data).toEqual(ending.error);
      expect((await h.store.getTurn(turn.id))?.status).toBe('timed_out');
      // The process survives an interrupt and takes the next turn.
      expect((await (await h.turns.start(key, sessionId, { prompt: 'next' })).turn.done).status).toBe(
        'completed',
      );
      expect(h.runner.processes).toHaveLength(1);
    });

    it('stops a Claude Code that ignores the interrupt after a grace period; the next turn gets a new process', async () => {
      h.runner.script({ end: 'hang', ignoreInterrupt: true });
      const { turn } = await h.turns.start(key, sessionId, { prompt: 'stuck', timeoutMs: 1000 });
      await h.runner.until(() => h.runner.lastProcess.running);
      await vi.advanceTimersByTimeAsync(1000);
      expect(h.runner.lastProcess.interrupts).toBe(1);
      expect(h.runner.lastProcess.closed).toBe(false);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(h.runner.lastProcess.closed).toBe(true);
      const ending = await turn.done;
      expect(ending.error?.code).toBe('REQUEST_TIMEOUT');
      await (
        await h.turns.start(key, sessionId, { prompt: 'again' })
      ).turn.done;
      expect(h.runner.processes).toHaveLength(2);
    });

    it('without a timeout the server maximum applies, and a larger one is cut to it', async () => {
      for (const timeoutMs of [undefined, MAX_TIMEOUT_MS * 10]) {
        h.runner.script({ end: 'hang' });
        const { turn } = await h.turns.start(key, sessionId, { prompt: 'x', timeoutMs });
        await h.runner.until(() => h.runner.lastProcess.running);
        await vi.advanceTimersByTimeAsync(MAX_TIMEOUT_MS - 1);
        expect(h.runner.lastProcess.running).toBe(true);
        await vi.advanceTimersByTimeAsync(1);
        expect((await turn.done).error?.code).toBe('REQUEST_TIMEOUT');
      }
    });
  });

  it('a crash ends the turn with AGENT_ERROR; the next turn runs on a new process with the cost so far', async () => {
    h.runner.script(reply('first answer', { costUsd: 0.5 }), {
      messages: [msg.assistant('halfway')],
      end: { crash: 'Claude Code process exited with code 137', exitCode: 137, signal: null },
    });
    await (
      await h.turns.start(key, sessionId, { prompt: 'one' })
    ).turn.done;
    const { turn } = await h.turns.start(key, sessionId, { prompt: 'two' });
    const ending = await turn.done;
    expect(ending.status).toBe('failed');
    expect(ending.error).toMatchObject({
      code: 'AGENT_ERROR',
      details: { reason: 'Claude Code process exited with code 137', exitCode: 137 },
    });
    expect(h.runner.processes[0]?.exited).toBe(true);

    const next = await h.turns.start(key, sessionId, { prompt: 'three' });
    expect((await next.turn.done).completion?.response).toBe('echo: three');
    expect(h.runner.processes).toHaveLength(2);
    expect(h.runner.processes[1]?.prompts).toEqual(['three']);
    expect(h.runner.starts[1]).toMatchObject<Partial<AgentSpec>>({ priorCostUsd: 0.5 });
  });

  it('a process that cannot start ends the turn with AGENT_ERROR and frees the session', async () => {
    class BrokenRunner extends FakeAgentRunner {
      override start(spec: AgentSpec) {
        if (this.starts.length >= 1) throw new Error('spawn claude ENOENT');
        return super.start(spec);
      }
    }
    await h.stop();
    await init(undefined, new BrokenRunner());
    await h.runner.lastProcess.close(); // the first process dies; the restart fails
    const { turn } = await h.turns.start(key, sessionId, { prompt: 'x' });
    const ending = await turn.done;
    expect(ending.error).toMatchObject({ code: 'AGENT_ERROR', details: { reason: 'spawn claude ENOENT' } });
    expect(h.registry.find(key, sessionId).busy).toBe(false);
  });

  it('a refusal to start Claude Code (a moved workspace) is the turn’s error as it is', async () => {
    class RefusingRunner extends FakeAgentRunner {
      override start(spec: AgentSpec) {
        if (this.starts.length >= 1)
          throw new ApiError('FORBIDDEN', 'moved', { policy: 'workspace', reason: 'moved' });
        return super.start(spec);
      }
    }
    await h.stop();
    await init(undefined, new RefusingRunner());
    await h.runner.lastProcess.close();
    const { turn } = await h.turns.start(key, sessionId, { prompt: 'x' });
    const ending = await turn.done;
    expect(ending).toMatchObject({
      status: 'failed',
      error: { code: 'FORBIDDEN', details: { policy: 'workspace', reason: 'moved' } },
    });
    expect(h.registry.find(key, sessionId).busy).toBe(false);
  });

  it('an interrupt ends the turn as an interrupted completion with the last assistant text', async () => {
    h.runner.script({ messages: [msg.assistant('Halfway through')], end: 'hang' });
    const { turn } = await h.turns.start(key, sessionId, { prompt: 'x' });
    await h.runner.until(() => h.runner.lastProcess.running);
    await h.events.settled(sessionId);
    await turn.interrupt();
    const ending = await turn.done;
    expect(ending.status).toBe('interrupted');
    expect(ending.completion).toMatchObject({ status: 'interrupted', response: 'Halfway through' });
    expect((await logOf(h.store, sessionId)).map((e) => e.type).slice(-2)).toEqual(['status', 'complete']);
  });

  it('max turns: a completion whose response joins the blocks of the last assistant message', async () => {
    h.runner.script({
      messages: [
        msg.assistant('First message.', 'm1'),
        msg.toolUse('toolu_1', 'Bash', {}, 'm2'),
        msg.assistant('Hello ', 'm2'),
        msg.assistant('world', 'm2'),
      ],
      end: { result: results.maxTurns(1) },
    });
    const ending = await (await h.turns.start(key, sessionId, { prompt: 'x' })).turn.done;
    expect(ending.completion).toMatchObject({
      stopReason: 'max_turns',
      response: 'Hello world',
      status: 'completed',
    });
  });

  it('an upstream failure names the session’s model', async () => {
    h.runner.script({ messages: [msg.init()], end: { result: results.apiError(404, 'model not found') } });
    const ending = await (await h.turns.start(key, sessionId, { prompt: 'x' })).turn.done;
    expect(ending.error).toMatchObject({
      code: 'UPSTREAM_ERROR',
      details: { model: 'opus', upstreamStatus: 404 },
    });
  });

  it('stores an api_retry message once, logs the retry, and reports retrying then running', async () => {
    const warnings: Array<{ obj: object; msg: string | undefined }> = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (obj, msg) => warnings.push({ obj, msg }),
      error: () => undefined,
      child: () => logger,
    };
    await h.stop();
    await init(undefined, undefined, logger);
    h.runner.script({
      messages: [msg.init(), msg.apiRetry(1, 529), msg.assistant('made it')],
      end: { result: result({ text: 'made it' }) },
    });
    await (
      await h.turns.start(key, sessionId, { prompt: 'x' })
    ).turn.done;
    const log = await logOf(h.store, sessionId);
    const kinds = log.map((e) =>
      e.type === 'status'
        ? `status:${(e.data as { status: string }).status}`
        : ((e.data as { subtype?: string }).subtype ?? e.type),
    );
    expect(kinds).toEqual([
      'message',
      'status:running',
      'init',
      'api_retry',
      'status:retrying',
      'status:running',
      'message',
      'status:idle',
      'complete',
    ]);
    expect(log[4]?.data).toMatchObject({ attempt: 1, maxRetries: 2, delayMs: 500, upstreamStatus: 529 });
    expect(warnings).toEqual([
      {
        obj: { attempt: 1, maxRetries: 2, delayMs: 500, upstreamStatus: 529 },
        msg: 'model API call failed; Claude Code retries',
      },
    ]);
  });

  it('a store failure at the end becomes INTERNAL_ERROR, and the session is free again', async () => {
    const finishTurn = vi.spyOn(h.store, 'finishTurn').mockRejectedValueOnce(new Error('disk full'));
    const ending = await (await h.turns.start(key, sessionId, { prompt: 'x' })).turn.done;
    expect(finishTurn).toHaveBeenCalledOnce();
    expect(ending).toMatchObject({ status: 'failed', completion: null, error: { code: 'INTERNAL_ERROR' } });
    expect(h.registry.find(key, sessionId).busy).toBe(false);
    await expect((await h.turns.start(key, sessionId, { prompt: 'y' })).turn.done).resolves.toMatchObject({
      status: 'completed',
    });
  });

  it('marks the activity of the session at the start and the end of a turn', async () => {
    let open!: () => void;
    h.runner.script({ waitFor: new Promise<void>((resolve) => (open = resolve)), end: { result: result() } });
    vi.setSystemTime(T0 + 1000);
    const { turn } = await h.turns.start(key, sessionId, { prompt: 'x' });
    await h.runner.until(() => h.runner.lastProcess.running);
    expect(h.registry.find(key, sessionId).record.lastActivityAt).toBe(T0 + 1000);
    vi.setSystemTime(T0 + 5000);
    open();
    await turn.done;
    expect((await h.store.getSession(sessionId))?.lastActivityAt).toBe(T0 + 5000);
  });

  describe('recoverInterrupted', () => {
    it('fails the turns left running by a previous server and appends their terminal event', async () => {
      // What a server that died mid-turn leaves behind: a running turn, its prompt and a message.
      const stale = makeTurn(sessionId, { id: 'msg_stale', prompt: 'x', createdAt: T0 });
      const event = (seq: number): SessionEvent => ({
        sessionId,
        seq,
        turnId: stale.id,
        type: 'message',
        data: '{}',
        createdAt: T0,
      });
      await h.store.beginTurn(stale, event(1));
      await h.store.appendEvents([event(2)]);

      expect(await h.turns.recoverInterrupted()).toEqual({ interrupted: 1, queued: [] });
      expect(await h.store.getTurn(stale.id)).toMatchObject({
        status: 'interrupted',
        endedAt: T0,
        error: { code: 'AGENT_ERROR', details: { messageId: stale.id, reason: 'server_restart' } },
      });
      const log = await logOf(h.store, sessionId);
      expect(log.map((e) => [e.seq, e.type, e.turnId])).toEqual([
        [1, 'message', stale.id],
        [2, 'message', stale.id],
        [3, 'error', stale.id],
      ]);
      expect(log[2]?.data).toMatchObject({ code: 'AGENT_ERROR' });
      expect(await h.store.listUnfinishedTurns()).toEqual([]);
      expect(await h.turns.recoverInterrupted()).toEqual({ interrupted: 0, queued: [] });
      // The session takes its next turn after the recovered one.
      const { turn } = await h.turns.start(key, sessionId, { prompt: 'next' });
      expect(turn.firstSeq).toBe(4);
    });
  });

  describe('shutdown and restart', () => {
    it('drain lets a turn that ends in time finish, interrupts the rest, and starts no queued turn', async () => {
      const other = (await h.sessions.create(key, { model: 'opus' })).session.id;
      let release!: () => void;
      h.runner.script(
        {
          waitFor: new Promise<void>((resolve) => (release = resolve)),
          end: { result: result({ text: 'done' }) },
        },
        { end: 'hang' },
        reply('never'),
      );
      const quick = await h.turns.start(key, sessionId, { prompt: 'quick' });
      const slow = await h.turns.start(key, other, { prompt: 'slow' });
      const queued = await h.turns.start(key, other, { prompt: 'queued', queue: true });
      await h.runner.until(() => h.runner.prompts.length === 2);

      h.admission.drain();
      const drained = h.turns.drain(1000);
      release();
      expect((await quick.turn.done).status).toBe('completed');
      await vi.advanceTimersByTimeAsync(1000);
      expect(await drained).toEqual({ finished: 1, interrupted: 1 });
      expect((await slow.turn.done).completion).toMatchObject({ status: 'interrupted' });
      expect((await h.store.getTurn(slow.turn.id))?.status).toBe('interrupted');
      // The queued turn stays queued, in the store, for the next start; it never reached Claude Code.
      expect((await h.store.getTurn(queued.turn.id))?.status).toBe('queued');
      expect(h.runner.prompts).toEqual(['quick', 'slow']);
      // And nothing new is accepted meanwhile.
      const refused = await h.turns.start(key, sessionId, { prompt: 'late' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5 });
    });

    it('after a restart, queued turns of open sessions run in order; those of ended sessions are interrupted', async () => {
      const ended = (await h.sessions.create(key, { model: 'opus' })).session.id;
      // What a stopped server left: two turns queued in this session, one in a session ended since.
      const queuedRecord = (id: string, session: string, seq: number, timeoutMs: number | null) =>
        makeTurn(session, {
          id,
          prompt: `prompt of ${id}`,
          status: 'queued',
          createdAt: T0,
          firstSeq: seq,
          timeoutMs,
        });
      const statusEvent = (session: string, seq: number, turnId: string): SessionEvent => ({
        sessionId: session,
        seq,
        turnId,
        type: 'status',
        data: '{"status":"queued"}',
        createdAt: T0,
      });
      for (const [id, session, seq, timeoutMs] of [
        ['msg_q1', sessionId, 1, 5000],
        ['msg_q2', sessionId, 2, null],
        ['msg_gone', ended, 1, 5000],
      ] as const) {
        await h.store.beginTurn(queuedRecord(id, session, seq, timeoutMs), statusEvent(session, seq, id));
      }
      await h.store.updateSession(ended, { status: 'ended', endedAt: T0, endReason: 'deleted' });

      const { interrupted, queued } = await h.turns.recoverInterrupted();
      expect(interrupted).toBe(1);
      expect(queued.map((t) => t.id)).toEqual(['msg_q1', 'msg_q2']);
      expect((await h.store.getTurn('msg_gone'))?.status).toBe('interrupted');

      expect(await h.turns.requeue(queued)).toBe(2);
      const session = h.registry.find(key, sessionId);
      // Each keeps its own timeout; one from before timeouts were stored gets the longest.
      expect([session.turn, ...session.queue].map((t) => (t as TurnRun).timeoutMs)).toEqual([
        5000,
        MAX_TIMEOUT_MS,
      ]);
      await h.runner.until(() => h.runner.prompts.length === 2);
      await session.turn?.done;
      expect(h.runner.prompts).toEqual(['prompt of msg_q1', 'prompt of msg_q2']);
      expect((await h.store.getTurn('msg_q1'))?.status).toBe('completed');
      expect((await h.store.getTurn('msg_q2'))?.status).toBe('completed');
    });
  });

  // DELETE racing a message start: the turn never reaches a new process of the ended session.
  it('a session ended while a turn is being started leaves no Claude Code process running', async () => {
    await h.runner.until(() => h.runner.processes.length === 1);
    const started = h.turns.start(key, sessionId, { prompt: 'racing the delete' });
    const ended = h.sessions.end(key, sessionId);
    const [start] = await Promise.allSettled([started, ended]);
    if (start.status === 'fulfilled') await start.value.turn.done;
    const alive = h.runner.processes
      .filter((p) => !p.exited)
      .map((p) => ({ pid: p.pid, prompts: p.prompts }));
    expect({ alive, prompts: h.runner.prompts }).toEqual({ alive: [], prompts: [] });
  });

  describe('queue', () => {
    /** The status of each `status` event of the log, and the other event types, in order. */
    const kindsOf = (log: Awaited<ReturnType<typeof logOf>>, turnId: string) =>
      log
        .filter((e) => e.turnId === turnId)
        .map((e) => (e.type === 'status' ? `status:${(e.data as { status: string }).status}` : e.type));

    it('queued turns get positions 1, 2, 3 and run after the running one, in order', async () => {
      let release!: () => void;
      h.runner.script(
        {
          waitFor: new Promise<void>((resolve) => (release = resolve)),
          end: { result: result({ text: 'head' }) },
        },
        reply('one'),
        reply('two'),
        reply('three'),
      );
      const head = await h.turns.start(key, sessionId, { prompt: 'head' });
      expect(head.position).toBe(0);
      const queued: StartedTurn[] = [];
      for (const prompt of ['q1', 'q2', 'q3']) {
        queued.push(await h.turns.start(key, sessionId, { prompt, queue: true }));
      }
      expect(queued.map((q) => q.position)).toEqual([1, 2, 3]);
      expect(h.registry.find(key, sessionId).queue.map((t) => t.id)).toEqual(queued.map((q) => q.turn.id));
      // Queued turns are in the store, but nothing of them reached Claude Code yet.
      await h.runner.until(() => h.runner.prompts.length === 1);
      for (const q of queued) expect((await h.store.getTurn(q.turn.id))?.status).toBe('queued');

      release();
      const endings = await Promise.all(queued.map((q) => q.turn.done));
      expect(endings.map((e) => e.completion?.response)).toEqual(['one', 'two', 'three']);
      expect(h.runner.prompts).toEqual(['head', 'q1', 'q2', 'q3']);

      const log = await logOf(h.store, sessionId);
      // Each queued turn starts with its place in the queue; its prompt comes when it starts.
      expect(log.find((e) => e.turnId === queued[1]!.turn.id)?.data).toMatchObject({
        status: 'queued',
        position: 2,
        messageId: queued[1]!.turn.id,
      });
      expect(kindsOf(log, queued[0]!.turn.id)).toEqual([
        'status:queued',
        'message',
        'status:running',
        'message',
        'message',
        'complete',
      ]);
      // Idle only at the very end: not between turns of the queue.
      expect(kindsOf(log, queued[2]!.turn.id).slice(-2)).toEqual(['status:idle', 'complete']);
      expect(
        log.filter((e) => e.type === 'status' && (e.data as { status: string }).status === 'idle'),
      ).toHaveLength(1);
      // The terminal events come in queue order, and each turn's prompt after the previous end.
      const completes = log.filter((e) => e.type === 'complete').map((e) => e.turnId);
      expect(completes).toEqual([head.turn.id, ...queued.map((q) => q.turn.id)]);
      const prompts = log.filter((e) => e.type === 'message' && (e.data as MessageView).source === 'client');
      expect(prompts.map((e) => e.turnId)).toEqual(completes);
      expect(h.registry.find(key, sessionId).busy).toBe(false);
    });

    it('concurrent queued starts each get their own position', async () => {
      h.runner.script({ end: 'hang' });
      const head = await h.turns.start(key, sessionId, { prompt: 'head' });
      const settled = await Promise.allSettled(
        ['a', 'b', 'c', 'd', 'e'].map((prompt) => h.turns.start(key, sessionId, { prompt, queue: true })),
      );
      const accepted = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as ApiError] : []));
      // The queue holds three: exactly two are refused, however the requests interleave.
      expect(refused.map((e) => e.code)).toEqual(['SESSION_BUSY', 'SESSION_BUSY']);
      expect(h.registry.find(key, sessionId).queue).toHaveLength(3);
      // Each request takes its place inside the serialized append: no two share a position.
      expect(accepted.map((a) => a.position).sort()).toEqual([1, 2, 3]);
      const queuedEvents = (await logOf(h.store, sessionId)).filter(
        (e) => e.type === 'status' && (e.data as { status: string }).status === 'queued',
      );
      expect(queuedEvents.map((e) => (e.data as { position: number }).position)).toEqual([1, 2, 3]);
      await head.turn.interrupt();
      await Promise.all(accepted.map((a) => a.turn.done));
    });

    it('a full queue is SESSION_BUSY with its size; without queue: true it is plain SESSION_BUSY', async () => {
      h.runner.script({ end: 'hang' });
      const head = await h.turns.start(key, sessionId, { prompt: 'head' });
      const plain = (await h.turns
        .start(key, sessionId, { prompt: 'x' })
        .catch((e: unknown) => e)) as ApiError;
      expect(plain).toBeInstanceOf(ApiError);
      expect(plain.code).toBe('SESSION_BUSY');
      expect(plain.details).toEqual({ sessionId, runningMessageId: head.turn.id });

      for (const prompt of ['q1', 'q2', 'q3']) await h.turns.start(key, sessionId, { prompt, queue: true });
      const full = (await h.turns
        .start(key, sessionId, { prompt: 'q4', queue: true })
        .catch((e: unknown) => e)) as ApiError;
      expect(full).toBeInstanceOf(ApiError);
      expect(full.code).toBe('SESSION_BUSY');
      expect(full.message).toMatch(/queue is full \(3 turns\)/);
      expect(full.details).toEqual({
        sessionId,
        runningMessageId: head.turn.id,
        queued: 3,
        maxQueuedTurns: 3,
      });
      // A refused request spends no message and leaves no trace.
      expect((await h.rateLimits.peek(key, 'messages')).remaining).toBe(100 - 4);
      expect(h.registry.find(key, sessionId).queueReserved).toBe(0);
      await h.sessions.end(key, sessionId);
    });

    it('a cancelled queued turn ends as interrupted, having cost nothing; the others move up', async () => {
      let release!: () => void;
      h.runner.script({
        waitFor: new Promise<void>((resolve) => (release = resolve)),
        end: { result: result() },
      });
      const head = await h.turns.start(key, sessionId, { prompt: 'head' });
      const first = await h.turns.start(key, sessionId, { prompt: 'cancel me', queue: true });
      const second = await h.turns.start(key, sessionId, { prompt: 'keep me', queue: true });
      await Promise.all([first.turn.interrupt(), first.turn.interrupt()]);
      const ending = await first.turn.done;
      expect(ending).toMatchObject({ status: 'interrupted', error: null, costUsd: 0 });
      expect(ending.completion).toEqual({
        messageId: first.turn.id,
        sessionId,
        response: '',
        usage: { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
        costUsd: 0,
        durationMs: 0,
        numTurns: 0,
        stopReason: 'cancelled',
        status: 'interrupted',
      });
      expect(h.registry.find(key, sessionId).queue.map((t) => t.id)).toEqual([second.turn.id]);
      expect(await h.store.getTurn(first.turn.id)).toMatchObject({ status: 'interrupted', costUsd: 0 });
      const log = await logOf(h.store, sessionId);
      expect(kindsOf(log, first.turn.id)).toEqual(['status:queued', 'complete']);
      // The running turn was not touched.
      expect(h.runner.lastProcess.interrupts).toBe(0);

      release();
      await head.turn.done;
      expect((await second.turn.done).completion?.response).toBe('echo: keep me');
      expect(h.runner.prompts).toEqual(['head', 'keep me']);
    });

    it('interrupt stops the running turn only: the queued one runs next', async () => {
      h.runner.script({ messages: [msg.assistant('working')], end: 'hang' });
      const head = await h.turns.start(key, sessionId, { prompt: 'head' });
      const next = await h.turns.start(key, sessionId, { prompt: 'next', queue: true });
      await h.runner.until(() => h.runner.lastProcess.running);
      await expect(h.turns.interrupt(key, sessionId)).resolves.toMatchObject({
        interrupted: true,
        messageId: head.turn.id,
      });
      expect((await head.turn.done).status).toBe('interrupted');
      expect((await next.turn.done).completion).toMatchObject({
        status: 'completed',
        response: 'echo: next',
      });
      await expect(h.turns.interrupt(key, sessionId)).resolves.toMatchObject({
        interrupted: false,
        messageId: null,
      });
      // Both asks are in the log, before the turn they stopped ended, the no-op too.
      const logged = (await h.events.list(sessionId, 0, 100)).map((e) => ({
        type: e.type,
        turnId: e.turnId,
        data: JSON.parse(e.data) as Record<string, unknown>,
      }));
      const interrupts = logged.filter((e) => e.type === 'interrupt');
      expect(interrupts.map((e) => e.data)).toMatchObject([
        { sessionId, messageId: head.turn.id, interrupted: true },
        { sessionId, messageId: null, interrupted: false },
      ]);
      const headEnd = logged.findIndex((e) => e.type === 'complete' && e.turnId === head.turn.id);
      expect(logged.indexOf(interrupts[0]!)).toBeLessThan(headEnd);
    });

    it('ending the session cancels the queued turns first, so none of them starts', async () => {
      h.runner.script({ end: 'hang' });
      const head = await h.turns.start(key, sessionId, { prompt: 'head' });
      const queued = [
        await h.turns.start(key, sessionId, { prompt: 'q1', queue: true }),
        await h.turns.start(key, sessionId, { prompt: 'q2', queue: true }),
      ];
      await h.runner.until(() => h.runner.lastProcess.running);
      await h.sessions.end(key, sessionId);
      expect((await head.turn.done).status).toBe('interrupted');
      for (const q of queued) {
        expect((await q.turn.done).completion).toMatchObject({
          status: 'interrupted',
          stopReason: 'cancelled',
        });
      }
      expect(h.runner.prompts).toEqual(['head']);
    });
  });
});
