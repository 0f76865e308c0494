/**
 * `claude-code-rest files` and `diff` as a script runs them (output into a pipe), against the real
 * server with the real Claude Code and the fake model API: the listing, a download byte for byte
 * to stdout or to a file, a turn's diff (by default the last completed turn, a rewound one
 * skipped), and each refusal with its code and exit status. Colours on a terminal:
 * terminal-client.test.ts.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { startStack, tempDir, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { cli } from './run-cli.js';

const KEY = TEST_KEYS[0];

describe('files and diff from a terminal', () => {
  let stack: Stack;
  let env: Record<string, string>;
  let sessionId: string;
  let first: string;
  let second: string;
  const blob = randomBytes(64 * 1024);
  let outDir: string;

  const turn = async (prompt: string): Promise<string> => {
    const res = await call(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.messageId as string;
  };

  beforeAll(async () => {
    stack = await startStack();
    env = { CLAUDE_CODE_REST_URL: stack.base.replace('/api/v1', ''), CLAUDE_CODE_REST_KEY: KEY };
    outDir = tempDir('cli-files');
    const created = await call(stack.base, 'POST', '/sessions', {
      key: KEY,
      body: { permissionMode: 'acceptEdits', files: [{ path: 'src/lib.py', content: 'x = 1\n' }] },
    });
    expect(created.status).toBe(201);
    sessionId = created.body.sessionId as string;
    const put = await fetch(`${stack.base}/sessions/${sessionId}/files/content?path=blob.bin`, {
      method: 'PUT',
      headers: { 'x-api-key': KEY, 'content-type': 'application/octet-stream' },
      body: blob,
    });
    expect(put.status).toBe(201);
    first = await turn('Create it [[write:hello.py:print("hello")]]');
    second = await turn('Change it [[write:hello.py:print("goodbye")]]');
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('files: the workspace root, a folder, the tree as JSON; no colour in a pipe', async () => {
    const root = await cli(['files', sessionId], env);
    expect(root.code, root.stderr).toBe(0);
    const lines = root.stdout.trimEnd().split('\n');
    // Sorted by name: size (a folder: -), time to the second, path (a folder ends with /).
    expect(lines.find((l) => l.endsWith('  hello.py'))).toMatch(
      /^ *16 {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}hello\.py$/,
    );
    expect(lines.find((l) => l.endsWith('  blob.bin'))).toMatch(new RegExp(`^ *${blob.length} `));
    expect(lines.find((l) => l.endsWith('src/'))).toMatch(/^ *- /);
    expect(root.stdout.includes('\u001b[')).toBe(false);

    const folder = await cli(['files', sessionId, 'src'], env);
    expect(folder.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^6 {2}\S+ {2}src\/lib\.py$/),
    ]);

    const tree = await cli(['files', sessionId, '--recursive', '--json'], env);
    expect(tree.code).toBe(0);
    const listing = JSON.parse(tree.stdout) as { entries: Array<{ path: string }>; truncated: boolean };
    expect(listing.truncated).toBe(false);
    expect(listing.entries.map((e) => e.path)).toEqual(
      expect.arrayContaining(['blob.bin', 'hello.py', 'src', 'src/lib.py']),
    );
  });

  it('files get: the bytes to stdout, or to a file with -o; refusals exit 1 and write nothing', async () => {
    const toStdout = await cli(['files', 'get', sessionId, 'blob.bin'], env);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(toStdout.stdoutBytes.equals(blob)).toBe(true);

    const target = path.join(outDir, 'hello.py');
    const toFile = await cli(['files', 'get', sessionId, 'hello.py', '-o', target], env);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(fs.readFileSync(target, 'utf8')).toBe('print("goodbye")');
    expect(toFile.stdout).toBe('');
    expect(toFile.stderr).toContain('(16 bytes)');

    const missing = path.join(outDir, 'missing.txt');
    const notFound = await cli(['files', 'get', sessionId, 'nope.txt', '-o', missing], env);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toMatch(/^error: NOT_FOUND: /);
    expect(fs.existsSync(missing)).toBe(false);

    const outside = await cli(['files', 'get', sessionId, '../../ccr.db'], env);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/^error: FORBIDDEN: /);
    expect(outside.stdoutBytes.length).toBe(0);

    const otherKey = await cli(['files', sessionId, '--json'], {
      ...env,
      CLAUDE_CODE_REST_KEY: TEST_KEYS[1],
    });
    expect(otherKey.code).toBe(1);
    expect(JSON.parse(otherKey.stdout)).toEqual({
      error: { code: 'SESSION_NOT_FOUND', message: expect.any(String) },
    });

    for (const args of [['files'], ['files', 'get', sessionId], ['files', sessionId, '--nope']]) {
      const usage = await cli(args, env);
      expect(usage.code, args.join(' ')).toBe(2);
      expect(usage.stderr).toContain('files get ID PATH');
    }
  });

  it('diff: the last completed turn by default, a turn by id, JSON; a rewound turn is skipped', async () => {
    const last = await cli(['diff', sessionId], env);
    expect(last.code, last.stderr).toBe(0);
    const lines = last.stdout.split('\n');
    expect(lines).toContain('+++ b/hello.py');
    expect(lines).toContain('-print("hello")');
    expect(lines).toContain('+print("goodbye")');
    expect(last.stdout.includes('\u001b[')).toBe(false);
    // The same text the API answers, unchanged.
    const api = await fetch(`${stack.base}/sessions/${sessionId}/diff?messageId=${second}`, {
      headers: { 'x-api-key': KEY },
    });
    expect(last.stdout).toBe(await api.text());

    const byId = await cli(['diff', sessionId, first], env);
    expect(byId.stdout).toContain('new file mode');
    expect(byId.stdout.split('\n')).toContain('+print("hello")');

    const json = await cli(['diff', sessionId, first, '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      sessionId,
      files: [{ path: 'hello.py', status: 'added', additions: 1, deletions: 0 }],
    });

    const unknown = await cli(['diff', sessionId, 'msg_nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: NOT_FOUND: /);

    // After a rewind of the second turn, the default is the first.
    const rewound = await call(stack.base, 'POST', `/sessions/${sessionId}/rewind`, {
      key: KEY,
      body: { messageId: second, files: true, conversation: false },
    });
    expect(rewound.status, JSON.stringify(rewound.body)).toBe(200);
    const afterRewind = await cli(['diff', sessionId], env);
    expect(afterRewind.stdout).toBe(byId.stdout);
  });

  it('diff: a session without a completed turn, an unknown session, a usage error', async () => {
    const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
    const fresh = created.body.sessionId as string;
    const none = await cli(['diff', fresh], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: NOT_FOUND: the session has no completed turn/);

    const gone = await cli(['diff', 'sess_nope', '--json'], env);
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stdout)).toEqual({
      error: { code: 'SESSION_NOT_FOUND', message: expect.any(String) },
    });

    const usage = await cli(['diff'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('diff ID [MESSAGE_ID]');
  });
});
