/** What every route shares: the envelope for unknown routes and bad URLs, and request ids. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auth, createSession, expectError, startApp, type Harness } from './harness.js';

describe('errors and request ids on every route', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startApp();
  });
  afterEach(async () => {
    await h.close();
  });

  it.each([
    ['GET', '/api/v1/nope'],
    ['GET', '/nope'],
    ['PUT', '/api/v1/sessions'],
    ['PATCH', '/api/v1/sessions/sess_x'],
    ['POST', '/api/v1/models'],
  ] as const)('404 NOT_FOUND: %s %s, with or without a key', async (method, url) => {
    for (const headers of [{}, auth()]) {
      const body = expectError(await h.app.inject({ method, url, headers }), 404, 'NOT_FOUND');
      expect(body.error.message).toContain(url);
    }
  });

  it('keeps a client’s sane X-Request-ID and replaces an unsafe one', async () => {
    const kept = await h.app.inject({
      method: 'GET',
      url: '/api/v1/sessions/sess_x',
      headers: { ...auth(), 'x-request-id': 'client-123.abc:9' },
    });
    expect(expectError(kept, 404, 'SESSION_NOT_FOUND').requestId).toBe('client-123.abc:9');
    const replaced = await h.app.inject({
      method: 'GET',
      url: '/api/v1/sessions/sess_x',
      headers: { ...auth(), 'x-request-id': 'bad id <script>' },
    });
    expect(expectError(replaced, 404, 'SESSION_NOT_FOUND').requestId).toMatch(/^req_[0-9A-Za-z]{20}$/);
    const long = await h.app.inject({
      method: 'GET',
      url: '/api/v1/health',
      headers: { 'x-request-id': 'a'.repeat(129) },
    });
    expect(long.headers['x-request-id']).toMatch(/^req_/);
  });

  it('every successful response carries a request id too', async () => {
    const id = await createSession(h);
    for (const url of [
      '/api/v1/sessions',
      `/api/v1/sessions/${id}`,
      `/api/v1/sessions/${id}/messages`,
      '/api/v1/models',
    ]) {
      const res = await h.app.inject({ method: 'GET', url, headers: auth() });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-request-id']).toMatch(/^req_/);
    }
  });

  it('request ids are unique', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++)
      ids.add(String((await h.app.inject({ method: 'GET', url: '/api/v1/health' })).headers['x-request-id']));
    expect(ids.size).toBe(20);
  });

  // The router's own refusals (over-long parameter, bad percent-encoding) use the envelope too.
  it('a too-long path parameter or a malformed percent-encoding is INVALID_REQUEST in the envelope', async () => {
    for (const url of [`/api/v1/sessions/${'x'.repeat(101)}`, '/api/v1/sessions/%E0%A4%A']) {
      expectError(await h.app.inject({ method: 'GET', url, headers: auth() }), 400, 'INVALID_REQUEST');
    }
  });
});
