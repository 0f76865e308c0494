/**
 * A reply plan: what the fake should do with one `POST /v1/messages`. Responders and scripted
 * queues produce plans; only the server turns them into bytes, so plans stay pure data that unit
 * tests can compare.
 */
import type { ScriptedBlock, ScriptedMessage } from './wire.js';

export type Reply =
  /** A normal answer (SSE or JSON depending on the request's `stream`). `deltaDelayMs` spaces the content deltas out. */
  | { kind: 'message'; message: ScriptedMessage; deltaDelayMs?: number }
  /** An HTTP error with the Anthropic JSON error body. `errorType` defaults from the status. */
  | { kind: 'error'; status: number; errorType?: string; message?: string; retryAfterSeconds?: number }
  /** 200 SSE that starts a text answer, then the socket is destroyed (a lost connection). */
  | { kind: 'midstream'; text?: string }
  /** 200 SSE that emits `event: error` (how the real API reports overload mid-stream). */
  | { kind: 'sse_error'; errorType: string; message?: string }
  /** Accept the request and never answer, until released, the client disconnects, or the fake closes. */
  | { kind: 'hang' };

export function textReply(text: string | readonly string[], deltaDelayMs?: number): Reply {
  const message: ScriptedMessage = { content: [{ type: 'text', text }] };
  return deltaDelayMs === undefined
    ? { kind: 'message', message }
    : { kind: 'message', message, deltaDelayMs };
}

export function messageReply(content: readonly ScriptedBlock[]): Reply {
  return { kind: 'message', message: { content } };
}

/** A tool call, optionally preceded by a sentence, like a model announcing what it does. */
export function toolUseReply(
  name: string,
  input: Readonly<Record<string, unknown>>,
  preface?: string,
): Reply {
  const tool: ScriptedBlock = { type: 'tool_use', name, input };
  return messageReply(preface === undefined ? [tool] : [{ type: 'text', text: preface }, tool]);
}

export function errorReply(status: number, message?: string): Reply {
  return message === undefined ? { kind: 'error', status } : { kind: 'error', status, message };
}

export function hangReply(): Reply {
  return { kind: 'hang' };
}
