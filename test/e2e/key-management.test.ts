/**
 * Key management on the real server (real HTTP, SQLite, Claude Code, the fake model API): an
 * admin makes a key over HTTP, the key streams a slow turn, the admin revokes it, and the open
 * stream ends with an `error` event INVALID_API_KEY while the turn still runs; the key's next
 * request is 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { createSession, dataOf, expectError, SseReader } from './support.js';

const ADMIN_KEY = 'ccr_e2e_admin_key_0000000000000000000001';

interface KeyJson {
  id: string;
  name: string;
  prefix: string;
  role: string;
  revokedAt: string | null;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_API_KEYS: ADMIN_KEY } });
});
afterAll(async () => {
  await stack?.close();
});

describe('key management over HTTP', () => {
  it('revoking a key ends its open stream with INVALID_API_KEY, and its next request is 401', async () => {
    const created = await call<{ key: KeyJson; secret: string }>(stack.base, 'POST', '/admin/keys', {
      key: ADMIN_KEY,
      body: { name: 'e2e worker', policy: { maxTurns: 5 } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { key, secret } = created.body;
    expect(secret).toMatch(/^ccr_[0-9A-Za-z]{40}$/);

    const sessionId = await createSession(stack, secret);
    const res = await fetch(`${stack.base}/sessions/${sessionId}/stream`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ prompt: 'count slowly [[slow:40:100]]' }),
    });
    expect(res.status).toBe(200);
    const reader = new SseReader(res);
    const first = await reader.next();
    expect(first?.event).toBe('message');
    const turnId = dataOf<{ turnId: string }>(first!).turnId;

    const revoked = await call<KeyJson>(stack.base, 'POST', `/admin/keys/${key.id}/revoke`, {
      key: ADMIN_KEY,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: key.id, revokedAt: expect.any(String) });

    const rest = await reader.rest();
    // The stream ended on the revocation, not on the turn: it is still running.
    const session = stack.server.server.deps.registry.peek(sessionId);
    expect(session?.busy, 'the turn is still running when the stream ends').toBe(true);
    expect(session?.turn?.id).toBe(turnId);
    expect(rest.map((e) => e.event)).not.toContain('complete');
    const last = rest.at(-1);
    expect(last?.event).toBe('error');
    expect(dataOf(last!)).toMatchObject({ code: 'INVALID_API_KEY' });

    // The key's next request, on any route, is refused.
    expectError(
      await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: secret }),
      401,
      'INVALID_API_KEY',
    );
    expectError(
      await call(stack.base, 'POST', '/sessions', { key: secret, body: {} }),
      401,
      'INVALID_API_KEY',
    );
    const reattach = await fetch(`${stack.base}/sessions/${sessionId}/stream`, {
      headers: { 'x-api-key': secret },
    });
    expect(reattach.status).toBe(401);
    await reattach.body?.cancel();

    // The admin still sees it, as revoked, and other keys are untouched.
    const all = await call<{ keys: KeyJson[] }>(stack.base, 'GET', '/admin/keys?include=revoked', {
      key: ADMIN_KEY,
    });
    expect(all.body.keys.find((k) => k.id === key.id)?.revokedAt).toBe(revoked.body.revokedAt);
    const active = await call<{ keys: KeyJson[] }>(stack.base, 'GET', '/admin/keys', { key: ADMIN_KEY });
    expect(active.body.keys.map((k) => k.id)).not.toContain(key.id);
    expect((await call(stack.base, 'GET', '/sessions', { key: TEST_KEYS[0] })).status).toBe(200);

    // Wait for the turn to end before the stack closes (the turn itself was never stopped).
    await session?.turn?.done;
  });

  it('an ordinary key is refused the admin API; a key made there is stored hashed in SQLite', async () => {
    const refused = await call(stack.base, 'POST', '/admin/keys', {
      key: TEST_KEYS[0],
      body: { name: 'sneaky', role: 'admin' },
    });
    expectError(refused, 403, 'FORBIDDEN');

    const created = await call<{ key: KeyJson; secret: string }>(stack.base, 'POST', '/admin/keys', {
      key: ADMIN_KEY,
      body: { name: 'stored', role: 'admin' },
    });
    expect(created.status).toBe(201);
    const { stores } = stack.server.server;
    const stored = await stores.keys.getKey(created.body.key.id);
    expect(stored).toMatchObject({ name: 'stored', role: 'admin', prefix: created.body.secret.slice(0, 12) });
    expect(stored?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(created.body.secret);
    expect((await stores.keys.listKeys()).map((k) => k.name)).not.toContain('sneaky');

    // The new admin key is an admin at once.
    const listed = await call(stack.base, 'GET', '/admin/keys', { key: created.body.secret });
    expect(listed.status).toBe(200);
  });
});
