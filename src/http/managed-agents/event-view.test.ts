import { describe, expect, it } from 'vitest';
import type { DeltaEvent, EventPayload, MessageView, SessionEventType } from '../../domain/events.js';
import type { SessionEvent } from '../../domain/types.js';
import { DeltaView } from './event-deltas.js';
import { LogView } from './event-view.js';

const SID = 'sess_1';
const TURN = 'msg_turn_1';
const T0 = Date.parse('2026-01-01T00:00:00Z');
let seq = 0;

function stored<T extends SessionEventType>(type: T, data: EventPayload<T>): SessionEvent {
  seq += 1;
  return { sessionId: SID, seq, turnId: TURN, type, data: JSON.stringify(data), createdAt: T0 + seq };
}

/** One block of a model message, as Claude Code sends it: a message of its own. */
function block(apiMessageId: string, content: Record<string, unknown>): SessionEvent {
  const part =
    content.type === 'text'
      ? { type: 'text' as const, text: String(content.text) }
      : { type: 'thinking' as const, text: String(content.thinking) };
  const view: MessageView = {
    id: `m_${seq + 1}`,
    sessionId: SID,
    turnId: TURN,
    sequence: seq + 1,
    timestamp: new Date(T0).toISOString(),
    type: 'assistant',
    role: 'assistant',
    source: 'claude_code',
    summary: [part],
    content: { type: 'assistant', message: { id: apiMessageId, role: 'assistant', content: [content] } },
  };
  return stored('message', view);
}

function delta(apiMessageId: string, index: number, kind: DeltaEvent['kind'], text: string): SessionEvent {
  const data: DeltaEvent = { sessionId: SID, messageId: TURN, kind, index, text, apiMessageId };
  return {
    sessionId: SID,
    seq,
    turnId: TURN,
    type: 'delta',
    data: JSON.stringify(data),
    createdAt: T0,
    ephemeral: true,
  };
}

describe('the /v1 view of a model request', () => {
  it('its blocks get ids from the model message and the block index; its end gives both spans', () => {
    const view = new LogView();
    const thinking = view.next(block('msg_api_A', { type: 'thinking', thinking: 'hmm' }));
    const text = view.next(block('msg_api_A', { type: 'text', text: 'Hello' }));
    expect(thinking.map((e) => e.event)).toMatchObject([{ id: 'sevt_msg_api_A_0', type: 'agent.thinking' }]);
    expect(text.map((e) => e.event)).toMatchObject([
      { id: 'sevt_msg_api_A_1', type: 'agent.message', content: [{ type: 'text', text: 'Hello' }] },
    ]);
    const spans = view.next(
      stored('model_request', {
        sessionId: SID,
        messageId: TURN,
        apiMessageId: 'msg_api_A',
        parentToolUseId: null,
        startedAt: '2026-01-01T00:00:00.000Z',
        endedAt: '2026-01-01T00:00:02.000Z',
        isError: false,
        usage: { inputTokens: 1500, outputTokens: 42, cacheCreationInputTokens: 7, cacheReadInputTokens: 9 },
      }),
    );
    expect(spans.map((e) => e.event)).toEqual([
      {
        id: 'sevt_mreq_msg_api_A',
        type: 'span.model_request_start',
        processed_at: '2026-01-01T00:00:00.000Z',
      },
      {
        id: 'sevt_mreq_msg_api_A_end',
        type: 'span.model_request_end',
        model_request_start_id: 'sevt_mreq_msg_api_A',
        is_error: false,
        model_usage: {
          input_tokens: 1500,
          output_tokens: 42,
          cache_creation_input_tokens: 7,
          cache_read_input_tokens: 9,
        },
        processed_at: '2026-01-01T00:00:02.000Z',
      },
    ]);
    // Positions stay those of the log: the start and the end are parts 0 and 1 of one log event.
    expect(spans.map((e) => [e.seq, e.part])).toEqual([
      [seq, 0],
      [seq, 1],
    ]);
  });

  it('an interrupt is a user.interrupt named by its place in the log', () => {
    const view = new LogView();
    const event = stored('interrupt', {
      sessionId: SID,
      messageId: TURN,
      interrupted: true,
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(view.next(event).map((e) => e.event)).toMatchObject([
      { id: `sevt_interrupt_${event.seq}`, type: 'user.interrupt' },
    ]);
  });
});

describe('previews (event_deltas)', () => {
  it('agent.message: a start, then each piece of text, under the id of the message to come', () => {
    const previews = new DeltaView(new Set(['agent.message']));
    expect(previews.next(delta('msg_api_B', 1, 'text', 'Hel'))).toEqual([
      { type: 'event_start', event: { id: 'sevt_msg_api_B_1', type: 'agent.message' } },
      {
        type: 'event_delta',
        event_id: 'sevt_msg_api_B_1',
        delta: { type: 'content_delta', content: { type: 'text', text: 'Hel' }, index: 0 },
      },
    ]);
    expect(previews.next(delta('msg_api_B', 1, 'text', 'lo')).map((p) => p.type)).toEqual(['event_delta']);
    // Thinking was not asked for: nothing.
    expect(previews.next(delta('msg_api_B', 0, 'thinking', 'hmm'))).toEqual([]);
    // Stored events are the LogView's business.
    expect(previews.next(block('msg_api_B', { type: 'text', text: 'Hello' }))).toEqual([]);
  });

  it('agent.thinking is start-only; a delta without the model message id previews nothing', () => {
    const previews = new DeltaView(new Set(['agent.message', 'agent.thinking']));
    expect(previews.next(delta('msg_api_C', 0, 'thinking', 'hmm'))).toEqual([
      { type: 'event_start', event: { id: 'sevt_msg_api_C_0', type: 'agent.thinking' } },
    ]);
    expect(previews.next(delta('msg_api_C', 0, 'thinking', ' more'))).toEqual([]);
    const anonymous = delta('x', 0, 'text', 'Hi');
    anonymous.data = JSON.stringify({ ...(JSON.parse(anonymous.data) as DeltaEvent), apiMessageId: null });
    expect(previews.next(anonymous)).toEqual([]);
  });
});
