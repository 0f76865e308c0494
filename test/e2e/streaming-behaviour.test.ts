/**
 * SSE behaviour a client relies on: leaving a stream does not stop the turn, keep-alives are
 * comments (never `data:`), and a parser written like the seed's JavaScript example (split each
 * chunk on '\n', JSON.parse every `data: ` line) never throws on a full turn with tool use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, parseSse, sseRequest } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  assistantTexts,
  createSession,
  dataOf,
  deleteSession,
  history,
  rateLimitOf,
  readLikeTheSeed,
  resultOf,
  SseReader,
  type Completion,
  type MessageView,
} from './support.js';

const [KEY_A, KEY_B] = TEST_KEYS;

let stack: Stack;
beforeAll(async () => {
  // The test environment sets SSE_PING_INTERVAL_MS=1000.
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('a client that disconnects', () => {
  it('does not stop the turn: it completes and is in the history', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const mark = stack.fake.mark();
      const abort = new AbortController();
      const res = await fetch(`${stack.base}/sessions/${sessionId}/stream`, {
        method: 'POST',
        headers: { 'x-api-key': KEY_A, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ prompt: 'leave early [[slow:20:50]]' }),
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
      const reader = new SseReader(res);
      const first = await reader.next();
      expect(first?.event).toBe('message');
      const turnId = dataOf<{ turnId: string }>(first!).turnId;
      abort.abort();
      // Events already received may still be read; then the aborted connection fails.
      await expect(
        (async () => {
          while ((await reader.next()) !== null);
        })(),
      ).rejects.toThrow();

      // The turn is still running after the client left…
      const running = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_A });
      expect(running.body).toMatchObject({ status: 'running', currentMessageId: turnId });

      // …and runs to its end: attaching again follows it to its `complete` event.
      const attached = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY_A);
      expect(attached.status).toBe(200);
      const events = await new SseReader(attached).rest();
      expect(events[0]?.id).toBe(first!.id);
      const complete = events.at(-1)!;
      expect(complete.event).toBe('complete');
      expect(dataOf<Completion>(complete)).toMatchObject({ messageId: turnId, status: 'completed' });
      expect(dataOf<Completion>(complete).response).toContain('[20/20]');

      // The model API call was not cut short either.
      const request = await stack.fake.waitForRequest((r) => r.path === '/v1/messages', 5000, mark);
      expect(request.closedByClient).toBe(false);

      const messages = await history(stack, KEY_A, sessionId);
      expect(resultOf(messages, turnId)?.content).toMatchObject({ is_error: false });
      expect(assistantTexts(messages.filter((m) => m.turnId === turnId)).join('')).toContain('[20/20]');
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});

describe('keep-alives', () => {
  it('are `: ping` comments, never data lines, and cost nothing from the events bucket', async () => {
    const sessionId = await createSession(stack, KEY_B);
    try {
      const res = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY_B, {
        // About 2.5 s: at least two pings at a 1 s interval.
        prompt: 'keep me alive [[slow:25:100]]',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toContain('no-cache');
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      const raw = await res.text();
      const lines = raw.split('\n');
      const pings = lines.filter((l) => l === ': ping');
      expect(pings.length).toBeGreaterThanOrEqual(1);
      for (const line of lines) {
        expect(line === '' || /^(id|event|data|retry): /.test(line) || line.startsWith(':'), line).toBe(true);
      }
      const dataLines = lines.filter((l) => l.startsWith('data:'));
      for (const line of dataLines) {
        expect(line).not.toMatch(/ping/i);
        expect(() => JSON.parse(line.slice(6)) as unknown).not.toThrow();
      }
      // A ping sits between events, in its own block: it never splits an event.
      const events = parseSse(raw);
      expect(events.map((e) => e.event).at(-1)).toBe('complete');
      expect(events).toHaveLength(dataLines.length);
      const pingBlocks = raw.split('\n\n').filter((b) => b.includes(': ping'));
      for (const block of pingBlocks) expect(block.replace(/^\n+/, '')).toBe(': ping');

      // Only the events were counted: the bucket lost exactly one unit per event.
      const replay = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY_B);
      const rl = rateLimitOf(replay.headers);
      expect(rl.remaining).toBe(rl.limit - events.length);
      await replay.body?.cancel();
    } finally {
      await deleteSession(stack, KEY_B, sessionId);
    }
  });
});

describe("the seed's JavaScript parser", () => {
  it('never throws on a full turn with tool use', async () => {
    const sessionId = await createSession(stack, KEY_A, { permissionMode: 'acceptEdits' });
    try {
      const streamResponse = await fetch(`${stack.base}/sessions/${sessionId}/stream`, {
        method: 'POST',
        headers: { 'x-api-key': KEY_A, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify({
          prompt:
            'Write a Python hello world program [[bash:echo hi]] [[write:hello.py:print("hello world")]]',
          timeout: 60000,
        }),
      });
      expect(streamResponse.status).toBe(200);

      const { names, datas } = await readLikeTheSeed(streamResponse);

      expect(names.length).toBe(datas.length);
      expect(names.at(-1)).toBe('complete');
      const messages = datas.filter((_, i) => names[i] === 'message') as MessageView[];
      const blocks = messages.flatMap((m) => {
        const inner = (m.content as { message?: { content?: unknown } }).message;
        return Array.isArray(inner?.content) ? (inner.content as Array<{ type: string; name?: string }>) : [];
      });
      expect(blocks.filter((b) => b.type === 'tool_use').map((b) => b.name)).toEqual(['Bash', 'Write']);
      expect(blocks.filter((b) => b.type === 'tool_result')).toHaveLength(2);
      const complete = datas.at(-1) as Completion;
      expect(complete).toMatchObject({ sessionId, status: 'completed' });
      // (The sandboxed shell may print this machine's own start-up noise before the output.)
      expect(complete.response).toMatch(/Tool result:(?:.*\n)*?(?:.*\s)?hi$/m);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});
