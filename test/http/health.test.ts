import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, auth, createSession, startApp, type Harness } from './harness.js';

const URL = '/api/v1/health';
const ADMIN_KEY = 'ccr_test_admin_key_000000000000000000003';

describe('GET /health', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const health = (headers: Record<string, string> = auth()) =>
    h.app.inject({ method: 'GET', url: URL, headers });

  it('200 healthy without a key: status, timestamp and version only (a stranger learns nothing more)', async () => {
    const clock = new ManualClock();
    h = await startApp({}, { clock });
    const res = await health({});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'healthy',
      timestamp: new Date(clock.t).toISOString(),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(res.headers['x-request-id']).toMatch(/^req_/);
    // Not authenticated: no bucket is reported.
    expect(res.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('with a valid key: the server-wide figures, its credentials and its problems', async () => {
    const clock = new ManualClock();
    h = await startApp({}, { clock });
    clock.advance(90_500);
    const res = await health();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'healthy',
      timestamp: new Date(clock.t).toISOString(),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      uptimeSeconds: 90,
      sessions: { active: 0, total: 0, running: 0, max: 64 },
      spares: { ready: 0, claimed: 0 },
      store: { ok: true },
      claudeCode: { version: '2.1.999 (fake)' },
      credentials: 'configured',
      problems: [],
    });
  });

  it('an admin key sees the same as a user key', async () => {
    h = await startApp({ ADMIN_API_KEYS: ADMIN_KEY });
    const [user, admin] = [(await health()).json(), (await health(auth(ADMIN_KEY))).json()];
    expect({ ...admin, timestamp: null }).toEqual({ ...user, timestamp: null });
  });

  it('a wrong key is answered like no key, not refused', async () => {
    h = await startApp();
    const res = await health(auth('ccr_wrong'));
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(['status', 'timestamp', 'version']);
  });

  it('counts sessions, their processes and running turns', async () => {
    h = await startApp();
    const id = await createSession(h);
    await createSession(h);
    await h.runner.until(() => h.runner.processes.length === 2);
    h.runner.script({ end: 'hang' });
    await h.app.inject({
      method: 'POST',
      url: `/api/v1/sessions/${id}/messages`,
      headers: auth(),
      payload: { prompt: 'x', stream: true },
    });
    expect((await health()).json().sessions).toEqual({ active: 2, total: 2, running: 1, max: 64 });
  });

  it('200 degraded: at the session cap', async () => {
    h = await startApp({ MAX_LIVE_SESSIONS: '1' });
    await createSession(h);
    const res = await health();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', sessions: { total: 1, max: 1 } });
    expect((await health({})).json().status).toBe('degraded');
  });

  it("200 degraded with the reason: the agent's temp dir is unusable", async () => {
    h = await startApp();
    const problem = {
      code: 'agent_temp_dir' as const,
      message: "the agent's temp dir /tmp/ccr-x is not usable",
    };
    h.runner.agentHealth.problems = [problem];
    const res = await health();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', problems: [problem] });
    // A stranger sees that something is wrong, not what.
    expect((await health({})).json()).toEqual({
      status: 'degraded',
      timestamp: expect.any(String),
      version: expect.any(String),
    });
  });

  it('degraded, credentials missing: Claude Code has no credentials for the model API', async () => {
    h = await startApp();
    h.runner.agentHealth = {
      credentials: 'missing',
      problems: [{ code: 'no_credentials', message: 'set ANTHROPIC_API_KEY' }],
    };
    expect((await health()).json()).toMatchObject({
      status: 'degraded',
      credentials: 'missing',
      problems: [{ code: 'no_credentials' }],
    });
    expect((await health({})).json()).not.toHaveProperty('credentials');
  });

  it('503 draining: the server is shutting down (a load balancer sends new work elsewhere)', async () => {
    h = await startApp();
    h.deps.admission.drain();
    const res = await health({});
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'draining' });
    expect((await health()).json()).toMatchObject({ status: 'draining', store: { ok: true } });
  });

  it('503 unhealthy: the store does not answer', async () => {
    h = await startApp();
    h.store.ping = () => Promise.reject(new Error('database is locked'));
    const res = await health({});
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unhealthy' });
    expect(res.body).not.toContain('locked');
  });
});

describe('GET /health/ready', () => {
  const READY = '/api/v1/health/ready';
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('200 ready, without a key: the store answers, the instance takes work', async () => {
    h = await startApp();
    const res = await h.app.inject({ method: 'GET', url: READY });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      timestamp: expect.any(String),
      checks: { store: true, lease: true, accepting: true },
    });
  });

  it('503 not ready while draining, and when the store does not answer', async () => {
    h = await startApp();
    h.deps.admission.drain();
    const draining = await h.app.inject({ method: 'GET', url: READY });
    expect(draining.statusCode).toBe(503);
    expect(draining.json()).toMatchObject({ status: 'not_ready', checks: { store: true, accepting: false } });
    h.store.ping = () => Promise.reject(new Error('database is locked'));
    const down = await h.app.inject({ method: 'GET', url: READY });
    expect(down.json()).toMatchObject({ status: 'not_ready', checks: { store: false } });
    expect(down.body).not.toContain('locked');
  });
});
