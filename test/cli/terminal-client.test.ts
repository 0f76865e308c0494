/**
 * The terminal client (`claude-code-rest chat | send | sessions`) driven as a person would: in a
 * real terminal (tmux, from Debian) against the real server with the real Claude Code and the
 * fake model API. A chat of two turns, an approval answered at the prompt (allow, deny, allow and
 * remember), Ctrl-C interrupting a turn and a second one exiting; `send --json` in a pipe, with its
 * exit codes; colours (a list, a diff) on a terminal only, never with NO_COLOR.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { bundle } from './run-cli.js';

const KEY = TEST_KEYS[0];

function tmux(...args: string[]): string {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync('tmux', args, { encoding: 'utf8' });
    if (r.status === 0) return r.stdout;
    // The tmux server exits when its last session is killed; a command sent in that moment
    // meets the exiting server. It is tmux's race, not the client's: start again.
    if (attempt < 5 && r.stderr.includes('server exited unexpectedly')) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      continue;
    }
    throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  }
}

/** The pane's text (`escapes`: with its colour codes). */
const screen = (name: string, escapes = false): string =>
  tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-S', '-200', '-t', name);

async function until(name: string, what: string | RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen(name);
    if (typeof what === 'string' ? text.includes(what) : what.test(text)) return text;
    if (Date.now() > deadline)
      throw new Error(`the terminal never showed ${String(what)}; it shows:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const count = (text: string, what: RegExp): number => text.match(new RegExp(what, 'g'))?.length ?? 0;

/** Runs the client as a shell would, its output into a pipe. */
function runPiped(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bundle(), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the terminal client', () => {
  let stack: Stack;
  let env: Record<string, string>;
  const sessions: string[] = [];

  beforeAll(async () => {
    // Approvals are answered by a test typing at a prompt: give it time.
    stack = await startStack({ env: { PERMISSION_TIMEOUT_MS: '60000' } });
    env = { CLAUDE_CODE_REST_URL: stack.base.replace('/api/v1', ''), CLAUDE_CODE_REST_KEY: KEY };
  }, 60_000);
  afterAll(async () => {
    for (const id of sessions) await call(stack.base, 'DELETE', `/sessions/${id}`, { key: KEY });
    await stack?.close();
  });

  it('chats in a terminal: two turns, an approval at the prompt, Ctrl-C interrupts, a second Ctrl-C exits', async () => {
    const name = `ccr-chat-${process.pid}`;
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    tmux(
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      '200',
      '-y',
      '60',
      `env ${vars.join(' ')} ${process.execPath} ${bundle()} chat; echo "EXITED $?"; sleep 60`,
    );
    try {
      const start = await until(name, /session (sess_\S+)/);
      const sessionId = /session (sess_\S+)/.exec(start)![1]!;
      sessions.push(sessionId);

      tmux('send-keys', '-t', name, 'Hello from the terminal', 'Enter');
      await until(name, 'You said: "Hello from the terminal"');
      await until(name, /tokens · \$/);

      tmux('send-keys', '-t', name, 'now write it [[write:note.txt:hi]]', 'Enter');
      await until(name, /\? Allow Write\(.*note\.txt\)\? \[y\]es \/ \[n\]o \/ \[a\]lways/);
      tmux('send-keys', '-t', name, 'y', 'Enter');
      await until(name, 'allowed');
      const afterTwo = await until(name, /File created successfully[\s\S]*tokens · \$/);
      expect(count(afterTwo, /tokens · \$/)).toBe(2);
      // Both turns are the same session's, and the approval let the write run.
      const history = await call<{ messages: Array<{ source: string; turnId: string }> }>(
        stack.base,
        'GET',
        `/sessions/${sessionId}/messages?limit=100`,
        { key: KEY },
      );
      expect(new Set(history.body.messages.map((m) => m.turnId)).size).toBe(2);
      expect(fs.existsSync(path.join(stack.dataDir, 'workspaces', sessionId, 'note.txt'))).toBe(true);

      // A denial at the prompt: the tool does not run, the turn goes on to its end.
      tmux('send-keys', '-t', name, 'and this one [[write:other.txt:no]]', 'Enter');
      await until(name, /\? Allow Write\(.*other\.txt\)\?/);
      tmux('send-keys', '-t', name, 'n', 'Enter');
      await until(name, 'denied');
      await until(name, /denied[\s\S]*tokens · \$/);
      expect(fs.existsSync(path.join(stack.dataDir, 'workspaces', sessionId, 'other.txt'))).toBe(false);

      // "Allow and remember" at the prompt: the same call later in the session runs without asking.
      const command = '[[bash:python3 -c "print(4242)"]]';
      tmux('send-keys', '-t', name, `remember this ${command}`, 'Enter');
      await until(name, /\? Allow Bash\(.*4242.*\)\?/);
      tmux('send-keys', '-t', name, 'a', 'Enter');
      await until(name, 'allowed (remembered)');
      await until(name, /(tokens · \$[\s\S]*){4}/);
      tmux('send-keys', '-t', name, `and again ${command}`, 'Enter');
      const remembered = await until(name, /(tokens · \$[\s\S]*){5}/);
      expect(count(remembered, /\? Allow Bash/)).toBe(1);
      // Both turns ran the command: its result shows twice.
      expect(count(remembered, /⎿ 4242/)).toBe(2);

      const untilRunning = async (what: string): Promise<void> => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const s = await call<{ status: string }>(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
          if (s.body.status === 'running') return;
          if (Date.now() > deadline) throw new Error(`${what} never ran`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      tmux('send-keys', '-t', name, 'take your time [[hang]]', 'Enter');
      await untilRunning('the third turn');
      tmux('send-keys', '-t', name, 'C-c');
      await until(name, 'interrupting');
      await until(name, /interrupted · /);
      const idle = await call<{ status: string }>(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
      expect(idle.body.status).toBe('idle');

      // Ctrl-C twice in a row: the first interrupts the turn, the second leaves at once (130).
      tmux('send-keys', '-t', name, 'once more [[hang]]', 'Enter');
      await untilRunning('the fourth turn');
      tmux('send-keys', '-t', name, 'C-c', 'C-c');
      await until(name, 'EXITED 130');
      expect(screen(name)).toContain(`chat --session ${sessionId}`);
      // A terminal gets colours.
      expect(screen(name, true).includes('\u001b[')).toBe(true);
    } finally {
      spawnSync('tmux', ['kill-session', '-t', name]);
    }
  }, 180_000);

  it('send --json in a pipe: one JSON line, no colour, exit 0; a refusal: exit 1 with its code', async () => {
    const ok = await runPiped(['send', 'Hello, pipe', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const answer = JSON.parse(lines[0]!) as {
      response: string;
      status: string;
      sessionId: string;
      costUsd: number;
    };
    expect(answer.response).toContain('You said: "Hello, pipe"');
    expect(answer.status).toBe('completed');
    expect(answer.costUsd).toBeGreaterThan(0);
    sessions.push(answer.sessionId);
    expect((ok.stdout + ok.stderr).includes('\u001b[')).toBe(false);

    // The same session again, plain text this time.
    const again = await runPiped(['send', 'and again', '--session', answer.sessionId], env);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toContain('You said: "and again"');

    const refused = await runPiped(['send', 'hello', '--session', 'sess_nope', '--json'], env);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toEqual({
      error: { code: 'SESSION_NOT_FOUND', message: expect.any(String) },
    });
    expect(refused.stderr).toContain('error: SESSION_NOT_FOUND');

    const noKey = await runPiped(['send', 'hello'], { CLAUDE_CODE_REST_URL: env.CLAUDE_CODE_REST_URL! });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('CLAUDE_CODE_REST_KEY');

    const listed = await runPiped(['sessions', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    const ids = (JSON.parse(listed.stdout) as { sessions: Array<{ sessionId: string }> }).sessions.map(
      (s) => s.sessionId,
    );
    expect(ids).toContain(answer.sessionId);
    const history = await runPiped(['sessions', 'history', answer.sessionId], env);
    expect(history.stdout).toContain('› Hello, pipe');
    expect(history.stdout).toContain('› and again');
    const ended = await runPiped(['sessions', 'end', answer.sessionId], env);
    expect(ended.stdout.trim()).toBe(`ended ${answer.sessionId}`);
    const gone = await runPiped(['sessions', 'show', answer.sessionId], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('SESSION_NOT_FOUND');
    sessions.splice(sessions.indexOf(answer.sessionId), 1);
  }, 120_000);

  it('colours on a terminal, none with NO_COLOR: a list and a diff', async () => {
    const created = await call<{ sessionId: string }>(stack.base, 'POST', '/sessions', {
      key: KEY,
      body: { permissionMode: 'acceptEdits' },
    });
    const sessionId = created.body.sessionId;
    sessions.push(sessionId);
    const wrote = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'Write it [[write:colour.txt:green]]' },
    });
    expect(wrote.status, JSON.stringify(wrote.body)).toBe(200);
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const shown = async (command: string, extra: string): Promise<string> => {
      const name = `ccr-colour-${process.pid}-${command.split(' ')[0]}-${extra === '' ? 'on' : 'off'}`;
      tmux(
        'new-session',
        '-d',
        '-s',
        name,
        '-x',
        '200',
        '-y',
        '20',
        `env ${vars.join(' ')} ${extra} ${process.execPath} ${bundle()} ${command}; echo "EXITED $?"; sleep 60`,
      );
      try {
        await until(name, 'EXITED 0');
        return screen(name, true);
      } finally {
        spawnSync('tmux', ['kill-session', '-t', name]);
      }
    };
    const coloured = await shown('sessions list', '');
    expect(coloured).toContain(sessionId);
    expect(coloured.includes('\u001b[2m')).toBe(true);
    const plain = await shown('sessions list', 'NO_COLOR=1');
    expect(plain).toContain(sessionId);
    expect(plain.includes('\u001b[2m')).toBe(false);

    // A diff as git colours it: the file's header bold (tmux restates an attribute only where it
    // changes), the hunk's header cyan, the added line green.
    const diff = await shown(`diff ${sessionId}`, '');
    expect(diff).toContain('\u001b[1mdiff --git a/colour.txt b/colour.txt');
    expect(diff).toMatch(/\[36m[^\n@]*@@ -0,0 \+1 @@/);
    expect(diff).toContain('\u001b[32m+green');
    const plainDiff = await shown(`diff ${sessionId}`, 'NO_COLOR=1');
    expect(plainDiff).toContain('+green');
    expect(plainDiff).toContain('+++ b/colour.txt');
    expect(plainDiff.includes('\u001b[32m')).toBe(false);
  }, 90_000);
});
