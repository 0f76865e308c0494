/**
 * Small HTTP helpers for end-to-end tests: JSON calls and an SSE reader. Every response they
 * receive is checked against the OpenAPI document (./openapi-contract.ts): one it does not
 * describe fails the test.
 */
import { assertDescribed, assertEventDescribed, headerRecord } from './openapi-contract.js';
import { parseSse, type SseEvent } from './sse-text.js';

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  url: string,
  options: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers['x-api-key'] = options.key;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${base}${url}`, {
    method,
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await res.text();
  assertDescribed({
    method,
    url: `${base}${url}`,
    status: res.status,
    headers: headerRecord(res.headers),
    body: text,
  });
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as T };
}

export { parseSse, type SseEvent } from './sse-text.js';

/** Reads an SSE response to its end (the server closes after the turn's last event). */
export async function readSse(res: Response): Promise<{ raw: string; events: SseEvent[] }> {
  const raw = await res.text();
  const events = parseSse(raw);
  for (const event of events) assertEventDescribed(event);
  return { raw, events };
}

/**
 * A request to a stream route. Its answer is checked against the document: the status and
 * headers now, and the body now too unless it is an event stream (whose events the readers check
 * one by one: `readSse`, and `SseReader` of test/e2e/support.ts).
 */
export async function sseRequest(
  base: string,
  method: 'GET' | 'POST',
  url: string,
  key: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const res = await rawSseRequest(base, method, url, key, body, headers);
  const observed = { method, url: `${base}${url}`, status: res.status, headers: headerRecord(res.headers) };
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    assertDescribed({ ...observed, body: '' });
    return res;
  }
  // Read here to be checked; the caller gets the same answer to read again.
  const text = await res.text();
  assertDescribed({ ...observed, body: text });
  return new Response(res.status === 204 ? null : text, { status: res.status, headers: res.headers });
}

function rawSseRequest(
  base: string,
  method: 'GET' | 'POST',
  url: string,
  key: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}${url}`, {
    method,
    headers: {
      'x-api-key': key,
      accept: 'text/event-stream',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
