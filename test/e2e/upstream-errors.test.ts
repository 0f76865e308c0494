/**
 * Failures of the model API and turn timeouts, through the real server and the real Claude Code
 * binary against the fake upstream: each surfaces as the contract's error on the JSON path
 * (status + envelope) and as one SSE `error` event that ends the stream, and the session answers
 * the next message afterwards.
 *
 * Recovery is a plain prompt answered by the default responder, as a demo user would send it:
 * after a failed turn Claude Code merges the failed prompt into the next user message (notes §9),
 * and the fake acts only on the newest prompt in it, so the old directive does not fire again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PREFIX, requestUserTexts } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  createSession,
  dataOf,
  deleteSession,
  expectError,
  history,
  streamTurn,
  type Completion,
  type ErrorBody,
  claudeMessage,
} from './support.js';

const KEY = TEST_KEYS[0];

let stack: Stack;
beforeAll(async () => {
  // One session per case: more than the default 10 creates an hour.
  stack = await startStack({ env: { RATE_LIMIT_SESSIONS_PER_HOUR: '100' } });
});
afterAll(async () => {
  await stack?.close();
});

/**
 * The next turn after a failure, a plain prompt with no directive: answered normally. Its timeout
 * bounds a follow-up that would hang like the failed turn did.
 */
async function expectRecovers(sessionId: string, prompt: string): Promise<void> {
  const mark = stack.fake.mark();
  const next = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
    key: KEY,
    body: { prompt, timeout: 15_000 },
  });
  expect(next.status, JSON.stringify(next.body)).toBe(200);
  expect(next.body).toMatchObject({
    sessionId,
    status: 'completed',
    response: `${DEMO_PREFIX} You said: "${prompt}"`,
  });
  const request = await stack.fake.waitForRequest((r) => r.path === '/v1/messages', 5000, mark);
  expect(requestUserTexts(request).join('\n')).toContain(prompt);
}

interface UpstreamCase {
  name: string;
  directive: string;
  status: number;
  code: string;
  upstreamStatus: number | null;
  /** Extra session fields (a model the upstream rejects). */
  session?: Record<string, unknown>;
  check?: (error: ErrorBody) => void;
}

const MISSING_MODEL = 'claude-no-such-model-e2e';

const CASES: UpstreamCase[] = [
  {
    name: '401 (bad credentials) → 502 UPSTREAM_ERROR',
    directive: '[[error:401]]',
    status: 502,
    code: 'UPSTREAM_ERROR',
    upstreamStatus: 401,
    check: (e) => expect(e.details.upstreamErrorType).toBe('authentication_error'),
  },
  {
    name: '529 (overloaded) → 503 UPSTREAM_UNAVAILABLE',
    directive: '[[error:529]]',
    status: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    upstreamStatus: 529,
    check: (e) => expect(e.details.upstreamErrorType).toBe('overloaded_error'),
  },
  {
    name: '404 (unknown model) → 502 UPSTREAM_ERROR naming the model',
    directive: '[[error:404]]',
    status: 502,
    code: 'UPSTREAM_ERROR',
    upstreamStatus: 404,
    session: { model: MISSING_MODEL },
    check: (e) => {
      expect(e.message).toContain(MISSING_MODEL);
      expect(e.details.model).toBe(MISSING_MODEL);
    },
  },
  {
    name: '429 (rate limited) → 503 UPSTREAM_UNAVAILABLE',
    directive: '[[error:429]]',
    status: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    upstreamStatus: 429,
    check: (e) => expect(e.details.upstreamErrorType).toBe('rate_limit_error'),
  },
  {
    name: '500 (server error) → 502 UPSTREAM_ERROR',
    directive: '[[error:500]]',
    status: 502,
    code: 'UPSTREAM_ERROR',
    upstreamStatus: 500,
  },
  {
    name: '400 (invalid request) → 502 UPSTREAM_ERROR',
    directive: '[[error:400]]',
    status: 502,
    code: 'UPSTREAM_ERROR',
    upstreamStatus: 400,
  },
  {
    name: 'an overloaded error inside a 200 stream → 503 UPSTREAM_UNAVAILABLE',
    directive: '[[sse_error:overloaded_error]]',
    status: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    upstreamStatus: 529,
  },
  {
    name: 'a connection dropped mid-stream → 503 UPSTREAM_UNAVAILABLE with no upstream status',
    directive: '[[midstream]]',
    status: 503,
    code: 'UPSTREAM_UNAVAILABLE',
    upstreamStatus: null,
  },
];

describe('upstream failures', () => {
  it.each(CASES)('$name, on the JSON and the SSE path; the session goes on', async (c) => {
    const sessionId = await createSession(stack, KEY, c.session ?? {});
    try {
      // JSON path: the error's status and envelope.
      const json = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: `json ${c.directive}`, stream: false },
      });
      const error = expectError(json, c.status, c.code);
      expect(error.details.upstreamStatus).toBe(c.upstreamStatus);
      c.check?.(error);
      // SSE path: the same error as the data of one `error` event, which ends the stream.
      const { events } = await streamTurn(stack, sessionId, { prompt: `sse ${c.directive}` });
      const errors = events.filter((e) => e.event === 'error');
      expect(errors).toHaveLength(1);
      expect(events.at(-1)?.event).toBe('error');
      expect(events.some((e) => e.event === 'complete')).toBe(false);
      const streamed = dataOf<ErrorBody>(errors[0]!);
      expect(Object.keys(streamed).sort()).toEqual(['code', 'details', 'message']);
      expect(streamed.code).toBe(c.code);
      expect(streamed.details.upstreamStatus).toBe(c.upstreamStatus);
      c.check?.(streamed);
      // Both failed turns are in the history, each with Claude Code's error result.
      const messages = await history(stack, KEY, sessionId);
      const results = messages.filter((m) => m.type === 'result');
      expect(results.map((r) => claudeMessage(r).is_error)).toEqual([true, true]);

      await expectRecovers(sessionId, `after ${c.code}`);
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });
});

describe('turn timeouts', () => {
  it('a turn that outlives its timeout is 408 REQUEST_TIMEOUT, the API call is cancelled, and the session goes on', async () => {
    const sessionId = await createSession(stack, KEY);
    try {
      // A first turn starts the process: on a loaded machine a cold start alone can outlast the
      // 1 s timeout, and the timeout must land while the model's answer streams.
      const warm = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'hello' },
      });
      expect(warm.status).toBe(200);
      const mark = stack.fake.mark();
      const started = Date.now();
      const res = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        // 50 chunks of 100 ms: about 5 s of streaming, against a 1 s timeout.
        body: { prompt: 'slow json [[slow:50:100]]', timeout: 1000 },
      });
      const elapsed = Date.now() - started;
      const error = expectError(res, 408, 'REQUEST_TIMEOUT');
      expect(error.details).toMatchObject({ timeoutMs: 1000 });
      expect(elapsed).toBeLessThan(4500);
      // Claude Code was interrupted: it closed its request to the model API before the answer ended.
      const request = await stack.fake.waitForRequest((r) => r.path === '/v1/messages', 5000, mark);
      await stack.fake.waitForClientClose(request.id, 5000);
      expect(request.closedByClient).toBe(true);

      // SSE path: one `error` event REQUEST_TIMEOUT, then the stream ends.
      const sseMark = stack.fake.mark();
      const { events } = await streamTurn(stack, sessionId, {
        prompt: 'slow sse [[slow:50:100]]',
        timeout: 1000,
      });
      expect(events.at(-1)?.event).toBe('error');
      expect(dataOf<ErrorBody>(events.at(-1)!)).toMatchObject({
        code: 'REQUEST_TIMEOUT',
        details: { timeoutMs: 1000 },
      });
      const sseRequestSeen = await stack.fake.waitForRequest((r) => r.path === '/v1/messages', 5000, sseMark);
      await stack.fake.waitForClientClose(sseRequestSeen.id, 5000);

      // The next message is answered normally (the responder echoes it).
      const next = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'are you there after the timeout?' },
      });
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.status).toBe('completed');
      expect(next.body.response).toContain('are you there after the timeout?');
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });

  it('a model API that never answers ([[hang]]) is 408 within a few seconds of the timeout', async () => {
    const sessionId = await createSession(stack, KEY);
    try {
      // A first turn makes sure Claude Code has started: on a loaded machine its start alone can
      // take longer than this test's timeout, and the hang must be the model API's.
      expect(
        (
          await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
            key: KEY,
            body: { prompt: 'warm up' },
          })
        ).status,
      ).toBe(200);
      const mark = stack.fake.mark();
      const started = Date.now();
      const res = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'hang forever [[hang]]', timeout: 1000 },
      });
      expectError(res, 408, 'REQUEST_TIMEOUT');
      // Bounded by the timeout plus the server's interrupt grace (10 s), not by a hang.
      expect(Date.now() - started).toBeLessThan(12_000);
      const request = await stack.fake.waitForRequest((r) => r.path === '/v1/messages', 5000, mark);
      await stack.fake.waitForClientClose(request.id, 5000);
      expect(stack.fake.hangingCount()).toBe(0);

      const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
      expect(details.body).toMatchObject({ status: 'idle', currentMessageId: null });

      // The README's demo step: a plain prompt after the hang is answered, it does not hang again.
      await expectRecovers(sessionId, 'are you back after the hang?');
    } finally {
      stack.fake.releaseHanging();
      await deleteSession(stack, KEY, sessionId);
    }
  });
});

describe('agent failures', () => {
  it('a turn stopped inside a running tool is 408, and the session goes on', async () => {
    const sessionId = await createSession(stack, KEY, { allowedTools: ['Bash'] });
    try {
      const started = Date.now();
      const res = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'a slow tool [[bash:python3 -c "import time; time.sleep(30)"]]', timeout: 1500 },
      });
      expectError(res, 408, 'REQUEST_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(12_000);
      const next = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'after the slow tool' },
      });
      expect(next.status).toBe(200);
      expect(next.body.response).toContain('after the slow tool');
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
    // Its worst case on a loaded machine: interrupt, the 10 s grace, a stop, a cold resume.
  }, 60_000);

  it('Claude Code dying mid-turn is 500 AGENT_ERROR; the next message resumes the conversation', async () => {
    const sessionId = await createSession(stack, KEY);
    try {
      const first = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'remember the word pelican' },
      });
      expect(first.status).toBe(200);

      const mark = stack.fake.mark();
      const pending = call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'this one dies [[slow:50:100]]' },
      });
      await stack.fake.waitForRequest((r) => r.path === '/v1/messages', 10_000, mark);
      // The stack runs the server in this process: find the session's Claude Code pid.
      const { deps } = stack.server.server;
      const pid = deps.registry.find(await deps.keys.authenticate(KEY), sessionId).process?.pid;
      expect(pid).toBeGreaterThan(0);
      process.kill(pid!, 'SIGKILL');

      const error = expectError(await pending, 500, 'AGENT_ERROR');
      expect(error.details).toMatchObject({ signal: 'SIGKILL' });
      // Never a stack trace or internals beyond the reason.
      expect(JSON.stringify(error)).not.toMatch(/\bat .+:\d+:\d+/);

      // A new process resumes Claude Code's transcript: the model sees the earlier turns.
      const recallMark = stack.fake.mark();
      const next = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'what was the word? [[recall]]' },
      });
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.response).toContain('remember the word pelican');
      const request = await stack.fake.waitForRequest((r) => r.path === '/v1/messages', 5000, recallMark);
      expect(requestUserTexts(request)[0]).toBe('remember the word pelican');
      const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
      expect(details.body).toMatchObject({ status: 'idle', process: 'live' });
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });
});
