/**
 * A fake Anthropic Messages API on loopback that the real Claude Code binary talks to (through
 * `ANTHROPIC_BASE_URL`). Tests script it and inspect what it received; the offline demo uses its
 * default responder. It never opens an outgoing connection, and refuses to listen off-loopback so
 * an unauthenticated scripted "model" is never exposed to a network.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  anthropicErrorBody,
  defaultErrorMessage,
  errorTypeForStatus,
  statusForErrorType,
} from './api-errors.js';
import { textReply } from './reply.js';
import type { Reply } from './reply.js';
import { isStreamingRequest, promptText, requestModel, userTexts } from './request-body.js';
import { defaultResponder } from './responder.js';
import type { Responder } from './responder.js';
import {
  FakeIds,
  buildWireMessage,
  contentBlockEvents,
  encodeSseEvent,
  estimateTokens,
  messageStartEvents,
  sseErrorEvent,
  toJsonMessage,
  toSseEvents,
} from './wire.js';
import type { SseEvent, WireMessage, WireUsage } from './wire.js';

export interface RecordedRequest {
  /** 1, 2, 3… per fake instance; not reused after `reset()`. */
  readonly id: number;
  readonly method: string;
  /** Path without the query (Claude Code sends `/v1/messages?beta=true`). */
  readonly path: string;
  /** The raw request target, query included. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, or null when there was none or it was not JSON. */
  readonly body: unknown;
  /** Epoch milliseconds when the body had been fully received. */
  readonly receivedAt: number;
  /** True once the client closed the connection before the reply finished (e.g. Claude Code's interrupt). */
  closedByClient: boolean;
  /** The scripted message it was answered with: its id and the usage it reported; null otherwise. */
  replied: { messageId: string; usage: WireUsage } | null;
}

/** A reply for the next request, or a function computing it from that request. */
export type ScriptedReply = Reply | ((request: RecordedRequest) => Reply);

export interface FakeAnthropicOptions {
  /** Must be a loopback address; defaults to 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  responder?: Responder;
  log?: (line: string) => void;
  /** Told of each text delta as it is written to Claude Code (benchmarks time its way from here). */
  onTextDelta?: (text: string) => void;
}

export interface FakeAnthropic {
  /** Base URL for `ANTHROPIC_BASE_URL`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first (live array; `reset()` empties it in place). */
  readonly requests: readonly RecordedRequest[];
  /** Only the `POST /v1/messages` requests. */
  messagesRequests(): RecordedRequest[];
  /** The current number of recorded requests: pass it to `waitForRequest` to wait only for later ones. */
  mark(): number;
  /** Scripts the next `/v1/messages` replies (FIFO), ahead of the responder. */
  enqueue(...replies: ScriptedReply[]): void;
  setResponder(responder: Responder): void;
  /**
   * The first request at index >= `fromIndex` matching `predicate`: already recorded ones are
   * checked first, synchronously with subscribing, so a request cannot slip between the two.
   */
  waitForRequest(
    predicate?: (request: RecordedRequest) => boolean,
    timeoutMs?: number,
    fromIndex?: number,
  ): Promise<RecordedRequest>;
  /** Resolves when the client closes that request early; rejects if it was answered completely instead. */
  waitForClientClose(requestId: number, timeoutMs?: number): Promise<void>;
  /** Number of requests currently held by a `hang` reply. */
  hangingCount(): number;
  /** Answers every hanging request with `reply` (default: a short text); returns how many. */
  releaseHanging(reply?: Reply): number;
  /** Forgets requests, queued replies, flaky counters and a custom responder; drops in-flight replies. */
  reset(): void;
  /** Stops listening and drops every open connection, hanging ones included. */
  close(): Promise<void>;
}

/** The user texts of a recorded request's history, oldest first (reminders stripped). */
export function requestUserTexts(request: RecordedRequest): string[] {
  return userTexts(request.body);
}

const DEFAULT_WAIT_MS = 10_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const FAKE_MODELS = ['claude-sonnet-4-5', 'claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5'];

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

type Settlement = 'open' | 'finished' | 'client-closed' | 'fake-closed';

/** Server-side state of one request whose reply is being produced. */
interface InFlight {
  record: RecordedRequest;
  res: ServerResponse;
  /** Aborted when the connection closes, whoever closed it, so delays and hangs stop at once. */
  abort: AbortController;
  closedByFake: boolean;
  release?: (reply: Reply | null) => void;
}

const RELEASED_TEXT = '(fake) released after hanging';

class FakeAnthropicServer implements FakeAnthropic {
  readonly url: string;
  readonly port: number;
  private readonly records: RecordedRequest[] = [];
  private readonly settlements = new Map<number, Settlement>();
  private readonly inFlight = new Map<number, InFlight>();
  private readonly queue: ScriptedReply[] = [];
  private readonly attempts = new Map<string, number>();
  private readonly events = new EventEmitter();
  private readonly ids = new FakeIds();
  private nextRecordId = 1;
  private responder: Responder;
  private closed = false;

  constructor(
    private readonly server: Server,
    host: string,
    port: number,
    private readonly initialResponder: Responder,
    private readonly log: ((line: string) => void) | undefined,
    private readonly onTextDelta: ((text: string) => void) | undefined,
  ) {
    this.port = port;
    this.url = `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;
    this.responder = initialResponder;
    // Many tests may wait at once; this is not a leak.
    this.events.setMaxListeners(0);
  }

  get requests(): readonly RecordedRequest[] {
    return this.records;
  }

  messagesRequests(): RecordedRequest[] {
    return this.records.filter((r) => r.method === 'POST' && r.path === '/v1/messages');
  }

  mark(): number {
    return this.records.length;
  }

  enqueue(...replies: ScriptedReply[]): void {
    this.queue.push(...replies);
  }

  setResponder(responder: Responder): void {
    this.responder = responder;
  }

  waitForRequest(
    predicate: (request: RecordedRequest) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
    fromIndex = 0,
  ): Promise<RecordedRequest> {
    const existing = this.records.slice(fromIndex).find(predicate);
    if (existing) return Promise.resolve(existing);
    return this.waitFor<RecordedRequest>(
      timeoutMs,
      `a matching request (seen ${this.records.length})`,
      (done) => {
        const onRequest = (record: RecordedRequest): void => {
          // A throwing predicate fails this wait only, never the request being recorded.
          try {
            if (predicate(record)) done.resolve(record);
          } catch (error) {
            done.reject(error instanceof Error ? error : new Error(String(error)));
          }
        };
        this.events.on('request', onRequest);
        return () => this.events.off('request', onRequest);
      },
    );
  }

  waitForClientClose(requestId: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const check = (): 'yes' | 'no' | 'pending' => {
      const state = this.settlements.get(requestId);
      if (state === 'client-closed') return 'yes';
      return state === 'open' ? 'pending' : 'no';
    };
    const explain = (): Error =>
      new Error(
        `request #${requestId} was not closed by the client (${this.settlements.get(requestId) ?? 'unknown id'})`,
      );
    const now = check();
    if (now === 'yes') return Promise.resolve();
    if (now === 'no') return Promise.reject(explain());
    return this.waitFor<void>(timeoutMs, `the client to close request #${requestId}`, (done) => {
      const onSettled = (id: number): void => {
        if (id !== requestId) return;
        if (check() === 'yes') done.resolve();
        else done.reject(explain());
      };
      this.events.on('settled', onSettled);
      return () => this.events.off('settled', onSettled);
    });
  }

  hangingCount(): number {
    return [...this.inFlight.values()].filter((f) => f.release).length;
  }

  releaseHanging(reply: Reply = textReply(RELEASED_TEXT)): number {
    let count = 0;
    for (const flight of this.inFlight.values()) {
      const release = flight.release;
      if (!release) continue;
      flight.release = undefined;
      release(reply);
      count++;
    }
    return count;
  }

  reset(): void {
    this.dropInFlight();
    this.records.length = 0;
    this.settlements.clear();
    this.queue.length = 0;
    this.attempts.clear();
    this.responder = this.initialResponder;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.emit('closed');
    this.dropInFlight();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Idle keep-alive sockets would otherwise hold close() open for seconds.
      this.server.closeAllConnections();
    });
  }

  /** Shared plumbing of the waiters: timeout, cleanup, and rejection when the fake closes. */
  private waitFor<T>(
    timeoutMs: number,
    what: string,
    subscribe: (done: { resolve: (value: T) => void; reject: (error: Error) => void }) => () => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let unsubscribe = (): void => undefined;
      const finish = (): void => {
        clearTimeout(timer);
        unsubscribe();
        this.events.off('closed', onClosed);
      };
      const onClosed = (): void => {
        finish();
        reject(new Error(`fake Anthropic closed while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.events.on('closed', onClosed);
      unsubscribe = subscribe({
        resolve: (value) => {
          finish();
          resolve(value);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      });
    });
  }

  private dropInFlight(): void {
    for (const flight of this.inFlight.values()) {
      flight.closedByFake = true;
      flight.release?.(null);
      flight.abort.abort();
      flight.res.destroy();
    }
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (error) {
      // Either the client went away mid-body (nothing to answer) or the body is absurdly large.
      if (error instanceof BodyTooLargeError && !res.destroyed)
        sendJson(res, 413, anthropicErrorBody('request_too_large'));
      else res.destroy();
      return;
    }
    const url = req.url ?? '/';
    const record: RecordedRequest = {
      id: this.nextRecordId++,
      method: req.method ?? 'GET',
      path: url.split('?')[0] ?? url,
      url,
      headers: req.headers,
      body: parseJson(raw),
      receivedAt: Date.now(),
      closedByClient: false,
      replied: null,
    };
    const flight: InFlight = { record, res, abort: new AbortController(), closedByFake: false };
    this.inFlight.set(record.id, flight);
    this.settlements.set(record.id, 'open');
    res.on('close', () => this.onClose(flight));
    this.records.push(record);
    this.events.emit('request', record);
    if (req.socket.destroyed) this.onClose(flight);

    try {
      await this.route(flight, raw.length);
    } catch (error) {
      // A bug in a scripted function must not take the fake down; the client sees a 500.
      this.log?.(`#${record.id} failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent && !res.destroyed)
        sendJson(res, 500, anthropicErrorBody('api_error', `fake: ${String(error)}`));
      else res.destroy();
    }
  }

  private onClose(flight: InFlight): void {
    if (this.settlements.get(flight.record.id) !== 'open') return;
    const settlement: Settlement = flight.res.writableFinished
      ? 'finished'
      : flight.closedByFake
        ? 'fake-closed'
        : 'client-closed';
    if (settlement === 'client-closed') flight.record.closedByClient = true;
    this.settlements.set(flight.record.id, settlement);
    this.inFlight.delete(flight.record.id);
    flight.release?.(null);
    flight.abort.abort();
    if (settlement !== 'finished') this.log?.(`#${flight.record.id} connection closed (${settlement})`);
    this.events.emit('settled', flight.record.id);
  }

  private async route(flight: InFlight, bodyBytes: number): Promise<void> {
    const { record, res } = flight;
    const line = `#${record.id} ${record.method} ${record.url}`;
    if (record.method === 'POST' && record.path === '/v1/messages') {
      await this.answerMessages(flight, bodyBytes);
    } else if (record.method === 'POST' && record.path === '/v1/messages/count_tokens') {
      this.log?.(`${line} -> count_tokens`);
      sendJson(res, 200, { input_tokens: estimateTokens(bodyBytes) });
    } else if ((record.method === 'GET' || record.method === 'HEAD') && record.path === '/api/hello') {
      sendJson(res, 200, { message: 'hello from the fake Anthropic API' });
    } else if (record.method === 'GET' && record.path === '/v1/models') {
      sendJson(res, 200, modelsList());
    } else {
      this.log?.(`${line} -> 404`);
      sendJson(
        res,
        404,
        anthropicErrorBody('not_found_error', `fake: no route for ${record.method} ${record.path}`),
      );
    }
  }

  private nextReply(record: RecordedRequest): Reply {
    // Counted for every request, scripted or not, so [[flaky]] means "the Nth attempt of this prompt".
    const key = promptText(record.body);
    const attempt = this.attempts.get(key) ?? 0;
    this.attempts.set(key, attempt + 1);
    const scripted = this.queue.shift();
    if (scripted === undefined) return this.responder(record.body, { attempt });
    return typeof scripted === 'function' ? scripted(record) : scripted;
  }

  private async answerMessages(flight: InFlight, bodyBytes: number): Promise<void> {
    const { record } = flight;
    if (record.body === null) {
      this.log?.(`#${record.id} POST /v1/messages -> 400 (body is not JSON)`);
      sendJson(
        flight.res,
        400,
        anthropicErrorBody('invalid_request_error', 'fake: the body is not valid JSON'),
      );
      return;
    }
    const stream = isStreamingRequest(record.body);
    const reply = this.nextReply(record);
    this.log?.(`#${record.id} POST ${record.url} (${stream ? 'stream' : 'json'}) -> ${describeReply(reply)}`);
    await this.perform(flight, reply, stream, bodyBytes);
  }

  private async perform(flight: InFlight, reply: Reply, stream: boolean, bodyBytes: number): Promise<void> {
    const { res } = flight;
    const requestId = this.ids.nextRequestId();
    const wire = (text: string): WireMessage =>
      buildWireMessage(
        { content: [{ type: 'text', text }] },
        {
          model: requestModel(flight.record.body) ?? 'claude-fake',
          inputTokens: estimateTokens(bodyBytes),
          ids: this.ids,
        },
      );
    switch (reply.kind) {
      case 'message': {
        const message = buildWireMessage(reply.message, {
          model: requestModel(flight.record.body) ?? 'claude-fake',
          inputTokens: estimateTokens(bodyBytes),
          ids: this.ids,
        });
        flight.record.replied = { messageId: message.id, usage: message.usage };
        if (!stream) {
          sendJson(res, 200, toJsonMessage(message), { 'request-id': requestId });
          return;
        }
        startSse(res, requestId);
        let deltas = 0;
        for (const event of toSseEvents(message)) {
          if (event.event === 'content_block_delta' && deltas++ > 0 && reply.deltaDelayMs) {
            if (!(await pause(reply.deltaDelayMs, flight.abort.signal))) return;
          }
          if (!(await writeEvent(res, event))) return;
          const delta = (event.data as { delta?: { type?: string; text?: string } }).delta;
          if (delta?.type === 'text_delta' && delta.text !== undefined) this.onTextDelta?.(delta.text);
        }
        res.end();
        return;
      }
      case 'error': {
        const type = reply.errorType ?? errorTypeForStatus(reply.status);
        const headers: Record<string, string> = { 'request-id': requestId };
        const retryAfter = reply.retryAfterSeconds ?? (reply.status === 429 ? 1 : undefined);
        if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
        sendJson(
          res,
          reply.status,
          anthropicErrorBody(type, reply.message ?? defaultErrorMessage(type)),
          headers,
        );
        return;
      }
      case 'sse_error': {
        if (!stream) {
          // A non-streaming retry cannot carry an SSE error; fail it with the matching status instead.
          const status = statusForErrorType(reply.errorType);
          sendJson(res, status, anthropicErrorBody(reply.errorType, reply.message), {
            'request-id': requestId,
          });
          return;
        }
        startSse(res, requestId);
        for (const event of [
          ...messageStartEvents(wire('')),
          sseErrorEvent(reply.errorType, reply.message),
        ]) {
          if (!(await writeEvent(res, event))) return;
          const delta = (event.data as { delta?: { type?: string; text?: string } }).delta;
          if (delta?.type === 'text_delta' && delta.text !== undefined) this.onTextDelta?.(delta.text);
        }
        res.end();
        return;
      }
      case 'midstream': {
        if (stream) {
          const message = wire(reply.text ?? 'This reply is about to be cut off by the fake');
          const [block] = message.content;
          startSse(res, requestId);
          const events = [
            ...messageStartEvents(message),
            ...(block ? contentBlockEvents(block, 0).slice(0, -1) : []),
          ];
          for (const event of events) {
            if (!(await writeEvent(res, event))) return;
          }
        }
        // Destroying (not ending) the socket is what a dropped connection looks like to the client.
        flight.closedByFake = true;
        res.destroy();
        return;
      }
      case 'hang': {
        const released = await new Promise<Reply | null>((resolve) => {
          if (flight.abort.signal.aborted) resolve(null);
          flight.release = resolve;
        });
        flight.release = undefined;
        if (released && !res.destroyed) await this.perform(flight, released, stream, bodyBytes);
        return;
      }
    }
  }
}

function describeReply(reply: Reply): string {
  switch (reply.kind) {
    case 'message':
      return `message [${reply.message.content.map((b) => (b.type === 'tool_use' ? `tool_use ${b.name}` : b.type)).join(', ')}]`;
    case 'error':
      return `error ${reply.status}`;
    case 'sse_error':
      return `sse_error ${reply.errorType}`;
    default:
      return reply.kind;
  }
}

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return null;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function startSse(res: ServerResponse, requestId: string): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': requestId,
  });
  res.flushHeaders();
}

/** Resolves false when the connection is gone, so the caller stops producing. */
function writeEvent(res: ServerResponse, event: SseEvent): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    res.write(encodeSseEvent(event), (error) => resolve(!error && !res.destroyed));
  });
}

/** Resolves false if aborted (the client left or the fake is closing). */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function modelsList(): Record<string, unknown> {
  const data = FAKE_MODELS.map((id) => ({
    type: 'model',
    id,
    display_name: `${id} (fake)`,
    created_at: '2025-01-01T00:00:00Z',
  }));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
}

export async function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new Error(`fake Anthropic refuses to listen on non-loopback host "${host}"`);
  }
  // The handler is attached once the port is known; nobody can connect before the URL is returned.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    server.close();
    throw new Error('fake Anthropic: unexpected server address');
  }
  const fake = new FakeAnthropicServer(
    server,
    host,
    address.port,
    opts.responder ?? defaultResponder,
    opts.log,
    opts.onTextDelta,
  );
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res));
  return fake;
}
