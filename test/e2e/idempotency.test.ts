/**
 * Idempotency-Key end to end: a retried POST returns the first outcome instead of running the
 * prompt again, also when the retries arrive all at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestUserTexts } from '../../src/fake-anthropic/index.js';
import { call, readSse, sseRequest } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { createSession, deleteSession, expectError, history, type Completion } from './support.js';

const KEY = TEST_KEYS[0];
const OTHER = TEST_KEYS[1];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** How many model API requests carried this exact prompt as their last user text. */
function promptsSeen(prompt: string, from: number): number {
  return stack.fake.messagesRequests().filter((r) => r.id > from && requestUserTexts(r).at(-1) === prompt)
    .length;
}

describe('Idempotency-Key', () => {
  it('ten concurrent identical messages start exactly one turn and all get its answer', async () => {
    const sessionId = await createSession(stack, KEY);
    try {
      const mark = stack.fake.mark();
      const prompt = 'exactly once [[slow:4:50]]';
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
            key: KEY,
            body: { prompt },
            headers: { 'idempotency-key': 'ten-at-once' },
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      const ids = new Set(responses.map((r) => r.body.messageId));
      expect(ids.size).toBe(1);
      expect(new Set(responses.map((r) => r.body.response)).size).toBe(1);
      expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
      expect(promptsSeen(prompt, mark)).toBe(1);
      const prompts = (await history(stack, KEY, sessionId)).filter((m) => m.source === 'client');
      expect(prompts).toHaveLength(1);

      // Later, the same retry still gets the same answer, and spends no message.
      const before = Number(responses[0]!.headers.get('x-ratelimit-remaining'));
      const later = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt },
        headers: { 'idempotency-key': 'ten-at-once' },
      });
      expect(later.status).toBe(200);
      expect(later.body).toEqual(responses[0]!.body);
      expect(Number(later.headers.get('x-ratelimit-remaining'))).toBe(before);
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });

  it('a retried stream attaches to the first stream’s turn', async () => {
    const sessionId = await createSession(stack, KEY);
    try {
      const mark = stack.fake.mark();
      const body = { prompt: 'stream once [[slow:5:40]]' };
      const headers = { 'idempotency-key': 'stream-retry' };
      const [first, second] = await Promise.all([
        sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY, body, headers),
        sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY, body, headers),
      ]);
      const [a, b] = await Promise.all([readSse(first), readSse(second)]);
      expect(a.events.at(-1)?.event).toBe('complete');
      expect(b.events.map((e) => [e.id, e.event])).toEqual(a.events.map((e) => [e.id, e.event]));
      expect(promptsSeen(body.prompt, mark)).toBe(1);
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });

  it('stream:true retries answer the same 202; a session create retry returns the same session', async () => {
    const created = await Promise.all(
      [1, 2, 3].map(() =>
        call<{ sessionId: string }>(stack.base, 'POST', '/sessions', {
          key: KEY,
          body: { metadata: { job: 7 } },
          headers: { 'idempotency-key': 'create-once' },
        }),
      ),
    );
    expect(created.map((r) => r.status)).toEqual([201, 201, 201]);
    const sessionId = created[0]!.body.sessionId;
    expect(new Set(created.map((r) => r.body.sessionId))).toEqual(new Set([sessionId]));
    try {
      const send = () =>
        call<{ messageId: string; streamUrl: string }>(
          stack.base,
          'POST',
          `/sessions/${sessionId}/messages`,
          {
            key: KEY,
            body: { prompt: 'accepted once', stream: true },
            headers: { 'idempotency-key': 'accept-once' },
          },
        );
      const first = await send();
      const again = await send();
      expect([first.status, again.status]).toEqual([202, 202]);
      expect(again.body).toEqual(first.body);
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });

  it('the same key with another request is refused; another API key has its own keys', async () => {
    const sessionId = await createSession(stack, KEY);
    const otherSession = await createSession(stack, OTHER);
    try {
      const headers = { 'idempotency-key': 'reused' };
      const first = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'first request' },
        headers,
      });
      expect(first.status).toBe(200);
      const changed = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'another request' },
        headers,
      });
      expect(expectError(changed, 422, 'IDEMPOTENCY_KEY_REUSED').details).toMatchObject({
        idempotencyKey: 'reused',
      });

      const theirs = await call<Completion>(stack.base, 'POST', `/sessions/${otherSession}/messages`, {
        key: OTHER,
        body: { prompt: 'first request' },
        headers,
      });
      expect(theirs.status).toBe(200);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();

      const bad = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'x' },
        headers: { 'idempotency-key': 'has spaces in it' },
      });
      expectError(bad, 400, 'INVALID_REQUEST');
    } finally {
      await deleteSession(stack, KEY, sessionId);
      await deleteSession(stack, OTHER, otherSession);
    }
  });
});
