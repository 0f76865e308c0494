/**
 * What the domain hears of each message Claude Code emits. Pure, so it is tested on its own.
 *
 * - Every message becomes a `message` event, except:
 *   - `stream_event` (partial messages): text and thinking deltas become `delta` events, the
 *     rest (block starts and stops, tool input JSON) is dropped: the complete message follows;
 *   - `system/status` (Claude Code's "requesting" markers, sent with partial messages on): the
 *     server reports its own status events instead.
 * - `system/api_retry` also becomes a `retry` event.
 */
import type { AgentEvent, ClaudeMessage } from '../../domain/ports.js';
import { record } from './result-mapping.js';

export function translate(message: ClaudeMessage): AgentEvent[] {
  if (message.type === 'stream_event') return deltaOf(message);
  if (message.type === 'system' && message.subtype === 'status') return [];
  const events: AgentEvent[] = [{ kind: 'message', message }];
  if (message.type === 'system' && message.subtype === 'api_retry') {
    events.push({
      kind: 'retry',
      attempt: Number(message.attempt ?? 0),
      maxRetries: Number(message.max_retries ?? 0),
      delayMs: Number(message.retry_delay_ms ?? 0),
      errorStatus: typeof message.error_status === 'number' ? message.error_status : null,
      error: String(message.error ?? 'unknown'),
    });
  }
  return events;
}

function deltaOf(message: ClaudeMessage): AgentEvent[] {
  const event = record(message.event);
  const delta = record(event.delta);
  if (event.type !== 'content_block_delta') return [];
  const apiMessageId = typeof message.api_message_id === 'string' ? message.api_message_id : null;
  const index = typeof event.index === 'number' ? event.index : 0;
  if (delta.type === 'text_delta' && typeof delta.text === 'string') {
    return [{ kind: 'delta', delta: 'text', text: delta.text, index, apiMessageId }];
  }
  if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string') {
    return [{ kind: 'delta', delta: 'thinking', text: delta.thinking, index, apiMessageId }];
  }
  return [];
}
