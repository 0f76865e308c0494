/**
 * What the domain hears of each message Claude Code emits. Pure, so it is tested on its own.
 *
 * - Every message becomes a `message` event, except:
 *   - `stream_event` (partial messages): text and thinking deltas become `delta` events;
 *     message_start, message_delta and message_stop become `model_request` events (a request's
 *     start, its usage, its end: the assistant messages carry only the usage of message_start);
 *     the rest (block starts and stops, tool input JSON) is dropped: the complete message follows;
 *   - `system/status` (Claude Code's "requesting" markers, sent with partial messages on): the
 *     server reports its own status events instead.
 * - `system/api_retry` also becomes a `retry` event.
 */
import type { AgentEvent, ClaudeMessage } from '../../domain/ports.js';
import type { TokenUsage } from '../../domain/events.js';
import { record } from './result-mapping.js';

export function translate(message: ClaudeMessage): AgentEvent[] {
  if (message.type === 'stream_event') return streamEventOf(message);
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

const MODEL_REQUEST_PHASES = {
  message_start: 'start',
  message_delta: 'usage',
  message_stop: 'stop',
} as const;

function streamEventOf(message: ClaudeMessage): AgentEvent[] {
  const event = record(message.event);
  const type = String(event.type);
  if (!Object.hasOwn(MODEL_REQUEST_PHASES, type)) return deltaOf(message);
  const phase = MODEL_REQUEST_PHASES[type as keyof typeof MODEL_REQUEST_PHASES];
  const started = record(event.message);
  const apiMessageId =
    typeof message.api_message_id === 'string'
      ? message.api_message_id
      : typeof started.id === 'string'
        ? started.id
        : null;
  return [
    {
      kind: 'model_request',
      phase,
      apiMessageId,
      parentToolUseId: typeof message.parent_tool_use_id === 'string' ? message.parent_tool_use_id : null,
      usage: partialUsage(phase === 'start' ? started.usage : event.usage),
    },
  ];
}

const USAGE_FIELDS = {
  input_tokens: 'inputTokens',
  output_tokens: 'outputTokens',
  cache_creation_input_tokens: 'cacheCreationInputTokens',
  cache_read_input_tokens: 'cacheReadInputTokens',
} as const;

/** The usage figures an API stream event carries (a message_delta may carry only some). */
function partialUsage(value: unknown): Partial<TokenUsage> {
  const usage = record(value);
  const out: Partial<TokenUsage> = {};
  for (const [wire, field] of Object.entries(USAGE_FIELDS)) {
    const n = usage[wire];
    if (typeof n === 'number' && Number.isFinite(n) && n >= 0) out[field] = n;
  }
  return out;
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
