import { afterEach, describe, expect, it, vi } from 'vitest';
import { msg, reply, result, results } from '../helpers/fake-agent-runner.js';
import {
  auth,
  KEY_B,
  createSession,
  expectError,
  issueFields,
  nextTerminalEvent,
  rateLimitHeaders,
  startApp,
  type Harness,
} from './harness.js';

describe('messages', () => {
  let h: Harness;
  let id: string;
  const url = (): string => `/api/v1/sessions/${id}/messages`;
  const send = (payload: unknown, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url: url(),
      headers: { ...auth(), ...headers },
      payload: payload as object,
    });

  async function start(env: Record<string, string> = {}): Promise<void> {
    h = await startApp(env);
    id = await createSession(h, { model: 'opus' });
  }

  afterEach(async () => {
    vi.useRealTimers();
    await h?.close();
  });

  describe('POST /sessions/:id/messages', () => {
    it('200: waits for the turn and answers with the final text, usage and cost', async () => {
      await start();
      h.runner.script({
        messages: [msg.init(), msg.assistant('print("Hello, World!")')],
        end: {
          result: result({
            text: 'print("Hello, World!")',
            numTurns: 1,
            durationMs: 321,
            costUsd: 0.0042,
            usage: { inputTokens: 12, outputTokens: 8, cacheCreationInputTokens: 0, cacheReadInputTokens: 4 },
          }),
        },
      });
      const res = await send({ prompt: 'Write a Python hello world program', stream: false });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        messageId: expect.stringMatching(/^msg_/),
        sessionId: id,
        response: 'print("Hello, World!")',
        usage: { inputTokens: 12, outputTokens: 8, cacheCreationInputTokens: 0, cacheReadInputTokens: 4 },
        costUsd: 0.0042,
        durationMs: 321,
        numTurns: 1,
        stopReason: 'end_turn',
        status: 'completed',
        // The workspace snapshots saw no file change.
        changes: [],
      });
      expect(h.runner.prompts).toEqual(['Write a Python hello world program']);
      expect(rateLimitHeaders(res)).toMatchObject({ limit: 100, remaining: 99 });
    });

    it('200: a turn that ran out of agent turns answers with stopReason max_turns', async () => {
      await start();
      h.runner.script({ messages: [msg.assistant('I got this far')], end: { result: results.maxTurns(1) } });
      const res = await send({ prompt: 'do a lot' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        stopReason: 'max_turns',
        response: 'I got this far',
        status: 'completed',
      });
    });

    it('202: stream: true starts the turn and returns a stream URL', async () => {
      await start();
      let finish!: () => void;
      h.runner.script({ ...reply('later'), waitFor: new Promise<void>((resolve) => (finish = resolve)) });
      const res = await send({ prompt: 'Hello', stream: true });
      expect(res.statusCode).toBe(202);
      const body = res.json();
      expect(body).toEqual({
        messageId: expect.stringMatching(/^msg_/),
        sessionId: id,
        streamUrl: `/api/v1/sessions/${id}/stream?messageId=${body.messageId}`,
      });
      expect(rateLimitHeaders(res)).toMatchObject({ remaining: 99 });
      // The turn runs on after the answer and lands in the history.
      await h.runner.until(() => h.runner.prompts.length === 1);
      finish();
      expect(await nextTerminalEvent(h, id)).toMatchObject({ messageId: body.messageId, response: 'later' });
      const turn = await h.store.getTurn(body.messageId);
      expect(turn).toMatchObject({ status: 'completed', completion: { response: 'later' } });
    });

    it.each([
      [{}, ['prompt']],
      [{ prompt: '   ' }, ['prompt']],
      [{ prompt: 42 }, ['prompt']],
      [{ prompt: 'x', stream: 'yes' }, ['stream']],
      [{ prompt: 'x', timeout: 999 }, ['timeout']],
      [{ prompt: 'x', timeout: 1.5e3 + 0.5 }, ['timeout']],
      [{ prompt: 'x', timeout: 30 * 60 * 1000 + 1 }, ['timeout']],
      [{ prompt: 'x', model: 'opus' }, ['model']],
      [{ prompt: 42, extra: true }, ['extra', 'prompt']],
    ])('400 INVALID_REQUEST: %j names %j', async (payload, fields) => {
      await start();
      const res = await send(payload);
      expect(issueFields(expectError(res, 400, 'INVALID_REQUEST'))).toEqual(fields);
      expect(h.runner.prompts).toEqual([]);
      // A refused request spends nothing.
      expect(rateLimitHeaders(res)).toMatchObject({ remaining: 100 });
    });

    it('400 INVALID_REQUEST: bad JSON', async () => {
      await start();
      const res = await h.app.inject({
        method: 'POST',
        url: url(),
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '{"prompt": "unterminated',
      });
      expectError(res, 400, 'INVALID_REQUEST');
    });

    it('404 SESSION_NOT_FOUND: an unknown session', async () => {
      await start();
      id = 'sess_unknown';
      expect(expectError(await send({ prompt: 'x' }), 404, 'SESSION_NOT_FOUND').error.details).toEqual({
        sessionId: 'sess_unknown',
      });
    });

    it('408 REQUEST_TIMEOUT: the message’s timeout ran out and the turn was stopped', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      await start();
      h.runner.script({ messages: [msg.assistant('thinking…')], end: 'hang' });
      const pending = send({ prompt: 'slow', timeout: 1000 });
      await h.runner.until(() => h.runner.lastProcess.running);
      await vi.advanceTimersByTimeAsync(1000);
      const body = expectError(await pending, 408, 'REQUEST_TIMEOUT');
      expect(body.error.details).toMatchObject({
        timeoutMs: 1000,
        messageId: expect.stringMatching(/^msg_/),
      });
      expect(h.runner.lastProcess.interrupts).toBe(1);
      // The session is free again.
      vi.useRealTimers();
      expect((await send({ prompt: 'next' })).statusCode).toBe(200);
    });

    it('409 SESSION_BUSY: a turn is already running', async () => {
      await start();
      h.runner.script({ end: 'hang' });
      const first = await send({ prompt: 'long', stream: true });
      expect(first.statusCode).toBe(202);
      const res = await send({ prompt: 'second' });
      const body = expectError(res, 409, 'SESSION_BUSY');
      expect(body.error.details).toEqual({ sessionId: id, runningMessageId: first.json().messageId });
      await h.runner.until(() => h.runner.prompts.length > 0);
      expect(h.runner.prompts).toEqual(['long']);
    });

    it('429 RATE_LIMIT_EXCEEDED: the key’s messages bucket is empty', async () => {
      await start({ RATE_LIMIT_MESSAGES_PER_HOUR: '1' });
      expect((await send({ prompt: 'one' })).statusCode).toBe(200);
      const res = await send({ prompt: 'two' });
      expect(expectError(res, 429, 'RATE_LIMIT_EXCEEDED').error.details).toMatchObject({
        bucket: 'messages',
        limit: 1,
      });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(3500);
      expect(rateLimitHeaders(res)).toMatchObject({ limit: 1, remaining: 0 });
      expect(h.runner.prompts).toEqual(['one']);
    });

    it('413 PAYLOAD_TOO_LARGE: a prompt over the body limit', async () => {
      await start({ BODY_LIMIT_BYTES: '2048' });
      expectError(await send({ prompt: 'x'.repeat(3000) }), 413, 'PAYLOAD_TOO_LARGE');
    });

    it.each([
      [401, 502, 'UPSTREAM_ERROR', /credentials/],
      [404, 502, 'UPSTREAM_ERROR', /model "opus"/],
      [500, 502, 'UPSTREAM_ERROR', /HTTP 500/],
      [529, 503, 'UPSTREAM_UNAVAILABLE', /overloaded/],
      [null, 503, 'UPSTREAM_UNAVAILABLE', /could not be reached/],
    ] as const)('model API %s → %s %s', async (upstream, status, code, message) => {
      await start();
      h.runner.script({ messages: [msg.init()], end: { result: results.apiError(upstream) } });
      const body = expectError(await send({ prompt: 'x' }), status, code);
      expect(body.error.message).toMatch(message);
      expect(body.error.details).toMatchObject({ upstreamStatus: upstream, model: 'opus' });
    });

    it('500 AGENT_ERROR: Claude Code died mid-turn; the next message works', async () => {
      await start();
      h.runner.script({
        messages: [msg.assistant('half')],
        end: { crash: 'Claude Code process exited with code 1', exitCode: 1 },
      });
      const body = expectError(await send({ prompt: 'x' }), 500, 'AGENT_ERROR');
      expect(body.error.details).toMatchObject({ exitCode: 1 });
      const next = await send({ prompt: 'again' });
      expect(next.statusCode).toBe(200);
      expect(next.json().response).toBe('echo: again');
    });

    // Idempotency-Key: a retry replays the first outcome; the prompt runs once.
    it('Idempotency-Key: a retried POST returns the first response without running the prompt again', async () => {
      await start();
      const first = await send({ prompt: 'charge the card' }, { 'idempotency-key': 'retry-1' });
      const retry = await send({ prompt: 'charge the card' }, { 'idempotency-key': 'retry-1' });
      expect(first.statusCode).toBe(200);
      expect(retry.statusCode).toBe(200);
      expect(retry.json()).toEqual(first.json());
      expect(h.runner.prompts).toEqual(['charge the card']);
    });
  });

  describe('GET /sessions/:id/messages', () => {
    it('200: the history, tool calls and results included, paged', async () => {
      await start();
      h.runner.script({
        messages: [
          msg.init(),
          msg.toolUse('toolu_1', 'Bash', { command: 'ls' }),
          msg.toolResult('toolu_1', 'a.txt'),
          msg.assistant('There is a.txt'),
        ],
        end: { result: result({ text: 'There is a.txt' }) },
      });
      const sent = (await send({ prompt: 'What is here?' })).json();
      const res = await h.app.inject({ method: 'GET', url: url(), headers: auth() });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.sessionId).toBe(id);
      expect(body.pagination).toEqual({ limit: 100, offset: 0, total: 5, hasMore: false });
      const messages = body.messages as Array<Record<string, unknown>>;
      // Sequence numbers are the log's: a status event (running) sits between the prompt and init.
      expect(messages.map((m) => [m.sequence, m.type, m.role])).toEqual([
        [1, 'user', 'user'],
        [3, 'system', 'system'],
        [4, 'assistant', 'assistant'],
        [5, 'user', 'user'],
        [6, 'assistant', 'assistant'],
      ]);
      expect(messages[0]).toMatchObject({
        id: sent.messageId,
        source: 'client',
        content: { type: 'user', message: { role: 'user', content: 'What is here?' } },
      });
      expect(messages[2]?.content).toMatchObject({
        message: { content: [{ type: 'tool_use', name: 'Bash', input: { command: 'ls' } }] },
      });
      expect(messages[3]?.content).toMatchObject({
        message: { content: [{ type: 'tool_result', content: 'a.txt' }] },
      });
      for (const m of messages) expect(new Date(m.timestamp as string).toISOString()).toBe(m.timestamp);
      // The history holds messages only, not the turn's terminal event.
      expect(messages.some((m) => m.response !== undefined)).toBe(false);

      const page = (
        await h.app.inject({ method: 'GET', url: `${url()}?limit=2&offset=2`, headers: auth() })
      ).json();
      expect(page.pagination).toEqual({ limit: 2, offset: 2, total: 5, hasMore: true });
      expect(page.messages.map((m: { sequence: number }) => m.sequence)).toEqual([4, 5]);
    });

    it('200: an empty history', async () => {
      await start();
      const res = await h.app.inject({ method: 'GET', url: url(), headers: auth() });
      expect(res.json()).toEqual({
        sessionId: id,
        messages: [],
        pagination: { limit: 100, offset: 0, total: 0, hasMore: false },
      });
    });

    it.each(['limit=0', 'limit=1001', 'offset=x', 'after=3'])('400 INVALID_REQUEST: ?%s', async (query) => {
      await start();
      const res = await h.app.inject({ method: 'GET', url: `${url()}?${query}`, headers: auth() });
      expect(issueFields(expectError(res, 400, 'INVALID_REQUEST'))).toEqual([query.split('=')[0]]);
    });

    it('404 SESSION_NOT_FOUND: an unknown session', async () => {
      await start();
      id = 'sess_unknown';
      expectError(
        await h.app.inject({ method: 'GET', url: url(), headers: auth() }),
        404,
        'SESSION_NOT_FOUND',
      );
    });
  });

  describe('a blocking call and the turns that wait for an approval', () => {
    const BASH_ASK = {
      toolName: 'Bash',
      input: { command: 'make deploy' },
      toolUseId: 'toolu_1',
      description: 'Deploy',
      displayName: 'Bash',
      decisionReason: 'This command requires approval',
      suggestions: [],
    };
    const turnUrl = (messageId: string, query = ''): string => `${url()}/${messageId}${query}`;
    const get = (path: string, key?: string) =>
      h.app.inject({ method: 'GET', url: path, headers: auth(key) });

    it('202 requires_action at once with the pending request; answered, a wait gets the 200 answer', async () => {
      await start();
      h.runner.script({
        messages: [msg.init(), msg.toolUse('toolu_1', 'Bash', BASH_ASK.input)],
        ask: BASH_ASK,
        end: { result: result({ text: 'deployed' }) },
      });
      const res = await send({ prompt: 'deploy it', stream: false });
      expect(res.statusCode).toBe(202);
      const body = res.json();
      expect(body).toMatchObject({
        sessionId: id,
        status: 'requires_action',
        completion: null,
        error: null,
        pendingPermissions: [{ toolName: 'Bash', input: { command: 'make deploy' }, toolUseId: 'toolu_1' }],
        streamUrl: `/api/v1/sessions/${id}/stream?messageId=${body.messageId}`,
        waitUrl: `/api/v1/sessions/${id}/messages/${body.messageId}?wait=true`,
      });
      // Without wait: the state as it is.
      const now = await get(turnUrl(body.messageId));
      expect(now.statusCode).toBe(200);
      expect(now.json()).toMatchObject({
        status: 'requires_action',
        pendingPermissions: [{ toolUseId: 'toolu_1' }],
      });

      const requestId = body.pendingPermissions[0].requestId as string;
      const answered = await h.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${id}/permissions/${requestId}`,
        headers: auth(),
        payload: { decision: 'allow' },
      });
      expect(answered.statusCode).toBe(200);
      const waited = await get(body.waitUrl);
      expect(waited.statusCode).toBe(200);
      expect(waited.json()).toMatchObject({
        messageId: body.messageId,
        response: 'deployed',
        status: 'completed',
      });
      expect((await get(turnUrl(body.messageId))).json()).toMatchObject({
        status: 'completed',
        completion: { response: 'deployed' },
        pendingPermissions: [],
      });
    });

    it('a wait that runs out answers 202 running; a failed turn answers its error; another key gets 404', async () => {
      await start();
      let release!: () => void;
      h.runner.script({
        messages: [msg.init()],
        waitFor: new Promise<void>((r) => (release = r)),
        end: { crash: 'boom' },
      });
      const accepted = await send({ prompt: 'slow', stream: true });
      const { messageId } = accepted.json();
      const waited = await get(turnUrl(messageId, '?wait=true&timeout=1000'));
      expect(waited.statusCode).toBe(202);
      expect(waited.json()).toMatchObject({ status: 'running', pendingPermissions: [] });
      expectError(await get(turnUrl(messageId), KEY_B), 404, 'SESSION_NOT_FOUND');
      expectError(await get(turnUrl('msg_unknown')), 404, 'NOT_FOUND');
      release();
      expectError(await get(turnUrl(messageId, '?wait=true')), 500, 'AGENT_ERROR');
      expect((await get(turnUrl(messageId))).json()).toMatchObject({
        status: 'failed',
        error: { code: 'AGENT_ERROR' },
      });
      expectError(await get(turnUrl(messageId, '?wait=maybe')), 400, 'INVALID_REQUEST');
    });
  });
});
