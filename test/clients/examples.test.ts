/**
 * The short programs of examples/ (JavaScript, Python, Go, cURL with jq), one per language: each streams a
 * turn, answers its approval at the permission_request event, drops the connection on purpose
 * and resumes the turn's stream with Last-Event-ID, against the real server with the real Claude
 * Code and the fake model API. The resumed part repeats nothing and misses nothing: the tool
 * call shows once, and the turn's result arrives.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';

const PROMPT = 'Create it [[write:hello.py:print(1)]]';

function run(cmd: string, args: string[], cwd: string, env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('examples/: stream a turn, answer its approval, resume a dropped stream', () => {
  let stack: Stack;
  let env: Record<string, string>;
  beforeAll(async () => {
    stack = await startStack({ env: { PERMISSION_TIMEOUT_MS: '60000' } });
    env = { CLAUDE_CODE_REST_URL: stack.base.replace('/api/v1', ''), CLAUDE_CODE_REST_KEY: TEST_KEYS[0] };
  }, 60_000);
  afterAll(() => stack?.close());

  it.each([
    ['JavaScript', process.execPath, ['stream-approve-resume.mjs', PROMPT], 'javascript', {}],
    [
      'Python',
      '/usr/bin/python3',
      ['stream_approve_resume.py', PROMPT],
      'python',
      { PYTHONDONTWRITEBYTECODE: '1' },
    ],
    // Standard library only: no go.mod, nothing to download.
    ['Go', 'go', ['run', 'main.go', PROMPT], 'go', { GOPROXY: 'off', GOFLAGS: '-mod=mod' }],
    ['cURL', 'bash', ['stream-approve-resume.sh', PROMPT], 'curl', {}],
  ] as const)(
    '%s',
    async (_language, cmd, args, dir, extra) => {
      const r = await run(cmd, [...args], path.resolve('examples', dir), { ...env, ...extra });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const lines = r.stdout.split('\n');
      const sessionId = /^session: (sess_\S+)$/m.exec(r.stdout)?.[1];
      expect(sessionId).toBeDefined();
      expect(lines).toContain('approval: Write -> allow');
      const dropped = /^dropped the stream after event (\d+)$/m.exec(r.stdout)?.[1];
      expect(lines).toContain(`resumed after ${dropped}`);
      expect(lines.filter((l) => l === 'tool: Write')).toHaveLength(1);
      expect(lines.filter((l) => l === 'assistant: I will write a file.')).toHaveLength(1);
      expect(r.stdout).toMatch(/^complete: .*File created successfully.*hello\.py/m);
      expect(lines).toContain('ended');
      const gone = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: TEST_KEYS[0] });
      expect(gone.status).toBe(404);
    },
    300_000,
  );
});
