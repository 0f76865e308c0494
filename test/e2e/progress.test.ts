/**
 * Progress a client can show while a turn runs, end to end: text as the model writes it (`delta`
 * events, opt-in with `partial`), the session's `status` events, and the stable `summary` of tool
 * calls and their results, in the stream and in the history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, sseRequest, type SseEvent } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  assistantTexts,
  createSession,
  dataOf,
  deleteSession,
  history,
  named,
  rateLimitOf,
  readLikeTheSeed,
  SseReader,
  streamTurn,
  type Completion,
  type MessageView,
} from './support.js';
import type { DeltaEvent, StatusEvent, SummaryPart } from '../../src/domain/events.js';

const [KEY_A, KEY_B] = TEST_KEYS;

let stack: Stack;
beforeAll(async () => {
  // Claude Code retries a failing model call twice (the test default is no retry at all).
  stack = await startStack({ env: { CLAUDE_CODE_MAX_RETRIES: '2' } });
});
afterAll(async () => {
  await stack?.close();
});

const deltaText = (events: readonly SseEvent[]): string =>
  events
    .filter(named('delta'))
    .map((e) => dataOf<DeltaEvent>(e).text)
    .join('');

/** The raw SSE blocks of one event name (to look at their lines, `id:` included). */
const blocksOf = (raw: string, name: string): string[] =>
  raw.split('\n\n').filter((block) => block.split('\n').includes(`event: ${name}`));

describe('deltas (`partial`)', () => {
  it('POST /stream with partial: true sends the text as it is written, without ids', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const { events, raw } = await streamTurn(stack, sessionId, {
        prompt: 'write slowly [[slow:10:50]]',
        partial: true,
      });
      const complete = dataOf<Completion>(events.at(-1)!);
      expect(events.at(-1)?.event).toBe('complete');
      expect(complete.response).toContain('[10/10]');

      const deltas = events.filter(named('delta'));
      // Joined per 50 ms, but not into one piece: the reply took about half a second.
      expect(deltas.length).toBeGreaterThanOrEqual(2);
      expect(deltas.length).toBeLessThanOrEqual(10);
      for (const delta of deltas) {
        expect(delta.id).toBeNull();
        expect(dataOf<DeltaEvent>(delta)).toMatchObject({
          sessionId,
          messageId: complete.messageId,
          kind: 'text',
          index: 0,
        });
      }
      expect(deltaText(events)).toBe(complete.response);
      const blocks = blocksOf(raw, 'delta');
      expect(blocks).toHaveLength(deltas.length);
      for (const block of blocks) expect(block).not.toMatch(/^id:/m);
      // Every other event keeps its id, one more than the one before.
      const logged = events.filter((e) => e.event !== 'delta');
      expect(logged.map((e) => Number(e.id))).toEqual(logged.map((_, i) => i + 1));
      // The deltas come before the assistant message that carries the same text.
      const assistant = events.findIndex(
        (e) => e.event === 'message' && dataOf<MessageView>(e).type === 'assistant',
      );
      expect(events.findLastIndex(named('delta'))).toBeLessThan(assistant);
      expect(assistantTexts([dataOf<MessageView>(events[assistant]!)])).toEqual([complete.response]);

      // The same turn without `partial`: no delta at all.
      const plain = await streamTurn(stack, sessionId, { prompt: 'write slowly again [[slow:10:50]]' });
      expect(plain.events.at(-1)?.event).toBe('complete');
      expect(plain.events.filter(named('delta'))).toEqual([]);
      expect(blocksOf(plain.raw, 'delta')).toEqual([]);
      // And a replay of the first turn has none either: deltas are not stored.
      const replay = await sseRequest(
        stack.base,
        'GET',
        `/sessions/${sessionId}/stream?messageId=${complete.messageId}&partial=true`,
        KEY_A,
      );
      const replayed = await new SseReader(replay).rest();
      expect(replayed.map((e) => e.id)).toEqual(logged.map((e) => e.id));
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('GET /stream?partial=true sends the deltas of that turn only', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      // A turn runs; the one under test waits in the queue, so its stream is open from its start.
      const head = await call<{ messageId: string }>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'the turn ahead [[slow:10:50]]', stream: true },
      });
      expect(head.status).toBe(202);
      const queued = await call<{ messageId: string; streamUrl: string }>(
        stack.base,
        'POST',
        `/sessions/${sessionId}/messages`,
        { key: KEY_A, body: { prompt: 'the turn under test [[slow:8:50]]', stream: true, queue: true } },
      );
      expect(queued.status).toBe(202);
      const res = await sseRequest(
        stack.base,
        'GET',
        `${queued.body.streamUrl.replace('/api/v1', '')}&partial=true`,
        KEY_A,
      );
      expect(res.status).toBe(200);
      const reader = new SseReader(res);
      const events = await reader.rest();
      const complete = dataOf<Completion>(events.at(-1)!);
      expect(complete).toMatchObject({ messageId: queued.body.messageId, status: 'completed' });
      const deltas = events.filter(named('delta'));
      expect(deltas.length).toBeGreaterThanOrEqual(2);
      expect(deltas.every((d) => d.id === null)).toBe(true);
      expect(deltas.map((d) => dataOf<DeltaEvent>(d).messageId)).toEqual(
        deltas.map(() => queued.body.messageId),
      );
      expect(deltaText(events)).toBe(complete.response);
      expect(complete.response).toContain('[8/8]');
      expect(reader.raw).not.toContain('[10/10]');
      expect(blocksOf(reader.raw, 'delta').every((b) => !/^id:/m.test(b))).toBe(true);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('cost nothing from the events bucket', async () => {
    const limit = 20;
    const small = await startStack({ env: { RATE_LIMIT_EVENTS_PER_HOUR: String(limit) } });
    try {
      const sessionId = await createSession(small, KEY_A);
      // About two seconds of text: far more deltas than the bucket holds.
      const { events } = await streamTurn(small, sessionId, {
        prompt: 'many deltas [[slow:60:30]]',
        partial: true,
      });
      const deltas = events.filter(named('delta'));
      const logged = events.filter((e) => e.event !== 'delta');
      expect(deltas.length + logged.length).toBeGreaterThan(limit);
      expect(events.filter(named('error'))).toEqual([]);
      expect(events.at(-1)?.event).toBe('complete');
      expect(deltaText(events)).toBe(dataOf<Completion>(events.at(-1)!).response);

      // Only the logged events were counted.
      const probe = await sseRequest(small.base, 'GET', `/sessions/${sessionId}/stream`, KEY_A);
      expect(probe.status).toBe(200);
      await probe.body?.cancel();
      const rl = rateLimitOf(probe.headers);
      expect(rl).toMatchObject({ limit, remaining: limit - logged.length });
      await deleteSession(small, KEY_A, sessionId);
    } finally {
      await small.close();
    }
  });
});

describe('status events', () => {
  it('running first, idle right before the terminal event', async () => {
    const sessionId = await createSession(stack, KEY_B);
    try {
      const { events } = await streamTurn(stack, sessionId, { prompt: 'just answer' }, KEY_B);
      const statuses = events.filter(named('status'));
      expect(statuses.map((e) => dataOf<StatusEvent>(e).status)).toEqual(['running', 'idle']);
      const complete = dataOf<Completion>(events.at(-1)!);
      for (const status of statuses) {
        expect(dataOf<StatusEvent>(status)).toMatchObject({ sessionId, messageId: complete.messageId });
      }
      // Right after the prompt, before anything Claude Code says…
      expect(events[0]?.event).toBe('message');
      expect(events[1]).toBe(statuses[0]);
      // …and idle just before the end: a client that sees it may send the next message.
      expect(events.at(-2)).toBe(statuses[1]);
      expect(events.at(-1)?.event).toBe('complete');
      const session = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_B });
      expect(session.body).toMatchObject({ status: 'idle' });
    } finally {
      await deleteSession(stack, KEY_B, sessionId);
    }
  });

  it('retrying while Claude Code retries a failed model call, then running again', async () => {
    const sessionId = await createSession(stack, KEY_B);
    try {
      const { events } = await streamTurn(
        stack,
        sessionId,
        { prompt: 'overloaded once [[flaky:1:529]] [[slow:10:50]]', partial: true },
        KEY_B,
      );
      expect(dataOf<Completion>(events.at(-1)!)).toMatchObject({ status: 'completed' });
      const statuses = events.filter(named('status')).map((e) => dataOf<StatusEvent>(e));
      expect(statuses.map((s) => s.status)).toEqual(['running', 'retrying', 'running', 'idle']);
      const retrying = statuses[1] as Extract<StatusEvent, { status: 'retrying' }> | undefined;
      expect(retrying).toMatchObject({ attempt: 1, maxRetries: 2, upstreamStatus: 529 });
      expect(retrying?.delayMs).toEqual(expect.any(Number));
      expect(retrying!.delayMs).toBeGreaterThan(0);
      // Claude Code's own notice is in the stream (and the history) with the same figures.
      const notice = events
        .filter(named('message'))
        .map((e) => dataOf<MessageView>(e))
        .find((m) => m.subtype === 'api_retry');
      expect(notice?.summary).toEqual([
        {
          type: 'system',
          subtype: 'api_retry',
          attempt: 1,
          maxRetries: 2,
          delayMs: retrying!.delayMs,
          upstreamStatus: 529,
        },
      ]);

      // `running` again from the retried call's first delta, not only with its whole message.
      const order = events
        .filter((e) => e.event === 'delta' || e.event === 'status')
        .map((e) => (e.event === 'delta' ? 'delta' : dataOf<StatusEvent>(e).status))
        .filter((name, i, all) => name !== all[i - 1]);
      expect(order).toEqual(['running', 'retrying', 'running', 'delta', 'idle']);
    } finally {
      await deleteSession(stack, KEY_B, sessionId);
    }
  });
});

describe('tool summaries', () => {
  it('name the tool call and its result, in the stream and in the history', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const { events } = await streamTurn(stack, sessionId, { prompt: 'run it [[bash:echo summary-check]]' });
      expect(dataOf<Completion>(events.at(-1)!)).toMatchObject({ status: 'completed' });
      const streamed = events.filter(named('message')).map((e) => dataOf<MessageView>(e));
      const toolCall = streamed.find((m) => m.summary.some((p) => p.type === 'tool_use'));
      const result = streamed.find((m) => m.summary.some((p) => p.type === 'tool_result'));
      expect(toolCall?.summary).toEqual([
        {
          type: 'tool_use',
          toolUseId: expect.stringMatching(/^toolu_/),
          name: 'Bash',
          input: { command: 'echo summary-check', description: expect.any(String) },
        },
      ]);
      const toolUseId = (toolCall!.summary[0] as Extract<SummaryPart, { type: 'tool_use' }>).toolUseId;
      expect(result?.summary).toEqual([
        {
          type: 'tool_result',
          toolUseId,
          // The result carries only the call's id; the summary names its tool.
          name: 'Bash',
          isError: false,
          content: expect.stringMatching(/(^|\n)summary-check$/),
        },
      ]);
      expect(result!.sequence).toBeGreaterThan(toolCall!.sequence);

      // Every message has a summary; the prompt's is its text, the result's the result marker.
      expect(streamed.every((m) => Array.isArray(m.summary) && m.summary.length > 0)).toBe(true);
      expect(streamed[0]?.summary).toEqual([{ type: 'text', text: 'run it [[bash:echo summary-check]]' }]);
      expect(streamed.at(-1)?.summary).toEqual([
        expect.objectContaining({ type: 'result', subtype: 'success', isError: false, numTurns: 2 }),
      ]);

      // The history holds the very same items.
      const stored = (await history(stack, KEY_A, sessionId)) as MessageView[];
      expect(stored).toEqual(streamed);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});

describe("the seed's JavaScript parser", () => {
  it('still works with status, permission and delta events', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const streamResponse = await fetch(`${stack.base}/sessions/${sessionId}/stream`, {
        method: 'POST',
        headers: { 'x-api-key': KEY_A, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify({
          prompt: `Say something slowly [[slow:12:40]] [[bash:python3 -c "print('parsed')"]]`,
          partial: true,
        }),
      });
      expect(streamResponse.status).toBe(200);

      // As in the seed; not in the seed: approve the tool call, over another connection.
      const { names, datas } = await readLikeTheSeed(streamResponse, async (name, data) => {
        if (name !== 'permission_request') return;
        const { requestId } = data as { requestId: string };
        const answered = await call(stack.base, 'POST', `/sessions/${sessionId}/permissions/${requestId}`, {
          key: KEY_A,
          body: { decision: 'allow' },
        });
        expect(answered.status).toBe(200);
      });

      expect(names.length).toBe(datas.length);
      expect(new Set(names)).toEqual(
        new Set([
          'message',
          'status',
          'delta',
          'model_request',
          'permission_request',
          'permission_resolved',
          'complete',
        ]),
      );
      expect(names.at(-1)).toBe('complete');
      const complete = datas.at(-1) as Completion;
      expect(complete).toMatchObject({ sessionId, status: 'completed' });
      expect(complete.response).toMatch(/(^|[\s:])parsed$/);
      const texts = datas.filter((_, i) => names[i] === 'delta').map((d) => (d as DeltaEvent).text);
      expect(texts.join('')).toContain('[12/12]');
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});
