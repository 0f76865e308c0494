/**
 * Reconnecting without a gap: a client that loses its stream at any event and comes back with
 * the last id it saw (Last-Event-ID, or ?after=) gets exactly the events it missed, live or
 * replayed. A property test draws the disconnect points; a browser-style EventSource reconnects
 * on its own; a cursor older than what retention keeps is told so.
 */
import { EventSource } from 'eventsource';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, readSse, sseRequest, type SseEvent } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { createSession, dataOf, deleteSession, expectError, SseReader, turnEnded } from './support.js';

const KEY = TEST_KEYS[0];
const OTHER_KEY = TEST_KEYS[1];

/** A turn with a tool call: a dozen events, streamed over about 200 ms. */
const PROMPT = 'Write it down. [[write:notes.txt:kept]] [[slow:8:15]]';

describe('reconnecting to a session’s stream', () => {
  let stack: Stack;
  let sessionId: string;
  beforeAll(async () => {
    // A short retry hint, so the EventSource below reconnects quickly.
    stack = await startStack({ env: { SSE_RETRY_MS: '100' } });
    sessionId = await createSession(stack, KEY, { permissionMode: 'acceptEdits' });
  });
  afterAll(async () => {
    if (sessionId) await deleteSession(stack, KEY, sessionId);
    await stack?.close();
  });

  const startTurn = async (): Promise<string> => {
    const res = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: PROMPT, stream: true },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.messageId as string;
  };

  /** The turn's whole stored sequence, read once it has ended. */
  const fullSequence = async (messageId: string): Promise<SseEvent[]> => {
    const res = await sseRequest(
      stack.base,
      'GET',
      `/sessions/${sessionId}/stream?messageId=${messageId}`,
      KEY,
    );
    return (await readSse(res)).events;
  };

  it('the union of what a client received across disconnects is exactly the full sequence', async () => {
    await fc.assert(
      fc.asyncProperty(
        // How many events each connection reads before it drops (the last one reads to the end),
        // how each reconnect names its cursor, and whether it asks for the turn or the session.
        fc.array(fc.integer({ min: 0, max: 14 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom('last-event-id', 'after'),
        fc.constantFrom('turn', 'session'),
        async (dropAfter, cursorStyle, scope) => {
          const messageId = await startTurn();
          const received: SseEvent[] = [];
          let lastId: string | null = null;
          for (let connection = 0; connection <= dropAfter.length; connection++) {
            const query = new URLSearchParams();
            if (scope === 'turn' || lastId === null) query.set('messageId', messageId);
            if (lastId !== null && cursorStyle === 'after') query.set('after', lastId);
            const headers: Record<string, string> =
              lastId !== null && cursorStyle === 'last-event-id' ? { 'last-event-id': lastId } : {};
            const res = await sseRequest(
              stack.base,
              'GET',
              `/sessions/${sessionId}/stream?${query.toString()}`,
              KEY,
              undefined,
              headers,
            );
            // Nothing left to replay and nothing running: the SSE spec's "done".
            if (res.status === 204) break;
            expect(res.status).toBe(200);
            const reader = new SseReader(res);
            const limit = dropAfter[connection] ?? Infinity;
            let ended = false;
            for (let n = 0; n < limit; n++) {
              const event = await reader.next();
              if (event === null) {
                ended = true;
                break;
              }
              received.push(event);
              lastId = event.id;
            }
            if (ended) break;
            await reader.cancel();
            if (connection === dropAfter.length) break;
          }
          await turnEnded(stack, KEY, sessionId);
          // A last reconnect after the final drop (if the turn was not read to its end).
          if (received.at(-1)?.event !== 'complete') {
            const query = new URLSearchParams({ messageId, ...(lastId ? { after: lastId } : {}) });
            const res = await sseRequest(
              stack.base,
              'GET',
              `/sessions/${sessionId}/stream?${query.toString()}`,
              KEY,
            );
            received.push(...(await readSse(res)).events);
          }

          const full = await fullSequence(messageId);
          expect(full.at(-1)?.event).toBe('complete');
          // No gap, no duplicate: the same events, in the same order, with the same data.
          expect(received.map((e) => [e.id, e.event, e.data])).toEqual(
            full.map((e) => [e.id, e.event, e.data]),
          );
          const ids = full.map((e) => Number(e.id));
          expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
        },
      ),
      // A run that hangs (a lost terminal event) fails after 10 s instead of stalling the shrink.
      { numRuns: 20, timeout: 10_000, interruptAfterTimeLimit: 60_000 },
    );
  }, 120_000);

  it('an EventSource that loses its connection reconnects with Last-Event-ID and misses nothing', async () => {
    const messageId = await startTurn();
    const requests: Array<{ lastEventId: string | null; status: number }> = [];
    let dropped = false;
    const source = new EventSource(`${stack.base}/sessions/${sessionId}/stream`, {
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set('x-api-key', KEY);
        const res = await fetch(input, { ...init, headers });
        requests.push({ lastEventId: headers.get('last-event-id'), status: res.status });
        if (dropped || !res.body) return res;
        // The first connection breaks after its third event, like a network drop.
        dropped = true;
        return new Response(dropAfterEvents(res.body, 3), { status: res.status, headers: res.headers });
      },
    });
    const received: Array<{ id: string; type: string }> = [];
    for (const type of [
      'message',
      'status',
      'permission_request',
      'permission_resolved',
      'model_request',
      'files_changed',
      'complete',
    ]) {
      source.addEventListener(type, (e) => received.push({ id: e.lastEventId, type }));
    }
    // The server ends the stream after the turn; the reconnect then gets 204, and an
    // EventSource stops for good on a 204.
    await new Promise<void>((resolve) => {
      source.onerror = () => {
        if (source.readyState === EventSource.CLOSED) resolve();
      };
    });
    source.close();

    const full = await fullSequence(messageId);
    expect(received.map((e) => [e.id, e.type])).toEqual(full.map((e) => [e.id, e.event]));
    expect(requests[0]).toEqual({ lastEventId: null, status: 200 });
    // It came back with the id of the last event it had, and was told "done" at the end.
    expect(requests[1]).toEqual({ lastEventId: full[2]!.id, status: 200 });
    expect(requests.at(-1)).toEqual({ lastEventId: full.at(-1)!.id, status: 204 });
  }, 30_000);

  it('a cursor older than what is kept gets one CURSOR_EXPIRED event, then what is kept', async () => {
    const messageId = await startTurn();
    await turnEnded(stack, KEY, sessionId);
    const full = await fullSequence(messageId);
    // Retention, run now with everything older than now out of its window.
    const floor = await stack.server.server.stores.events.pruneEvents(sessionId, Date.now() + 1);
    const cursor = Number(full[0]!.id) - 1;
    expect(floor).toBeGreaterThan(cursor);

    const res = await sseRequest(
      stack.base,
      'GET',
      `/sessions/${sessionId}/stream?messageId=${messageId}`,
      KEY,
      undefined,
      {
        'last-event-id': String(cursor),
      },
    );
    const { events, raw } = await readSse(res);
    const [first, ...rest] = events;
    expect(first).toMatchObject({ event: 'error', id: null });
    expect(dataOf(first!)).toMatchObject({
      code: 'CURSOR_EXPIRED',
      details: { after: cursor, completeFrom: floor + 1 },
    });
    expect(raw).not.toMatch(/^id: .*\nevent: error/m);
    // The messages and the turn's outcome are kept; the status events are gone.
    const kept = full.filter((e) => e.event === 'message' || e.event === 'complete');
    expect(rest.map((e) => [e.id, e.event])).toEqual(kept.map((e) => [e.id, e.event]));
    expect(full.some((e) => e.event === 'status')).toBe(true);

    // The next turn's events are numbered after the pruned ones: an id is never reused.
    const next = await startTurn();
    await turnEnded(stack, KEY, sessionId);
    const after = await fullSequence(next);
    expect(Number(after[0]!.id)).toBeGreaterThan(Number(full.at(-1)!.id));
  }, 30_000);

  it('a cursor on another key’s session is 404, before any stream opens', async () => {
    const res = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, OTHER_KEY, undefined, {
      'last-event-id': '1',
    });
    expectError(
      { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) },
      404,
      'SESSION_NOT_FOUND',
    );
  });
});

/** Passes an SSE body through until `count` events have gone by, then fails it like a dropped connection. */
function dropAfterEvents(body: ReadableStream<Uint8Array>, count: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let text = '';
  let forwarded = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      text += decoder.decode(value, { stream: true });
      // Where the count-th event (a block with data) ends, if it has arrived.
      let cut = -1;
      for (let seen = 0, from = 0; seen < count;) {
        const at = text.indexOf('\n\n', from);
        if (at < 0) break;
        if (/^data: /m.test(text.slice(from, at))) seen++;
        from = at + 2;
        if (seen === count) cut = from;
      }
      const end = cut < 0 ? text.length : cut;
      controller.enqueue(encoder.encode(text.slice(forwarded, end)));
      forwarded = end;
      if (cut < 0) return;
      await reader.cancel();
      controller.error(new Error('connection dropped'));
    },
    cancel: () => reader.cancel(),
  });
}
