import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { msg, result } from '../helpers/fake-agent-runner.js';
import {
  KEY_B,
  ManualClock,
  auth,
  createSession,
  expectError,
  issueFields,
  rateLimitHeaders,
  startApp,
  type Harness,
} from './harness.js';

const URL = '/api/v1/sessions';

describe('sessions', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  describe('POST /sessions', () => {
    it('201: creates a session with the seed’s request, mapping the retired model', async () => {
      const clock = new ManualClock();
      h = await startApp({}, { clock });
      const res = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: auth(),
        payload: {
          model: 'claude-3-opus-20240229',
          permissionMode: 'default',
          maxTurns: 10,
          metadata: { team: 'a' },
        },
      });
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(body).toEqual({
        sessionId: expect.stringMatching(/^sess_[0-9A-Za-z]{24}$/),
        model: 'claude-3-opus-20240229',
        resolvedModel: 'opus',
        permissionMode: 'default',
        maxTurns: 10,
        status: 'idle',
        createdAt: new Date(clock.t).toISOString(),
        lastActivity: new Date(clock.t).toISOString(),
        expiresAt: new Date(clock.t + 7 * 24 * 3_600_000).toISOString(),
        metadata: { team: 'a' },
      });
      expect(res.headers.location).toBe(`/api/v1/sessions/${body.sessionId}`);
      expect(res.headers['x-request-id']).toMatch(/^req_/);
      // POST /sessions draws on the sessions bucket.
      expect(rateLimitHeaders(res)).toEqual({
        limit: 10,
        remaining: 9,
        reset: Math.ceil((clock.t + 3_600_000) / 1000),
      });
      // Claude Code is started with the resolved model and an owned workspace.
      await h.runner.until(() => h.runner.starts.length === 1);
      expect(h.runner.starts[0]).toMatchObject({
        sessionId: body.sessionId,
        model: 'opus',
        permissionMode: 'default',
        maxTurns: 10,
      });
      expect(fs.statSync(h.runner.starts[0]?.cwd as string).isDirectory()).toBe(true);
    });

    it('201: every field is optional, even the body', async () => {
      h = await startApp();
      const res = await h.app.inject({ method: 'POST', url: URL, headers: auth() });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({
        model: 'default',
        resolvedModel: 'default',
        permissionMode: 'default',
        maxTurns: null,
        metadata: {},
      });
      const empty = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '',
      });
      expect(empty.statusCode).toBe(201);
    });

    it('201: a cwd inside a configured root', async () => {
      const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-root-')));
      fs.mkdirSync(path.join(root, 'app'));
      try {
        h = await startApp({ WORKSPACE_ROOTS: root });
        const res = await h.app.inject({
          method: 'POST',
          url: URL,
          headers: auth(),
          payload: { cwd: `${root}/app/.` },
        });
        expect(res.statusCode).toBe(201);
        await h.runner.until(() => h.runner.starts.length === 1);
        expect(h.runner.starts[0]?.cwd).toBe(path.join(root, 'app'));
        // An external cwd is the client's: ending the session leaves it alone.
        await h.app.inject({ method: 'DELETE', url: `${URL}/${res.json().sessionId}`, headers: auth() });
        expect(fs.existsSync(path.join(root, 'app'))).toBe(true);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });

    it('400 INVALID_REQUEST: names every unknown and ill-typed field', async () => {
      h = await startApp();
      const res = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: auth(),
        payload: { maxturns: 3, maxTurns: 'ten', permissionMode: 'yolo', allowedTools: 'Bash' },
      });
      const body = expectError(res, 400, 'INVALID_REQUEST');
      expect(issueFields(body)).toEqual(['allowedTools', 'maxTurns', 'maxturns', 'permissionMode']);
      expect(body.error.details.issues).toContainEqual({ field: 'maxturns', message: 'unknown field' });
      expect(h.deps.registry.activeCount).toBe(0);
    });

    it('400 INVALID_REQUEST: bad JSON, and a body that is not an object', async () => {
      h = await startApp();
      const bad = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '{"model":',
      });
      expect(expectError(bad, 400, 'INVALID_REQUEST').error.details).toHaveProperty('parser');
      const array = await h.app.inject({ method: 'POST', url: URL, headers: auth(), payload: [1, 2] });
      expectError(array, 400, 'INVALID_REQUEST');
    });

    it('400 INVALID_REQUEST: a relative cwd', async () => {
      h = await startApp({ WORKSPACE_ROOTS: '/srv/ccr-test-roots' });
      const res = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: auth(),
        payload: { cwd: 'relative/dir' },
      });
      expect(issueFields(expectError(res, 400, 'INVALID_REQUEST'))).toEqual(['cwd']);
    });

    it('403 FORBIDDEN: a permission mode the server does not allow', async () => {
      h = await startApp();
      const res = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: auth(),
        payload: { permissionMode: 'bypassPermissions' },
      });
      const body = expectError(res, 403, 'FORBIDDEN');
      expect(body.error.details).toMatchObject({
        permissionMode: 'bypassPermissions',
        policy: 'permissionModes',
      });
      expect(h.runner.starts).toEqual([]);
    });

    it('403 FORBIDDEN: a cwd when no root is configured, or outside the roots', async () => {
      h = await startApp();
      const none = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: auth(),
        payload: { cwd: h.dataDir },
      });
      expect(expectError(none, 403, 'FORBIDDEN').error.details).toMatchObject({ policy: 'WORKSPACE_ROOTS' });
      await h.close();
      h = await startApp({ WORKSPACE_ROOTS: '/nonexistent-root-ccr' });
      const outside = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: auth(),
        payload: { cwd: h.dataDir },
      });
      expectError(outside, 403, 'FORBIDDEN');
    });

    it('413 PAYLOAD_TOO_LARGE: a body over the limit', async () => {
      h = await startApp({ BODY_LIMIT_BYTES: '1024' });
      const res = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: auth(),
        payload: { systemPrompt: 'x'.repeat(2000) },
      });
      expect(expectError(res, 413, 'PAYLOAD_TOO_LARGE').error.details).toEqual({ limitBytes: 1024 });
    });

    it('415 UNSUPPORTED_MEDIA_TYPE: a body that is not JSON', async () => {
      h = await startApp();
      const res = await h.app.inject({
        method: 'POST',
        url: URL,
        headers: { ...auth(), 'content-type': 'text/plain' },
        payload: 'model=opus',
      });
      expect(expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE').error.details).toEqual({
        contentType: 'text/plain',
      });
    });

    it('429 RATE_LIMIT_EXCEEDED: the key’s sessions bucket is empty; Retry-After set', async () => {
      const clock = new ManualClock();
      h = await startApp({ RATE_LIMIT_SESSIONS_PER_HOUR: '2' }, { clock });
      await createSession(h);
      clock.advance(60_000);
      await createSession(h);
      const res = await h.app.inject({ method: 'POST', url: URL, headers: auth() });
      const body = expectError(res, 429, 'RATE_LIMIT_EXCEEDED');
      expect(body.error.details).toMatchObject({ bucket: 'sessions', limit: 2, remaining: 0 });
      expect(res.headers['retry-after']).toBe(String(3600 - 60));
      expect(rateLimitHeaders(res)).toMatchObject({ limit: 2, remaining: 0 });
      // Another key has its own bucket.
      expect((await h.app.inject({ method: 'POST', url: URL, headers: auth(KEY_B) })).statusCode).toBe(201);
      // The window resets an hour after it opened.
      clock.advance(3_600_000 - 60_000);
      expect((await h.app.inject({ method: 'POST', url: URL, headers: auth() })).statusCode).toBe(201);
    });

    it('50 parallel creates against a limit of 10 make exactly 10 sessions', async () => {
      h = await startApp({ MAX_LIVE_SESSIONS: '100' });
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => h.app.inject({ method: 'POST', url: URL, headers: auth() })),
      );
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 201)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(40);
      expect(h.deps.registry.activeCount).toBe(10);
      expect((await h.store.listActiveSessions()).length).toBe(10);
    });

    it('429 MAX_SESSIONS_REACHED: the server’s cap on live sessions', async () => {
      h = await startApp({ MAX_LIVE_SESSIONS: '1' });
      await createSession(h);
      const res = await h.app.inject({ method: 'POST', url: URL, headers: auth(KEY_B) });
      expect(expectError(res, 429, 'MAX_SESSIONS_REACHED').error.details).toEqual({ maxLiveSessions: 1 });
    });

    // MAX_SESSIONS_REACHED is a 429 and carries Retry-After.
    it('429 MAX_SESSIONS_REACHED carries Retry-After', async () => {
      h = await startApp({ MAX_LIVE_SESSIONS: '1' });
      await createSession(h);
      const res = await h.app.inject({ method: 'POST', url: URL, headers: auth(KEY_B) });
      expect(res.statusCode).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });

    // A refusal reports the bucket its endpoint draws on.
    it('a refused create reports the sessions bucket in its rate-limit headers', async () => {
      h = await startApp();
      const res = await h.app.inject({ method: 'POST', url: URL, headers: auth(), payload: { bogus: 1 } });
      expectError(res, 400, 'INVALID_REQUEST');
      expect(rateLimitHeaders(res)).toMatchObject({ limit: 10, remaining: 10 });
    });
  });

  describe('GET /sessions', () => {
    it('200: the caller’s live sessions, newest first, paged', async () => {
      const clock = new ManualClock();
      h = await startApp({}, { clock });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(await createSession(h, { metadata: { i } }));
        clock.advance(1000);
      }
      await createSession(h, {}, KEY_B);
      const res = await h.app.inject({ method: 'GET', url: `${URL}?limit=2`, headers: auth() });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ total: 3, limit: 2, offset: 0, hasMore: true });
      expect(body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([ids[2], ids[1]]);
      expect(body.sessions[0]).toMatchObject({
        status: 'idle',
        metadata: { i: 2 },
        permissionMode: 'default',
      });
      // Endpoints that draw on no bucket report the messages bucket without spending it.
      expect(rateLimitHeaders(res)).toMatchObject({ limit: 100, remaining: 100 });

      const rest = (
        await h.app.inject({ method: 'GET', url: `${URL}?limit=2&offset=2`, headers: auth() })
      ).json();
      expect(rest).toMatchObject({ total: 3, hasMore: false });
      expect(rest.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([ids[0]]);

      await h.app.inject({ method: 'DELETE', url: `${URL}/${ids[1]}`, headers: auth() });
      const after = (await h.app.inject({ method: 'GET', url: URL, headers: auth() })).json();
      expect(after.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([ids[2], ids[0]]);
      expect(after.total).toBe(2);
    });

    it('200: an empty list', async () => {
      h = await startApp();
      const res = await h.app.inject({ method: 'GET', url: URL, headers: auth() });
      expect(res.json()).toEqual({ sessions: [], total: 0, limit: 20, offset: 0, hasMore: false });
    });

    it.each(['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'sort=asc'])(
      '400 INVALID_REQUEST: ?%s',
      async (query) => {
        h = await startApp();
        const res = await h.app.inject({ method: 'GET', url: `${URL}?${query}`, headers: auth() });
        expect(issueFields(expectError(res, 400, 'INVALID_REQUEST'))).toEqual([query.split('=')[0]]);
      },
    );
  });

  describe('GET /sessions/:id', () => {
    it('200: the session with its config, usage, message count and Claude Code session id', async () => {
      h = await startApp();
      const id = await createSession(h, {
        model: 'sonnet',
        systemPrompt: 'Be brief.',
        allowedTools: ['Read'],
      });
      h.runner.script({
        messages: [msg.init(), msg.assistant('Hi')],
        end: {
          result: result({
            text: 'Hi',
            costUsd: 0.125,
            usage: { inputTokens: 7, outputTokens: 3, cacheCreationInputTokens: 1, cacheReadInputTokens: 2 },
          }),
        },
      });
      const sent = await h.app.inject({
        method: 'POST',
        url: `${URL}/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'Hello' },
      });
      expect(sent.statusCode).toBe(200);

      const res = await h.app.inject({ method: 'GET', url: `${URL}/${id}`, headers: auth() });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({
        sessionId: id,
        model: 'sonnet',
        resolvedModel: 'sonnet',
        status: 'idle',
        messageCount: 3,
        currentMessageId: null,
        claudeSessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        process: 'live',
        config: {
          model: 'sonnet',
          resolvedModel: 'sonnet',
          permissionMode: 'default',
          systemPrompt: 'Be brief.',
          allowedTools: ['Read'],
          disallowedTools: ['WebFetch', 'WebSearch'],
          workspace: 'owned',
        },
        usage: {
          inputTokens: 7,
          outputTokens: 3,
          cacheCreationInputTokens: 1,
          cacheReadInputTokens: 2,
          costUsd: 0.125,
        },
      });
      expect(body.lastActivity).toBe(new Date(Date.parse(body.lastActivity)).toISOString());
    });

    it('200: a running turn shows as running with its message id', async () => {
      h = await startApp();
      const id = await createSession(h);
      h.runner.script({ end: 'hang' });
      const started = await h.app.inject({
        method: 'POST',
        url: `${URL}/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'x', stream: true },
      });
      const body = (await h.app.inject({ method: 'GET', url: `${URL}/${id}`, headers: auth() })).json();
      expect(body).toMatchObject({ status: 'running', currentMessageId: started.json().messageId });
    });

    it('404 SESSION_NOT_FOUND: an unknown id', async () => {
      h = await startApp();
      const res = await h.app.inject({ method: 'GET', url: `${URL}/sess_doesnotexist`, headers: auth() });
      expect(expectError(res, 404, 'SESSION_NOT_FOUND').error.details).toEqual({
        sessionId: 'sess_doesnotexist',
      });
      // Authenticated errors report a bucket too.
      expect(rateLimitHeaders(res)).toMatchObject({ limit: 100 });
    });
  });

  describe('DELETE /sessions/:id', () => {
    it('204: ends the session, its process and its workspace; it is gone everywhere after', async () => {
      h = await startApp();
      const id = await createSession(h);
      await h.runner.until(() => h.runner.processes.length === 1);
      const cwd = h.runner.starts[0]?.cwd as string;
      expect(fs.existsSync(cwd)).toBe(true);

      const res = await h.app.inject({ method: 'DELETE', url: `${URL}/${id}`, headers: auth() });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expect(res.headers['x-request-id']).toMatch(/\S/);
      expect(h.runner.lastProcess.closed).toBe(true);
      expect(fs.existsSync(cwd)).toBe(false);
      expect(await h.store.getSession(id)).toMatchObject({ status: 'ended', endReason: 'deleted' });

      for (const [method, url] of [
        ['GET', `${URL}/${id}`],
        ['DELETE', `${URL}/${id}`],
        ['GET', `${URL}/${id}/messages`],
        ['POST', `${URL}/${id}/messages`],
      ] as const) {
        const after = await h.app.inject({
          method,
          url,
          headers: auth(),
          ...(method === 'POST' ? { payload: { prompt: 'x' } } : {}),
        });
        expectError(after, 404, 'SESSION_NOT_FOUND');
      }
    });

    it('204: stops a running turn, which ends interrupted in the history', async () => {
      h = await startApp();
      const id = await createSession(h);
      h.runner.script({ end: 'hang' });
      const pending = h.app.inject({
        method: 'POST',
        url: `${URL}/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'long job' },
      });
      await h.runner.until(() => h.runner.prompts.length === 1);
      const res = await h.app.inject({ method: 'DELETE', url: `${URL}/${id}`, headers: auth() });
      expect(res.statusCode).toBe(204);
      expect(h.runner.lastProcess.interrupts).toBe(1);
      const answer = await pending;
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ status: 'interrupted', stopReason: 'interrupted' });
    });

    it('204: a JSON content type with an empty body is fine (clients that always send one)', async () => {
      h = await startApp();
      const id = await createSession(h);
      const res = await h.app.inject({
        method: 'DELETE',
        url: `${URL}/${id}`,
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '',
      });
      expect(res.statusCode).toBe(204);
    });

    it('404 SESSION_NOT_FOUND: an unknown id', async () => {
      h = await startApp();
      expectError(
        await h.app.inject({ method: 'DELETE', url: `${URL}/sess_nope`, headers: auth() }),
        404,
        'SESSION_NOT_FOUND',
      );
    });
  });
});
