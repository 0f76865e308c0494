/**
 * Live control of a running turn, end to end (real server, real Claude Code, the fake model):
 * approvals answered over HTTP from another connection than the stream, interrupts (of a model
 * call, a running tool, a pending approval), the per-session queue, and idempotent queued streams.
 *
 * Every wait is on a signal: an SSE event, a fake-model request, the end of a stream. The one
 * exception is the sandboxed `python3` process, which announces nothing: `vi.waitFor` looks for
 * it in /proc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  isStreamingRequest,
  lastUserMessage,
  requestUserTexts,
  toolResults,
  type RecordedRequest,
  type ToolResultView,
} from '../../src/fake-anthropic/index.js';
import { call, sseRequest, type SseEvent } from '../helpers/http.js';
import { startStack, tempDir, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  createSession,
  dataOf,
  deleteSession,
  expectError,
  history,
  named,
  openTurnStream,
  readUntil,
  SseReader,
  type Completion,
} from './support.js';
import type { PermissionRequestView, PermissionResolution, StatusEvent } from '../../src/domain/events.js';

const [KEY_A, KEY_B] = TEST_KEYS;

interface InterruptAnswer {
  sessionId: string;
  interrupted: boolean;
  messageId: string | null;
  status: string;
  queued: number;
}

interface Accepted {
  messageId: string;
  sessionId: string;
  streamUrl: string;
  queued?: boolean;
  position?: number;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: {
      // Many sessions in one file: more than the default 10 per hour and key.
      RATE_LIMIT_SESSIONS_PER_HOUR: '1000',
      // The keys may not use acceptEdits (or any mode but default).
      ALLOWED_PERMISSION_MODES: 'default',
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

// --- helpers -------------------------------------------------------------------------------------

const statusesOf = (events: readonly SseEvent[]): string[] =>
  events.filter(named('status')).map((e) => dataOf<StatusEvent>(e).status);

/** The last event of a stream that has ended, checked to be its only terminal event. */
function terminalOf(events: readonly SseEvent[]): SseEvent {
  const terminals = events.filter((e) => e.event === 'complete' || e.event === 'error');
  expect(terminals.map((e) => e.event)).toHaveLength(1);
  expect(events.at(-1)).toBe(terminals[0]);
  return terminals[0]!;
}

function answer(
  on: Stack,
  sessionId: string,
  requestId: string,
  body: Record<string, unknown>,
  key: string = KEY_A,
) {
  return call<PermissionResolution>(on.base, 'POST', `/sessions/${sessionId}/permissions/${requestId}`, {
    key,
    body,
  });
}

async function pending(on: Stack, sessionId: string, key: string = KEY_A) {
  const res = await call<{ sessionId: string; permissions: PermissionRequestView[] }>(
    on.base,
    'GET',
    `/sessions/${sessionId}/permissions`,
    { key },
  );
  expect(res.status).toBe(200);
  return res.body.permissions;
}

/** The tool results of the last model request of the prompt that contains `marker`. */
function toldTheModel(on: Stack, marker: string): ToolResultView[] {
  const request = on.fake
    .messagesRequests()
    .findLast(
      (r) =>
        requestUserTexts(r).at(-1)?.includes(marker) === true &&
        toolResults(lastUserMessage(r.body)).length > 0,
    );
  expect(request, `no model request with a tool result for "${marker}"`).toBeDefined();
  return toolResults(lastUserMessage(request!.body));
}

/** Whether a model request's latest prompt contains `marker`. */
const promptHas =
  (marker: string) =>
  (r: RecordedRequest): boolean =>
    r.path === '/v1/messages' && requestUserTexts(r).at(-1)?.includes(marker) === true;

async function workspaceOf(sessionId: string): Promise<string> {
  const res = await call<{ config: { cwd: string } }>(stack.base, 'GET', `/sessions/${sessionId}`, {
    key: KEY_A,
  });
  expect(res.status).toBe(200);
  return res.body.config.cwd;
}

async function interrupt(on: Stack, sessionId: string, key: string = KEY_A) {
  return call<InterruptAnswer>(on.base, 'POST', `/sessions/${sessionId}/interrupt`, { key });
}

/** Sends a prompt and waits for its answer (stream: false). */
async function send(on: Stack, sessionId: string, prompt: string, key: string = KEY_A) {
  return call<Completion>(on.base, 'POST', `/sessions/${sessionId}/messages`, { key, body: { prompt } });
}

/**
 * Streams a turn to its end, answering each permission question with `decision` over another
 * connection as it comes. Returns the events and the questions.
 */
async function runAnswering(
  on: Stack,
  sessionId: string,
  prompt: string,
  decision: Record<string, unknown>,
): Promise<{ events: SseEvent[]; requests: PermissionRequestView[] }> {
  const reader = await openTurnStream(on, sessionId, { prompt });
  const events: SseEvent[] = [];
  const requests: PermissionRequestView[] = [];
  for (let e = await reader.next(); e !== null; e = await reader.next()) {
    events.push(e);
    if (e.event !== 'permission_request') continue;
    const request = dataOf<PermissionRequestView>(e);
    requests.push(request);
    expect((await answer(on, sessionId, request.requestId, decision)).status).toBe(200);
  }
  return { events, requests };
}

/** Pids of live processes whose command line contains `needle`. */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

// --- approvals -----------------------------------------------------------------------------------

describe('approvals answered over HTTP', () => {
  it('approve: the tool runs, and the question is listed while it waits, then gone', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const cwd = await workspaceOf(sessionId);
      const target = path.join(cwd, 'approved.txt');
      const reader = await openTurnStream(stack, sessionId, {
        prompt: 'write it [[write:approved.txt:approved content]]',
      });
      const before = await readUntil(reader, named('permission_request'));
      const request = dataOf<PermissionRequestView>(before.at(-1)!);
      expect(request).toMatchObject({
        sessionId,
        messageId: dataOf<{ turnId: string }>(before[0]!).turnId,
        toolName: 'Write',
        input: { file_path: target, content: 'approved content' },
      });
      expect(request.requestId).toMatch(/^perm_/);
      // The session waits: its status says so, right before the question.
      expect(statusesOf(before)).toEqual(['running', 'waiting_for_permission']);
      expect(before.at(-2)?.event).toBe('status');
      expect(dataOf<StatusEvent>(before.at(-2)!)).toMatchObject({
        status: 'waiting_for_permission',
        toolName: 'Write',
      });
      expect(fs.existsSync(target)).toBe(false);

      // Listed while it waits, with what a client needs to decide.
      const listed = await pending(stack, sessionId);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toEqual(request);
      expect(typeof listed[0]!.description).toBe('string');
      expect(Date.parse(listed[0]!.expiresAt)).toBeGreaterThan(Date.parse(listed[0]!.createdAt));

      // Another key learns nothing and cannot answer; the question stays open.
      expectError(
        await call(stack.base, 'GET', `/sessions/${sessionId}/permissions`, { key: KEY_B }),
        404,
        'SESSION_NOT_FOUND',
      );
      expectError(
        await answer(stack, sessionId, request.requestId, { decision: 'allow' }, KEY_B),
        404,
        'SESSION_NOT_FOUND',
      );
      expectError(
        await answer(stack, sessionId, 'perm_doesNotExist000000', { decision: 'allow' }),
        404,
        'PERMISSION_REQUEST_NOT_FOUND',
      );
      expectError(
        await answer(stack, sessionId, request.requestId, { decision: 'yes' }),
        400,
        'INVALID_REQUEST',
      );
      expect(await pending(stack, sessionId)).toHaveLength(1);

      // Answered over another connection than the stream (which is busy streaming).
      const answered = await answer(stack, sessionId, request.requestId, { decision: 'allow' });
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({
        requestId: request.requestId,
        decision: 'allow',
        by: 'client',
        message: null,
        updatedInput: false,
        remember: false,
      });

      const after = await reader.rest();
      const resolved = after.filter(named('permission_resolved'));
      expect(resolved.map((e) => dataOf<PermissionResolution>(e))).toEqual([answered.body]);
      expect(after[0]?.event).toBe('permission_resolved');
      expect(statusesOf(after)).toEqual(['running', 'idle']);
      expect(after[1]?.event).toBe('status');
      expect(dataOf<Completion>(terminalOf(after))).toMatchObject({ status: 'completed' });
      // The tool really ran.
      expect(fs.readFileSync(target, 'utf8')).toBe('approved content');

      // Answered: no longer listed, and a second answer finds nothing.
      expect(await pending(stack, sessionId)).toEqual([]);
      expectError(
        await answer(stack, sessionId, request.requestId, { decision: 'deny' }),
        404,
        'PERMISSION_REQUEST_NOT_FOUND',
      );
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('deny with feedback: the model is told exactly that, and the turn completes', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const marker = 'deny-feedback';
      const reader = await openTurnStream(stack, sessionId, {
        prompt: `${marker} [[bash:python3 -c "print('must not run')"]]`,
      });
      const request = dataOf<PermissionRequestView>(
        (await readUntil(reader, named('permission_request'))).at(-1)!,
      );
      expect(request.toolName).toBe('Bash');
      const feedback = 'Not that one: list the directory with ls instead.';
      const answered = await answer(stack, sessionId, request.requestId, {
        decision: 'deny',
        message: feedback,
      });
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ decision: 'deny', by: 'client', message: feedback });

      const after = await reader.rest();
      expect(dataOf<PermissionResolution>(after.find(named('permission_resolved'))!)).toMatchObject({
        decision: 'deny',
        by: 'client',
        message: feedback,
      });
      const told = toldTheModel(stack, marker);
      expect(told).toEqual([{ toolUseId: request.toolUseId, text: feedback, isError: true }]);
      const complete = dataOf<Completion>(terminalOf(after));
      expect(complete).toMatchObject({ status: 'completed', stopReason: 'end_turn' });
      expect(complete.response).toBe(`Tool result: ${feedback}`);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('approve with changed input: the changed command runs, not the original', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const marker = 'changed-input';
      const reader = await openTurnStream(stack, sessionId, {
        prompt: `${marker} [[bash:python3 -c "print('original-command-ran')"]]`,
      });
      const request = dataOf<PermissionRequestView>(
        (await readUntil(reader, named('permission_request'))).at(-1)!,
      );
      expect(request.input.command).toBe(`python3 -c "print('original-command-ran')"`);
      const answered = await answer(stack, sessionId, request.requestId, {
        decision: 'allow',
        updatedInput: { command: 'echo changed-command-ran', description: 'Run the changed command' },
      });
      expect(answered.body).toMatchObject({ decision: 'allow', by: 'client', updatedInput: true });
      expect(terminalOf(await reader.rest()).event).toBe('complete');

      const told = toldTheModel(stack, marker);
      expect(told).toHaveLength(1);
      expect(told[0]!.isError).toBe(false);
      expect(told[0]!.text).toMatch(/(^|\n)changed-command-ran$/);
      expect(told[0]!.text).not.toContain('original-command-ran');
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('remember: the same call later in the session runs without asking; without it, it asks again', async () => {
    const command = '[[bash:python3 -c "print(12345)"]]';
    const run = async (sessionId: string, remember: boolean): Promise<SseEvent[][]> => {
      const turns: SseEvent[][] = [];
      for (const n of [1, 2]) {
        const reader = await openTurnStream(stack, sessionId, {
          prompt: `remember ${remember} ${n} ${command}`,
        });
        const events: SseEvent[] = [];
        for (let e = await reader.next(); e !== null; e = await reader.next()) {
          events.push(e);
          if (e.event !== 'permission_request') continue;
          const request = dataOf<PermissionRequestView>(e);
          const answered = await answer(stack, sessionId, request.requestId, { decision: 'allow', remember });
          expect(answered.body.remember).toBe(remember);
        }
        expect(dataOf<Completion>(terminalOf(events)).response).toMatch(/(^|[\s:])12345$/);
        turns.push(events);
      }
      return turns;
    };

    const remembering = await createSession(stack, KEY_A);
    const forgetting = await createSession(stack, KEY_A);
    try {
      const [first, second] = await run(remembering, true);
      const request = dataOf<PermissionRequestView>(first!.find(named('permission_request'))!);
      // Remembering needs a rule to remember: Claude Code suggests one for this command.
      expect(request.suggestions.length).toBeGreaterThan(0);
      expect(second!.filter(named('permission_request'))).toEqual([]);
      expect(statusesOf(second!)).not.toContain('waiting_for_permission');

      const [once, again] = await run(forgetting, false);
      expect(once!.filter(named('permission_request'))).toHaveLength(1);
      expect(again!.filter(named('permission_request'))).toHaveLength(1);
    } finally {
      await deleteSession(stack, KEY_A, remembering);
      await deleteSession(stack, KEY_A, forgetting);
    }
  });

  it('remember keeps the rule for that call, not a wider permission mode', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const first = await runAnswering(stack, sessionId, 'edit one [[write:one.txt:1]]', {
        decision: 'allow',
        remember: true,
      });
      expect(first.requests.map((r) => r.toolName)).toEqual(['Write']);
      // What Claude Code suggests for a Write: the whole session in acceptEdits, a mode this
      // server's keys may not use (ALLOWED_PERMISSION_MODES=default).
      expect(first.requests[0]!.suggestions).toEqual([
        expect.objectContaining({ type: 'setMode', mode: 'acceptEdits' }),
      ]);

      // Only the allow rule for that call is remembered: the next Write asks again, and the
      // session's mode stays what its key allows.
      const second = await runAnswering(stack, sessionId, 'edit two [[write:two.txt:2]]', {
        decision: 'allow',
      });
      expect(terminalOf(second.events).event).toBe('complete');
      expect(second.requests.map((r) => r.toolName)).toEqual(['Write']);
      const session = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_A });
      expect(session.body).toMatchObject({ permissionMode: 'default' });
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('remember never opens a directory outside the workspace to the file tools', async () => {
    const outside = tempDir('outside');
    const sessionId = await createSession(stack, KEY_A);
    try {
      const shell = await runAnswering(
        stack,
        sessionId,
        `shell out [[bash:echo hi > ${outside}/shell.txt]]`,
        {
          decision: 'allow',
          remember: true,
        },
      );
      expect(terminalOf(shell.events).event).toBe('complete');
      // Claude Code suggests adding the command's directory to the session's directories.
      expect(shell.requests[0]?.suggestions).toContainEqual(
        expect.objectContaining({ type: 'addDirectories', directories: [outside] }),
      );

      // `addDirectories` is never remembered: the Write tool stays confined to the workspace.
      const marker = 'write-outside-after-remember';
      const write = await runAnswering(
        stack,
        sessionId,
        `${marker} [[write:${outside}/escaped.txt:escaped]]`,
        {
          decision: 'allow',
        },
      );
      expect(terminalOf(write.events).event).toBe('complete');
      expect(fs.existsSync(path.join(outside, 'escaped.txt'))).toBe(false);
      expect(toldTheModel(stack, marker)[0]?.text).toMatch(/blockWritesOutsideWorkingDirectories/);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('the turn’s own timeout withdraws a question nobody answers', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      // A first turn, so Claude Code has started: the 1 s below is the question's, not the start's.
      expect((await send(stack, sessionId, 'warm up')).body).toMatchObject({ status: 'completed' });
      // The turn may run 1 s; the question would wait 2 s (PERMISSION_TIMEOUT_MS of the tests).
      const reader = await openTurnStream(stack, sessionId, {
        prompt: 'too slow to decide [[bash:python3 -c "print(5)"]]',
        timeout: 1000,
      });
      const events = await reader.rest();
      const request = dataOf<PermissionRequestView>(events.find(named('permission_request'))!);
      expect(dataOf<PermissionResolution>(events.find(named('permission_resolved'))!)).toMatchObject({
        requestId: request.requestId,
        decision: 'deny',
        by: 'interrupt',
      });
      const terminal = terminalOf(events);
      expect(terminal.event).toBe('error');
      expect(dataOf<{ code: string }>(terminal).code).toBe('REQUEST_TIMEOUT');
      expect(events.at(-2)?.event).toBe('status');
      expect(dataOf<StatusEvent>(events.at(-2)!).status).toBe('idle');
      expect(await pending(stack, sessionId)).toEqual([]);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('a client that disconnects and reconnects with Last-Event-ID still sees and answers the question', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const marker = 'reconnect-then-answer';
      const abort = new AbortController();
      const res = await fetch(`${stack.base}/sessions/${sessionId}/stream`, {
        method: 'POST',
        headers: { 'x-api-key': KEY_A, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ prompt: `${marker} [[bash:python3 -c "print(424242)"]]` }),
        signal: abort.signal,
      });
      const first = new SseReader(res);
      // The client saw the session start to wait, then lost its connection.
      const seen = await readUntil(
        first,
        (e) => e.event === 'status' && dataOf<StatusEvent>(e).status === 'waiting_for_permission',
      );
      abort.abort();
      await first.cancel();

      const resumed = await sseRequest(stack.base, 'GET', `/sessions/${sessionId}/stream`, KEY_A, undefined, {
        'last-event-id': seen.at(-1)!.id!,
      });
      expect(resumed.status).toBe(200);
      const reader = new SseReader(resumed);
      const found = await readUntil(reader, named('permission_request'));
      // Nothing lost, nothing repeated: the question is the next event after the cursor.
      expect(found).toHaveLength(1);
      expect(Number(found[0]!.id)).toBe(Number(seen.at(-1)!.id) + 1);
      const request = dataOf<PermissionRequestView>(found[0]!);
      expect((await pending(stack, sessionId)).map((p) => p.requestId)).toEqual([request.requestId]);

      expect((await answer(stack, sessionId, request.requestId, { decision: 'allow' })).status).toBe(200);
      const after = await reader.rest();
      expect(dataOf<Completion>(terminalOf(after))).toMatchObject({ status: 'completed' });
      expect(toldTheModel(stack, marker).map((r) => r.text.split('\n').at(-1))).toEqual(['424242']);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});

describe('a blocking call (stream: false) whose turn needs an approval', () => {
  it('answers 202 requires_action at once; the client answers, waits again, and gets the 200 answer', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const cwd = await workspaceOf(sessionId);
      const first = await call<{
        messageId: string;
        status: string;
        pendingPermissions: PermissionRequestView[];
        waitUrl: string;
      }>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'blocking [[write:blocked.txt:written after approval]]', stream: false },
      });
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({
        status: 'requires_action',
        pendingPermissions: [{ toolName: 'Write', input: { file_path: path.join(cwd, 'blocked.txt') } }],
      });
      expect(fs.existsSync(path.join(cwd, 'blocked.txt'))).toBe(false);
      const [request] = first.body.pendingPermissions;
      expect((await answer(stack, sessionId, request!.requestId, { decision: 'allow' })).status).toBe(200);
      // The wait URL is absolute from the server's root; the helper's base is `/api/v1`.
      const waited = await call<Completion>(stack.base, 'GET', first.body.waitUrl.replace('/api/v1', ''), {
        key: KEY_A,
      });
      expect(waited.status).toBe(200);
      expect(waited.body).toMatchObject({ messageId: first.body.messageId, status: 'completed' });
      expect(fs.readFileSync(path.join(cwd, 'blocked.txt'), 'utf8')).toBe('written after approval');
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });
});

describe('approvals nobody answers', () => {
  it('are denied when the timeout runs out (the default decision), and the turn completes', async () => {
    const quick = await startStack({ env: { PERMISSION_TIMEOUT_MS: '1000' } });
    try {
      const sessionId = await createSession(quick, KEY_A);
      const marker = 'timeout-deny';
      const reader = await openTurnStream(quick, sessionId, {
        prompt: `${marker} [[bash:python3 -c "print('timed-out-command-ran')"]]`,
      });
      const request = dataOf<PermissionRequestView>(
        (await readUntil(reader, named('permission_request'))).at(-1)!,
      );
      expect(Date.parse(request.expiresAt) - Date.parse(request.createdAt)).toBe(1000);
      const after = await reader.rest();
      const resolved = dataOf<PermissionResolution>(after.find(named('permission_resolved'))!);
      expect(resolved).toMatchObject({ requestId: request.requestId, decision: 'deny', by: 'timeout' });
      expect(resolved.message).toEqual(expect.any(String));
      expect(dataOf<Completion>(terminalOf(after))).toMatchObject({ status: 'completed' });
      const told = toldTheModel(quick, marker);
      expect(told).toEqual([{ toolUseId: request.toolUseId, text: resolved.message, isError: true }]);
      expect(await pending(quick, sessionId)).toEqual([]);
      expectError(
        await answer(quick, sessionId, request.requestId, { decision: 'allow' }),
        404,
        'PERMISSION_REQUEST_NOT_FOUND',
      );
      await deleteSession(quick, KEY_A, sessionId);
    } finally {
      await quick.close();
    }
  });

  it('run when the configured default decision is allow', async () => {
    const quick = await startStack({
      env: { PERMISSION_TIMEOUT_MS: '1000', PERMISSION_DEFAULT_DECISION: 'allow' },
    });
    try {
      const sessionId = await createSession(quick, KEY_A);
      const marker = 'timeout-allow';
      const reader = await openTurnStream(quick, sessionId, {
        prompt: `${marker} [[bash:python3 -c "print('allowed-by-default')"]]`,
      });
      const events = await reader.rest();
      expect(events.filter(named('permission_request'))).toHaveLength(1);
      expect(dataOf<PermissionResolution>(events.find(named('permission_resolved'))!)).toMatchObject({
        decision: 'allow',
        by: 'timeout',
        message: null,
      });
      expect(dataOf<Completion>(terminalOf(events)).response).toMatch(/(^|[\s:])allowed-by-default$/);
      const told = toldTheModel(quick, marker);
      expect(told.map((r) => [r.isError, r.text.split('\n').at(-1)])).toEqual([
        [false, 'allowed-by-default'],
      ]);
      await deleteSession(quick, KEY_A, sessionId);
    } finally {
      await quick.close();
    }
  });
});

// --- interrupt -----------------------------------------------------------------------------------

describe('interrupt', () => {
  it('during a slow model reply: the reply is cut, the turn completes as interrupted, the session goes on', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const marker = 'interrupt-slow-reply';
      const mark = stack.fake.mark();
      const reader = await openTurnStream(stack, sessionId, {
        prompt: `${marker} [[slow:50:100]]`,
        partial: true,
      });
      // The model is writing: its first words have arrived.
      const before = await readUntil(reader, named('delta'));
      const turnId = dataOf<{ turnId: string }>(before[0]!).turnId;
      const modelCall = await stack.fake.waitForRequest(
        (r) => promptHas(marker)(r) && isStreamingRequest(r.body),
        5000,
        mark,
      );

      const res = await interrupt(stack, sessionId);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ sessionId, interrupted: true, messageId: turnId });

      const after = await reader.rest();
      const complete = dataOf<Completion>(terminalOf(after));
      expect(complete).toMatchObject({ messageId: turnId, status: 'interrupted', stopReason: 'interrupted' });
      expect(complete.response).not.toContain('[50/50]');
      // Claude Code closed its model request: the interrupt reached it, not just our bookkeeping.
      await stack.fake.waitForClientClose(modelCall.id, 5000);
      expect(modelCall.closedByClient).toBe(true);

      const next = await send(stack, sessionId, 'and now something else');
      expect(next.status).toBe(200);
      expect(next.body).toMatchObject({ status: 'completed', stopReason: 'end_turn' });
      expect(next.body.response).toContain('and now something else');
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('during a running Bash tool: the tool’s process is stopped', async () => {
    const sessionId = await createSession(stack, KEY_A, { allowedTools: ['Bash(python3:*)'] });
    try {
      // A sleep time no other test uses, to find this process (and only it) in /proc.
      const script = 'import time; time.sleep(30.125)';
      const reader = await openTurnStream(stack, sessionId, {
        prompt: `slow tool [[bash:python3 -c "${script}"]]`,
      });
      await readUntil(
        reader,
        (e) =>
          e.event === 'message' &&
          JSON.stringify(dataOf<{ summary: unknown }>(e).summary).includes('"type":"tool_use"'),
      );
      await vi.waitFor(() => expect(processesWith(script).length).toBeGreaterThan(0), {
        timeout: 10_000,
        interval: 50,
      });

      const res = await interrupt(stack, sessionId);
      expect(res.status).toBe(202);
      const after = await reader.rest();
      expect(after.filter(named('permission_request'))).toEqual([]);
      // The last thing the assistant said is the answer.
      const complete = dataOf<Completion>(terminalOf(after));
      expect(complete).toMatchObject({ status: 'interrupted', response: 'I will run a command.' });
      await vi.waitFor(() => expect(processesWith(script)).toEqual([]), { timeout: 5000, interval: 50 });

      const next = await send(stack, sessionId, 'after the tool');
      expect(next.body).toMatchObject({ status: 'completed' });

      // Claude Code's own stop reason would be its last reply's (`tool_use`): the client asked.
      expect(complete.stopReason).toBe('interrupted');
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('during a pending approval: the question is withdrawn', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const reader = await openTurnStream(stack, sessionId, {
        prompt: 'interrupt the question [[bash:python3 -c "print(7)"]]',
      });
      const request = dataOf<PermissionRequestView>(
        (await readUntil(reader, named('permission_request'))).at(-1)!,
      );
      expect(await pending(stack, sessionId)).toHaveLength(1);

      const res = await interrupt(stack, sessionId);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ interrupted: true, messageId: request.messageId });

      const after = await reader.rest();
      const resolved = after.filter(named('permission_resolved')).map((e) => dataOf<PermissionResolution>(e));
      expect(resolved).toEqual([
        expect.objectContaining({ requestId: request.requestId, decision: 'deny', by: 'interrupt' }),
      ]);
      // Not "running" again after the question: the turn was stopped.
      expect(statusesOf(after)).toEqual(['idle']);
      const complete = dataOf<Completion>(terminalOf(after));
      expect(complete).toMatchObject({ status: 'interrupted', response: 'I will run a command.' });
      expect(await pending(stack, sessionId)).toEqual([]);
      expectError(
        await answer(stack, sessionId, request.requestId, { decision: 'allow' }),
        404,
        'PERMISSION_REQUEST_NOT_FOUND',
      );
      expect((await send(stack, sessionId, 'still here?')).body).toMatchObject({ status: 'completed' });
      expect(complete.stopReason).toBe('interrupted');
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('of an idle session is a harmless 200; DELETE during a turn ends its stream and the session', async () => {
    const sessionId = await createSession(stack, KEY_A);
    const idle = await interrupt(stack, sessionId);
    expect(idle.status).toBe(200);
    expect(idle.body).toEqual({ sessionId, interrupted: false, messageId: null, status: 'idle', queued: 0 });
    expectError(await interrupt(stack, sessionId, KEY_B), 404, 'SESSION_NOT_FOUND');

    const reader = await openTurnStream(stack, sessionId, { prompt: 'deleted midway [[slow:50:100]]' });
    const first = await reader.next();
    expect(first?.event).toBe('message');
    const [deleted, rest] = await Promise.all([
      call(stack.base, 'DELETE', `/sessions/${sessionId}`, { key: KEY_A }),
      reader.rest(),
    ]);
    expect(deleted.status).toBe(204);
    const terminal = terminalOf(rest);
    expect(dataOf<Completion>(terminal)).toMatchObject({ status: 'interrupted', stopReason: 'interrupted' });
    expect(dataOf<{ messageId: string }>(terminal).messageId).toBe(dataOf<{ turnId: string }>(first!).turnId);
    expectError(
      await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY_A }),
      404,
      'SESSION_NOT_FOUND',
    );
    expectError(await interrupt(stack, sessionId), 404, 'SESSION_NOT_FOUND');
  });
});

// --- queue ---------------------------------------------------------------------------------------

describe('the queue', () => {
  it('a second message is SESSION_BUSY, or with queue: true runs after the first, in order', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const reader = await openTurnStream(stack, sessionId, { prompt: 'queue first [[slow:10:50]]' });
      const first = await reader.next();
      const firstId = dataOf<{ turnId: string }>(first!).turnId;

      const busy = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'queue second' },
      });
      expect(expectError(busy, 409, 'SESSION_BUSY').details).toMatchObject({ runningMessageId: firstId });

      const queued = call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'queue second', queue: true },
      });
      const firstEvents = [first!, ...(await reader.rest())];
      const firstComplete = terminalOf(firstEvents);
      expect(dataOf<Completion>(firstComplete)).toMatchObject({ status: 'completed' });
      // Not idle between the two: the queue goes on.
      expect(statusesOf(firstEvents)).not.toContain('idle');

      const second = await queued;
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ status: 'completed' });
      expect(second.body.response).toContain('queue second');
      const replay = await sseRequest(
        stack.base,
        'GET',
        `/sessions/${sessionId}/stream?messageId=${second.body.messageId}`,
        KEY_A,
      );
      const secondEvents = await new SseReader(replay).rest();
      expect(dataOf<StatusEvent>(secondEvents[0]!)).toMatchObject({ status: 'queued', position: 1 });
      const secondComplete = terminalOf(secondEvents);
      expect(Number(secondComplete.id)).toBeGreaterThan(Number(firstComplete.id));
      expect(statusesOf(secondEvents).slice(-1)).toEqual(['idle']);

      // The history: the first prompt and its messages, then the second prompt and its own.
      const messages = await history(stack, KEY_A, sessionId);
      const turnOrder = messages.map((m) => m.turnId).filter((id, i, all) => id !== all[i - 1]);
      expect(turnOrder).toEqual([firstId, second.body.messageId]);
      const prompts = messages.filter((m) => m.source === 'client');
      expect(prompts.map((m) => m.id)).toEqual([firstId, second.body.messageId]);
      expect(messages.find((m) => m.turnId === second.body.messageId)).toBe(prompts[1]);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('three queued stream: true messages get positions 1, 2, 3 and complete in that order', async () => {
    const sessionId = await createSession(stack, KEY_A);
    try {
      const mark = stack.fake.mark();
      const running = await call<Accepted>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY_A,
        body: { prompt: 'queue head [[slow:10:50]]', stream: true },
      });
      expect(running.status).toBe(202);
      expect(running.body.queued).toBeUndefined();
      const accepted: Accepted[] = [];
      for (const n of [1, 2, 3]) {
        const res = await call<Accepted>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
          key: KEY_A,
          body: { prompt: `queued number ${n}`, stream: true, queue: true },
        });
        expect(res.status).toBe(202);
        expect(res.body).toMatchObject({ sessionId, queued: true, position: n });
        accepted.push(res.body);
      }
      const streams = await Promise.all(
        [running.body, ...accepted].map(async (a) => {
          const res = await sseRequest(stack.base, 'GET', a.streamUrl.replace('/api/v1', ''), KEY_A);
          expect(res.status).toBe(200);
          return new SseReader(res).rest();
        }),
      );
      const completes = streams.map((events) => terminalOf(events));
      expect(completes.map((e) => e.event)).toEqual(['complete', 'complete', 'complete', 'complete']);
      const ids = completes.map((e) => Number(e.id));
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      completes.slice(1).forEach((e, i) => {
        expect(dataOf<Completion>(e).response).toContain(`queued number ${i + 1}`);
      });
      // The model got them in that order, each once.
      const order = stack.fake
        .messagesRequests()
        .filter((r) => r.id > mark)
        .map((r) => requestUserTexts(r).at(-1) ?? '')
        .filter((t, i, all) => t.startsWith('queue') && t !== all[i - 1]);
      expect(order).toEqual([
        'queue head [[slow:10:50]]',
        'queued number 1',
        'queued number 2',
        'queued number 3',
      ]);
    } finally {
      await deleteSession(stack, KEY_A, sessionId);
    }
  });

  it('a queued turn cancelled by DELETE ends as interrupted (cancelled) without reaching the model', async () => {
    const sessionId = await createSession(stack, KEY_A);
    const running = await openTurnStream(stack, sessionId, {
      prompt: 'running before delete [[slow:50:100]]',
    });
    await running.next();
    const queued = await call<Accepted>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY_A,
      body: { prompt: 'never-reaches-the-model', stream: true, queue: true },
    });
    expect(queued.body).toMatchObject({ queued: true, position: 1 });
    const res = await sseRequest(stack.base, 'GET', queued.body.streamUrl.replace('/api/v1', ''), KEY_A);
    const reader = new SseReader(res);
    const first = await reader.next();
    expect(dataOf<StatusEvent>(first!)).toMatchObject({ status: 'queued', position: 1 });

    const [deleted, queuedEvents, runningEvents] = await Promise.all([
      call(stack.base, 'DELETE', `/sessions/${sessionId}`, { key: KEY_A }),
      reader.rest(),
      running.rest(),
    ]);
    expect(deleted.status).toBe(204);
    expect(dataOf<Completion>(terminalOf(queuedEvents))).toMatchObject({
      messageId: queued.body.messageId,
      status: 'interrupted',
      stopReason: 'cancelled',
      numTurns: 0,
      costUsd: 0,
    });
    expect(queuedEvents.filter(named('message'))).toEqual([]);
    expect(dataOf<Completion>(terminalOf(runningEvents))).toMatchObject({
      status: 'interrupted',
      stopReason: 'interrupted',
    });
    expect(stack.fake.messagesRequests().filter(promptHas('never-reaches-the-model'))).toEqual([]);
  });
});

describe('idempotent queued streams', () => {
  it('ten concurrent identical POST /stream with one Idempotency-Key and queue: true start one turn', async () => {
    const sessionId = await createSession(stack, KEY_B);
    try {
      const mark = stack.fake.mark();
      // A turn runs, so the ten have to queue.
      const head = await openTurnStream(
        stack,
        sessionId,
        { prompt: 'ahead of the ten [[slow:10:50]]' },
        KEY_B,
      );
      await head.next();
      const prompt = 'ten-queued-as-one';
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          sseRequest(
            stack.base,
            'POST',
            `/sessions/${sessionId}/stream`,
            KEY_B,
            { prompt, queue: true },
            { 'idempotency-key': 'ten-queued-streams' },
          ),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
      const streams = await Promise.all(responses.map((r) => new SseReader(r).rest()));
      await head.rest();
      const turnIds = new Set(
        streams.map((events) => dataOf<{ messageId: string }>(terminalOf(events)).messageId),
      );
      expect(turnIds.size).toBe(1);
      for (const events of streams) {
        expect(events.map((e) => [e.id, e.event])).toEqual(streams[0]!.map((e) => [e.id, e.event]));
      }
      expect(dataOf<StatusEvent>(streams[0]![0]!)).toMatchObject({ status: 'queued', position: 1 });
      const prompts = (await history(stack, KEY_B, sessionId)).filter((m) => m.source === 'client');
      expect(prompts.map((m) => m.content)).toEqual([
        expect.objectContaining({
          message: expect.objectContaining({ content: expect.stringContaining('ahead') }),
        }),
        expect.objectContaining({ message: expect.objectContaining({ content: prompt }) }),
      ]);
      const modelCalls = stack.fake
        .messagesRequests()
        .filter((r) => r.id > mark && requestUserTexts(r).at(-1) === prompt);
      expect(modelCalls).toHaveLength(1);
    } finally {
      await deleteSession(stack, KEY_B, sessionId);
    }
  });
});
