/**
 * Idle sessions cost nothing: after SESSION_PARK_AFTER_SECONDS, or when MAX_LIVE_PROCESSES is
 * reached, a session's Claude Code process (about 200 MB) is stopped and the session kept. Its
 * next message resumes it from the transcript in the server's own store, with its whole context,
 * which the fake model API's record of what it was sent shows. Claude Code's own files are not
 * needed: the tests wipe its config dir before resuming.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requestUserTexts } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { groupMembers } from '../helpers/processes.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { claudeTranscriptPath, createSession, deleteSession, until, type SessionSummary } from './support.js';

const KEY = TEST_KEYS[0];

async function send(stack: Stack, sessionId: string, prompt: string): Promise<Record<string, unknown>> {
  const res = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
    key: KEY,
    body: { prompt },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function processOf(stack: Stack, sessionId: string): Promise<string> {
  const res = await call<SessionSummary>(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
  expect(res.status).toBe(200);
  return res.body.process as string;
}

/** What the model API was sent for the next turn: the user texts of the whole conversation. */
async function contextOfNextTurn(stack: Stack, sessionId: string, prompt: string): Promise<string[]> {
  const mark = stack.fake.mark();
  await send(stack, sessionId, prompt);
  const request = await stack.fake.waitForRequest((r) => r.path.startsWith('/v1/messages'), 5000, mark);
  return requestUserTexts(request);
}

describe('parked sessions', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('an idle session is parked after SESSION_PARK_AFTER_SECONDS and resumes with its context', async () => {
    stack = await startStack({ env: { SESSION_PARK_AFTER_SECONDS: '1' } });
    const sessionId = await createSession(stack, KEY);
    await send(stack, sessionId, 'My name is Zed.');
    expect(await processOf(stack, sessionId)).toBe('live');
    const pid = stack.server.server.deps.registry.pidOf(sessionId)!;
    expect(groupMembers(pid).length).toBeGreaterThan(0);

    // The sweep runs every second; the session has been idle for one.
    const deadline = Date.now() + 10_000;
    while ((await processOf(stack, sessionId)) !== 'parked') {
      expect(Date.now(), 'the session was not parked within 10 s').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(groupMembers(pid)).toEqual([]);
    const details = await call<SessionSummary>(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
    expect(details.body).toMatchObject({ status: 'idle', process: 'parked' });

    expect(await contextOfNextTurn(stack, sessionId, 'What is my name? [[recall]]')).toEqual([
      'My name is Zed.',
      'What is my name? [[recall]]',
    ]);
    expect(await processOf(stack, sessionId)).toBe('live');
    expect(stack.server.server.deps.registry.pidOf(sessionId)).not.toBe(pid);
    await deleteSession(stack, KEY, sessionId);
  }, 30_000);

  it('resumes from the server’s store when Claude Code’s own files are gone', async () => {
    stack = await startStack();
    const sessionId = await createSession(stack, KEY);
    await send(stack, sessionId, 'The code word is heron.');
    await send(stack, sessionId, 'And the colour is teal.');
    const { deps, pool } = stack.server.server;
    const session = deps.registry.find(await deps.keys.authenticate(KEY), sessionId);
    expect(await pool.park(session)).toBe(true);
    expect(await processOf(stack, sessionId)).toBe('parked');

    // Another machine, or a wiped disk: nothing of Claude Code's local files is left. (Sandboxed,
    // each process has a config dir of its own, removed with it; the shared one is wiped too.)
    const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
    const claudeId = details.body.claudeSessionId as string;
    const { dataDir } = stack;
    const configDir = path.join(dataDir, 'claude');
    const wipe = async (): Promise<void> => {
      fs.rmSync(configDir, { recursive: true, force: true });
      await until(() => claudeTranscriptPath(dataDir, claudeId) === null, 'the local transcript to be gone');
    };
    await wipe();

    expect(await contextOfNextTurn(stack, sessionId, 'What did I tell you? [[recall]]')).toEqual([
      'The code word is heron.',
      'And the colour is teal.',
      'What did I tell you? [[recall]]',
    ]);
    // And the resumed process went on writing the transcript to the store: a second park and
    // resume still has everything.
    expect(await pool.park(session)).toBe(true);
    await wipe();
    expect(await contextOfNextTurn(stack, sessionId, 'Once more? [[recall]]')).toEqual([
      'The code word is heron.',
      'And the colour is teal.',
      'What did I tell you? [[recall]]',
      'Once more? [[recall]]',
    ]);
    await deleteSession(stack, KEY, sessionId);
  }, 30_000);

  it('at MAX_LIVE_PROCESSES the longest-idle session is parked for a new one, and resumes later', async () => {
    stack = await startStack({ env: { MAX_LIVE_PROCESSES: '1' } });
    const first = await createSession(stack, KEY);
    await send(stack, first, 'First session: apples.');
    const second = await createSession(stack, KEY);
    await send(stack, second, 'Second session: pears.');
    expect([await processOf(stack, first), await processOf(stack, second)]).toEqual(['parked', 'live']);

    expect(await contextOfNextTurn(stack, first, 'Which fruit? [[recall]]')).toEqual([
      'First session: apples.',
      'Which fruit? [[recall]]',
    ]);
    expect([await processOf(stack, first), await processOf(stack, second)]).toEqual(['live', 'parked']);
    expect(await contextOfNextTurn(stack, second, 'Which fruit? [[recall]]')).toEqual([
      'Second session: pears.',
      'Which fruit? [[recall]]',
    ]);
    await deleteSession(stack, KEY, first);
    await deleteSession(stack, KEY, second);
  }, 30_000);
});
