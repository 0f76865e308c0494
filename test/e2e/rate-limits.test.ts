/**
 * Per-key rate limits (sessions, messages, events per hour) with small limits: the headers on
 * every authenticated response, the countdown of each bucket, 429 with Retry-After, the events
 * bucket running dry mid-stream (the turn still completes and is in the history), and the
 * atomicity of the sessions bucket under 50 parallel creates.
 *
 * Each describe block starts its own stack, so every scenario begins with full buckets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, sseRequest, type JsonResponse } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  assistantTexts,
  createSession,
  dataOf,
  deleteSession,
  expectError,
  history,
  rateLimitOf,
  resultOf,
  SseReader,
  turnEnded,
  type Completion,
  type ErrorBody,
  type SessionSummary,
  claudeMessage,
} from './support.js';

const [KEY_A, KEY_B] = TEST_KEYS;
const HOUR_S = 3600;

/** Reset is Unix seconds (not ms), about an hour ahead. */
function expectResetAboutAnHourAhead(reset: number): void {
  const nowS = Date.now() / 1000;
  expect(Number.isInteger(reset)).toBe(true);
  expect(reset).toBeGreaterThan(nowS + HOUR_S - 120);
  expect(reset).toBeLessThanOrEqual(Math.ceil(nowS + HOUR_S) + 1);
}

function expectBucket(res: { headers: Headers }, limit: number, remaining: number): number {
  const rl = rateLimitOf(res.headers);
  expect({ limit: rl.limit, remaining: rl.remaining }).toEqual({ limit, remaining });
  expectResetAboutAnHourAhead(rl.reset);
  return rl.reset;
}

/** A 429 RATE_LIMIT_EXCEEDED with Retry-After (seconds, within the hour) and the bucket named. */
function expectRateLimited(res: JsonResponse<unknown>, bucket: string, limit: number): ErrorBody {
  const error = expectError(res, 429, 'RATE_LIMIT_EXCEEDED');
  expect(error.details).toMatchObject({ bucket, limit, remaining: 0 });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(HOUR_S);
  expectBucket(res, limit, 0);
  return error;
}

describe('sessions and messages buckets', () => {
  const SESSIONS = 3;
  const MESSAGES = 4;
  const EVENTS = 500;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: {
        RATE_LIMIT_SESSIONS_PER_HOUR: String(SESSIONS),
        RATE_LIMIT_MESSAGES_PER_HOUR: String(MESSAGES),
        RATE_LIMIT_EVENTS_PER_HOUR: String(EVENTS),
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('reports, counts down and enforces each bucket; endpoints that spend nothing report messages', async () => {
    const created: string[] = [];
    try {
      // Nothing spent yet: a read reports the messages bucket, full.
      expectBucket(await call(stack.base, 'GET', '/sessions', { key: KEY_A }), MESSAGES, MESSAGES);

      // POST /sessions draws on the sessions bucket.
      const first = await call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_A, body: {} });
      expect(first.status).toBe(201);
      created.push(first.body.sessionId);
      expectBucket(first, SESSIONS, SESSIONS - 1);
      const sessionId = first.body.sessionId;

      // Reads spend nothing and report the messages bucket (full: creating spent no message).
      for (const url of [
        '/sessions',
        `/sessions/${sessionId}`,
        `/sessions/${sessionId}/messages`,
        '/models',
      ]) {
        const res = await call(stack.base, 'GET', url, { key: KEY_A });
        expect(res.status, url).toBe(200);
        expectBucket(res, MESSAGES, MESSAGES);
      }

      // POST /messages and POST /stream draw on the messages bucket.
      const m1 = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'one' },
      });
      expect(m1.status).toBe(200);
      expectBucket(m1, MESSAGES, MESSAGES - 1);
      const s1 = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_A, {
        prompt: 'two',
      });
      expect(s1.status).toBe(200);
      expectBucket(s1, MESSAGES, MESSAGES - 2);
      expect((await new SseReader(s1).rest()).at(-1)?.event).toBe('complete');
      const m3 = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'three', stream: true },
      });
      expect(m3.status).toBe(202);
      expectBucket(m3, MESSAGES, MESSAGES - 3);
      // A GET of the streamUrl spends events, not messages; it waits for the turn's end.
      const follow = await sseRequest(
        stack.base.replace('/api/v1', ''),
        'GET',
        (m3.body as { streamUrl: string }).streamUrl,
        KEY_A,
      );
      expect(follow.status).toBe(200);
      expect((await new SseReader(follow).rest()).at(-1)?.event).toBe('complete');
      // Errors of an authenticated caller carry the headers too (reporting, not spending).
      const missing = await call(stack.base, 'GET', '/sessions/sess_doesnotexist', { key: KEY_A });
      expectError(missing, 404, 'SESSION_NOT_FOUND');
      expectBucket(missing, MESSAGES, MESSAGES - 3);
      // Messages refused before a turn starts spend nothing.
      const empty = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: ' ' },
      });
      expectError(empty, 400, 'INVALID_REQUEST');
      expectBucket(empty, MESSAGES, MESSAGES - 3);
      const nobody = await call(stack.base, 'POST', '/sessions/sess_doesnotexist/messages', {
        key: KEY_A,
        body: { prompt: 'hello?' },
      });
      expectError(nobody, 404, 'SESSION_NOT_FOUND');
      expectBucket(nobody, MESSAGES, MESSAGES - 3);
      const m4 = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'four' },
      });
      expect(m4.status).toBe(200);
      expectBucket(m4, MESSAGES, 0);

      // Over the limit: 429 on both message endpoints, and the prompt never runs.
      const mark = stack.fake.mark();
      expectRateLimited(
        await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
          key: KEY_A,
          body: { prompt: 'five' },
        }),
        'messages',
        MESSAGES,
      );
      const overStream = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_A, {
        prompt: 'six',
      });
      expect(overStream.headers.get('content-type')).toContain('application/json');
      expectRateLimited(
        { status: overStream.status, headers: overStream.headers, body: await overStream.json() },
        'messages',
        MESSAGES,
      );
      expect(stack.fake.requests.slice(mark).filter((r) => r.path === '/v1/messages')).toHaveLength(0);
      const prompts = (await history(stack, KEY_A, sessionId))
        .filter((m) => m.source === 'client')
        .map((m) => (claudeMessage(m).message as { content: string }).content);
      expect(prompts).toEqual(['one', 'two', 'three', 'four']);
      // A refused turn leaves the session idle and usable later.
      const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_A });
      expect(details.body).toMatchObject({ status: 'idle' });

      // The buckets are per key: B still has all of its own.
      expectBucket(await call(stack.base, 'GET', '/sessions', { key: KEY_B }), MESSAGES, MESSAGES);

      // Sessions: two more, then 429.
      for (const remaining of [SESSIONS - 2, SESSIONS - 3]) {
        const res = await call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_A, body: {} });
        expect(res.status).toBe(201);
        created.push(res.body.sessionId);
        expectBucket(res, SESSIONS, remaining);
        // Ending a session does not give its unit back.
        await deleteSession(stack, KEY_A, created.pop()!);
      }
      const refused = await call(stack.base, 'POST', '/sessions', { key: KEY_A, body: {} });
      expectRateLimited(refused, 'sessions', SESSIONS);
      // B can still create: 1 of its own 3.
      const ofB = await call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_B, body: {} });
      expect(ofB.status).toBe(201);
      created.push(ofB.body.sessionId);
      expectBucket(ofB, SESSIONS, SESSIONS - 1);
      await deleteSession(stack, KEY_B, created.pop()!);
    } finally {
      for (const id of created) await call(stack.base, 'DELETE', `/sessions/${id}`, { key: KEY_A });
    }
  });

  it('a refused request reports the bucket of its endpoint', async () => {
    // POST /sessions draws on `sessions`; a create refused for a bad body must say so.
    const badCreate = await call(stack.base, 'POST', '/sessions', { key: KEY_B, body: { maxTurns: 'ten' } });
    expectError(badCreate, 400, 'INVALID_REQUEST');
    const streamOfNothing = await sseRequest(stack.base, 'GET', '/sessions/sess_doesnotexist/stream', KEY_B);
    expectError(
      {
        status: streamOfNothing.status,
        headers: streamOfNothing.headers,
        body: await streamOfNothing.json(),
      },
      404,
      'SESSION_NOT_FOUND',
    );
    // Each endpoint reports the bucket it draws on, also when it refuses.
    expect(rateLimitOf(badCreate.headers).limit).toBe(SESSIONS);
    expect(rateLimitOf(streamOfNothing.headers).limit).toBe(EVENTS);
  });
});

describe('events bucket', () => {
  // A plain turn is 7 events (prompt, running, init, assistant, result, idle, complete).
  const EVENTS = 9;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_EVENTS_PER_HOUR: String(EVENTS) } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('each delivered event spends one; a replay that runs dry ends with one error event; then 429', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const done = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'a turn to replay' },
      });
      expect(done.status).toBe(200);

      // GET /stream reports the events bucket (not spending on the request itself).
      const first = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY_A);
      expect(first.status).toBe(200);
      expectBucket(first, EVENTS, EVENTS);
      const replayed = await new SseReader(first).rest();
      expect(replayed.at(-1)?.event).toBe('complete');
      const spent = replayed.length;
      expect(spent).toBeGreaterThanOrEqual(3);
      expect(spent).toBeLessThan(EVENTS);

      // Comments (`: connected`, pings) are free: exactly one unit per event delivered.
      const second = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY_A);
      expect(second.status).toBe(200);
      expectBucket(second, EVENTS, EVENTS - spent);
      const reader = new SseReader(second);
      const partial = await reader.rest();
      const left = EVENTS - spent;
      expect(partial).toHaveLength(left + 1);
      expect(partial.slice(0, left).map((e) => e.id)).toEqual(replayed.slice(0, left).map((e) => e.id));
      const cut = partial.at(-1)!;
      expect(cut.event).toBe('error');
      // The connection's own error has no id: a reconnecting client resumes after the last event.
      expect(cut.id).toBeNull();
      expect(dataOf<ErrorBody>(cut)).toMatchObject({
        code: 'RATE_LIMIT_EXCEEDED',
        details: { bucket: 'events', limit: EVENTS, remaining: 0 },
      });

      // Dry: the stream is refused up front with a JSON 429.
      const third = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY_A);
      expectRateLimited(
        { status: third.status, headers: third.headers, body: await third.json() },
        'events',
        EVENTS,
      );
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('running dry mid-stream: one error event, the stream closes, the turn completes into the history', async () => {
    const sessionId = await createSession(stack, KEY_B, { permissionMode: 'acceptEdits' });
    try {
      // Spend most of B's bucket on a replay, leaving a few units for the live turn.
      const warmup = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_B,
        body: { prompt: 'warm up' },
      });
      expect(warmup.status).toBe(200);
      const replay = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY_B);
      const spent = (await new SseReader(replay).rest()).length;
      const left = EVENTS - spent;
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(3);

      // A turn of many events: slow text, then a tool call and its result, then a final answer.
      const res = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_B, {
        prompt: 'long turn [[slow:5:200]] [[bash:echo events-dry]]',
      });
      expect(res.status).toBe(200);
      const events = await new SseReader(res).rest();
      expect(events).toHaveLength(left + 1);
      expect(events.slice(0, -1).every((e) => ['message', 'status', 'model_request'].includes(e.event))).toBe(
        true,
      );
      expect(events.at(-1)?.event).toBe('error');
      expect(dataOf<ErrorBody>(events.at(-1)!)).toMatchObject({
        code: 'RATE_LIMIT_EXCEEDED',
        details: { bucket: 'events' },
      });
      const turnId = dataOf<{ turnId: string }>(events[0]!).turnId;

      // The stream closed while the turn was still running (the tool call was yet to come).
      const during = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_B });
      expect(during.body).toMatchObject({ status: 'running', currentMessageId: turnId });

      await turnEnded(stack, KEY_B, sessionId);
      const messages = await history(stack, KEY_B, sessionId);
      const result = resultOf(messages, turnId);
      expect(result?.content).toMatchObject({ is_error: false, subtype: 'success' });
      const ofTurn = messages.filter((m) => m.turnId === turnId);
      // (The sandboxed shell may print this machine's own start-up noise before the output.)
      expect(assistantTexts(ofTurn).join('\n')).toMatch(/Tool result:[\s\S]*events-dry/);
      // Far more was in the history than the client could receive.
      expect(ofTurn.length).toBeGreaterThan(left + 1);
      const after = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_B });
      expect(after.body).toMatchObject({ status: 'idle', currentMessageId: null });
    } finally {
      await deleteSession(stack, KEY_B, sessionId);
    }
  });
});

describe('events bucket already empty', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_EVENTS_PER_HOUR: '1' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('POST /stream is refused with 429 before it runs a turn nobody can watch', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      // The one event of the hour, then the bucket is dry mid-stream (the contract's case).
      const first = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_A, {
        prompt: 'first',
      });
      const events = await new SseReader(first).rest();
      expect(events.map((e) => e.event)).toEqual(['message', 'error']);
      await turnEnded(stack, KEY_A, sessionId);
      const messagesLeft = rateLimitOf(first.headers).remaining;

      // GET /stream checks the bucket first: a JSON 429.
      const attach = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY_A);
      expectRateLimited(
        { status: attach.status, headers: attach.headers, body: await attach.json() },
        'events',
        1,
      );

      const mark = stack.fake.mark();
      const second = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_A, {
        prompt: 'second',
      });
      const contentType = second.headers.get('content-type') ?? '';
      const text = await second.text();
      await turnEnded(stack, KEY_A, sessionId);
      // POST /stream looks at the events bucket before it starts a turn nobody could watch.
      expect({ status: second.status, contentType }, text).toEqual({
        status: 429,
        contentType: expect.stringContaining('application/json') as unknown,
      });
      expect(stack.fake.requests.slice(mark).filter((r) => r.path === '/v1/messages')).toHaveLength(0);
      // The 429 reports the bucket that refused; the messages bucket was not spent.
      expect(rateLimitOf(second.headers).remaining).toBe(0);
      const later = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_A });
      expect(rateLimitOf(later.headers).remaining).toBe(messagesLeft);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});

describe('atomicity under parallel creates', () => {
  const LIMIT = 10;
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { RATE_LIMIT_SESSIONS_PER_HOUR: String(LIMIT), MAX_LIVE_SESSIONS: '60' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('50 parallel POST /sessions against a limit of 10 make exactly 10 sessions', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        call<SessionSummary>(stack.base, 'POST', '/sessions', { key: KEY_A, body: {} }),
      ),
    );
    const created = results.filter((r) => r.status === 201).map((r) => r.body.sessionId);
    try {
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(LIMIT);
      expect(statuses.filter((s) => s === 429)).toHaveLength(50 - LIMIT);
      for (const refused of results.filter((r) => r.status === 429)) {
        expectRateLimited(refused, 'sessions', LIMIT);
      }
      // Each unit of the bucket was handed out once.
      const remaining = results
        .filter((r) => r.status === 201)
        .map((r) => rateLimitOf(r.headers).remaining)
        .sort((a, b) => a - b);
      expect(remaining).toEqual(Array.from({ length: LIMIT }, (_, i) => i));
      expect(new Set(created).size).toBe(LIMIT);
      const list = await call<{ total: number }>(stack.base, 'GET', '/sessions?limit=100', { key: KEY_A });
      expect(list.body.total).toBe(LIMIT);
    } finally {
      await Promise.all(created.map((id) => deleteSession(stack, KEY_A, id)));
    }
  });
});
