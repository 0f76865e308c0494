/**
 * Diff, rewind and fork through `inject()` (real git snapshots, the FakeAgentRunner): their
 * validation, their errors, and that a fork is a session like any other (bucket and caps).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { msg, result } from '../helpers/fake-agent-runner.js';
import { auth, createSession, expectError, keyRecord, KEY_A, startApp, type Harness } from './harness.js';

/** This suite is about the workspace: the real snapshots (shadow git), not the twin. */
const GIT_SNAPSHOTS = { snapshots: 'git' } as const;

const S = '/api/v1/sessions';

describe('diff, rewind and fork', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function oneTurn(id: string, prompt = 'hello'): Promise<string> {
    h.runner.script({ messages: [msg.init(), msg.assistant('ok')], end: { result: result({ text: 'ok' }) } });
    const res = await h.app.inject({
      method: 'POST',
      url: `${S}/${id}/messages`,
      headers: auth(),
      payload: { prompt },
    });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { messageId: string }).messageId;
  }

  it('validates the diff query, the rewind body and the fork body', async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const id = await createSession(h);
    const first = await oneTurn(id);
    const second = await oneTurn(id);
    for (const query of ['', `messageId=${first}&from=${first}`, 'format=xml&messageId=x', 'bogus=1']) {
      expectError(
        await h.app.inject({ url: `${S}/${id}/diff?${query}`, headers: auth() }),
        400,
        'INVALID_REQUEST',
      );
    }
    const backwards = await h.app.inject({
      url: `${S}/${id}/diff?from=${second}&to=${first}`,
      headers: auth(),
    });
    expectError(backwards, 400, 'INVALID_REQUEST');
    const range = await h.app.inject({
      url: `${S}/${id}/diff?from=${first}&to=${second}&format=json`,
      headers: auth(),
    });
    expect(range.statusCode, range.body).toBe(200);
    expect(range.json()).toMatchObject({ sessionId: id, files: [] });
    expectError(
      await h.app.inject({ url: `${S}/${id}/diff?messageId=msg_unknown`, headers: auth() }),
      404,
      'NOT_FOUND',
    );
    const neither = await h.app.inject({
      method: 'POST',
      url: `${S}/${id}/rewind`,
      headers: auth(),
      payload: { messageId: first, files: false, conversation: false },
    });
    expectError(neither, 400, 'INVALID_REQUEST');
    const unknownField = await h.app.inject({
      method: 'POST',
      url: `${S}/${id}/fork`,
      headers: auth(),
      payload: { messageId: first, cwd: '/tmp' },
    });
    expectError(unknownField, 400, 'INVALID_REQUEST');
  });

  it('a rewind stores a `rewound` event, marks the history, and moves the conversation to a copy', async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const id = await createSession(h);
    const first = await oneTurn(id, 'one');
    const second = await oneTurn(id, 'two');
    const before = h.deps.registry.peek(id)?.record.claudeSessionId;
    const res = await h.app.inject({
      method: 'POST',
      url: `${S}/${id}/rewind`,
      headers: auth(),
      payload: { messageId: second },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      sessionId: id,
      messageId: second,
      files: true,
      conversation: true,
      rewoundMessageIds: [second],
      checkpoint: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    // The conversation goes on from a copy cut after the first turn's last message.
    const after = h.deps.registry.peek(id)?.record.claudeSessionId;
    expect(after).not.toBe(before);
    expect(h.runner.forks.at(-1)).toMatchObject({ claudeSessionId: before });
    const stored = (await h.store.getSession(id))?.claudeSessionId;
    expect(stored).toBe(after);
    const history = (await h.app.inject({ url: `${S}/${id}/messages`, headers: auth() })).json() as {
      messages: Array<{ turnId: string; rewound?: true }>;
    };
    expect(history.messages.filter((m) => m.turnId === first).every((m) => m.rewound === undefined)).toBe(
      true,
    );
    expect(history.messages.filter((m) => m.turnId === second).every((m) => m.rewound === true)).toBe(true);
  });

  it('a fork is a new session of the key: 201 with forkedFrom, drawn from the sessions bucket and its caps', async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const id = await createSession(h, { metadata: { team: 'a' } });
    const first = await oneTurn(id);
    const fork = await h.app.inject({ method: 'POST', url: `${S}/${id}/fork`, headers: auth(), payload: {} });
    expect(fork.statusCode, fork.body).toBe(201);
    expect(fork.headers['x-ratelimit-limit']).toBe('10');
    expect(fork.headers['x-ratelimit-remaining']).toBe('8');
    const forkId = (fork.json() as { sessionId: string; metadata: object }).sessionId;
    expect(fork.json()).toMatchObject({ metadata: { team: 'a' } });
    const details = (await h.app.inject({ url: `${S}/${forkId}`, headers: auth() })).json() as {
      forkedFrom: unknown;
    };
    expect(details.forkedFrom).toEqual({ sessionId: id, messageId: first });

    const key = await keyRecord(h, KEY_A);
    await h.store.updateKey(key.id, { policy: { maxConcurrentSessions: 2 } });
    // Changed in the store behind the server's back: drop its key cache (KEY_CACHE_MS), as the admin API does.
    h.deps.keys.forget();
    const capped = await h.app.inject({
      method: 'POST',
      url: `${S}/${id}/fork`,
      headers: auth(),
      payload: {},
    });
    expectError(capped, 429, 'MAX_SESSIONS_REACHED');
  });

  it('a fork of a session with an external cwd gets an owned copy of it', async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-roots-')));
    const external = path.join(root, 'project');
    fs.mkdirSync(external);
    fs.writeFileSync(path.join(external, 'main.py'), 'print(1)\n');
    try {
      h = await startApp({ WORKSPACE_ROOTS: root }, GIT_SNAPSHOTS);
      const id = await createSession(h, { cwd: external });
      await oneTurn(id);
      const fork = await h.app.inject({
        method: 'POST',
        url: `${S}/${id}/fork`,
        headers: auth(),
        payload: {},
      });
      expect(fork.statusCode, fork.body).toBe(201);
      const forkId = (fork.json() as { sessionId: string }).sessionId;
      const config = (
        (await h.app.inject({ url: `${S}/${forkId}`, headers: auth() })).json() as {
          config: { cwd: string; workspace: string };
        }
      ).config;
      expect(config.workspace).toBe('owned');
      expect(config.cwd.startsWith(path.join(h.dataDir, 'workspaces'))).toBe(true);
      expect(fs.readFileSync(path.join(config.cwd, 'main.py'), 'utf8')).toBe('print(1)\n');
      // The two never share a tree.
      fs.writeFileSync(path.join(config.cwd, 'main.py'), 'print(2)\n');
      expect(fs.readFileSync(path.join(external, 'main.py'), 'utf8')).toBe('print(1)\n');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
