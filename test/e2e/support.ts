/**
 * Shared helpers of the end-to-end tests on errors, limits and tenancy: typed views of the
 * contract's error envelope, session set-up and tear-down, and SSE reading that stops on a
 * signal (the first event, the end of the stream) rather than on a timer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { call, parseSse, sseRequest, type JsonResponse, type SseEvent } from '../helpers/http.js';
import { assertEventDescribed } from '../helpers/openapi-contract.js';
import { TEST_KEYS, type Stack } from '../helpers/test-server.js';

import type { ErrorBody } from '../../src/domain/errors.js';
import type { MessageView } from '../../src/domain/events.js';
import type { ErrorEnvelope } from '../../src/http/envelope.js';

// The payload types are the catalogue's own (src/domain/events.ts): never re-declared here.
export type { ErrorBody, ErrorEnvelope, MessageView };
export type { TurnCompletion as Completion } from '../../src/domain/events.js';

export interface SessionSummary {
  sessionId: string;
  status: string;
  model: string;
  [field: string]: unknown;
}

export interface HistoryPage {
  sessionId: string;
  messages: MessageView[];
  pagination: { limit: number; offset: number; total: number; hasMore: boolean };
}

/**
 * Asserts the contract's error envelope: status, code, the three fields, an ISO timestamp, and
 * `requestId` equal to the `X-Request-ID` header. Returns the error object.
 */
export function expectError(res: JsonResponse<unknown>, status: number, code: string): ErrorBody {
  const body = res.body as ErrorEnvelope;
  expect({ status: res.status, code: body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(body).sort()).toEqual(['error', 'requestId', 'timestamp']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(typeof body.error.details).toBe('object');
  expect(body.error.details).not.toBeNull();
  expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
  expect(body.requestId.length).toBeGreaterThan(0);
  expect(res.headers.get('x-request-id')).toBe(body.requestId);
  expect(res.headers.get('content-type')).toContain('application/json');
  return body.error;
}

/** Creates a session and returns its id; fails the test on anything but 201. */
export async function createSession(
  stack: Stack,
  key: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const res = await call<SessionSummary>(stack.base, 'POST', '/sessions', { key, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.sessionId;
}

/** Ends a session (each one holds a Claude Code process of about 200 MB). */
export async function deleteSession(stack: Stack, key: string, sessionId: string): Promise<void> {
  const res = await call(stack.base, 'DELETE', `/sessions/${sessionId}`, { key });
  expect(res.status).toBe(204);
}

export async function history(
  stack: Pick<Stack, 'base'>,
  key: string,
  sessionId: string,
): Promise<MessageView[]> {
  const res = await call<HistoryPage>(stack.base, 'GET', `/sessions/${sessionId}/messages?limit=1000`, {
    key,
  });
  expect(res.status).toBe(200);
  return res.body.messages;
}

/** The text blocks of the assistant messages of a history, joined per message. */
/** The Claude Code message a history item or `message` event carries, as its JSON object. */
export function claudeMessage(m: MessageView): Record<string, unknown> {
  return (m.content ?? {}) as Record<string, unknown>;
}

export function assistantTexts(messages: readonly MessageView[]): string[] {
  return messages
    .filter((m) => m.type === 'assistant')
    .map((m) => {
      const inner = claudeMessage(m).message as { content?: unknown } | undefined;
      const blocks = Array.isArray(inner?.content) ? (inner.content as Array<Record<string, unknown>>) : [];
      return blocks
        .filter((b) => b.type === 'text' && typeof b.text === 'string')
        .map((b) => b.text as string)
        .join('');
    });
}

/** The `result` message of a turn in a history (Claude Code's own end-of-turn record). */
export function resultOf(messages: readonly MessageView[], turnId: string): MessageView | undefined {
  return messages.find((m) => m.turnId === turnId && m.type === 'result');
}

/**
 * Reads an SSE response incrementally. `next()` resolves with the next complete event (or null
 * at the end of the stream); `rest()` reads to the end. `raw` is everything received so far.
 */
export class SseReader {
  raw = '';
  private buffer = '';
  private readonly queue: SseEvent[] = [];
  private ended = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(res: Response) {
    if (!res.body) throw new Error('response has no body');
    this.reader = res.body.getReader();
  }

  async next(): Promise<SseEvent | null> {
    while (this.queue.length === 0 && !this.ended) await this.pull();
    return this.queue.shift() ?? null;
  }

  async rest(): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    for (let e = await this.next(); e !== null; e = await this.next()) out.push(e);
    return out;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }

  private async pull(): Promise<void> {
    const { done, value } = await this.reader.read();
    if (done) {
      this.ended = true;
      this.buffer += this.decoder.decode();
    } else {
      const text = this.decoder.decode(value, { stream: true });
      this.raw += text;
      this.buffer += text;
    }
    const blocks = this.buffer.split('\n\n');
    this.buffer = this.ended ? '' : (blocks.pop() ?? '');
    for (const block of blocks) {
      const events = parseSse(block);
      // Each event must be one the OpenAPI document describes.
      for (const event of events) assertEventDescribed(event);
      this.queue.push(...events);
    }
  }
}

/** Reads until an event matches; returns every event read, the match last. */
export async function readUntil(reader: SseReader, match: (e: SseEvent) => boolean): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  for (let e = await reader.next(); e !== null; e = await reader.next()) {
    seen.push(e);
    if (match(e)) return seen;
  }
  throw new Error(`the stream ended first; it had: ${seen.map((e) => e.event).join(', ')}`);
}

/**
 * POST /sessions/:id/stream (the key defaults to the first test key), checked to answer with an
 * event stream; the returned reader reads it.
 */
export async function openTurnStream(
  on: Pick<Stack, 'base'>,
  sessionId: string,
  body: Record<string, unknown>,
  key: string = TEST_KEYS[0]!,
): Promise<SseReader> {
  const res = await sseRequest(on.base, 'POST', `/sessions/${sessionId}/stream`, key, body);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  return new SseReader(res);
}

/** POST /sessions/:id/stream and read it to its end; also returns the raw text. */
export async function streamTurn(
  on: Pick<Stack, 'base'>,
  sessionId: string,
  body: Record<string, unknown>,
  key?: string,
): Promise<{ events: SseEvent[]; raw: string }> {
  const reader = await openTurnStream(on, sessionId, body, key);
  const events = await reader.rest();
  return { events, raw: reader.raw };
}

/** A filter for the events of one name. */
export const named =
  (name: string) =>
  (e: SseEvent): boolean =>
    e.event === name;

/**
 * Reads a stream the way the seed's JavaScript example does, line for line: decode each chunk
 * without `stream: true`, split it on '\n', JSON.parse every `data: ` line (a parse error fails
 * the test). `onEvent` sees each event as it comes (not in the seed: e.g. to answer a question).
 */
export async function readLikeTheSeed(
  response: Response,
  onEvent: (name: string | undefined, data: unknown) => Promise<void> = async () => undefined,
): Promise<{ names: string[]; datas: unknown[] }> {
  const names: string[] = [];
  const datas: unknown[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;

    const chunk = decoder.decode(value);
    const lines = chunk.split('\n');

    for (const line of lines) {
      if (line.startsWith('event: ')) {
        names.push(line.substring(7));
      } else if (line.startsWith('data: ')) {
        const data: unknown = JSON.parse(line.substring(6));
        datas.push(data);
        await onEvent(names.at(-1), data);
      }
    }
  }
  return { names, datas };
}

/** Waits for a condition on the machine (a file, a process): a signal, checked every 50 ms. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The config dirs a server's Claude Code processes write to: the shared one under the data dir
 * (without the sandbox), each live process's own (`config` in its folder under the temp base, with it), and those
 * the SDK makes in the system temp dir to resume a session from the store.
 */
export function claudeConfigDirs(dataDir: string): string[] {
  const dirs = [path.join(dataDir, 'claude')];
  const children = (dir: string): string[] =>
    fs.existsSync(dir) ? fs.readdirSync(dir).map((name) => path.join(dir, name)) : [];
  // The temp base's marker: in the data dir, or (several instances) in each instance's folder.
  const markers = [dataDir, ...children(path.join(dataDir, 'instances'))].map((d) =>
    path.join(d, 'agent-tmp-dir'),
  );
  for (const marker of markers.filter((m) => fs.existsSync(m))) {
    const base = fs.readFileSync(marker, 'utf8').trim();
    dirs.push(...children(base).map((dir) => path.join(dir, 'config')));
  }
  dirs.push(...children(os.tmpdir()).filter((dir) => path.basename(dir).startsWith('claude-resume-')));
  return dirs;
}

/** Claude Code's own transcript file of a session, wherever the server's processes keep it; null if none. */
export function claudeTranscriptPath(dataDir: string, claudeSessionId: string): string | null {
  for (const configDir of claudeConfigDirs(dataDir)) {
    const projects = path.join(configDir, 'projects');
    let entries: string[];
    try {
      entries = fs.readdirSync(projects);
    } catch {
      continue;
    }
    for (const dir of entries) {
      const file = path.join(projects, dir, `${claudeSessionId}.jsonl`);
      if (fs.existsSync(file)) return file;
    }
  }
  return null;
}

/** The parsed `data` of an SSE event. */
export function dataOf<T = Record<string, unknown>>(event: SseEvent): T {
  return JSON.parse(event.data) as T;
}

/**
 * Resolves when the session's running turn (if any) has ended and its terminal event is
 * stored. The stack runs the server in this process, so this waits on the turn's own promise:
 * a signal, not a timer. For cases where the HTTP side cannot watch (the client left, or its
 * events bucket is empty).
 */
export async function turnEnded(stack: Stack, key: string, sessionId: string): Promise<void> {
  const { deps } = stack.server.server;
  const record = await deps.keys.authenticate(key);
  const session = deps.registry.find(record, sessionId);
  await session.turn?.done;
}

export interface RateLimitHeaders {
  limit: number;
  remaining: number;
  reset: number;
}

/** The X-RateLimit-* headers of a response as numbers (NaN when missing). */
export function rateLimitOf(headers: Headers): RateLimitHeaders {
  return {
    limit: Number(headers.get('x-ratelimit-limit') ?? NaN),
    remaining: Number(headers.get('x-ratelimit-remaining') ?? NaN),
    reset: Number(headers.get('x-ratelimit-reset') ?? NaN),
  };
}
