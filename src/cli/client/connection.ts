/**
 * The terminal client's side of the HTTP API: where the server is and which key to send (flags,
 * else CLAUDE_CODE_REST_URL / CLAUDE_CODE_REST_KEY), JSON calls whose errors become ApiFailure
 * with the contract's code, and event streams read with eventsource-parser.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { UsageError } from '../errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:3050';

export interface Connection {
  /** The server's origin, e.g. `http://127.0.0.1:3050` (`/api/v1` is added). */
  url: string;
  key: string;
}

export function connectionOf(flags: { url?: string; key?: string }, env: NodeJS.ProcessEnv): Connection {
  const url = (flags.url ?? env.CLAUDE_CODE_REST_URL ?? DEFAULT_URL)
    .replace(/\/+$/, '')
    .replace(/\/api\/v1$/, '');
  const key = flags.key ?? env.CLAUDE_CODE_REST_KEY ?? '';
  if (key === '') throw new UsageError('No API key: give --key or set CLAUDE_CODE_REST_KEY.', null);
  return { url, key };
}

/** An error answer of the API (or the server not reachable: code `UNREACHABLE`). */
export class ApiFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export interface StreamEvent {
  id: string | null;
  event: string;
  data: unknown;
}

export class ApiClient {
  constructor(private readonly connection: Connection) {}

  private async fetch(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    try {
      return await fetch(`${this.connection.url}/api/v1${path}`, {
        method,
        headers: {
          'x-api-key': this.connection.key,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiFailure(
        'UNREACHABLE',
        `cannot reach ${this.connection.url}: ${(err as Error).message}`,
        null,
      );
    }
  }

  /** A JSON call; an error answer throws ApiFailure. 204 answers null. */
  async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.fetch(method, path, body);
    const text = await res.text();
    const parsed = text === '' ? null : (JSON.parse(text) as unknown);
    if (!res.ok) throw failureOf(res.status, parsed);
    return { status: res.status, body: parsed as T };
  }

  /**
   * A call whose answer is not JSON (a file's bytes, a diff): the response, its body unread, once
   * it is a success; an error answer throws ApiFailure.
   */
  async raw(method: string, path: string): Promise<Response> {
    const res = await this.fetch(method, path);
    if (!res.ok) throw await refusalOf(res);
    return res;
  }

  /**
   * An event stream: yields each event, its data parsed. A refusal before the stream opens
   * throws ApiFailure; 204 (nothing to stream) yields nothing. Ends when the server ends it.
   */
  async *stream(
    method: 'GET' | 'POST',
    path: string,
    options: { body?: unknown; lastEventId?: string | null; signal?: AbortSignal } = {},
  ): AsyncGenerator<StreamEvent> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
    const res = await this.fetch(method, path, options.body, headers, options.signal);
    if (res.status === 204) return;
    if (!res.ok) throw await refusalOf(res);
    if (!res.body) return;
    const queue: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (e) => queue.push(e) });
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      while (queue.length > 0) {
        const e = queue.shift()!;
        yield { id: e.id ?? null, event: e.event ?? 'message', data: safeJson(e.data) };
      }
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function refusalOf(res: Response): Promise<ApiFailure> {
  const text = await res.text();
  return failureOf(res.status, text === '' ? null : safeJson(text));
}

function failureOf(status: number, body: unknown): ApiFailure {
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return new ApiFailure(error?.code ?? `HTTP_${status}`, error?.message ?? `HTTP ${status}`, status);
}
