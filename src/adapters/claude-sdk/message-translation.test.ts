import { describe, expect, it } from 'vitest';
import type { AgentEvent, ClaudeMessage } from '../../domain/ports.js';
import { translate } from './message-translation.js';

/** A partial message (`includePartialMessages`) carrying one API stream event. */
const streamEvent = (event: Record<string, unknown>, extra: Record<string, unknown> = {}): ClaudeMessage => ({
  type: 'stream_event',
  event,
  parent_tool_use_id: null,
  uuid: 'u-1',
  session_id: 'c-1',
  ...extra,
});

const blockDelta = (index: number, delta: Record<string, unknown>): Record<string, unknown> => ({
  type: 'content_block_delta',
  index,
  delta,
});

describe('translate', () => {
  it('every ordinary message becomes one message event, the same object', () => {
    const messages: ClaudeMessage[] = [
      { type: 'system', subtype: 'init', model: 'm', tools: [] },
      { type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'hi' }] } },
      {
        type: 'user',
        message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'x' }] },
      },
      { type: 'result', subtype: 'success', is_error: false },
      { type: 'system', subtype: 'compact_boundary' },
      { type: 'rate_limit_event' },
    ];
    for (const message of messages) {
      const events = translate(message);
      expect(events).toEqual([{ kind: 'message', message }]);
      expect((events[0] as Extract<AgentEvent, { kind: 'message' }>).message).toBe(message);
    }
  });

  describe('partial messages', () => {
    it('a text delta becomes a delta event with its block index', () => {
      expect(
        translate(
          streamEvent(blockDelta(2, { type: 'text_delta', text: 'Hel' }), { api_message_id: 'msg_a' }),
        ),
      ).toEqual<AgentEvent[]>([
        { kind: 'delta', delta: 'text', text: 'Hel', index: 2, apiMessageId: 'msg_a' },
      ]);
    });

    it('a thinking delta becomes a thinking delta', () => {
      expect(translate(streamEvent(blockDelta(0, { type: 'thinking_delta', thinking: 'hmm' })))).toEqual<
        AgentEvent[]
      >([{ kind: 'delta', delta: 'thinking', text: 'hmm', index: 0, apiMessageId: null }]);
    });

    it('an empty text delta is still a delta (the buffer drops empty pieces)', () => {
      expect(translate(streamEvent(blockDelta(0, { type: 'text_delta', text: '' })))).toEqual([
        { kind: 'delta', delta: 'text', text: '', index: 0, apiMessageId: null },
      ]);
    });

    it('a delta without an index is of block 0', () => {
      expect(
        translate(streamEvent({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' } })),
      ).toEqual([{ kind: 'delta', delta: 'text', text: 'x', index: 0, apiMessageId: null }]);
    });

    it('message_start, message_delta and message_stop are the model request: its id and usage', () => {
      const start = streamEvent(
        {
          type: 'message_start',
          message: {
            id: 'msg_a',
            content: [],
            usage: {
              input_tokens: 1200,
              output_tokens: 1,
              cache_read_input_tokens: 30,
              cache_creation_input_tokens: 0,
            },
          },
        },
        { api_message_id: 'msg_a' },
      );
      expect(translate(start)).toEqual<AgentEvent[]>([
        {
          kind: 'model_request',
          phase: 'start',
          apiMessageId: 'msg_a',
          parentToolUseId: null,
          usage: {
            inputTokens: 1200,
            outputTokens: 1,
            cacheReadInputTokens: 30,
            cacheCreationInputTokens: 0,
          },
        },
      ]);
      // message_delta may carry only some figures (the fake model API: the output alone).
      const delta = streamEvent(
        {
          type: 'message_delta',
          delta: { stop_reason: 'end_turn' },
          usage: { output_tokens: 42, input_tokens: 'x' },
        },
        { parent_tool_use_id: 'toolu_task' },
      );
      expect(translate(delta)).toEqual<AgentEvent[]>([
        {
          kind: 'model_request',
          phase: 'usage',
          apiMessageId: null,
          parentToolUseId: 'toolu_task',
          usage: { outputTokens: 42 },
        },
      ]);
      expect(translate(streamEvent({ type: 'message_stop' }, { api_message_id: 'msg_a' }))).toEqual<
        AgentEvent[]
      >([{ kind: 'model_request', phase: 'stop', apiMessageId: 'msg_a', parentToolUseId: null, usage: {} }]);
    });

    it('everything else of the stream is dropped: the complete message follows', () => {
      const dropped: ClaudeMessage[] = [
        streamEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
        streamEvent(blockDelta(1, { type: 'input_json_delta', partial_json: '{"command":' })),
        streamEvent(blockDelta(0, { type: 'signature_delta', signature: 'abc' })),
        streamEvent(blockDelta(0, { type: 'citations_delta', citation: {} })),
        streamEvent(blockDelta(0, { type: 'text_delta', text: 42 })),
        streamEvent(blockDelta(0, { type: 'thinking_delta', text: 'wrong field' })),
        streamEvent({ type: 'content_block_delta', index: 0 }),
        streamEvent({ type: 'content_block_stop', index: 0 }),
        streamEvent({ type: 'toString' }),
        { type: 'stream_event' },
        { type: 'stream_event', event: 'not an object' },
      ];
      for (const message of dropped) expect(translate(message)).toEqual([]);
    });
  });

  it('Claude Code’s status markers are dropped: the server reports its own status', () => {
    expect(translate({ type: 'system', subtype: 'status', status: 'requesting' })).toEqual([]);
    expect(translate({ type: 'system', subtype: 'status', status: null })).toEqual([]);
  });

  describe('api_retry', () => {
    it('is stored as a message and also reported as a retry', () => {
      const message: ClaudeMessage = {
        type: 'system',
        subtype: 'api_retry',
        attempt: 2,
        max_retries: 10,
        retry_delay_ms: 1187,
        error_status: 529,
        error: 'overloaded',
        uuid: 'u-2',
      };
      expect(translate(message)).toEqual<AgentEvent[]>([
        { kind: 'message', message },
        { kind: 'retry', attempt: 2, maxRetries: 10, delayMs: 1187, errorStatus: 529, error: 'overloaded' },
      ]);
    });

    it('of an unreachable API has no status; missing figures are 0', () => {
      const message: ClaudeMessage = { type: 'system', subtype: 'api_retry', error_status: null };
      expect(translate(message)[1]).toEqual({
        kind: 'retry',
        attempt: 0,
        maxRetries: 0,
        delayMs: 0,
        errorStatus: null,
        error: 'unknown',
      });
    });
  });
});
