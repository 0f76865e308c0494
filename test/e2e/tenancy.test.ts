/**
 * Authentication and tenancy: which keys are accepted and how, and that a session belongs to
 * the key that made it: another key cannot see, read, use, stream or end it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, sseRequest } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  createSession,
  deleteSession,
  expectError,
  SseReader,
  type Completion,
  type SessionSummary,
} from './support.js';

const [KEY_A, KEY_B] = TEST_KEYS;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('authentication', () => {
  it('no key is 401 MISSING_API_KEY on every authenticated endpoint', async () => {
    for (const [method, url, body] of [
      ['GET', '/sessions', undefined],
      ['POST', '/sessions', {}],
      ['GET', '/models', undefined],
      ['GET', '/sessions/sess_x', undefined],
      ['POST', '/sessions/sess_x/messages', { prompt: 'hi' }],
      ['POST', '/sessions/sess_x/stream', { prompt: 'hi' }],
    ] as const) {
      const res = await call(stack.base, method, url, { body });
      expectError(res, 401, 'MISSING_API_KEY');
      // No rate-limit headers for a caller we do not know.
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });

  it('an unknown key is 401 INVALID_API_KEY, in either header', async () => {
    expectError(
      await call(stack.base, 'GET', '/sessions', { key: 'test-key-wrong-9999' }),
      401,
      'INVALID_API_KEY',
    );
    expectError(
      await call(stack.base, 'GET', '/sessions', {
        headers: { authorization: 'Bearer test-key-wrong-9999' },
      }),
      401,
      'INVALID_API_KEY',
    );
    // A valid key with a different case or extra characters is not the key.
    expectError(
      await call(stack.base, 'GET', '/sessions', { key: KEY_A.toUpperCase() }),
      401,
      'INVALID_API_KEY',
    );
    expectError(await call(stack.base, 'GET', '/sessions', { key: `${KEY_A}x` }), 401, 'INVALID_API_KEY');
  });

  it('accepts the key as x-api-key and as Authorization: Bearer', async () => {
    const direct = await call(stack.base, 'GET', '/sessions', { key: KEY_A });
    expect(direct.status).toBe(200);
    const bearer = await call(stack.base, 'GET', '/sessions', {
      headers: { authorization: `Bearer ${KEY_A}` },
    });
    expect(bearer.status).toBe(200);
    expect(bearer.body).toMatchObject({ sessions: expect.any(Array), total: expect.any(Number) });
    // Other schemes are not a key.
    expectError(
      await call(stack.base, 'GET', '/sessions', { headers: { authorization: `Basic ${KEY_A}` } }),
      401,
      'MISSING_API_KEY',
    );
  });

  it('never reads the key from the query string', async () => {
    for (const param of ['api_key', 'apiKey', 'x-api-key', 'key', 'token', 'access_token']) {
      const res = await call(stack.base, 'GET', `/sessions?${param}=${KEY_A}`);
      expectError(res, 401, 'MISSING_API_KEY');
    }
  });

  it('/health needs no key', async () => {
    const res = await call(stack.base, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'healthy' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('tenancy', () => {
  it("another key's session is SESSION_NOT_FOUND everywhere and missing from its list", async () => {
    const sessionId = await createSession(stack, KEY_A, { metadata: { owner: 'A' } });
    const ownSessionOfB = await createSession(stack, KEY_B);
    try {
      const attempts: Array<[string, string, unknown]> = [
        ['GET', `/sessions/${sessionId}`, undefined],
        ['GET', `/sessions/${sessionId}/messages`, undefined],
        ['POST', `/sessions/${sessionId}/messages`, { prompt: 'B tries to talk' }],
        ['POST', `/sessions/${sessionId}/messages`, { prompt: 'B tries to talk', stream: true }],
        ['DELETE', `/sessions/${sessionId}`, undefined],
      ];
      const mark = stack.fake.mark();
      for (const [method, url, body] of attempts) {
        const res = await call(stack.base, method, url, { key: KEY_B, body });
        const error = expectError(res, 404, 'SESSION_NOT_FOUND');
        expect(error.details).toEqual({ sessionId });
      }
      // The SSE endpoints refuse before opening a stream: a JSON 404, not an event stream.
      for (const [method, body] of [
        ['POST', { prompt: 'B tries to stream' }],
        ['GET', undefined],
      ] as const) {
        const res = await sseRequest(stack.base, method, `/sessions/${sessionId}/stream`, KEY_B, body);
        const text = await res.text();
        expectError(
          { status: res.status, headers: res.headers, body: JSON.parse(text) as unknown },
          404,
          'SESSION_NOT_FOUND',
        );
      }
      // B's prompts never reached the model.
      expect(stack.fake.requests.slice(mark).filter((r) => r.path === '/v1/messages')).toHaveLength(0);

      const listB = await call<{ sessions: SessionSummary[]; total: number }>(
        stack.base,
        'GET',
        '/sessions',
        {
          key: KEY_B,
        },
      );
      expect(listB.body.sessions.map((s) => s.sessionId)).toEqual([ownSessionOfB]);
      expect(listB.body.total).toBe(1);
      const listA = await call<{ sessions: SessionSummary[] }>(stack.base, 'GET', '/sessions', {
        key: KEY_A,
      });
      expect(listA.body.sessions.map((s) => s.sessionId)).toContain(sessionId);
      expect(listA.body.sessions.map((s) => s.sessionId)).not.toContain(ownSessionOfB);

      // A's session is untouched by all of that: it answers, and B's prompts are not in it.
      const answer = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'A is still here' },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.response).toContain('A is still here');
      const stream = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_A, {
        prompt: 'A streams',
      });
      expect(stream.status).toBe(200);
      expect((await new SseReader(stream).rest()).at(-1)?.event).toBe('complete');
      const historyOfA = await call<{
        messages: Array<{ source: string; content: { message?: { content?: unknown } } }>;
      }>(stack.base, 'GET', `/sessions/${sessionId}/messages`, { key: KEY_A });
      const prompts = historyOfA.body.messages
        .filter((m) => m.source === 'client')
        .map((m) => m.content.message?.content);
      expect(prompts).toEqual(['A is still here', 'A streams']);
      const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_A });
      expect(details.body).toMatchObject({ sessionId, metadata: { owner: 'A' }, status: 'idle' });

      // A's message id does not open A's turn through B's own session either.
      const replayOfA = await sseRequest(
        stack.base,
        'GET',
        `/sessions/${ownSessionOfB}/stream?messageId=${answer.body.messageId}`,
        KEY_B,
      );
      const replayBody = await replayOfA.text();
      expect(replayOfA.headers.get('content-type')).toContain('application/json');
      expectError(
        { status: replayOfA.status, headers: replayOfA.headers, body: JSON.parse(replayBody) as unknown },
        404,
        'NOT_FOUND',
      );
      expect(replayBody).not.toContain('A is still here');
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
      await deleteSession(stack, KEY_B, ownSessionOfB);
    }
  });

  it('a key cannot end or see sessions of another key even after the owner ended them', async () => {
    const sessionId = await createSession(stack, KEY_A);
    await deleteSession(stack, KEY_A, sessionId);
    for (const key of [KEY_A, KEY_B]) {
      expectError(await call(stack.base, 'GET', `/sessions/${sessionId}`, { key }), 404, 'SESSION_NOT_FOUND');
      expectError(
        await call(stack.base, 'DELETE', `/sessions/${sessionId}`, { key }),
        404,
        'SESSION_NOT_FOUND',
      );
    }
    const listA = await call<{ sessions: SessionSummary[] }>(stack.base, 'GET', '/sessions', { key: KEY_A });
    expect(listA.body.sessions.map((s) => s.sessionId)).not.toContain(sessionId);
  });
});
