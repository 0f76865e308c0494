/**
 * The admin API through inject(): every route's happy path, admin-only access, strict bodies
 * whose errors name the field, and that what it does to a key is what the server enforces on
 * that key's very next request.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashKey } from '../../src/domain/api-keys.js';
import {
  KEY_A,
  ManualClock,
  auth,
  expectError,
  issueFields,
  keyRecord,
  startApp,
  type Harness,
} from './harness.js';

const ADMIN_KEY = 'ccr_test_key_admin_000000000000000000009';
const KEYS = '/api/v1/admin/keys';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface KeyJson {
  id: string;
  name: string;
  prefix: string;
  role: 'user' | 'admin';
  policy: Record<string, unknown>;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

let h: Harness;
let clock: ManualClock;

beforeEach(async () => {
  clock = new ManualClock();
  h = await startApp({}, { clock });
  await h.deps.keys.bootstrap([], [ADMIN_KEY]);
});
afterEach(async () => {
  await h?.close();
});

const admin = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, key = ADMIN_KEY) =>
  h.app.inject({ method, url, headers: auth(key), ...(payload ? { payload } : {}) });

async function createKey(body: object = { name: 'ci-bot' }): Promise<{ key: KeyJson; secret: string }> {
  const res = await admin('POST', KEYS, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('POST /admin/keys', () => {
  it('201: makes a key, returns its secret once, and stores only the hash', async () => {
    const policy = {
      rateLimits: { sessions: 5 },
      maxTurns: 20,
      permissionModes: ['default', 'acceptEdits'],
      allowedTools: ['Read', 'Bash(npm test:*)'],
      workspaceRoots: ['/srv/repos'],
      scopes: ['read', 'write'],
      dailyBudgetUsd: 2.5,
    };
    const res = await admin('POST', KEYS, { name: 'ci-bot', policy });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as { key: KeyJson; secret: string };
    expect(Object.keys(body).sort()).toEqual(['key', 'secret']);
    expect(body.secret).toMatch(/^ccr_[0-9A-Za-z]{40}$/);
    expect(body.key).toEqual({
      id: expect.stringMatching(/^key_[0-9A-Za-z]{16}$/),
      name: 'ci-bot',
      prefix: body.secret.slice(0, 12),
      role: 'user',
      policy,
      createdAt: new Date(clock.t).toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(res.headers.location).toBe(`${KEYS}/${body.key.id}`);
    expect(res.headers['cache-control']).toBe('no-store');

    const stored = await keyRecord(h, body.secret);
    expect(stored.id).toBe(body.key.id);
    expect(stored.hash).toBe(hashKey(body.secret));
    expect(res.body).not.toContain(stored.hash);

    // The secret is never shown again.
    for (const url of [KEYS, `${KEYS}/${body.key.id}`]) {
      const again = await admin('GET', url);
      expect(again.statusCode).toBe(200);
      expect(again.body).not.toContain(body.secret);
      expect(again.body).not.toContain(stored.hash);
    }
  });

  it('makes an admin key when asked, and that key may use the admin API', async () => {
    const { key, secret } = await createKey({ name: 'second admin', role: 'admin' });
    expect(key.role).toBe('admin');
    const res = await admin('GET', KEYS, undefined, secret);
    expect(res.statusCode, res.body).toBe(200);
  });

  it('400 naming the field: unknown policy field, bad permission mode, negative budget, relative root', async () => {
    const cases: Array<[object, string[]]> = [
      [{ name: 'a', policy: { maxTurnz: 5 } }, ['policy.maxTurnz']],
      [{ name: 'a', policy: { permissionModes: ['yolo'] } }, ['policy.permissionModes.0']],
      [{ name: 'a', policy: { dailyBudgetUsd: -1 } }, ['policy.dailyBudgetUsd']],
      [{ name: 'a', policy: { workspaceRoots: ['/ok', 'relative/dir'] } }, ['policy.workspaceRoots.1']],
      [{ name: 'a', role: 'root' }, ['role']],
      [{ name: 'a', secret: 'ccr_mine' }, ['secret']],
      [{ name: 'a', hash: 'abc' }, ['hash']],
      [{ name: 'no!such?name' }, ['name']],
      [{ name: '' }, ['name']],
      [{}, ['name']],
    ];
    const before = (await h.store.listKeys()).length;
    for (const [payload, fields] of cases) {
      const body = expectError(await admin('POST', KEYS, payload), 400, 'INVALID_REQUEST');
      expect(issueFields(body), JSON.stringify(payload)).toEqual(fields);
    }
    const nested = expectError(
      await admin('POST', KEYS, { name: 'a', policy: { rateLimits: { sessions: 0, hours: 1 } } }),
      400,
      'INVALID_REQUEST',
    );
    expect(issueFields(nested)).toEqual(['policy.rateLimits.hours', 'policy.rateLimits.sessions']);
    expect((await h.store.listKeys()).length).toBe(before);
  });

  it('400 for a body that is not an object', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: KEYS,
      headers: { ...auth(ADMIN_KEY), 'content-type': 'application/json' },
      payload: '[]',
    });
    expectError(res, 400, 'INVALID_REQUEST');
  });
});

describe('a key made through the admin API', () => {
  it('works on /sessions right away, under its policy', async () => {
    const { secret } = await createKey({ name: 'worker' });
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: auth(secret),
      payload: {},
    });
    expect(created.statusCode, created.body).toBe(201);

    const { secret: reader } = await createKey({ name: 'reader', policy: { scopes: ['read'] } });
    const list = await h.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: auth(reader) });
    expect(list.statusCode, list.body).toBe(200);
    const write = await h.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: auth(reader),
      payload: {},
    });
    expect(expectError(write, 403, 'FORBIDDEN').error.details).toMatchObject({ policy: 'scopes' });
  });

  it('a user key made here cannot use the admin API', async () => {
    const { secret } = await createKey({ name: 'plain' });
    expectError(await admin('GET', KEYS, undefined, secret), 403, 'FORBIDDEN');
  });
});

describe('GET /admin/keys', () => {
  it('lists active keys without hashes; ?include=revoked adds the revoked ones', async () => {
    const { key: kept } = await createKey({ name: 'kept' });
    const { key: gone } = await createKey({ name: 'gone' });
    clock.advance(1000);
    expect((await admin('POST', `${KEYS}/${gone.id}/revoke`)).statusCode).toBe(200);

    const res = await admin('GET', KEYS);
    expect(res.statusCode).toBe(200);
    const { keys } = res.json() as { keys: KeyJson[] };
    // Seeded by the harness: KEY_A, KEY_B, the admin key. (Keys made in the same millisecond
    // are ordered by id, so the names are compared as sets.)
    expect(keys.map((k) => k.name).sort()).toEqual([
      'ADMIN_API_KEYS #1',
      'API_KEYS #1',
      'API_KEYS #2',
      'kept',
    ]);
    expect(keys.find((k) => k.id === kept.id)).toEqual(kept);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual([
        'createdAt',
        'id',
        'lastUsedAt',
        'name',
        'policy',
        'prefix',
        'revokedAt',
        'role',
      ]);
      expect(key.createdAt).toMatch(ISO);
    }
    for (const record of await h.store.listKeys()) expect(res.body).not.toContain(record.hash);

    // The admin key has been used: its lastUsedAt is set, as an ISO time.
    const adminView = keys.find((k) => k.role === 'admin');
    expect(adminView?.lastUsedAt).toBe(new Date(clock.t - 1000).toISOString());

    const all = (await admin('GET', `${KEYS}?include=revoked`)).json() as { keys: KeyJson[] };
    expect(all.keys.map((k) => k.name).sort()).toEqual([
      'ADMIN_API_KEYS #1',
      'API_KEYS #1',
      'API_KEYS #2',
      'gone',
      'kept',
    ]);
    expect(all.keys.find((k) => k.id === gone.id)?.revokedAt).toBe(new Date(clock.t).toISOString());
  });

  it('400 on an unknown query value or parameter', async () => {
    expect(
      issueFields(expectError(await admin('GET', `${KEYS}?include=all`), 400, 'INVALID_REQUEST')),
    ).toEqual(['include']);
    expect(issueFields(expectError(await admin('GET', `${KEYS}?limit=5`), 400, 'INVALID_REQUEST'))).toEqual([
      'limit',
    ]);
  });
});

describe('GET /admin/keys/:id', () => {
  it('finds a key by id or by its unique prefix', async () => {
    const { key } = await createKey();
    expect((await admin('GET', `${KEYS}/${key.id}`)).json()).toEqual(key);
    expect((await admin('GET', `${KEYS}/${key.prefix}`)).json()).toEqual(key);
  });

  it('404 NOT_FOUND for an unknown key', async () => {
    const body = expectError(await admin('GET', `${KEYS}/key_doesnotexist0000`), 404, 'NOT_FOUND');
    expect(body.error.details).toEqual({ key: 'key_doesnotexist0000' });
  });
});

describe('PATCH /admin/keys/:id', () => {
  it('renames a key and leaves its policy alone', async () => {
    const { key } = await createKey({ name: 'old', policy: { maxTurns: 5 } });
    const res = await admin('PATCH', `${KEYS}/${key.id}`, { name: 'new name' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ...key, name: 'new name' });
    expect((await h.store.getKey(key.id))?.name).toBe('new name');
  });

  it('replaces the policy as a whole, and the server applies it from the next request', async () => {
    const { key, secret } = await createKey({ name: 'w', policy: { maxTurns: 5, dailyBudgetUsd: 1 } });
    const res = await admin('PATCH', `${KEYS}/${key.id}`, { policy: { scopes: ['read'] } });
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as KeyJson).policy).toEqual({ scopes: ['read'] });
    expect((await h.store.getKey(key.id))?.policy).toEqual({ scopes: ['read'] });

    const write = await h.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: auth(secret),
      payload: {},
    });
    expectError(write, 403, 'FORBIDDEN');

    // `{}`: back to the server's defaults, which include the write scope.
    expect((await admin('PATCH', `${KEYS}/${key.id}`, { policy: {} })).json()).toMatchObject({ policy: {} });
    const again = await h.app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      headers: auth(secret),
      payload: {},
    });
    expect(again.statusCode, again.body).toBe(201);
  });

  it('400 naming the field, and the key is unchanged', async () => {
    const { key } = await createKey({ name: 'p', policy: { maxTurns: 5 } });
    const cases: Array<[object, string[]]> = [
      [{ policy: { bogus: true } }, ['policy.bogus']],
      [{ policy: { permissionModes: ['sudo'] } }, ['policy.permissionModes.0']],
      [{ policy: { dailyBudgetUsd: -0.01 } }, ['policy.dailyBudgetUsd']],
      [{ policy: { workspaceRoots: ['tmp'] } }, ['policy.workspaceRoots.0']],
      [{ role: 'admin' }, ['role']],
      [{ name: 'bad\nname' }, ['name']],
      [{}, ['(body)']],
    ];
    for (const [payload, fields] of cases) {
      const body = expectError(await admin('PATCH', `${KEYS}/${key.id}`, payload), 400, 'INVALID_REQUEST');
      expect(issueFields(body), JSON.stringify(payload)).toEqual(fields);
    }
    const stored = await h.store.getKey(key.id);
    expect({ name: stored?.name, policy: stored?.policy, role: stored?.role }).toEqual({
      name: 'p',
      policy: { maxTurns: 5 },
      role: 'user',
    });
  });

  it('404 NOT_FOUND for an unknown key', async () => {
    expectError(await admin('PATCH', `${KEYS}/key_nope`, { name: 'x' }), 404, 'NOT_FOUND');
  });
});

describe('POST /admin/keys/:id/revoke', () => {
  it('revokes: revokedAt is set, the key gets 401 on its next request, a second revoke keeps the time', async () => {
    const { key, secret } = await createKey({ name: 'doomed' });
    const before = await h.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: auth(secret) });
    expect(before.statusCode).toBe(200);

    clock.advance(5000);
    const res = await admin('POST', `${KEYS}/${key.id}/revoke`);
    expect(res.statusCode, res.body).toBe(200);
    const revoked = res.json() as KeyJson;
    expect(revoked).toMatchObject({ id: key.id, name: 'doomed', revokedAt: new Date(clock.t).toISOString() });

    const after = await h.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: auth(secret) });
    expectError(after, 401, 'INVALID_API_KEY');

    clock.advance(5000);
    const again = await admin('POST', `${KEYS}/${key.prefix}/revoke`);
    expect(again.statusCode).toBe(200);
    expect((again.json() as KeyJson).revokedAt).toBe(revoked.revokedAt);
  });

  it('404 NOT_FOUND for an unknown key', async () => {
    expectError(await admin('POST', `${KEYS}/key_nope/revoke`), 404, 'NOT_FOUND');
  });
});

describe('only admin keys', () => {
  it('an ordinary key gets 403 FORBIDDEN on every admin route, and nothing changes', async () => {
    const { key } = await createKey({ name: 'target' });
    const routes: Array<['GET' | 'POST' | 'PATCH', string, object | undefined]> = [
      ['GET', KEYS, undefined],
      ['POST', KEYS, { name: 'sneaky', role: 'admin' }],
      ['GET', `${KEYS}/${key.id}`, undefined],
      ['PATCH', `${KEYS}/${key.id}`, { name: 'renamed' }],
      ['POST', `${KEYS}/${key.id}/revoke`, undefined],
    ];
    for (const [method, url, payload] of routes) {
      const body = expectError(await admin(method, url, payload, KEY_A), 403, 'FORBIDDEN');
      expect(body.error.details, `${method} ${url}`).toEqual({ policy: 'admin_key_required' });
      expect(JSON.stringify(body)).not.toContain(key.prefix);
    }
    // An invalid body from an ordinary key is still 403: the body is not looked at.
    expectError(await admin('POST', KEYS, { bogus: 1 }, KEY_A), 403, 'FORBIDDEN');

    const keys = await h.store.listKeys();
    expect(keys.map((k) => k.name)).not.toContain('sneaky');
    expect(keys.find((k) => k.id === key.id)).toMatchObject({ name: 'target', revokedAt: null });
  });

  it('no key or a wrong key gets 401 on every admin route', async () => {
    for (const [method, url] of [
      ['GET', KEYS],
      ['POST', KEYS],
      ['GET', `${KEYS}/key_x`],
      ['PATCH', `${KEYS}/key_x`],
      ['POST', `${KEYS}/key_x/revoke`],
    ] as const) {
      expectError(await h.app.inject({ method, url }), 401, 'MISSING_API_KEY');
      expectError(await h.app.inject({ method, url, headers: auth('ccr_wrong') }), 401, 'INVALID_API_KEY');
    }
  });

  it('a revoked admin key gets 401', async () => {
    const { key, secret } = await createKey({ name: 'admin two', role: 'admin' });
    expect((await admin('POST', `${KEYS}/${key.id}/revoke`)).statusCode).toBe(200);
    expectError(await admin('GET', KEYS, undefined, secret), 401, 'INVALID_API_KEY');
  });
});
