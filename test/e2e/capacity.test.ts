/**
 * The server's cap on live sessions (MAX_LIVE_SESSIONS) and the one-turn-at-a-time rule of a
 * session (SESSION_BUSY).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, sseRequest } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  createSession,
  deleteSession,
  expectError,
  rateLimitOf,
  SseReader,
  type Completion,
  type SessionSummary,
} from './support.js';

const [KEY_A, KEY_B] = TEST_KEYS;

describe('MAX_LIVE_SESSIONS', () => {
  const MAX = 2;
  let stack: Stack;
  const live: Array<{ key: string; id: string }> = [];
  beforeAll(async () => {
    stack = await startStack({ env: { MAX_LIVE_SESSIONS: String(MAX), RATE_LIMIT_SESSIONS_PER_HOUR: '50' } });
  });
  afterEach(async () => {
    for (const { key, id } of live.splice(0)) await call(stack.base, 'DELETE', `/sessions/${id}`, { key });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the third create is 429 MAX_SESSIONS_REACHED (whatever the key); after a DELETE a create works', async () => {
    live.push({ key: KEY_A, id: await createSession(stack, KEY_A) });
    live.push({ key: KEY_B, id: await createSession(stack, KEY_B) });

    for (const key of [KEY_A, KEY_B]) {
      const third = await call(stack.base, 'POST', '/sessions', { key, body: {} });
      const error = expectError(third, 429, 'MAX_SESSIONS_REACHED');
      expect(error.details).toMatchObject({ maxLiveSessions: MAX });
    }
    // The figures need a key; a stranger sees the status alone.
    const health = await call(stack.base, 'GET', '/health', { key: KEY_A });
    expect(health.body).toMatchObject({ status: 'degraded', sessions: { total: MAX, max: MAX } });
    expect((await call(stack.base, 'GET', '/health')).body).not.toHaveProperty('sessions');

    const ended = live.shift()!;
    await deleteSession(stack, ended.key, ended.id);
    const again = await call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_A, body: {} });
    expect(again.status).toBe(201);
    live.push({ key: KEY_A, id: again.body.sessionId });

    // The new session works.
    const answer = await call<Completion>(stack.base, 'POST', `/sessions/${again.body.sessionId}/messages`, {
      key: KEY_A,
      body: { prompt: 'after the cap' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.response).toContain('after the cap');
  });

  it('parallel creates never exceed the cap', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_A, body: {} }),
      ),
    );
    for (const r of results) if (r.status === 201) live.push({ key: KEY_A, id: r.body.sessionId });
    expect(results.filter((r) => r.status === 201)).toHaveLength(MAX);
    for (const r of results.filter((x) => x.status !== 201)) expectError(r, 429, 'MAX_SESSIONS_REACHED');
  });

  it('a create refused by the cap does not spend the sessions rate limit', async () => {
    // One session; its create tells how many session units the key has left.
    const first = await call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_B, body: {} });
    expect(first.status).toBe(201);
    live.push({ key: KEY_B, id: first.body.sessionId });
    const remainingAfterFirst = rateLimitOf(first.headers).remaining;

    // One slot left, five creates racing for it: one wins, four are refused by the cap.
    const racing = await Promise.all(
      Array.from({ length: 5 }, () =>
        call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_B, body: {} }),
      ),
    );
    const winners = racing.filter((r) => r.status === 201);
    expect(winners).toHaveLength(1);
    live.push({ key: KEY_B, id: winners[0]!.body.sessionId });
    for (const r of racing.filter((x) => x.status !== 201)) expectError(r, 429, 'MAX_SESSIONS_REACHED');
    // And one refused while the server is full.
    expectError(
      await call(stack.base, 'POST', '/sessions', { key: KEY_B, body: {} }),
      429,
      'MAX_SESSIONS_REACHED',
    );

    // Make room; the next create shows what the refusals cost.
    const freed = live.pop()!;
    await deleteSession(stack, freed.key, freed.id);
    const next = await call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_B, body: {} });
    expect(next.status).toBe(201);
    live.push({ key: KEY_B, id: next.body.sessionId });
    // Creates refused by the cap spend nothing: the slot is reserved before the quota is spent.
    expect(rateLimitOf(next.headers).remaining).toBe(remainingAfterFirst - 2);
  });
});

describe('SESSION_BUSY', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a second message while a turn runs is 409 SESSION_BUSY; the first turn completes normally', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const mark = stack.fake.mark();
      // About 1.5 s of streaming.
      const firstPrompt = 'the slow one [[slow:30:50]]';
      const first = call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: firstPrompt },
      });
      // The turn is running once its request reached the model API.
      await stack.fake.waitForRequest((r) => r.path === '/v1/messages', 10_000, mark);

      const busy = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'me too' },
      });
      const error = expectError(busy, 409, 'SESSION_BUSY');
      expect(error.details).toMatchObject({ sessionId, runningMessageId: expect.stringMatching(/^msg_/) });
      const busyStream = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_A, {
        prompt: 'me too, streaming',
      });
      expectError(
        { status: busyStream.status, headers: busyStream.headers, body: await busyStream.json() },
        409,
        'SESSION_BUSY',
      );
      const busyAsync = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'me too, later', stream: true },
      });
      expectError(busyAsync, 409, 'SESSION_BUSY');
      const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_A });
      expect(details.body).toMatchObject({
        status: 'running',
        currentMessageId: error.details.runningMessageId,
      });

      const answered = await first;
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ status: 'completed', messageId: error.details.runningMessageId });
      expect(answered.body.response).toContain('[30/30]');
      // Only the first prompt reached the model.
      const requests = stack.fake.requests.slice(mark).filter((r) => r.path === '/v1/messages');
      expect(requests).toHaveLength(1);

      // Idle again: the next message is accepted, and streams to its end.
      const next = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_A, {
        prompt: 'now me',
      });
      expect(next.status).toBe(200);
      expect((await new SseReader(next).rest()).at(-1)?.event).toBe('complete');
      // The refused messages spent nothing: only the first turn and this one count.
      const whileBusy = rateLimitOf(busy.headers);
      expect(whileBusy.remaining).toBe(whileBusy.limit - 1);
      expect(rateLimitOf(next.headers).remaining).toBe(whileBusy.limit - 2);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});

describe('a key’s cap on open streams (maxOpenStreams)', () => {
  const MAX = 2;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { KEY_MAX_OPEN_STREAMS: String(MAX) } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the next stream is 429 MAX_STREAMS_REACHED with Retry-After, before it starts a turn; a closed one frees a place', async () => {
    const sessionId = await createSession(stack, KEY_A);
    const controllers: AbortController[] = [];
    const openStream = async (key: string): Promise<Response> => {
      const abort = new AbortController();
      controllers.push(abort);
      return fetch(`${stack.base}/sessions/${sessionId}/stream?after=0`, {
        headers: { 'x-api-key': key, accept: 'text/event-stream' },
        signal: abort.signal,
      });
    };
    try {
      // A slow turn keeps the streams open.
      const started = await call<{ messageId: string }>(
        stack.base,
        'POST',
        `/sessions/${sessionId}/messages`,
        {
          key: KEY_A,
          body: { prompt: 'slowly [[slow:40:250]]', stream: true },
        },
      );
      expect(started.status).toBe(202);
      const open = [await openStream(KEY_A), await openStream(KEY_A)];
      expect(open.map((r) => r.status)).toEqual([200, 200]);

      const third = await openStream(KEY_A);
      const body = (await third.json()) as { error: { code: string; details: unknown } };
      expect(third.status).toBe(429);
      expect(body.error).toMatchObject({
        code: 'MAX_STREAMS_REACHED',
        details: { policy: 'maxOpenStreams', limit: MAX },
      });
      expect(third.headers.get('retry-after')).toBe('5');
      // A stream that would start a turn is refused before the turn: the session stays busy with
      // the first turn only, and no message is spent.
      const before = rateLimitOf(
        (await fetch(`${stack.base}/sessions`, { headers: { 'x-api-key': KEY_A } })).headers,
      );
      const post = await call(stack.base, 'POST', `/sessions/${sessionId}/stream`, {
        key: KEY_A,
        body: { prompt: 'another', queue: true },
      });
      expectError(post, 429, 'MAX_STREAMS_REACHED');
      const after = rateLimitOf(
        (await fetch(`${stack.base}/sessions`, { headers: { 'x-api-key': KEY_A } })).headers,
      );
      expect(after.remaining).toBe(before.remaining);
      // Another key's streams are its own.
      const other = await createSession(stack, KEY_B);
      expect(
        (await fetch(`${stack.base}/sessions/${other}/stream?after=0`, { headers: { 'x-api-key': KEY_B } }))
          .status,
      ).toBe(204);
      await deleteSession(stack, KEY_B, other);

      // One closes: its place is free again (once the server has seen the connection go).
      controllers[0]!.abort();
      let status = 0;
      for (const deadline = Date.now() + 10_000; status !== 200 && Date.now() < deadline;) {
        status = (await openStream(KEY_A)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
    } finally {
      for (const c of controllers) c.abort();
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});

describe('MAX_LIVE_PROCESSES with more concurrent turns than processes', () => {
  const MAX = 2;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { MAX_LIVE_PROCESSES: String(MAX), RATE_LIMIT_SESSIONS_PER_HOUR: '50' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('four turns in four sessions all complete, never more than two Claude Code processes at once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await createSession(stack, KEY_A));
    const { deps, pool } = stack.server.server;
    let most = 0;
    const sampler = setInterval(() => {
      const pids = new Set(ids.map((id) => deps.registry.pidOf(id)).filter((pid) => pid !== null));
      most = Math.max(most, pids.size, pool.inUse);
    }, 10);
    try {
      const answers = await Promise.all(
        ids.map((id, i) =>
          call<Completion>(stack.base, 'POST', `/sessions/${id}/messages`, {
            key: KEY_A,
            body: { prompt: `turn ${i} [[slow:8:100]]` },
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      for (const a of answers) expect(a.body.response).toContain('[8/8]');
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(MAX);
      // At least one of them had to wait in line, and its stream said so.
      const waited = await Promise.all(
        ids.map(async (id) => {
          const page = await call<{ messages: unknown[] }>(stack.base, 'GET', `/sessions/${id}/messages`, {
            key: KEY_A,
          });
          expect(page.status).toBe(200);
          const events = await fetch(`${stack.base}/sessions/${id}/stream?after=0`, {
            headers: { 'x-api-key': KEY_A },
          }).then((r) => (r.status === 200 ? r.text() : ''));
          return events.includes('"status":"waiting_for_process"');
        }),
      );
      expect(waited.filter(Boolean).length).toBeGreaterThan(0);
    } finally {
      clearInterval(sampler);
      for (const id of ids) await deleteSession(stack, KEY_A, id);
    }
  });
});
