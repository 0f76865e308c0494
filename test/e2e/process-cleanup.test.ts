/**
 * No process outlives its session. Claude Code's sandbox starts helper processes (socat bridges)
 * that outlive Claude Code; the server runs each Claude Code as the leader of its own process
 * group and ends the whole group. The fixture executable starts such a helper every time.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { groupMembers, processesWithEnvMention } from '../helpers/processes.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';

const KEY = TEST_KEYS[0];

describe('process cleanup', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { CLAUDE_CODE_EXECUTABLE: path.resolve('test/fixtures/claude-with-helper.sh') },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ending a session ends Claude Code and every helper of its process group', async () => {
    const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
    const sessionId = created.body.sessionId as string;
    const answered = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'hello' },
    });
    expect(answered.status).toBe(200);
    const pid = stack.server.server.deps.sessions.pidOf(sessionId);
    expect(pid).toBeGreaterThan(0);
    const helpers = groupMembers(pid!).filter((p) => p.name === 'sleep');
    expect(helpers).toHaveLength(1);

    expect((await call(stack.base, 'DELETE', `/sessions/${sessionId}`, { key: KEY })).status).toBe(204);
    expect(groupMembers(pid!)).toEqual([]);
  });

  it('stopping the server ends every session’s process group', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
      ids.push(created.body.sessionId as string);
      await call(stack.base, 'POST', `/sessions/${ids[i]}/messages`, { key: KEY, body: { prompt: 'hi' } });
    }
    const pids = ids.map((id) => stack.server.server.deps.sessions.pidOf(id)!);
    expect(pids.every((p) => groupMembers(p).length >= 2)).toBe(true);
    await stack.server.close();
    expect(pids.flatMap((p) => groupMembers(p))).toEqual([]);
  });
});

describe('process cleanup of the model catalogue', () => {
  it('the Claude Code process that read the catalogue is gone once the server has stopped', async () => {
    // A Claude Code slow to exit (see the fixture), so the test does not depend on a race.
    const stack = await startStack({
      env: { CLAUDE_CODE_EXECUTABLE: path.resolve('test/fixtures/claude-lingering.sh') },
    });
    try {
      const models = await call(stack.base, 'GET', '/models', { key: KEY });
      expect(models.status).toBe(200);
      // The answer does not wait for that process to exit; stopping the server does.
      await stack.server.close();
      expect(processesWithEnvMention(stack.dataDir)).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});

describe('process cleanup when Claude Code is slow to exit', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { CLAUDE_CODE_EXECUTABLE: path.resolve('test/fixtures/claude-lingering.sh') },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ending the session waits until its process group is gone, not merely its output', async () => {
    const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
    const sessionId = created.body.sessionId as string;
    const answered = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'hello' },
    });
    expect(answered.status).toBe(200);
    const pid = stack.server.server.deps.sessions.pidOf(sessionId)!;
    expect(groupMembers(pid).some((p) => p.pid === pid)).toBe(true);

    expect((await call(stack.base, 'DELETE', `/sessions/${sessionId}`, { key: KEY })).status).toBe(204);
    expect(groupMembers(pid)).toEqual([]);
  });
});
