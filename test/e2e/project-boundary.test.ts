/**
 * The agent's project is its workspace alone. Run from a clone, the server's default data dir
 * (`./data`) lies inside the git checkout, and Claude Code takes the nearest `.git` above its cwd
 * for the session's project: before the fix it wrote `.claude/.cc-writes/` into the checkout and
 * its sandbox's placeholder files into the checkout's `.git`. Nothing may appear in the folder
 * that holds the data dir.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { startStack, tempDir, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { createSession, deleteSession, type Completion } from './support.js';

const KEY = TEST_KEYS[0];

/** Every path under `dir` (`.git` included), but those under `skip`. */
function tree(dir: string, skip: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((entry) => !path.join(dir, entry).startsWith(skip))
    .sort();
}

describe('a data dir inside a git checkout', () => {
  let checkout: string;
  let dataDir: string;
  let before: string[];
  let stack: Stack;

  beforeAll(async () => {
    checkout = tempDir('checkout');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: checkout, stdio: 'ignore' });
    git('init', '-q');
    fs.writeFileSync(path.join(checkout, 'README.md'), 'the server\n');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'init');
    dataDir = path.join(checkout, 'data');
    before = tree(checkout, dataDir);
    stack = await startStack({ dataDir });
  });
  afterAll(async () => {
    await stack?.close();
    fs.rmSync(checkout, { recursive: true, force: true });
  });

  it('a turn that writes a file and runs a command leaves nothing new in the checkout', async () => {
    const sessionId = await createSession(stack, KEY, {
      permissionMode: 'acceptEdits',
      allowedTools: ['Bash'],
    });
    try {
      const wrote = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: '[[write:hello.py:print(1)]]' },
      });
      expect(wrote.status, JSON.stringify(wrote.body)).toBe(200);
      expect(fs.existsSync(path.join(dataDir, 'workspaces', sessionId, 'hello.py'))).toBe(true);
      expect(tree(checkout, dataDir)).toEqual(before);
      const ran = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: '[[bash:git rev-parse --show-toplevel]]' },
      });
      expect(ran.status, JSON.stringify(ran.body)).toBe(200);
      // The agent's git finds its workspace, not the checkout.
      expect(ran.body.response).toContain(path.join(dataDir, 'workspaces', sessionId));
      expect(tree(checkout, dataDir)).toEqual(before);
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
    expect(tree(checkout, dataDir)).toEqual(before);
  });
});
