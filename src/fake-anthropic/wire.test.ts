import { describe, expect, it } from 'vitest';
import {
  FakeIds,
  buildWireMessage,
  encodeSseEvent,
  estimateTokens,
  parseSse,
  splitIntoChunks,
  toJsonMessage,
  toSseEvents,
} from './wire.js';
import type { ScriptedMessage, SseEvent } from './wire.js';

function build(scripted: ScriptedMessage, inputTokens = 100) {
  return buildWireMessage(scripted, { model: 'claude-sonnet-4-5', inputTokens, ids: new FakeIds() });
}

function deltasOf(events: SseEvent[], index: number): Record<string, unknown>[] {
  return events
    .filter((e) => e.event === 'content_block_delta' && e.data.index === index)
    .map((e) => e.data.delta as Record<string, unknown>);
}

describe('wire: streaming rendering', () => {
  const message = build({
    content: [
      {
        type: 'text',
        text: 'I will run a command, and this sentence is long enough to need several deltas.',
      },
      { type: 'tool_use', name: 'Bash', input: { command: 'echo hi', description: 'Run echo hi' } },
    ],
  });
  const events = toSseEvents(message);

  it('emits the Anthropic event sequence from message_start to message_stop', () => {
    const names = events.map((e) => e.event).filter((n) => n !== 'content_block_delta');
    expect(names).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_stop',
      'content_block_start',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
  });

  it('streams text as several text_delta chunks that join to the text', () => {
    const deltas = deltasOf(events, 0);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.every((d) => d.type === 'text_delta')).toBe(true);
    expect(deltas.map((d) => d.text).join('')).toBe(
      'I will run a command, and this sentence is long enough to need several deltas.',
    );
  });

  it('sends tool input only through input_json_delta, never in content_block_start', () => {
    const start = events.find((e) => e.event === 'content_block_start' && e.data.index === 1);
    expect(start?.data.content_block).toEqual({
      type: 'tool_use',
      id: 'toolu_fake_1',
      name: 'Bash',
      input: {},
    });
    const deltas = deltasOf(events, 1);
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas.every((d) => d.type === 'input_json_delta')).toBe(true);
    expect(JSON.parse(deltas.map((d) => d.partial_json).join(''))).toEqual({
      command: 'echo hi',
      description: 'Run echo hi',
    });
  });

  it('echoes the model, numbers ids, and reports non-zero usage and stop_reason tool_use', () => {
    const start = events[0]?.data.message as Record<string, unknown>;
    expect(start).toMatchObject({
      id: 'msg_fake_1',
      model: 'claude-sonnet-4-5',
      role: 'assistant',
      content: [],
    });
    expect(start.usage).toMatchObject({ input_tokens: 100 });
    const delta = events.find((e) => e.event === 'message_delta')?.data;
    expect(delta?.delta).toEqual({ stop_reason: 'tool_use', stop_sequence: null });
    expect((delta?.usage as { output_tokens: number }).output_tokens).toBeGreaterThan(10);
  });

  it('honours explicit deltas for text given as an array', () => {
    const e = toSseEvents(build({ content: [{ type: 'text', text: ['a', 'b', 'c'] }] }));
    expect(deltasOf(e, 0).map((d) => d.text)).toEqual(['a', 'b', 'c']);
  });

  it('renders thinking blocks with thinking_delta and a signature_delta', () => {
    const e = toSseEvents(
      build({
        content: [
          { type: 'thinking', thinking: 'hmm' },
          { type: 'text', text: 'ok' },
        ],
      }),
    );
    expect(e.find((x) => x.event === 'content_block_start')?.data.content_block).toEqual({
      type: 'thinking',
      thinking: '',
      signature: '',
    });
    expect(deltasOf(e, 0).map((d) => d.type)).toEqual(['thinking_delta', 'signature_delta']);
  });
});

describe('wire: non-streaming rendering', () => {
  it('renders the same content as a JSON message with full tool input', () => {
    const json = toJsonMessage(
      build({
        content: [
          { type: 'text', text: 'hello' },
          { type: 'tool_use', name: 'Read', input: { file_path: '/x' } },
        ],
      }),
    );
    expect(json).toMatchObject({
      id: 'msg_fake_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'hello' },
        { type: 'tool_use', id: 'toolu_fake_1', name: 'Read', input: { file_path: '/x' } },
      ],
    });
    expect(json.usage).toMatchObject({ input_tokens: 100, output_tokens: expect.any(Number) as number });
  });

  it('uses end_turn without tools and never reports 0 tokens', () => {
    const json = toJsonMessage(build({ content: [{ type: 'text', text: '' }] }, 0));
    expect(json.stop_reason).toBe('end_turn');
    expect(json.usage).toMatchObject({ input_tokens: 1, output_tokens: 1 });
  });
});

describe('wire: helpers', () => {
  it('keeps ids unique per FakeIds instance', () => {
    const ids = new FakeIds();
    expect([ids.nextMessageId(), ids.nextMessageId(), ids.nextToolId(), ids.nextRequestId()]).toEqual([
      'msg_fake_1',
      'msg_fake_2',
      'toolu_fake_1',
      'req_fake_1',
    ]);
  });

  it('estimates about 4 chars per token, minimum 1', () => {
    expect(estimateTokens(0)).toBe(1);
    expect(estimateTokens(400)).toBe(100);
    expect(estimateTokens(401)).toBe(101);
  });

  it('does not split surrogate pairs', () => {
    expect(splitIntoChunks('a😀b😀', 2)).toEqual(['a😀', 'b😀']);
  });

  it('encodes event/data line pairs that parseSse reads back', () => {
    const text = toSseEvents(build({ content: [{ type: 'text', text: 'hi' }] }))
      .map(encodeSseEvent)
      .join('');
    expect(text.startsWith('event: message_start\ndata: {')).toBe(true);
    const parsed = parseSse(text);
    expect(parsed.map((e) => e.event)).toContain('message_stop');
    expect(parsed[0]?.data).toMatchObject({ type: 'message_start' });
  });

  it('parseSse handles CRLF, multi-line data and non-JSON data', () => {
    expect(parseSse('event: a\r\ndata: {"x":\r\ndata: 1}\r\n\r\ndata: plain\n\n')).toEqual([
      { event: 'a', data: { x: 1 } },
      { event: 'message', data: 'plain' },
    ]);
  });
});
