import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, auth, createSession, startApp, type Harness } from './harness.js';

const URL = '/api/v1/health';

describe('GET /health', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('200 healthy, without a key', async () => {
    const clock = new ManualClock();
    h = await startApp({}, { clock });
    clock.advance(90_500);
    const res = await h.app.inject({ method: 'GET', url: URL });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'healthy',
      timestamp: new Date(clock.t).toISOString(),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      uptimeSeconds: 90,
      sessions: { active: 0, total: 0, running: 0, max: 64 },
      store: { ok: true },
      claudeCode: { version: '2.1.999 (fake)' },
    });
    expect(res.headers['x-request-id']).toMatch(/^req_/);
    // Not authenticated: no bucket is reported.
    expect(res.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('ignores a wrong key', async () => {
    h = await startApp();
    const res = await h.app.inject({ method: 'GET', url: URL, headers: auth('ccr_wrong') });
    expect(res.statusCode).toBe(200);
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
    const body = (await h.app.inject({ method: 'GET', url: URL })).json();
    expect(body.sessions).toEqual({ active: 2, total: 2, running: 1, max: 64 });
  });

  it('200 degraded: at the session cap', async () => {
    h = await startApp({ MAX_LIVE_SESSIONS: '1' });
    await createSession(h);
    const res = await h.app.inject({ method: 'GET', url: URL });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', sessions: { total: 1, max: 1 } });
  });

  it('503 draining: the server is shutting down (a load balancer sends new work elsewhere)', async () => {
    h = await startApp();
    h.deps.admission.drain();
    const res = await h.app.inject({ method: 'GET', url: URL });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'draining', store: { ok: true } });
  });

  it('503 unhealthy: the store does not answer', async () => {
    h = await startApp();
    h.store.ping = () => Promise.reject(new Error('database is locked'));
    const res = await h.app.inject({ method: 'GET', url: URL });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unhealthy', store: { ok: false } });
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
