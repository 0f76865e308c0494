/**
 * Every `/v1` route (the Managed Agents API) needs a key and answers without one in Anthropic's
 * error format (401 authentication_error), before reading the body; and no route shows another
 * key's objects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_A, KEY_B, startApp, type Harness } from './harness.js';
import { routesOf } from './security-suite.js';

let h: Harness;
beforeAll(async () => {
  h = await startApp();
});
afterAll(async () => {
  await h?.close();
});

/** A URL the route matches (the route printer shows `/a/*` as `/a*`). */
const concrete = (url: string) => url.replace(/:(\w+)/g, 'x_$1').replace(/\/?\*$/, '/anything');

describe('/v1 security', () => {
  it('serves the Managed Agents routes under /v1', () => {
    const routes = routesOf(h.app).filter((r) => r.split(' ')[1]?.startsWith('/v1/'));
    for (const expected of [
      'POST /v1/agents',
      'GET /v1/agents/:id/versions',
      'POST /v1/environments/:id/archive',
      'POST /v1/sessions',
      'GET /v1/sessions/:id/events/stream',
      'POST /v1/sessions/:id/events',
      'DELETE /v1/sessions/:id/resources/:resourceId',
      'POST /v1/files',
      'GET /v1/files/:id/content',
    ]) {
      expect(routes).toContain(expected);
    }
  });

  it('every /v1 route: no key or a wrong key is 401 authentication_error, in Anthropic’s shape', async () => {
    const routes = routesOf(h.app).filter((r) => r.split(' ')[1]?.startsWith('/v1/'));
    expect(routes.length).toBeGreaterThan(30);
    for (const route of routes) {
      const [method, url] = route.split(' ') as ['GET', string];
      for (const headers of [{}, { 'x-api-key': 'wrong' }, { authorization: 'Bearer wrong' }]) {
        const res = await h.app.inject({
          method,
          url: concrete(url),
          headers: { ...headers, 'content-type': 'application/json' },
          payload: method === 'GET' || method === 'DELETE' ? undefined : '{not json',
        });
        expect({ route, status: res.statusCode }).toEqual({ route, status: 401 });
        const body = res.json() as { type: string; error: { type: string }; request_id: string };
        expect(body.type).toBe('error');
        expect(body.error.type).toBe('authentication_error');
        expect(res.headers['request-id']).toBe(body.request_id);
      }
    }
  });

  it("another key's session, agent, environment and file are not_found_error on every route naming them", async () => {
    const post = (url: string, payload: unknown, key = KEY_A) =>
      h.app.inject({ method: 'POST', url, headers: { 'x-api-key': key }, payload: payload as object });
    const agent = (await post('/v1/agents', { name: 'a', model: 'claude-sonnet-4-5' })).json() as {
      id: string;
    };
    const env = (await post('/v1/environments', { name: 'e' })).json() as { id: string };
    const session = (await post('/v1/sessions', { agent: agent.id, environment_id: env.id })).json() as {
      id: string;
    };
    expect(session.id).toMatch(/^sess_/);
    const asB: Array<[string, string, unknown?]> = [
      ['GET', `/v1/agents/${agent.id}`],
      ['POST', `/v1/agents/${agent.id}`, { name: 'stolen' }],
      ['POST', `/v1/agents/${agent.id}/archive`],
      ['GET', `/v1/agents/${agent.id}/versions`],
      ['GET', `/v1/environments/${env.id}`],
      ['DELETE', `/v1/environments/${env.id}`],
      ['GET', `/v1/sessions/${session.id}`],
      ['POST', `/v1/sessions/${session.id}`, { title: 'stolen' }],
      ['POST', `/v1/sessions/${session.id}/archive`],
      ['DELETE', `/v1/sessions/${session.id}`],
      ['GET', `/v1/sessions/${session.id}/events`],
      ['GET', `/v1/sessions/${session.id}/events/stream`],
      ['POST', `/v1/sessions/${session.id}/events`, { events: [{ type: 'user.interrupt' }] }],
      ['GET', `/v1/sessions/${session.id}/resources`],
      // B's own agent and environment cannot start a session on A's objects either.
      ['POST', '/v1/sessions', { agent: agent.id, environment_id: env.id }],
    ];
    for (const [method, url, payload] of asB) {
      const res = await h.app.inject({
        method: method as 'GET',
        url,
        headers: { 'x-api-key': KEY_B },
        ...(payload ? { payload: payload as object } : {}),
      });
      expect({ url, method, status: res.statusCode }).toEqual({ url, method, status: 404 });
      expect((res.json() as { error: { type: string } }).error.type).toBe('not_found_error');
    }
    // Still A's, unchanged.
    const mine = await h.app.inject({
      method: 'GET',
      url: `/v1/agents/${agent.id}`,
      headers: { 'x-api-key': KEY_A },
    });
    expect(mine.json() as { name: string; version: number }).toMatchObject({ name: 'a', version: 1 });
  });
});
