/** Sessions: create, find and list, end, and what a key's policy lets a session do. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { addKeys, codeOf, setup, T0 } from '../../test/helpers/session-setup.js';
import { ApiError } from './errors.js';
import type { ApiKeyRecord } from './types.js';

describe('SessionService', () => {
  let h: ReturnType<typeof setup>;
  let keyA: ApiKeyRecord;
  let keyB: ApiKeyRecord;

  beforeEach(async () => {
    vi.useFakeTimers({ now: T0 });
    h = setup();
    [keyA, keyB] = await addKeys(h.store);
  });

  afterEach(async () => {
    await h.stop();
    vi.useRealTimers();
  });

  describe('create', () => {
    it('stores the session and starts its Claude Code process at once', async () => {
      const { session, rateLimit } = await h.sessions.create(keyA, {});
      expect(session.record).toMatchObject({
        keyId: keyA.id,
        status: 'active',
        createdAt: T0,
        lastActivityAt: T0,
        config: {
          requestedModel: null,
          model: null,
          permissionMode: 'default',
          maxTurns: null,
          cwd: `/data/workspaces/${session.id}`,
          workspace: 'owned',
        },
      });
      expect(session.id).toMatch(/^sess_[0-9A-Za-z]{24}$/);
      expect(session.record.claudeSessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await h.store.getSession(session.id)).toEqual(session.record);
      expect(rateLimit).toMatchObject({ bucket: 'sessions', remaining: 99 });

      await h.runner.until(() => h.runner.starts.length === 1);
      expect(h.runner.starts[0]).toEqual({
        sessionId: session.id,
        claudeSessionId: session.record.claudeSessionId,
        model: null,
        permissionMode: 'default',
        maxTurns: null,
        cwd: `/data/workspaces/${session.id}`,
        systemPrompt: null,
        appendSystemPrompt: null,
        allowedTools: [],
        disallowedTools: [],
        priorCostUsd: 0,
      });
      await h.runner.until(() => session.process !== null);
      expect(session.process).toBe(h.runner.lastProcess);
    });

    it('passes the client’s settings to the record and to Claude Code', async () => {
      const input = {
        model: 'sonnet',
        permissionMode: 'plan' as const,
        maxTurns: 4,
        systemPrompt: 'You are terse.',
        appendSystemPrompt: 'Answer in French.',
        allowedTools: ['Read'],
        disallowedTools: ['Bash'],
        metadata: { ticket: 'T-1' },
      };
      const { session } = await h.sessions.create(keyA, input);
      expect(session.record.metadata).toEqual({ ticket: 'T-1' });
      await h.runner.until(() => h.runner.starts.length === 1);
      expect(h.runner.starts[0]).toMatchObject({
        model: 'sonnet',
        permissionMode: 'plan',
        maxTurns: 4,
        systemPrompt: 'You are terse.',
        appendSystemPrompt: 'Answer in French.',
        allowedTools: ['Read'],
        disallowedTools: ['Bash'],
      });
    });

    it('maps a retired model id and keeps the one asked for', async () => {
      const { session } = await h.sessions.create(keyA, { model: 'claude-3-opus-20240229' });
      expect(session.record.config).toMatchObject({
        requestedModel: 'claude-3-opus-20240229',
        model: 'opus',
      });
      await h.runner.until(() => h.runner.starts.length === 1);
      expect(h.runner.starts[0]?.model).toBe('opus');
    });

    it('uses the server’s default model (mapped too) when the client names none', async () => {
      const local = setup({ defaultModel: 'claude-3-opus-20240229' });
      const [key] = await addKeys(local.store);
      const { session } = await local.sessions.create(key, {});
      expect(session.record.config).toMatchObject({
        requestedModel: 'claude-3-opus-20240229',
        model: 'opus',
      });
      const other = await local.sessions.create(key, { model: 'haiku' });
      expect(other.session.record.config).toMatchObject({ requestedModel: 'haiku', model: 'haiku' });
      await local.stop();
    });

    it('uses the server’s default permission mode when the client names none', async () => {
      const local = setup({ defaultPermissionMode: 'plan' });
      const [key] = await addKeys(local.store);
      expect((await local.sessions.create(key, {})).session.record.config.permissionMode).toBe('plan');
      await local.stop();
    });

    it('refuses a permission mode the policy does not allow with FORBIDDEN, spending nothing', async () => {
      const err = (await h.sessions
        .create(keyA, { permissionMode: 'bypassPermissions' })
        .catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.code).toBe('FORBIDDEN');
      expect(err.details).toEqual({
        policy: 'permissionModes',
        permissionMode: 'bypassPermissions',
        allowed: ['default', 'acceptEdits', 'plan'],
      });
      expect(h.registry.activeCount).toBe(0);
      expect((await h.store.listActiveSessions()).length).toBe(0);
      expect(h.workspaces.created).toEqual([]);
      expect((await h.rateLimits.peek(keyA, 'sessions')).remaining).toBe(100);
      expect(h.runner.starts).toEqual([]);
    });

    it('runs in a client’s cwd inside a root, and does not make a workspace', async () => {
      h.workspaces.allowed.set('/srv/repo/./app', '/srv/repo/app');
      const { session } = await h.sessions.create(keyA, { cwd: '/srv/repo/./app' });
      expect(session.record.config).toMatchObject({ cwd: '/srv/repo/app', workspace: 'external' });
      expect(h.workspaces.created).toEqual([]);
    });

    it('refuses a cwd the workspaces refuse, with their error', async () => {
      const err = await h.sessions.create(keyA, { cwd: '/etc' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FORBIDDEN', details: { cwd: '/etc' } });
      expect(h.registry.activeCount).toBe(0);
    });

    it('refuses a session beyond the cap with MAX_SESSIONS_REACHED, and takes one again after an end', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await h.sessions.create(keyA, {})).session.id);
      const err = (await h.sessions.create(keyB, {}).catch((e: unknown) => e)) as ApiError;
      expect(err.code).toBe('MAX_SESSIONS_REACHED');
      expect(err.details).toEqual({ maxLiveSessions: 5 });
      expect(h.registry.atCapacity).toBe(true);
      await h.sessions.end(keyA, ids[0] as string);
      await expect(h.sessions.create(keyB, {})).resolves.toBeDefined();
    });

    it('holds the cap under parallel creates, and removes the workspaces of the refused ones', async () => {
      const local = setup({ maxLiveSessions: 3 });
      const [key] = await addKeys(local.store);
      const settled = await Promise.allSettled(
        Array.from({ length: 10 }, () => local.sessions.create(key, {})),
      );
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(3);
      const codes = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as ApiError).code] : []));
      expect(codes).toEqual(Array(7).fill('MAX_SESSIONS_REACHED'));
      expect(local.registry.activeCount).toBe(3);
      expect((await local.store.listActiveSessions()).length).toBe(3);
      const kept = local.workspaces.created.filter((dir) => !local.workspaces.removed.includes(dir));
      expect(kept).toHaveLength(3);
      await local.stop();
    });

    // The cap slot is reserved before the quota is spent, so refused creates spend nothing.
    it('a create refused for the cap spends no unit of the sessions bucket, even in parallel', async () => {
      const local = setup({ maxLiveSessions: 3 });
      const [key] = await addKeys(local.store);
      await Promise.allSettled(Array.from({ length: 10 }, () => local.sessions.create(key, {})));
      expect(local.registry.activeCount).toBe(3);
      expect((await local.rateLimits.peek(key, 'sessions')).remaining).toBe(100 - 3);
      await local.stop();
    });

    it('spends the key’s sessions bucket: RATE_LIMIT_EXCEEDED once it is empty', async () => {
      const local = setup({}, { sessions: 1, messages: 100, events: 1000 });
      const [key, other] = await addKeys(local.store);
      await local.sessions.create(key, {});
      expect(await codeOf(local.sessions.create(key, {}))).toBe('RATE_LIMIT_EXCEEDED');
      await expect(local.sessions.create(other, {})).resolves.toBeDefined();
      await local.stop();
    });
  });

  describe('find and list', () => {
    it('finds the caller’s session; another key’s or an unknown one is SESSION_NOT_FOUND', async () => {
      const { session } = await h.sessions.create(keyA, {});
      expect(h.registry.find(keyA, session.id)).toBe(session);
      expect(() => h.registry.find(keyB, session.id)).toThrow(
        expect.objectContaining({ code: 'SESSION_NOT_FOUND' }),
      );
      expect(() => h.registry.find(keyA, 'sess_unknown')).toThrow(
        expect.objectContaining({ code: 'SESSION_NOT_FOUND', details: { sessionId: 'sess_unknown' } }),
      );
    });

    it('lists only the caller’s live sessions, newest first, paged', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await h.sessions.create(keyA, {})).session.id);
        vi.advanceTimersByTime(1000);
      }
      await h.sessions.create(keyB, {});
      const page = await h.sessions.list(keyA, { limit: 2, offset: 0 });
      expect(page.total).toBe(3);
      expect(page.items.map((s) => s.record.id)).toEqual([ids[2], ids[1]]);
      expect(page.items[0]).toEqual(h.registry.find(keyA, ids[2] as string).snapshot());
      const rest = await h.sessions.list(keyA, { limit: 2, offset: 2 });
      expect(rest.items.map((s) => s.record.id)).toEqual([ids[0]]);
      await h.sessions.end(keyA, ids[1] as string);
      expect((await h.sessions.list(keyA, { limit: 10, offset: 0 })).items.map((s) => s.record.id)).toEqual([
        ids[2],
        ids[0],
      ]);
    });
  });

  describe('end', () => {
    it('interrupts a running turn, closes the process, removes the owned workspace', async () => {
      const { session } = await h.sessions.create(keyA, {});
      h.runner.script({ end: 'hang' });
      const { turn } = await h.turns.start(keyA, session.id, { prompt: 'work for a long time' });
      await h.runner.until(() => h.runner.lastProcess.running);
      const process = h.runner.lastProcess;

      await h.sessions.end(keyA, session.id);
      expect(process.interrupts).toBe(1);
      expect(process.closed).toBe(true);
      const ending = await turn.done;
      expect(ending.status).toBe('interrupted');
      expect(h.workspaces.removed).toEqual([`/data/workspaces/${session.id}`]);
      expect(await h.store.getSession(session.id)).toMatchObject({
        status: 'ended',
        endReason: 'deleted',
        endedAt: T0,
      });
      expect(() => h.registry.find(keyA, session.id)).toThrow(
        expect.objectContaining({ code: 'SESSION_NOT_FOUND' }),
      );
      expect(await codeOf(h.sessions.end(keyA, session.id))).toBe('SESSION_NOT_FOUND');
      expect(h.registry.activeCount).toBe(0);
      expect((await h.sessions.list(keyA, { limit: 10, offset: 0 })).total).toBe(0);
    });

    it('stops a Claude Code that ignores the interrupt after a grace period', async () => {
      const { session } = await h.sessions.create(keyA, {});
      h.runner.script({ end: 'hang', ignoreInterrupt: true });
      const { turn } = await h.turns.start(keyA, session.id, { prompt: 'stuck' });
      await h.runner.until(() => h.runner.lastProcess.running);
      let ended = false;
      const ending = h.sessions.end(keyA, session.id).then(() => (ended = true));
      await vi.advanceTimersByTimeAsync(9_999);
      expect(ended).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await ending;
      expect(h.runner.lastProcess.closed).toBe(true);
      expect((await turn.done).status).toBe('failed');
    });

    it('answers a pending approval as the session’s end (by: session_end), then stops the turn', async () => {
      const { session } = await h.sessions.create(keyA, {});
      h.runner.script({
        ask: {
          toolName: 'Bash',
          input: { command: 'rm -rf build' },
          toolUseId: 'toolu_1',
          description: null,
          displayName: null,
          decisionReason: null,
          suggestions: [],
        },
        end: 'hang',
      });
      const { turn } = await h.turns.start(keyA, session.id, { prompt: 'clean up' });
      await h.runner.until(() => h.runner.lastProcess.asking);
      expect(h.permissions.list(session.id)).toHaveLength(1);

      await h.sessions.end(keyA, session.id);
      expect(h.runner.lastProcess.answers).toEqual([{ behavior: 'deny', message: 'The session ended.' }]);
      expect(h.permissions.list(session.id)).toEqual([]);
      const resolved = (await h.store.listEvents(session.id, 0, 100))
        .filter((e) => e.type === 'permission_resolved')
        .map((e) => JSON.parse(e.data) as { by: string; decision: string });
      expect(resolved).toEqual([expect.objectContaining({ by: 'session_end', decision: 'deny' })]);
      expect((await turn.done).status).toBe('interrupted');
    });

    it('does not remove an external cwd', async () => {
      h.workspaces.allowed.set('/srv/repo', '/srv/repo');
      const { session } = await h.sessions.create(keyA, { cwd: '/srv/repo' });
      await h.sessions.end(keyA, session.id);
      expect(h.workspaces.removed).toEqual([]);
    });

    it('another key cannot end the session', async () => {
      const { session } = await h.sessions.create(keyA, {});
      expect(await codeOf(h.sessions.end(keyB, session.id))).toBe('SESSION_NOT_FOUND');
      expect(h.registry.find(keyA, session.id)).toBe(session);
    });
  });

  describe('per-key policy', () => {
    it('caps the open sessions of one key, counting creates under way; other keys are not affected', async () => {
      const local = setup({}, undefined, { maxConcurrentSessions: 2 });
      const [key, other] = await addKeys(local.store);
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => local.sessions.create(key, {})),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({
        code: 'MAX_SESSIONS_REACHED',
        details: { scope: 'key', policy: 'maxConcurrentSessions', limit: 2 },
      });
      // Refusals spent none of the key's hourly sessions.
      expect((await local.rateLimits.peek(key, 'sessions')).remaining).toBe(100 - 2);
      await expect(local.sessions.create(other, {})).resolves.toBeDefined();
      await local.stop();
    });

    it('a key’s maxTurns is the ceiling and the default of its sessions', async () => {
      const local = setup({}, undefined, { maxTurns: 5 });
      const [key] = await addKeys(local.store);
      const { session } = await local.sessions.create(key, {});
      expect(session.record.config.maxTurns).toBe(5);
      expect(await codeOf(local.sessions.create(key, { maxTurns: 6 }))).toBe('FORBIDDEN');
      await local.stop();
    });

    it('bypassPermissions needs the key’s policy, and a runner that can run it', async () => {
      const local = setup({}, undefined, { permissionModes: ['default', 'bypassPermissions'] });
      const [key] = await addKeys(local.store);
      await expect(
        local.sessions.create(key, { permissionMode: 'bypassPermissions' }),
      ).resolves.toBeDefined();
      local.runner.bypassRefusal = 'the server runs as root without the sandbox';
      const err = (await local.sessions
        .create(key, { permissionMode: 'bypassPermissions' })
        .catch((e: unknown) => e)) as ApiError;
      expect(err).toMatchObject({ code: 'FORBIDDEN', details: { policy: 'bypassPermissions' } });
      await local.stop();
    });
  });
});
