/**
 * No process outlives its session. Claude Code's sandbox starts helper processes (socat bridges)
 * that outlive Claude Code; the server runs each Claude Code as the leader of its own process
 * group and ends the whole group. Fixture executables stand in for Claude Code: one starts such
 * a helper every time, one is slow to exit.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { groupMembers, processesWithEnvMention } from '../helpers/processes.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { createSession, deleteSession } from './support.js';

const KEY = TEST_KEYS[0];

/** A stack whose Claude Code executable is one of the fixture wrappers in test/fixtures. */
function stackWith(fixture: string): Promise<Stack> {
  return startStack({ env: { CLAUDE_CODE_EXECUTABLE: path.resolve('test/fixtures', fixture) } });
}

/** A session that has answered once, and the process group of its Claude Code. */
async function answeredSession(stack: Stack): Promise<{ sessionId: string; pid: number }> {
  const sessionId = await createSession(stack, KEY);
  const answered = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
    key: KEY,
    body: { prompt: 'hello' },
  });
  expect(answered.status).toBe(200);
  return { sessionId, pid: stack.server.server.deps.registry.pidOf(sessionId)! };
}

describe('process cleanup', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await stackWith('claude-with-helper.sh');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ending a session ends Claude Code and every helper of its process group', async () => {
    const { sessionId, pid } = await answeredSession(stack);
    expect(pid).toBeGreaterThan(0);
    const helpers = groupMembers(pid).filter((p) => p.name === 'sleep');
    expect(helpers).toHaveLength(1);

    await deleteSession(stack, KEY, sessionId);
    expect(groupMembers(pid)).toEqual([]);
  });

  it('stopping the server ends every session’s process group', async () => {
    const pids = [(await answeredSession(stack)).pid, (await answeredSession(stack)).pid];
    expect(pids.every((p) => groupMembers(p).length >= 2)).toBe(true);
    await stack.server.close();
    expect(pids.flatMap((p) => groupMembers(p))).toEqual([]);
  });
});

describe('process cleanup when Claude Code is slow to exit', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The fixture ignores SIGTERM and lingers, so these tests do not depend on a race.
    stack = await stackWith('claude-lingering.sh');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ending the session waits until its process group is gone, not merely its output', async () => {
    const { sessionId, pid } = await answeredSession(stack);
    expect(groupMembers(pid).some((p) => p.pid === pid)).toBe(true);

    await deleteSession(stack, KEY, sessionId);
    expect(groupMembers(pid)).toEqual([]);
  });

  it('the Claude Code process that read the catalogue is gone once the server has stopped', async () => {
    const models = await call(stack.base, 'GET', '/models', { key: KEY });
    expect(models.status).toBe(200);
    // The answer does not wait for that process to exit; stopping the server does.
    await stack.server.close();
    expect(processesWithEnvMention(stack.dataDir)).toEqual([]);
  });
});
