/**
 * The main path, end to end through real HTTP, SQLite and the Claude Code binary: create a
 * session, talk to it (context carries over), let it write a file, stream, read the history,
 * end it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestUserTexts } from '../../src/fake-anthropic/index.js';
import { call, readSse, sseRequest } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';

const KEY = TEST_KEYS[0];

describe('a conversation', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('creates a session, answers two messages with shared context, and ends it', async () => {
    const created = await call(stack.base, 'POST', '/sessions', {
      key: KEY,
      body: {
        model: 'claude-3-opus-20240229',
        permissionMode: 'default',
        maxTurns: 10,
        metadata: { ticket: 'T-1' },
      },
    });
    expect(created.status).toBe(201);
    const sessionId = created.body.sessionId as string;
    expect(sessionId).toMatch(/^sess_/);
    expect(created.body).toMatchObject({
      model: 'claude-3-opus-20240229',
      resolvedModel: 'opus',
      permissionMode: 'default',
      maxTurns: 10,
      status: 'idle',
      metadata: { ticket: 'T-1' },
    });
    expect(Date.parse(created.body.expiresAt as string)).toBeGreaterThan(Date.now());

    const first = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'My name is Zed.', stream: false },
    });
    expect(first.status).toBe(200);
    expect(first.body.response).toContain('My name is Zed.');
    expect(first.body).toMatchObject({ sessionId, numTurns: 1, stopReason: 'end_turn', status: 'completed' });
    expect(first.body.messageId).toMatch(/^msg_/);
    expect((first.body.usage as { outputTokens: number }).outputTokens).toBeGreaterThan(0);

    const mark = stack.fake.mark();
    const second = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'What is my name? [[recall]]' },
    });
    expect(second.status).toBe(200);
    expect(second.body.response).toContain('My name is Zed.');
    // The model API was sent the whole conversation: turn 1, its answer, turn 2.
    const request = await stack.fake.waitForRequest((r) => r.path.startsWith('/v1/messages'), 5000, mark);
    expect(requestUserTexts(request)).toEqual(['My name is Zed.', 'What is my name? [[recall]]']);
    expect((request.body as { model: string }).model).toBe('claude-opus-5-5');

    const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
    expect(details.status).toBe(200);
    expect(details.body).toMatchObject({ sessionId, status: 'idle', process: 'live' });
    expect(details.body.messageCount).toBeGreaterThanOrEqual(6);
    expect((details.body.usage as { costUsd: number }).costUsd).toBeGreaterThan(0);
    expect(details.body.claudeSessionId).toMatch(/^[0-9a-f-]{36}$/);

    const list = await call(stack.base, 'GET', '/sessions', { key: KEY });
    expect((list.body.sessions as Array<{ sessionId: string }>).map((s) => s.sessionId)).toContain(sessionId);

    const deleted = await call(stack.base, 'DELETE', `/sessions/${sessionId}`, { key: KEY });
    expect(deleted.status).toBe(204);
    for (const [method, url] of [
      ['GET', `/sessions/${sessionId}`],
      ['GET', `/sessions/${sessionId}/messages`],
      ['DELETE', `/sessions/${sessionId}`],
    ] as const) {
      const gone = await call(stack.base, method, url, { key: KEY });
      expect(gone.status).toBe(404);
      expect((gone.body.error as { code: string }).code).toBe('SESSION_NOT_FOUND');
    }
  });

  it('streams a turn in which the agent writes a file into its own workspace', async () => {
    const created = await call(stack.base, 'POST', '/sessions', {
      key: KEY,
      body: { permissionMode: 'acceptEdits' },
    });
    const sessionId = created.body.sessionId as string;
    const res = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY, {
      prompt: 'Write a Python hello world program [[write:hello.py:print("hello world")]]',
      timeout: 60_000,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const { raw, events } = await readSse(res);
    expect(raw.startsWith('retry: ')).toBe(true);

    // ids grow by one, every data line is JSON, the stream ends with `complete`.
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
    for (const e of events) expect(() => JSON.parse(e.data)).not.toThrow();
    expect(events.at(-1)?.event).toBe('complete');
    // Before it: the turn's messages, status events (running, idle), its model requests and what
    // it changed.
    expect(
      events
        .slice(0, -1)
        .every((e) => ['message', 'status', 'model_request', 'files_changed'].includes(e.event)),
    ).toBe(true);
    const changed = events.filter((e) => e.event === 'files_changed').map((e) => JSON.parse(e.data));
    expect(changed.map((c) => c.files.map((f: { path: string }) => f.path))).toEqual([['hello.py']]);
    expect(events.filter((e) => e.event === 'status').map((e) => JSON.parse(e.data).status)).toEqual([
      'running',
      'idle',
    ]);

    const messages = events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data));
    expect(messages[0]).toMatchObject({ role: 'user', source: 'client', type: 'user' });
    const toolUse = messages.find(
      (m) =>
        m.type === 'assistant' &&
        m.content.message.content.some((b: { type: string }) => b.type === 'tool_use'),
    );
    expect(toolUse).toBeDefined();

    const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
    const cwd = (details.body.config as { cwd: string }).cwd;
    expect(cwd.startsWith(path.join(stack.dataDir, 'workspaces'))).toBe(true);
    expect(fs.readFileSync(path.join(cwd, 'hello.py'), 'utf8')).toBe('print("hello world")');

    // The history holds the same messages as the stream, in order.
    const history = await call<{
      messages: Array<{ sequence: number }>;
      pagination: Record<string, unknown>;
    }>(stack.base, 'GET', `/sessions/${sessionId}/messages`, { key: KEY });
    expect(history.body.messages.map((m) => m.sequence)).toEqual(messages.map((m) => m.sequence));
    expect(history.body.pagination).toMatchObject({
      limit: 100,
      offset: 0,
      total: messages.length,
      hasMore: false,
    });

    await call(stack.base, 'DELETE', `/sessions/${sessionId}`, { key: KEY });
    expect(fs.existsSync(cwd)).toBe(false);
  });

  it('answers stream:true with 202 and a streamUrl that streams that turn', async () => {
    const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
    const sessionId = created.body.sessionId as string;
    const accepted = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'stream me [[slow:5:20]]', stream: true },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ sessionId, messageId: expect.stringMatching(/^msg_/) });
    const streamUrl = accepted.body.streamUrl as string;
    expect(streamUrl).toBe(`/api/v1/sessions/${sessionId}/stream?messageId=${accepted.body.messageId}`);

    const res = await sseRequest(stack.base.replace('/api/v1', ''), 'GET', streamUrl, KEY);
    const { events } = await readSse(res);
    const complete = JSON.parse(events.at(-1)!.data);
    expect(events.at(-1)!.event).toBe('complete');
    expect(complete.messageId).toBe(accepted.body.messageId);
    expect(JSON.parse(events[0]!.data).content.message.content).toBe('stream me [[slow:5:20]]');

    // Attaching again after the turn replays it; a cursor past the end answers 204.
    const again = await readSse(await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY));
    expect(again.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    const last = Number(events.at(-1)!.id);
    const done = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY, undefined, {
      'last-event-id': String(last),
    });
    expect(done.status).toBe(204);
    const resumed = await readSse(
      await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream?after=${last - 2}`, KEY),
    );
    expect(resumed.events.map((e) => Number(e.id))).toEqual([last - 1, last]);
  });
});

describe('large events', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('streams a message larger than SSE_MAX_EVENT_BYTES in short form and keeps it whole in the history', async () => {
    const created = await call(stack.base, 'POST', '/sessions', {
      key: KEY,
      body: { permissionMode: 'acceptEdits', allowedTools: ['Bash(python3:*)'] },
    });
    const sessionId = created.body.sessionId as string;
    const res = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, KEY, {
      prompt: `[[bash:python3 -c "print('a' * 100000)"]]`,
    });
    const raw = await res.text();
    // Read it the way the seed's JavaScript example does: split on newlines, parse every data line.
    const parsed = raw
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.substring(6)) as Record<string, unknown>);
    expect(raw.split('\n').every((line) => Buffer.byteLength(line) < 64 * 1024)).toBe(true);
    const short = parsed.filter((d) => d.truncated !== undefined);
    expect(short.length).toBeGreaterThan(0);
    for (const d of short) {
      expect(d.content).toBeNull();
      expect((d.truncated as { bytes: number }).bytes).toBeGreaterThan(32 * 1024);
    }

    // The history has each of them whole: the same item, of the size the short form announced.
    const history = await call<{ messages: Array<{ sequence: number; content: unknown }> }>(
      stack.base,
      'GET',
      `/sessions/${sessionId}/messages`,
      { key: KEY },
    );
    for (const d of short) {
      const whole = history.body.messages.find((m) => m.sequence === d.sequence);
      expect(whole?.content).not.toBeNull();
      expect(Buffer.byteLength(JSON.stringify(whole))).toBe((d.truncated as { bytes: number }).bytes);
    }
  });
});
