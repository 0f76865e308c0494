/**
 * The Anthropic Messages API wire format, as Claude Code consumes it.
 *
 * A scripted assistant message is first resolved into a `WireMessage` (ids assigned, text and tool
 * input split into the chunks that will be streamed), which can then be rendered either as the
 * streaming SSE event sequence or as the non-streaming JSON `message`. Claude Code normally streams,
 * but falls back to `stream: false` after stream failures, so both renderings must agree.
 */
import { anthropicErrorBody } from './api-errors.js';

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';

/** One block of a scripted assistant message. */
export type ScriptedBlock =
  /** `text` as an array streams exactly those pieces as separate `text_delta` events. */
  | { type: 'text'; text: string | readonly string[] }
  | { type: 'thinking'; thinking: string; signature?: string }
  /** `id` defaults to a fresh `toolu_fake_<n>`. */
  | { type: 'tool_use'; name: string; input: Readonly<Record<string, unknown>>; id?: string };

export interface ScriptedMessage {
  content: readonly ScriptedBlock[];
  /** Defaults to `tool_use` when the message has a tool_use block, else `end_turn`. */
  stopReason?: StopReason;
}

export type WireBlock =
  | { type: 'text'; deltas: readonly string[] }
  | { type: 'thinking'; deltas: readonly string[]; signature: string }
  | {
      type: 'tool_use';
      id: string;
      name: string;
      input: Readonly<Record<string, unknown>>;
      jsonDeltas: readonly string[];
    };

export interface WireUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface WireMessage {
  id: string;
  model: string;
  content: readonly WireBlock[];
  stopReason: StopReason;
  usage: WireUsage;
}

export interface SseEvent {
  event: string;
  data: { type: string } & Record<string, unknown>;
}

/** Per-server id counters: Claude Code groups streamed blocks by message id, so ids must not repeat. */
export class FakeIds {
  private messages = 0;
  private tools = 0;
  private requests = 0;
  nextMessageId(): string {
    return `msg_fake_${++this.messages}`;
  }
  nextToolId(): string {
    return `toolu_fake_${++this.tools}`;
  }
  nextRequestId(): string {
    return `req_fake_${++this.requests}`;
  }
}

/** Rough token estimate (about 4 characters per token); never 0 because clients divide by it. */
export function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

/** Splits by code points so a chunk boundary never cuts a surrogate pair. */
export function splitIntoChunks(text: string, size: number): string[] {
  const points = Array.from(text);
  const chunks: string[] = [];
  for (let i = 0; i < points.length; i += size) chunks.push(points.slice(i, i + size).join(''));
  return chunks;
}

const TEXT_CHUNK = 24;
const JSON_CHUNK = 32;

/**
 * Tool input goes out as at least two `input_json_delta` pieces: the real API fragments it, and a
 * fake that always sent one piece could hide a client that does not concatenate.
 */
function jsonDeltas(input: Readonly<Record<string, unknown>>): string[] {
  const json = JSON.stringify(input);
  const size = Math.min(JSON_CHUNK, Math.max(1, Math.ceil(json.length / 2)));
  return splitIntoChunks(json, size);
}

export function blockText(block: WireBlock): string {
  if (block.type === 'tool_use') return block.jsonDeltas.join('');
  return block.deltas.join('');
}

export function buildWireMessage(
  scripted: ScriptedMessage,
  opts: { model: string; inputTokens: number; ids: FakeIds },
): WireMessage {
  const content: WireBlock[] = scripted.content.map((block): WireBlock => {
    switch (block.type) {
      case 'text':
        return {
          type: 'text',
          deltas: typeof block.text === 'string' ? splitIntoChunks(block.text, TEXT_CHUNK) : [...block.text],
        };
      case 'thinking':
        return {
          type: 'thinking',
          deltas: splitIntoChunks(block.thinking, TEXT_CHUNK),
          // Claude Code sends thinking blocks back verbatim; the fake never checks the signature.
          signature: block.signature ?? 'fake-signature',
        };
      case 'tool_use':
        return {
          type: 'tool_use',
          id: block.id ?? opts.ids.nextToolId(),
          name: block.name,
          input: block.input,
          jsonDeltas: jsonDeltas(block.input),
        };
    }
  });
  const outputChars = content.reduce((sum, block) => sum + blockText(block).length, 0);
  const hasTool = content.some((block) => block.type === 'tool_use');
  return {
    id: opts.ids.nextMessageId(),
    model: opts.model,
    content,
    stopReason: scripted.stopReason ?? (hasTool ? 'tool_use' : 'end_turn'),
    usage: { input_tokens: Math.max(1, opts.inputTokens), output_tokens: estimateTokens(outputChars) },
  };
}

function messageShell(message: WireMessage): Record<string, unknown> {
  return {
    id: message.id,
    type: 'message',
    role: 'assistant',
    model: message.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      input_tokens: message.usage.input_tokens,
      output_tokens: 1,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}

/** The events that open a reply, up to (not including) the first content block. */
export function messageStartEvents(message: WireMessage): SseEvent[] {
  return [
    { event: 'message_start', data: { type: 'message_start', message: messageShell(message) } },
    { event: 'ping', data: { type: 'ping' } },
  ];
}

/** The events of one content block (also used alone by replies that are cut short on purpose). */
export function contentBlockEvents(block: WireBlock, index: number): SseEvent[] {
  const delta = (d: Record<string, unknown>): SseEvent => ({
    event: 'content_block_delta',
    data: { type: 'content_block_delta', index, delta: d },
  });
  const start = (contentBlock: Record<string, unknown>): SseEvent => ({
    event: 'content_block_start',
    data: { type: 'content_block_start', index, content_block: contentBlock },
  });
  const stop: SseEvent = { event: 'content_block_stop', data: { type: 'content_block_stop', index } };
  switch (block.type) {
    case 'text':
      return [
        start({ type: 'text', text: '' }),
        ...block.deltas.map((text) => delta({ type: 'text_delta', text })),
        stop,
      ];
    case 'thinking':
      return [
        start({ type: 'thinking', thinking: '', signature: '' }),
        ...block.deltas.map((thinking) => delta({ type: 'thinking_delta', thinking })),
        delta({ type: 'signature_delta', signature: block.signature }),
        stop,
      ];
    case 'tool_use':
      // Input MUST travel as input_json_delta: Claude Code ignores content_block_start.input.
      return [
        start({ type: 'tool_use', id: block.id, name: block.name, input: {} }),
        ...block.jsonDeltas.map((partial_json) => delta({ type: 'input_json_delta', partial_json })),
        stop,
      ];
  }
}

/** The full streaming reply, `message_start` through `message_stop`. */
export function toSseEvents(message: WireMessage): SseEvent[] {
  return [
    ...messageStartEvents(message),
    ...message.content.flatMap((block, index) => contentBlockEvents(block, index)),
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: message.stopReason, stop_sequence: null },
        usage: { output_tokens: message.usage.output_tokens },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ];
}

export function sseErrorEvent(type: string, message?: string): SseEvent {
  return { event: 'error', data: { ...anthropicErrorBody(type, message) } };
}

export function encodeSseEvent(event: SseEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The non-streaming (`stream: false`) rendering of the same message. */
export function toJsonMessage(message: WireMessage): Record<string, unknown> {
  return {
    id: message.id,
    type: 'message',
    role: 'assistant',
    model: message.model,
    content: message.content.map((block) => {
      switch (block.type) {
        case 'text':
          return { type: 'text', text: block.deltas.join('') };
        case 'thinking':
          return { type: 'thinking', thinking: block.deltas.join(''), signature: block.signature };
        case 'tool_use':
          return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
      }
    }),
    stop_reason: message.stopReason,
    stop_sequence: null,
    usage: { ...message.usage, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

export interface ParsedSseEvent {
  event: string;
  data: unknown;
}

/**
 * Parses an SSE text into events (for tests and tools reading the fake's output). `data` is the
 * parsed JSON, or the raw string when it is not JSON.
 */
export function parseSse(text: string): ParsedSseEvent[] {
  const events: ParsedSseEvent[] = [];
  for (const frame of text.replace(/\r\n/g, '\n').split('\n\n')) {
    let event = 'message';
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length === 0) continue;
    const raw = data.join('\n');
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // keep the raw string
    }
    events.push({ event, data: parsed });
  }
  return events;
}
