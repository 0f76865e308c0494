import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryEventBus } from '../adapters/memory/memory-event-bus.js';
import { MemoryStore } from '../adapters/memory/memory-store.js';
import { ApiError } from './errors.js';
import { EventLog } from './event-log.js';
import type { PermissionDecision, PermissionRequestView, PermissionResolution } from './events.js';
import { PermissionBroker } from './permissions.js';
import type { Clock, PermissionAnswer, PermissionAsk } from './ports.js';
import { makeKey, makeSession } from '../../test/store/fixtures.js';

const T0 = Date.UTC(2026, 0, 1);
const TIMEOUT_MS = 30_000;
const S1 = 'sess_one';
const S2 = 'sess_two';
const TURN = 'msg_turn';

// Vitest's fake timers move Date.now() too: the broker's clock and its timers share one time.
const clock: Clock = { now: () => Date.now() };

const RULE = {
  type: 'addRules',
  rules: [{ toolName: 'Bash', ruleContent: 'python3 -c "print(1)"' }],
  behavior: 'allow',
  destination: 'localSettings',
};

function question(overrides: Partial<PermissionAsk> = {}): PermissionAsk {
  return {
    toolName: 'Bash',
    input: { command: 'python3 -c "print(1)"' },
    toolUseId: 'toolu_1',
    description: 'Run python3 -c "print(1)"',
    displayName: 'Bash',
    decisionReason: 'This command requires approval',
    suggestions: [RULE],
    signal: new AbortController().signal,
    ...overrides,
  };
}

async function seed(store: MemoryStore): Promise<void> {
  await store.insertKey(makeKey());
  for (const id of [S1, S2]) await store.insertSession(makeSession('key_1', { id }));
}

describe('PermissionBroker', () => {
  let store: MemoryStore;
  let events: EventLog;

  function broker(defaultDecision: PermissionDecision = 'deny'): PermissionBroker {
    return new PermissionBroker({
      events,
      clock,
      logger: pino({ level: 'silent' }),
      settings: { timeoutMs: TIMEOUT_MS, defaultDecision },
    });
  }

  /** The session's log: event types with their parsed data. */
  async function logOf(sessionId: string) {
    await events.settled(sessionId);
    return (await store.listEvents(sessionId, 0, 1000)).map((e) => ({
      type: e.type,
      turnId: e.turnId,
      data: JSON.parse(e.data) as Record<string, unknown>,
    }));
  }

  /** Asks, and resolves with the request once it is stored (as a client would see it). */
  async function askAndSee(b: PermissionBroker, sessionId: string, ask: PermissionAsk = question()) {
    const answered = b.ask(sessionId, TURN, ask);
    await events.settled(sessionId);
    const [request] = b.list(sessionId).slice(-1);
    if (!request) throw new Error('no pending request');
    return { answered, request };
  }

  beforeEach(async () => {
    vi.useFakeTimers({ now: T0 });
    store = new MemoryStore();
    await seed(store);
    events = new EventLog(store, new MemoryEventBus(), clock);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks: the question is a stored permission_request and is listed until answered', async () => {
    const b = broker();
    const { answered, request } = await askAndSee(b, S1);
    expect(request).toEqual<PermissionRequestView>({
      requestId: expect.stringMatching(/^perm_[A-Za-z0-9]{20}$/),
      sessionId: S1,
      messageId: TURN,
      toolName: 'Bash',
      toolUseId: 'toolu_1',
      input: { command: 'python3 -c "print(1)"' },
      description: 'Run python3 -c "print(1)"',
      displayName: 'Bash',
      decisionReason: 'This command requires approval',
      suggestions: [RULE],
      createdAt: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + TIMEOUT_MS).toISOString(),
    });
    expect(await logOf(S1)).toEqual([{ type: 'permission_request', turnId: TURN, data: request }]);
    expect(b.list(S2)).toEqual([]);

    vi.setSystemTime(T0 + 1234);
    const resolution = await b.answer(S1, request.requestId, { decision: 'allow' });
    expect(resolution).toEqual<PermissionResolution>({
      requestId: request.requestId,
      sessionId: S1,
      messageId: TURN,
      toolName: 'Bash',
      toolUseId: 'toolu_1',
      decision: 'allow',
      by: 'client',
      message: null,
      updatedInput: false,
      remember: false,
      resolvedAt: new Date(T0 + 1234).toISOString(),
    });
    expect(await answered).toEqual<PermissionAnswer>({ behavior: 'allow' });
    expect(b.list(S1)).toEqual([]);
    const log = await logOf(S1);
    expect(log.map((e) => e.type)).toEqual(['permission_request', 'permission_resolved']);
    expect(log[1]?.data).toEqual(resolution);
  });

  it('lists the open questions of a session only, oldest first', async () => {
    const b = broker();
    const first = await askAndSee(b, S1, question({ toolUseId: 'toolu_a' }));
    await askAndSee(b, S2, question({ toolUseId: 'toolu_other' }));
    vi.setSystemTime(T0 + 10);
    const second = await askAndSee(b, S1, question({ toolUseId: 'toolu_b' }));
    expect(b.list(S1).map((r) => r.toolUseId)).toEqual(['toolu_a', 'toolu_b']);
    expect(b.list(S2).map((r) => r.toolUseId)).toEqual(['toolu_other']);
    await b.answer(S1, first.request.requestId, { decision: 'deny' });
    expect(b.list(S1).map((r) => r.requestId)).toEqual([second.request.requestId]);
  });

  it('an answer given before the question is even stored still comes after it in the log', async () => {
    const b = broker();
    const answered = b.ask(S1, TURN, question());
    const [request] = b.list(S1);
    await b.answer(S1, request!.requestId, { decision: 'deny' });
    await answered;
    expect((await logOf(S1)).map((e) => e.type)).toEqual(['permission_request', 'permission_resolved']);
  });

  it('allow with changed input hands Claude Code the new input', async () => {
    const b = broker();
    const { answered, request } = await askAndSee(b, S1);
    const resolution = await b.answer(S1, request.requestId, {
      decision: 'allow',
      updatedInput: { command: 'echo instead' },
    });
    expect(resolution).toMatchObject({ decision: 'allow', updatedInput: true, message: null });
    await expect(answered).resolves.toEqual({ behavior: 'allow', updatedInput: { command: 'echo instead' } });
  });

  it('deny: the client’s message is what the model is told, or a default one', async () => {
    const b = broker();
    const one = await askAndSee(b, S1);
    const resolution = await b.answer(S1, one.request.requestId, {
      decision: 'deny',
      message: 'Use ls instead.',
      // Ignored for a deny.
      updatedInput: { command: 'rm -rf /' },
      remember: true,
    });
    expect(resolution).toMatchObject({
      decision: 'deny',
      by: 'client',
      message: 'Use ls instead.',
      updatedInput: false,
      remember: false,
    });
    await expect(one.answered).resolves.toEqual({ behavior: 'deny', message: 'Use ls instead.' });

    const two = await askAndSee(b, S1);
    const plain = await b.answer(S1, two.request.requestId, { decision: 'deny' });
    expect(plain.message).toBe('The user denied this tool call.');
    await expect(two.answered).resolves.toEqual({
      behavior: 'deny',
      message: 'The user denied this tool call.',
    });
  });

  describe('remember', () => {
    it('hands Claude Code the suggested rules when there are some', async () => {
      const b = broker();
      const { answered, request } = await askAndSee(b, S1);
      const resolution = await b.answer(S1, request.requestId, { decision: 'allow', remember: true });
      expect(resolution.remember).toBe(true);
      await expect(answered).resolves.toEqual({ behavior: 'allow', remember: [RULE] });
    });

    it('hands over only rules: never a permission mode or a directory', async () => {
      // What Claude Code suggests for a Write (a session-wide mode) and for a shell command that
      // names a directory outside the workspace (that directory for the session).
      const mode = { type: 'setMode', mode: 'acceptEdits', destination: 'session' };
      const directory = { type: 'addDirectories', directories: ['/etc'], destination: 'session' };
      const b = broker();
      const { answered, request } = await askAndSee(
        b,
        S1,
        question({ suggestions: [RULE, directory, mode] }),
      );
      await b.answer(S1, request.requestId, { decision: 'allow', remember: true });
      // setMode and addDirectories would widen the whole session: only the rule is applied.
      await expect(answered).resolves.toEqual({ behavior: 'allow', remember: [RULE] });
    });

    it('is not applied when the only suggestion is not a rule', async () => {
      const b = broker();
      const mode = { type: 'setMode', mode: 'acceptEdits', destination: 'session' };
      const { answered, request } = await askAndSee(b, S1, question({ suggestions: [mode] }));
      expect((await b.answer(S1, request.requestId, { decision: 'allow', remember: true })).remember).toBe(
        false,
      );
      await expect(answered).resolves.toEqual({ behavior: 'allow' });
    });

    it('is not applied (and says so) when Claude Code suggested nothing', async () => {
      const b = broker();
      const { answered, request } = await askAndSee(b, S1, question({ suggestions: [] }));
      const resolution = await b.answer(S1, request.requestId, { decision: 'allow', remember: true });
      expect(resolution.remember).toBe(false);
      await expect(answered).resolves.toEqual({ behavior: 'allow' });
    });

    it('is not applied without being asked for', async () => {
      const b = broker();
      const { answered, request } = await askAndSee(b, S1);
      expect((await b.answer(S1, request.requestId, { decision: 'allow', remember: false })).remember).toBe(
        false,
      );
      await expect(answered).resolves.toEqual({ behavior: 'allow' });
    });
  });

  describe('nobody answers', () => {
    it('the default decision deny applies when the timeout runs out', async () => {
      const b = broker('deny');
      const { answered, request } = await askAndSee(b, S1);
      await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
      expect(b.list(S1)).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      await expect(answered).resolves.toEqual({
        behavior: 'deny',
        message: 'No decision arrived within 30 s, so the server denied this tool call.',
      });
      expect(b.list(S1)).toEqual([]);
      const log = await logOf(S1);
      expect(log[1]).toMatchObject({
        type: 'permission_resolved',
        data: {
          requestId: request.requestId,
          decision: 'deny',
          by: 'timeout',
          resolvedAt: new Date(T0 + TIMEOUT_MS).toISOString(),
        },
      });
      // Too late now.
      await expect(b.answer(S1, request.requestId, { decision: 'allow' })).rejects.toMatchObject({
        code: 'PERMISSION_REQUEST_NOT_FOUND',
      });
    });

    it('the default decision allow runs the call as asked', async () => {
      const b = broker('allow');
      const { answered } = await askAndSee(b, S1);
      await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
      await expect(answered).resolves.toEqual({ behavior: 'allow' });
      const log = await logOf(S1);
      expect(log[1]?.data).toMatchObject({
        decision: 'allow',
        by: 'timeout',
        message: null,
        remember: false,
      });
    });

    it('an answered question has no timeout left: one resolution, ever', async () => {
      const b = broker();
      const { request } = await askAndSee(b, S1);
      await b.answer(S1, request.requestId, { decision: 'allow' });
      await vi.advanceTimersByTimeAsync(TIMEOUT_MS * 2);
      expect((await logOf(S1)).map((e) => e.type)).toEqual(['permission_request', 'permission_resolved']);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('an interrupt', () => {
    it('withdraws the question: Claude Code is told to stop, and the log says why', async () => {
      const b = broker();
      const abort = new AbortController();
      const { answered, request } = await askAndSee(b, S1, question({ signal: abort.signal }));
      abort.abort();
      await expect(answered).resolves.toEqual({
        behavior: 'deny',
        message: 'The turn was interrupted.',
        interrupt: true,
      });
      expect(b.list(S1)).toEqual([]);
      const log = await logOf(S1);
      expect(log.map((e) => e.type)).toEqual(['permission_request', 'permission_resolved']);
      expect(log[1]?.data).toMatchObject({ requestId: request.requestId, decision: 'deny', by: 'interrupt' });
      await expect(b.answer(S1, request.requestId, { decision: 'allow' })).rejects.toMatchObject({
        code: 'PERMISSION_REQUEST_NOT_FOUND',
      });
      expect(vi.getTimerCount()).toBe(0);
    });

    it('that came first withdraws the question at once, after it is stored', async () => {
      const b = broker();
      const abort = new AbortController();
      abort.abort();
      await expect(b.ask(S1, TURN, question({ signal: abort.signal }))).resolves.toMatchObject({
        behavior: 'deny',
        interrupt: true,
      });
      expect(b.list(S1)).toEqual([]);
      const log = await logOf(S1);
      expect(log.map((e) => [e.type, e.data.by])).toEqual([
        ['permission_request', undefined],
        ['permission_resolved', 'interrupt'],
      ]);
    });

    it('after the answer changes nothing', async () => {
      const b = broker();
      const abort = new AbortController();
      const { answered, request } = await askAndSee(b, S1, question({ signal: abort.signal }));
      await b.answer(S1, request.requestId, { decision: 'allow' });
      abort.abort();
      await expect(answered).resolves.toEqual({ behavior: 'allow' });
      expect((await logOf(S1)).map((e) => e.type)).toEqual(['permission_request', 'permission_resolved']);
    });
  });

  describe('answers that find nothing: 404 PERMISSION_REQUEST_NOT_FOUND', () => {
    it('a second answer', async () => {
      const b = broker();
      const { answered, request } = await askAndSee(b, S1);
      await b.answer(S1, request.requestId, { decision: 'deny', message: 'no' });
      const err = (await b
        .answer(S1, request.requestId, { decision: 'allow' })
        .catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.code).toBe('PERMISSION_REQUEST_NOT_FOUND');
      expect(err.details).toEqual({ sessionId: S1, requestId: request.requestId });
      // The first answer stands.
      await expect(answered).resolves.toEqual({ behavior: 'deny', message: 'no' });
      expect((await logOf(S1)).filter((e) => e.type === 'permission_resolved')).toHaveLength(1);
    });

    it('two answers at once: the first wins, the second is refused', async () => {
      const b = broker();
      const { answered, request } = await askAndSee(b, S1);
      const results = await Promise.allSettled([
        b.answer(S1, request.requestId, { decision: 'allow' }),
        b.answer(S1, request.requestId, { decision: 'deny' }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      await expect(answered).resolves.toEqual({ behavior: 'allow' });
      expect((await logOf(S1)).filter((e) => e.type === 'permission_resolved')).toHaveLength(1);
    });

    it('an unknown id', async () => {
      const b = broker();
      await expect(b.answer(S1, 'perm_unknown', { decision: 'allow' })).rejects.toMatchObject({
        code: 'PERMISSION_REQUEST_NOT_FOUND',
      });
    });

    it('the id of another session’s question, which stays open', async () => {
      const b = broker();
      const { answered, request } = await askAndSee(b, S2);
      await expect(b.answer(S1, request.requestId, { decision: 'allow' })).rejects.toMatchObject({
        code: 'PERMISSION_REQUEST_NOT_FOUND',
        details: { sessionId: S1, requestId: request.requestId },
      });
      expect(b.list(S2)).toHaveLength(1);
      expect(await logOf(S1)).toEqual([]);
      await b.answer(S2, request.requestId, { decision: 'allow' });
      await expect(answered).resolves.toEqual({ behavior: 'allow' });
    });
  });

  it('withdrawAll ends every open question of one session, as the session ends', async () => {
    const b = broker();
    const a = await askAndSee(b, S1, question({ toolUseId: 'toolu_a' }));
    const c = await askAndSee(b, S1, question({ toolUseId: 'toolu_c' }));
    const other = await askAndSee(b, S2);
    await b.withdrawAll(S1);
    for (const { answered } of [a, c]) {
      await expect(answered).resolves.toEqual({ behavior: 'deny', message: 'The session ended.' });
    }
    expect(b.list(S1)).toEqual([]);
    expect(b.list(S2)).toEqual([other.request]);
    const resolved = (await logOf(S1)).filter((e) => e.type === 'permission_resolved');
    expect(resolved.map((e) => e.data.by)).toEqual(['session_end', 'session_end']);
  });

  it('a store failure on the answer is logged; Claude Code still gets the answer', async () => {
    const errors: string[] = [];
    const logger = pino({ level: 'silent' });
    vi.spyOn(logger, 'error').mockImplementation(
      (_obj: unknown, msg?: string) => void errors.push(msg ?? ''),
    );
    const b = new PermissionBroker({
      events,
      clock,
      logger,
      settings: { timeoutMs: TIMEOUT_MS, defaultDecision: 'deny' },
    });
    const { answered, request } = await askAndSee(b, S1);
    vi.spyOn(store, 'appendEvents').mockRejectedValueOnce(new Error('disk full'));
    await expect(b.answer(S1, request.requestId, { decision: 'allow' })).resolves.toMatchObject({
      decision: 'allow',
    });
    await expect(answered).resolves.toEqual({ behavior: 'allow' });
    expect(errors).toEqual(['could not store a permission answer']);
  });
});
