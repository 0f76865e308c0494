/**
 * The shared security suite: every authenticated route is listed here, and every one of them
 * must refuse a missing, wrong or revoked key, accept `Authorization: Bearer`, ignore a key in
 * the query string, hide another key's session, and refuse with 403 a key whose policy forbids
 * the route (a missing scope; an ordinary key on an admin route). A route the app serves but this
 * table does not list fails the suite, so a new route cannot skip these checks.
 */
import { CONSOLE_ROUTES } from '../../src/http/console.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KEY_A, KEY_B, createSession, expectError, keyRecord, type Harness } from './harness.js';

export interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * The route as registered; `:id` is replaced by a session of KEY_A, or for admin routes by a
   * throwaway key made for the test.
   */
  url: string;
  /** A query string a valid call needs (`path=…`), without the `?`. */
  query?: string;
  /** A valid body, for routes that take one. */
  body?: object;
  /** The status of a valid call (what `Authorization: Bearer` must reach). */
  ok: number;
  /** Who may call it: a key with this scope, or an admin key. */
  access: 'read' | 'write' | 'admin';
}

export const AUTHENTICATED_ROUTES: readonly RouteCase[] = [
  { method: 'POST', url: '/api/v1/sessions', body: { model: 'sonnet' }, ok: 201, access: 'write' },
  { method: 'GET', url: '/api/v1/sessions', ok: 200, access: 'read' },
  { method: 'GET', url: '/api/v1/sessions/:id', ok: 200, access: 'read' },
  { method: 'DELETE', url: '/api/v1/sessions/:id', ok: 204, access: 'write' },
  {
    method: 'POST',
    url: '/api/v1/sessions/:id/messages',
    body: { prompt: 'Hello' },
    ok: 200,
    access: 'write',
  },
  { method: 'GET', url: '/api/v1/sessions/:id/messages', ok: 200, access: 'read' },
  // No such turn in the suite's sessions: a valid call reaches the 404 of an unknown message.
  { method: 'GET', url: '/api/v1/sessions/:id/messages/:messageId', ok: 404, access: 'read' },
  { method: 'POST', url: '/api/v1/sessions/:id/stream', body: { prompt: 'Hello' }, ok: 200, access: 'write' },
  { method: 'GET', url: '/api/v1/sessions/:id/stream', ok: 204, access: 'read' },
  { method: 'GET', url: '/api/v1/models', ok: 200, access: 'read' },
  { method: 'GET', url: '/api/v1/usage', ok: 200, access: 'read' },
  { method: 'POST', url: '/api/v1/sessions/:id/interrupt', ok: 200, access: 'write' },
  { method: 'GET', url: '/api/v1/sessions/:id/permissions', ok: 200, access: 'read' },
  // No request is pending in the suite's sessions: a valid call reaches the 404 of an unknown one.
  {
    method: 'POST',
    url: '/api/v1/sessions/:id/permissions/:requestId',
    body: { decision: 'allow' },
    ok: 404,
    access: 'write',
  },
  { method: 'GET', url: '/api/v1/sessions/:id/files', ok: 200, access: 'read' },
  // The suite's sessions have no such file: a valid call reaches the 404 of a missing one.
  {
    method: 'GET',
    url: '/api/v1/sessions/:id/files/content',
    query: 'path=none.txt',
    ok: 404,
    access: 'read',
  },
  {
    method: 'PUT',
    url: '/api/v1/sessions/:id/files/content',
    query: 'path=suite.json',
    body: { any: 'bytes' },
    ok: 201,
    access: 'write',
  },
  {
    method: 'DELETE',
    url: '/api/v1/sessions/:id/files/content',
    query: 'path=none.txt',
    ok: 404,
    access: 'write',
  },
  { method: 'GET', url: '/api/v1/sessions/:id/archive', ok: 200, access: 'read' },
  // No such turn: the 404 of an unknown message (diff, rewind) or of no completed turn (fork).
  { method: 'GET', url: '/api/v1/sessions/:id/diff', query: 'messageId=msg_none', ok: 404, access: 'read' },
  {
    method: 'POST',
    url: '/api/v1/sessions/:id/rewind',
    body: { messageId: 'msg_none' },
    ok: 404,
    access: 'write',
  },
  { method: 'POST', url: '/api/v1/sessions/:id/fork', body: {}, ok: 404, access: 'write' },
  { method: 'GET', url: '/api/v1/admin/keys', ok: 200, access: 'admin' },
  { method: 'POST', url: '/api/v1/admin/keys', body: { name: 'suite key' }, ok: 201, access: 'admin' },
  { method: 'GET', url: '/api/v1/admin/keys/:id', ok: 200, access: 'admin' },
  { method: 'PATCH', url: '/api/v1/admin/keys/:id', body: { name: 'renamed' }, ok: 200, access: 'admin' },
  { method: 'POST', url: '/api/v1/admin/keys/:id/revoke', ok: 200, access: 'admin' },
];

export const PUBLIC_ROUTES: readonly string[] = [
  'GET /api/v1/health',
  'GET /api/v1/health/ready',
  'GET /api/v1/openapi.json',
  // The reference page and the Swagger UI files it loads (src/http/routes/reference.ts).
  'GET /docs',
  'GET /docs/favicon-32x32.png',
  'GET /docs/reference.js',
  'GET /docs/swagger-ui-bundle.js',
  'GET /docs/swagger-ui.css',
];

/** Every `METHOD /path` the app serves (HEAD, which Fastify adds to each GET, left out). */
export function routesOf(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const path: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    path.length = depth;
    path.push(match[2] ?? '');
    for (const method of (match[3] ?? '').split(', ').filter((m) => m !== '' && m !== 'HEAD')) {
      routes.push(`${method} ${path.join('')}`);
    }
  }
  return routes.sort();
}

const KEY_REVOKED = 'ccr_test_key_revoked_0000000000000000003';
const WRONG_KEY = 'ccr_test_key_wrong_00000000000000000000x';
/** An admin key, for the admin routes. */
const KEY_ADMIN = 'ccr_test_key_admin_000000000000000000004';
/** Keys whose policy leaves out one scope each. */
const KEY_READ_ONLY = 'ccr_test_key_readonly_0000000000000005';
const KEY_WRITE_ONLY = 'ccr_test_key_writeonly_000000000000006';

export function describeSecuritySuite(name: string, start: () => Promise<Harness>): void {
  describe(`security: ${name}`, () => {
    let h: Harness;
    let sessionId: string;
    /** A throwaway key, the `:id` of the admin routes. */
    let targetKeyId: string;

    beforeAll(async () => {
      h = await start();
      await h.deps.keys.bootstrap([KEY_REVOKED, KEY_READ_ONLY, KEY_WRITE_ONLY], [KEY_ADMIN]);
      await h.store.updateKey((await keyRecord(h, KEY_REVOKED)).id, { revokedAt: Date.now() });
      await h.store.updateKey((await keyRecord(h, KEY_READ_ONLY)).id, { policy: { scopes: ['read'] } });
      await h.store.updateKey((await keyRecord(h, KEY_WRITE_ONLY)).id, { policy: { scopes: ['write'] } });
    });

    afterAll(async () => {
      await h?.close();
    });

    beforeEach(async () => {
      sessionId = await createSession(h, {}, KEY_A);
      targetKeyId = (await h.deps.keyAdmin.create({ name: 'suite target' })).key.id;
    });

    const urlOf = (route: RouteCase) =>
      route.url
        .replace(':id', route.access === 'admin' ? targetKeyId : sessionId)
        .replace(':requestId', 'perm_none')
        .replace(':messageId', 'msg_none') + (route.query ? `?${route.query}` : '');
    /** A key that may call the route. */
    const allowedKey = (route: RouteCase) => (route.access === 'admin' ? KEY_ADMIN : KEY_A);

    const call = (route: RouteCase, headers: Record<string, string>, query = '') =>
      h.app.inject({
        method: route.method,
        url: urlOf(route) + (route.query ? query.replace(/^\?/, '&') : query),
        headers,
        ...(route.body ? { payload: route.body } : {}),
      });

    it('lists every route the app serves', () => {
      const listed = [
        ...AUTHENTICATED_ROUTES.map((r) => `${r.method} ${r.url}`),
        ...PUBLIC_ROUTES,
        // The web console's page (src/http/console.ts): no key, and no API behind it. The
        // router, which ignores trailing slashes, prints `/console/*` as `/console*`.
        ...CONSOLE_ROUTES.map((route) => route.replace('/console/*', '/console*')),
      ].sort();
      // The Managed Agents API (/v1) answers in Anthropic's error format: its own checks are in
      // test/http/managed-agents-security.test.ts.
      expect(routesOf(h.app).filter((r) => !r.split(' ')[1]?.startsWith('/v1/'))).toEqual(listed);
    });

    it('public routes answer without a key', async () => {
      for (const route of PUBLIC_ROUTES) {
        const [method, url] = route.split(' ') as ['GET', string];
        expect((await h.app.inject({ method, url })).statusCode).toBe(200);
      }
    });

    it('a session never shows in another key’s list', async () => {
      const list = (
        await h.app.inject({
          method: 'GET',
          url: '/api/v1/sessions?limit=100',
          headers: { 'x-api-key': KEY_B },
        })
      ).json();
      expect(list.sessions.map((s: { sessionId: string }) => s.sessionId)).not.toContain(sessionId);
    });

    describe.each(AUTHENTICATED_ROUTES.map((route) => [`${route.method} ${route.url}`, route] as const))(
      '%s',
      (_name, route) => {
        it('no key → 401 MISSING_API_KEY', async () => {
          expectError(await call(route, {}), 401, 'MISSING_API_KEY');
          expectError(await call(route, { 'x-api-key': '' }), 401, 'MISSING_API_KEY');
          expectError(
            await call(route, { authorization: `Basic ${Buffer.from(KEY_A).toString('base64')}` }),
            401,
            'MISSING_API_KEY',
          );
        });

        it('no key → 401 before the body is even read', async () => {
          const res = await h.app.inject({
            method: route.method,
            url: urlOf(route),
            headers: { 'content-type': 'application/json' },
            payload: '{not json',
          });
          expectError(res, 401, 'MISSING_API_KEY');
        });

        it('a wrong key → 401 INVALID_API_KEY', async () => {
          expectError(await call(route, { 'x-api-key': WRONG_KEY }), 401, 'INVALID_API_KEY');
          expectError(await call(route, { authorization: `Bearer ${WRONG_KEY}` }), 401, 'INVALID_API_KEY');
        });

        it('a revoked key → 401 INVALID_API_KEY', async () => {
          expectError(await call(route, { 'x-api-key': KEY_REVOKED }), 401, 'INVALID_API_KEY');
          expectError(await call(route, { authorization: `Bearer ${KEY_REVOKED}` }), 401, 'INVALID_API_KEY');
        });

        it('a key in the query string is not accepted', async () => {
          const query = `?api_key=${KEY_A}&apiKey=${KEY_A}&key=${KEY_A}&x-api-key=${KEY_A}`;
          expectError(await call(route, {}, query), 401, 'MISSING_API_KEY');
        });

        it('Authorization: Bearer is accepted', async () => {
          const res = await call(route, { authorization: `Bearer ${allowedKey(route)}` });
          expect(res.statusCode, res.body).toBe(route.ok);
        });

        it('a key whose policy forbids the route → 403 FORBIDDEN naming the policy', async () => {
          if (route.access === 'admin') {
            const res = await call(route, { 'x-api-key': KEY_A });
            expect(expectError(res, 403, 'FORBIDDEN').error.details).toEqual({
              policy: 'admin_key_required',
            });
          } else {
            const lacking = route.access === 'read' ? KEY_WRITE_ONLY : KEY_READ_ONLY;
            const res = await call(route, { 'x-api-key': lacking });
            expect(expectError(res, 403, 'FORBIDDEN').error.details).toMatchObject({
              policy: 'scopes',
              required: route.access,
            });
          }
        });

        if (route.method === 'GET') {
          it('HEAD without a key → 401', async () => {
            const res = await h.app.inject({ method: 'HEAD', url: urlOf(route) });
            expect(res.statusCode).toBe(401);
          });
        }

        if (route.url.includes(':id') && route.access !== 'admin') {
          it('another key’s session → 404 SESSION_NOT_FOUND, and the session is untouched', async () => {
            const before = await h.store.countMessages(sessionId);
            const res = await call(route, { 'x-api-key': KEY_B });
            expect(expectError(res, 404, 'SESSION_NOT_FOUND').error.details).toEqual({ sessionId });
            expect(h.deps.registry.find(await keyRecord(h, KEY_A), sessionId).id).toBe(sessionId);
            expect(await h.store.countMessages(sessionId)).toBe(before);
            const own = await h.app.inject({
              method: 'GET',
              url: `/api/v1/sessions/${sessionId}`,
              headers: { 'x-api-key': KEY_A },
            });
            expect(own.statusCode).toBe(200);
          });
        }
      },
    );
  });
}
