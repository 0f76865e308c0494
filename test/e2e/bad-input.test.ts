/**
 * Bad input of every kind is answered in the contract's envelope with the right 4xx, with
 * `requestId` equal to the `X-Request-ID` header, and never with a 5xx, a stack trace or HTML.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type JsonResponse } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { createSession, deleteSession, expectError, type ErrorBody } from './support.js';

const KEY = TEST_KEYS[0];
const BODY_LIMIT = 4096;

let stack: Stack;
let sessionId: string;
beforeAll(async () => {
  stack = await startStack({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
  sessionId = await createSession(stack, KEY);
});
afterAll(async () => {
  if (sessionId) await deleteSession(stack, KEY, sessionId);
  await stack?.close();
});

/** A raw request: any body text and headers, the answer parsed as JSON (it must be JSON). */
async function raw(
  method: string,
  url: string,
  body: string | undefined,
  headers: Record<string, string> = {},
): Promise<JsonResponse<unknown>> {
  const res = await fetch(`${stack.base}${url}`, { method, headers: { 'x-api-key': KEY, ...headers }, body });
  const text = await res.text();
  expect(text.trimStart().startsWith('{'), `not JSON: ${text.slice(0, 200)}`).toBe(true);
  expect(text).not.toMatch(/\bat .+\(.+:\d+:\d+\)/); // no stack trace
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as unknown };
}

/** The fields named by `details.issues`. */
function fieldsOf(error: ErrorBody): string[] {
  const issues = error.details.issues as Array<{ field: string; message: string }> | undefined;
  expect(Array.isArray(issues), JSON.stringify(error)).toBe(true);
  return (issues ?? []).map((i) => i.field);
}

const JSON_TYPE = { 'content-type': 'application/json' };

describe('bodies', () => {
  it('malformed JSON is 400 INVALID_REQUEST with the parser explanation', async () => {
    for (const url of ['/sessions', `/sessions/${sessionId}/messages`, `/sessions/${sessionId}/stream`]) {
      const res = await raw('POST', url, '{"prompt": "unfinished', JSON_TYPE);
      const error = expectError(res, 400, 'INVALID_REQUEST');
      expect(error.message).toMatch(/JSON/);
      expect(typeof error.details.parser).toBe('string');
    }
  });

  it('a JSON array or scalar body is 400 INVALID_REQUEST', async () => {
    for (const body of ['[]', '[{"prompt":"hi"}]', '"hi"', '42', 'null']) {
      expectError(await raw('POST', '/sessions', body, JSON_TYPE), 400, 'INVALID_REQUEST');
      expectError(
        await raw('POST', `/sessions/${sessionId}/messages`, body, JSON_TYPE),
        400,
        'INVALID_REQUEST',
      );
    }
  });

  it('an unknown field is 400 and details.issues names it', async () => {
    const create = await call(stack.base, 'POST', '/sessions', {
      key: KEY,
      body: { maxturns: 5, model: 'opus' },
    });
    expect(fieldsOf(expectError(create, 400, 'INVALID_REQUEST'))).toEqual(['maxturns']);
    const message = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'hi', streaming: true },
    });
    expect(fieldsOf(expectError(message, 400, 'INVALID_REQUEST'))).toEqual(['streaming']);
    const stream = await call(stack.base, 'POST', `/sessions/${sessionId}/stream`, {
      key: KEY,
      body: { prompt: 'hi', stream: false },
    });
    expect(fieldsOf(expectError(stream, 400, 'INVALID_REQUEST'))).toEqual(['stream']);
  });

  it('ill-typed fields are 400 and each is named', async () => {
    const create = await call(stack.base, 'POST', '/sessions', {
      key: KEY,
      body: { maxTurns: 'ten', permissionMode: 'yolo', allowedTools: 'Bash', metadata: [1, 2] },
    });
    expect(fieldsOf(expectError(create, 400, 'INVALID_REQUEST')).sort()).toEqual(
      ['allowedTools', 'maxTurns', 'metadata', 'permissionMode'].sort(),
    );
    const fractional = await call(stack.base, 'POST', '/sessions', { key: KEY, body: { maxTurns: 2.5 } });
    expect(fieldsOf(expectError(fractional, 400, 'INVALID_REQUEST'))).toEqual(['maxTurns']);
    const message = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 42, stream: 'yes', timeout: '1000' },
    });
    expect(fieldsOf(expectError(message, 400, 'INVALID_REQUEST')).sort()).toEqual([
      'prompt',
      'stream',
      'timeout',
    ]);
  });

  it('a missing or empty prompt is 400 naming prompt, on both message endpoints', async () => {
    for (const url of [`/sessions/${sessionId}/messages`, `/sessions/${sessionId}/stream`]) {
      for (const body of [{}, { prompt: '' }, { prompt: '   \n\t' }, { timeout: 5000 }]) {
        const res = await call(stack.base, 'POST', url, { key: KEY, body });
        expect(fieldsOf(expectError(res, 400, 'INVALID_REQUEST')), JSON.stringify(body)).toEqual(['prompt']);
      }
      // No body at all is a 400 too.
      expectError(await raw('POST', url, undefined), 400, 'INVALID_REQUEST');
    }
  });

  it('a timeout out of range is 400 naming timeout', async () => {
    for (const timeout of [0, 999, -5, 1.5, 24 * 3600 * 1000 + 1, 1e15]) {
      const res = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'hi', timeout },
      });
      expect(fieldsOf(expectError(res, 400, 'INVALID_REQUEST')), String(timeout)).toEqual(['timeout']);
    }
  });

  it('a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await raw('POST', `/sessions/${sessionId}/messages`, 'prompt=hi', {
        'content-type': contentType,
      });
      const error = expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(error.details.contentType).toBe(contentType);
    }
    // A +json media type is JSON.
    const vendor = await raw('POST', '/sessions', '{"maxTurns":"x"}', {
      'content-type': 'application/vnd.api+json',
    });
    expect(fieldsOf(expectError(vendor, 400, 'INVALID_REQUEST'))).toEqual(['maxTurns']);
  });

  it('JSON sent with a charset parameter is parsed as JSON', async () => {
    // JSON with parameters (`; charset=utf-8`) is JSON.
    for (const contentType of ['application/json; charset=utf-8', 'application/json;charset=UTF-8']) {
      const res = await raw('POST', '/sessions', '{"maxTurns":"x"}', { 'content-type': contentType });
      expect(fieldsOf(expectError(res, 400, 'INVALID_REQUEST')), contentType).toEqual(['maxTurns']);
    }
  });

  it('a body over BODY_LIMIT_BYTES is 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ prompt: 'x'.repeat(BODY_LIMIT * 2) });
    for (const url of ['/sessions', `/sessions/${sessionId}/messages`, `/sessions/${sessionId}/stream`]) {
      const res = await raw('POST', url, big, JSON_TYPE);
      const error = expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(error.details).toMatchObject({ limitBytes: BODY_LIMIT });
    }
    // Just under the limit is accepted by the parser (and then judged on its fields).
    const justUnder = JSON.stringify({ prompt: 'x'.repeat(BODY_LIMIT - 100), bogus: 1 });
    expect(Buffer.byteLength(justUnder)).toBeLessThan(BODY_LIMIT);
    expectError(
      await raw('POST', `/sessions/${sessionId}/messages`, justUnder, JSON_TYPE),
      400,
      'INVALID_REQUEST',
    );
  });
});

describe('routes, ids and queries', () => {
  it('an unknown route is 404 NOT_FOUND, with or without a key', async () => {
    for (const [method, url] of [
      ['GET', '/nope'],
      ['POST', '/sessions/x/y/z'],
      ['GET', '/api/v2/sessions'],
    ] as const) {
      const withKey = await raw(method, url.startsWith('/api') ? `/../..${url}` : url, undefined);
      expectError(withKey, 404, 'NOT_FOUND');
    }
    // Outside the API (`/` itself is the web console's redirect, `/docs` the reference).
    const outside = await fetch(stack.base.replace('/api/v1', '/nothing-here'), { method: 'GET' });
    expectError(
      { status: outside.status, headers: outside.headers, body: (await outside.json()) as unknown },
      404,
      'NOT_FOUND',
    );
    const noKey = await call(stack.base, 'GET', '/nope');
    expectError(noKey, 404, 'NOT_FOUND');
  });

  it('a method a route does not have is a 4xx in the envelope', async () => {
    for (const [method, url] of [
      ['PUT', '/sessions'],
      ['PATCH', `/sessions/${sessionId}`],
      ['DELETE', '/sessions'],
    ] as const) {
      const res = await raw(method, url, undefined);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectError(res, res.status, (res.body as { error: ErrorBody }).error.code);
    }
  });

  it('an unknown session is 404 SESSION_NOT_FOUND on every endpoint that names one', async () => {
    for (const [method, url, body] of [
      ['GET', '/sessions/sess_unknown', undefined],
      ['DELETE', '/sessions/sess_unknown', undefined],
      ['GET', '/sessions/sess_unknown/messages', undefined],
      ['POST', '/sessions/sess_unknown/messages', { prompt: 'hi' }],
      ['POST', '/sessions/sess_unknown/stream', { prompt: 'hi' }],
      ['GET', '/sessions/sess_unknown/stream', undefined],
    ] as const) {
      const res = await call(stack.base, method, url, { key: KEY, body });
      expect(expectError(res, 404, 'SESSION_NOT_FOUND').details).toEqual({ sessionId: 'sess_unknown' });
    }
  });

  it('an implausible session id (too long, bad %-encoding) is a 4xx in the envelope', async () => {
    // The router's own refusals use the envelope too.
    for (const url of [
      `/sessions/${'x'.repeat(500)}`,
      '/sessions/%E0%A4%A',
      `/sessions/${'y'.repeat(150)}/messages`,
    ]) {
      const res = await call(stack.base, 'GET', url, { key: KEY });
      expect(res.status, url).toBeGreaterThanOrEqual(400);
      expect(res.status, url).toBeLessThan(500);
      const code = (res.body as { error?: { code?: unknown } }).error?.code;
      expect(typeof code, `${url}: ${JSON.stringify(res.body)}`).toBe('string');
      expectError(res, res.status, code as string);
    }
  });

  it('a bad limit or offset is 400 naming it', async () => {
    for (const [url, field] of [
      ['/sessions?limit=abc', 'limit'],
      ['/sessions?limit=0', 'limit'],
      ['/sessions?limit=-1', 'limit'],
      ['/sessions?limit=1.5', 'limit'],
      ['/sessions?limit=101', 'limit'],
      ['/sessions?offset=-1', 'offset'],
      ['/sessions?offset=abc', 'offset'],
      [`/sessions/${sessionId}/messages?limit=abc`, 'limit'],
      [`/sessions/${sessionId}/messages?limit=0`, 'limit'],
      [`/sessions/${sessionId}/messages?limit=1001`, 'limit'],
      [`/sessions/${sessionId}/messages?offset=-3`, 'offset'],
      [`/sessions/${sessionId}/stream?after=abc`, 'after'],
    ] as const) {
      const res = await call(stack.base, 'GET', url, { key: KEY });
      expect(fieldsOf(expectError(res, 400, 'INVALID_REQUEST')), url).toEqual([field]);
    }
    // In range, they work.
    const page = await call(stack.base, 'GET', `/sessions/${sessionId}/messages?limit=1000&offset=0`, {
      key: KEY,
    });
    expect(page.status).toBe(200);
    const sessions = await call(stack.base, 'GET', '/sessions?limit=100&offset=5', { key: KEY });
    expect(sessions.status).toBe(200);
    expect(sessions.body).toMatchObject({ sessions: [], total: 1 });
  });

  it('a bad Last-Event-ID is 400', async () => {
    const res = await call(stack.base, 'GET', `/sessions/${sessionId}/stream`, {
      key: KEY,
      headers: { 'last-event-id': 'yesterday' },
    });
    expect(fieldsOf(expectError(res, 400, 'INVALID_REQUEST'))).toEqual(['Last-Event-ID']);
  });
});

describe('policies', () => {
  it('permissionMode bypassPermissions is 403 FORBIDDEN naming the policy', async () => {
    const res = await call(stack.base, 'POST', '/sessions', {
      key: KEY,
      body: { permissionMode: 'bypassPermissions' },
    });
    const error = expectError(res, 403, 'FORBIDDEN');
    expect(error.details).toMatchObject({
      policy: 'permissionModes',
      permissionMode: 'bypassPermissions',
    });
    expect(error.details.allowed).not.toContain('bypassPermissions');
    expect(error.message).toContain('bypassPermissions');
  });

  it('a cwd is 403 FORBIDDEN when no WORKSPACE_ROOTS are configured', async () => {
    for (const cwd of ['/tmp', '/', stack.dataDir, 'relative/dir']) {
      const res = await call(stack.base, 'POST', '/sessions', { key: KEY, body: { cwd } });
      expect(expectError(res, 403, 'FORBIDDEN').details).toMatchObject({ policy: 'WORKSPACE_ROOTS' });
    }
  });

  it('refused creates leave no session behind', async () => {
    const list = await call<{ total: number; sessions: Array<{ sessionId: string }> }>(
      stack.base,
      'GET',
      '/sessions',
      {
        key: KEY,
      },
    );
    expect(list.body.sessions.map((s) => s.sessionId)).toEqual([sessionId]);
  });
});

describe('request ids', () => {
  it('a sane client X-Request-ID is echoed, in the header and the envelope', async () => {
    const ok = await call(stack.base, 'GET', '/sessions', {
      key: KEY,
      headers: { 'x-request-id': 'trace-abc.123:x_y' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('trace-abc.123:x_y');
    const failed = await call(stack.base, 'GET', '/sessions/sess_unknown', {
      key: KEY,
      headers: { 'x-request-id': 'my-trace-42' },
    });
    expect(failed.headers.get('x-request-id')).toBe('my-trace-42');
    expect((failed.body as { requestId: string }).requestId).toBe('my-trace-42');
    const unauth = await call(stack.base, 'GET', '/sessions', {
      headers: { 'x-request-id': 'anon-trace-1' },
    });
    expect(expectError(unauth, 401, 'MISSING_API_KEY')).toBeDefined();
    expect(unauth.headers.get('x-request-id')).toBe('anon-trace-1');
  });

  it('an unsafe X-Request-ID is replaced by a generated one', async () => {
    for (const given of ['has spaces in it', '<script>', 'x'.repeat(200), 'semi;colon']) {
      const res = await call(stack.base, 'GET', '/sessions/sess_unknown', {
        key: KEY,
        headers: { 'x-request-id': given },
      });
      const id = res.headers.get('x-request-id');
      expect(id).not.toBe(given);
      expect(id).toMatch(/^req_[A-Za-z0-9]+$/);
      expect((res.body as { requestId: string }).requestId).toBe(id);
    }
  });

  it('every response, success or not, has its own X-Request-ID', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await call(stack.base, 'GET', '/health');
      const id = res.headers.get('x-request-id');
      expect(id).toBeTruthy();
      ids.add(id!);
    }
    expect(ids.size).toBe(5);
  });
});
