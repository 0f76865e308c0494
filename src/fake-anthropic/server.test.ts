import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { textReply, toolUseReply } from './reply.js';
import { isLoopbackHost, requestUserTexts, startFakeAnthropic } from './server.js';
import type { FakeAnthropic } from './server.js';
import { parseSse } from './wire.js';
import type { ParsedSseEvent } from './wire.js';

let fake: FakeAnthropic;
let logLines: string[];

beforeEach(async () => {
  logLines = [];
  fake = await startFakeAnthropic({ log: (line) => logLines.push(line) });
});

afterEach(async () => {
  await fake.close();
});

function messagesBody(prompt: string, stream = true): Record<string, unknown> {
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 32000,
    stream,
    messages: [
      {
        role: 'user',
        content: [
          {
            type: 'text',
            text: '<system-reminder>\n - Primary working directory: /tmp/w\n</system-reminder>',
          },
          { type: 'text', text: prompt },
        ],
      },
    ],
  };
}

function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(fake.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-fake' },
    body: JSON.stringify(body),
    signal: signal ?? null,
  });
}

async function streamed(prompt: string): Promise<{ res: Response; events: ParsedSseEvent[] }> {
  const res = await post('/v1/messages?beta=true', messagesBody(prompt));
  return { res, events: parseSse(await res.text()) };
}

function dataOf(event: ParsedSseEvent | undefined): Record<string, unknown> {
  const data = event?.data;
  if (typeof data !== 'object' || data === null) throw new Error('event without JSON data');
  return data as Record<string, unknown>;
}

/** Concatenates the deltas of one content block, like an SSE client would. */
function blockPayload(events: ParsedSseEvent[], index: number): string {
  return events
    .filter((e) => e.event === 'content_block_delta' && dataOf(e).index === index)
    .map((e) => {
      const delta = dataOf(e).delta as Record<string, unknown>;
      return String(delta.text ?? delta.partial_json ?? '');
    })
    .join('');
}

describe('startFakeAnthropic', () => {
  it('listens on loopback only', async () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.url.endsWith(`:${fake.port}`)).toBe(true);
    await expect(startFakeAnthropic({ host: '0.0.0.0' })).rejects.toThrow(/non-loopback/);
    await expect(startFakeAnthropic({ host: 'example.com' })).rejects.toThrow(/non-loopback/);
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1'].some(isLoopbackHost)).toBe(false);
  });
});

describe('POST /v1/messages', () => {
  it('streams a scripted text reply as Anthropic SSE and records the request', async () => {
    const { res, events } = await streamed('hello fake');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toMatch(/^req_fake_\d+$/);
    expect(events[0]?.event).toBe('message_start');
    expect(events.at(-1)?.event).toBe('message_stop');
    expect(dataOf(events[0]).message).toMatchObject({
      model: 'claude-sonnet-4-5',
      id: expect.stringMatching(/^msg_fake_\d+$/) as string,
    });
    expect(blockPayload(events, 0)).toBe('(offline demo, scripted reply) You said: "hello fake"');

    const [record] = fake.messagesRequests();
    expect(record).toMatchObject({
      id: 1,
      method: 'POST',
      path: '/v1/messages',
      url: '/v1/messages?beta=true',
      closedByClient: false,
    });
    expect(record?.headers['x-api-key']).toBe('sk-ant-fake');
    expect(record?.body).toMatchObject({ model: 'claude-sonnet-4-5', stream: true });
    expect(record && requestUserTexts(record)).toEqual(['hello fake']);
    expect(logLines.some((l) => l.includes('POST /v1/messages?beta=true (stream)'))).toBe(true);
  });

  it('streams tool input as input_json_delta with an absolute path', async () => {
    const { events } = await streamed('[[write:a.txt:hi there]]');
    expect(blockPayload(events, 0)).toBe('I will write a file.');
    const start = dataOf(events.find((e) => e.event === 'content_block_start' && dataOf(e).index === 1));
    expect(start.content_block).toMatchObject({ type: 'tool_use', name: 'Write', input: {} });
    expect(JSON.parse(blockPayload(events, 1))).toEqual({ file_path: '/tmp/w/a.txt', content: 'hi there' });
    const delta = dataOf(events.find((e) => e.event === 'message_delta'));
    expect(delta.delta).toMatchObject({ stop_reason: 'tool_use' });
  });

  it('answers stream:false with a JSON message', async () => {
    const res = await post('/v1/messages', messagesBody('[[bash:echo hi]]', false));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'I will run a command.' },
        { type: 'tool_use', name: 'Bash', input: { command: 'echo hi', description: 'Run echo hi' } },
      ],
    });
    expect((json.usage as { input_tokens: number }).input_tokens).toBeGreaterThan(10);
  });

  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [529, 'overloaded_error'],
  ])('[[error:%i]] answers with the Anthropic error body of type %s', async (status, type) => {
    const res = await post('/v1/messages', messagesBody(`[[error:${status}]]`));
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type, message: expect.any(String) as string },
    });
    expect(res.headers.get('retry-after')).toBe(status === 429 ? '1' : null);
  });

  it('[[flaky:2:529]] fails twice for the same prompt, then succeeds', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await post('/v1/messages', messagesBody('[[flaky:2:529]] x'))).status);
    expect(statuses).toEqual([529, 529, 200]);
    // A different prompt has its own counter.
    expect((await post('/v1/messages', messagesBody('[[flaky:2:529]] y'))).status).toBe(529);
  });

  it('[[sse_error]] sends a 200 stream with an error event, or the matching status without streaming', async () => {
    const { res, events } = await streamed('[[sse_error:overloaded_error]]');
    expect(res.status).toBe(200);
    expect(events.map((e) => e.event)).toEqual(['message_start', 'ping', 'error']);
    expect(events[2]?.data).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    expect((await post('/v1/messages', messagesBody('[[sse_error:overloaded_error]]', false))).status).toBe(
      529,
    );
  });

  it('[[midstream]] sends some text, then drops the connection', async () => {
    const res = await post('/v1/messages', messagesBody('[[midstream]]'));
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    const [record] = fake.messagesRequests();
    // The fake dropped it, so this is not a client close.
    await expect(fake.waitForClientClose(record?.id ?? -1)).rejects.toThrow(
      /not closed by the client \(fake-closed\)/,
    );
    await expect(post('/v1/messages', messagesBody('[[midstream]]', false))).rejects.toThrow();
  });

  it('[[slow:3:40]] spaces the chunks out', async () => {
    const started = Date.now();
    const { events } = await streamed('[[slow:3:40]]');
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(blockPayload(events, 0)).toBe('[1/3] [2/3] [3/3] ');
  });

  it('marks a request closedByClient when the client aborts mid-stream', async () => {
    const abort = new AbortController();
    const res = await post('/v1/messages', messagesBody('[[slow:50:100]]'), abort.signal);
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toContain('message_start');
    abort.abort();
    const record = await fake.waitForRequest((r) => r.path === '/v1/messages');
    await fake.waitForClientClose(record.id);
    expect(record.closedByClient).toBe(true);
  });

  it('rejects a body that is not JSON', async () => {
    const res = await fetch(`${fake.url}/v1/messages`, { method: 'POST', body: '{nope' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(fake.requests[0]?.body).toBeNull();
  });
});

describe('hanging requests', () => {
  it('hang until the client disconnects', async () => {
    const abort = new AbortController();
    const pending = post('/v1/messages', messagesBody('[[hang]]'), abort.signal);
    const record = await fake.waitForRequest();
    expect(fake.hangingCount()).toBe(1);
    abort.abort();
    await expect(pending).rejects.toThrow();
    await fake.waitForClientClose(record.id);
    expect(record.closedByClient).toBe(true);
    expect(fake.hangingCount()).toBe(0);
  });

  it('can be released with a reply', async () => {
    const pending = post('/v1/messages', messagesBody('[[hang]]'));
    await fake.waitForRequest();
    expect(fake.releaseHanging(textReply('released!'))).toBe(1);
    const events = parseSse(await (await pending).text());
    expect(blockPayload(events, 0)).toBe('released!');
  });

  it('do not keep close() from finishing', async () => {
    const pending = post('/v1/messages', messagesBody('[[hang]]'));
    const record = await fake.waitForRequest();
    // Assertions are attached before close() so the rejections are handled as they happen.
    const waiting = expect(fake.waitForRequest((r) => r.path === '/never', 60_000)).rejects.toThrow(
      /closed while waiting/,
    );
    const dropped = expect(pending).rejects.toThrow();
    await fake.close();
    await waiting;
    await dropped;
    expect(record.closedByClient).toBe(false);
  });
});

describe('scripting and waiting', () => {
  it('enqueued replies go first, in order, then the responder takes over', async () => {
    fake.enqueue(textReply('first'), (req) => textReply(`second saw ${requestUserTexts(req).join('|')}`));
    const texts: string[] = [];
    for (const prompt of ['a', 'b', 'c']) texts.push(blockPayload((await streamed(prompt)).events, 0));
    expect(texts).toEqual(['first', 'second saw b', '(offline demo, scripted reply) You said: "c"']);
  });

  it('setResponder replaces and reset restores the default responder', async () => {
    fake.setResponder(() => toolUseReply('Read', { file_path: '/x' }));
    const { events } = await streamed('anything');
    expect(JSON.parse(blockPayload(events, 0))).toEqual({ file_path: '/x' });
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect(blockPayload((await streamed('z')).events, 0)).toContain('You said: "z"');
    expect(fake.requests[0]?.id).toBe(2);
  });

  it('waitForRequest finds already-recorded requests and respects fromIndex', async () => {
    await streamed('one');
    const mark = fake.mark();
    expect((await fake.waitForRequest()).id).toBe(1);
    const next = fake.waitForRequest(undefined, 5_000, mark);
    await streamed('two');
    expect(requestUserTexts(await next)).toEqual(['two']);
    await expect(fake.waitForRequest((r) => r.path === '/nope', 30)).rejects.toThrow(/timed out after 30 ms/);
  });

  it('a throwing responder becomes a 500 api_error, and a throwing predicate fails only its wait', async () => {
    fake.setResponder(() => {
      throw new Error('boom');
    });
    const failedWait = expect(
      fake.waitForRequest(() => {
        throw new Error('bad predicate');
      }),
    ).rejects.toThrow('bad predicate');
    const res = await post('/v1/messages', messagesBody('x'));
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({
      error: { type: 'api_error', message: expect.stringContaining('boom') as string },
    });
    await failedWait;
  });

  it('waitForClientClose rejects for a completely answered request', async () => {
    await streamed('done');
    await expect(fake.waitForClientClose(1)).rejects.toThrow(/finished/);
  });
});

describe('other routes', () => {
  it('count_tokens, hello, models and 404', async () => {
    const count = await post('/v1/messages/count_tokens', messagesBody('hi'));
    expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);

    expect((await fetch(`${fake.url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${fake.url}/api/hello`)).status).toBe(200);

    const models = (await (await fetch(`${fake.url}/v1/models`)).json()) as {
      data: { type: string; id: string }[];
      has_more: boolean;
    };
    expect(models.has_more).toBe(false);
    expect(models.data.map((m) => m.id)).toContain('claude-sonnet-4-5');
    expect(models.data.every((m) => m.type === 'model')).toBe(true);

    const missing = await fetch(`${fake.url}/v2/whatever`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(fake.messagesRequests()).toHaveLength(0);
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/v1/messages/count_tokens',
      '/api/hello',
      '/api/hello',
      '/v1/models',
      '/v2/whatever',
    ]);
  });
});
