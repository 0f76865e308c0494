/**
 * `npm run start:offline`: the real server and Claude Code against the project's scripted fake
 * model API, with no credentials from the environment, labelled as such.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '../cli/run-cli.js';
import { call } from '../helpers/http.js';
import { spawnServer, tempDir, type SpawnedServer } from '../helpers/test-server.js';

describe('offline demo mode', () => {
  let server: SpawnedServer;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = tempDir('offline');
    server = await spawnServer(
      {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        // A real-looking credential in the shell must never be used by the demo.
        ANTHROPIC_API_KEY: 'sk-ant-must-not-be-used',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      },
      30_000,
      'src/offline/start-offline.ts',
    );
  });
  afterAll(async () => {
    expect(await server?.stop()).toBe(0);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says it is offline, prints a first key, and answers with scripted replies', async () => {
    const out = server.stdout();
    expect(out).toContain('OFFLINE DEMO');
    const key = /\b(ccr_[A-Za-z0-9]{40})\b/.exec(out)?.[1];
    expect(key).toBeDefined();

    const created = await call(server.base, 'POST', '/sessions', { key: key!, body: {} });
    expect(created.status).toBe(201);
    const answer = await call(server.base, 'POST', `/sessions/${created.body.sessionId as string}/messages`, {
      key: key!,
      body: { prompt: 'Hello! What can you help me with?' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.response).toBe(
      '(offline demo, scripted reply) You said: "Hello! What can you help me with?"',
    );
    // Claude Code prices the fake tokens: the demo says the cost is not real.
    expect(answer.body).toMatchObject({ costUsd: expect.any(Number), costSimulated: true });
    const usage = await call(server.base, 'GET', '/usage', { key: key! });
    expect(usage.body).toMatchObject({ costSimulated: true });
  });

  it('prints the key CLI command for its data dir, and that command finds its key while it runs', async () => {
    const out = server.stdout();
    const printed = /npm run cli -- (keys list --data-dir \S+)/.exec(out)?.[1];
    expect(printed).toBe(`keys list --data-dir ${dataDir}`);
    const key = /\b(ccr_[A-Za-z0-9]{40})\b/.exec(out)![1]!;
    // No DATA_DIR in the CLI's environment: only the printed flag points it at the demo's database.
    const listed = await ok(printed!.split(' '));
    expect(listed.stdout).toContain(key.slice(0, 12));
  });

  it("runs the README's curl walk-through as written: a file, an approval, an interrupt, a reconnect", async () => {
    const key = /\b(ccr_[A-Za-z0-9]{40})\b/.exec(server.stdout())![1]!;
    const { stdout } = await promisify(execFile)(
      'bash',
      ['-euo', 'pipefail', '-c', readmeBlock('A walk through with curl', 2)],
      {
        env: { ...process.env, KEY: key, H: server.base.replace(/\/api\/v1$/, '') },
        timeout: 120_000,
      },
    );
    // 1. The agent's Write tool wrote the file (and step 2 runs it).
    expect(stdout).toMatch(/"response": "Tool result: File created successfully at: \/.*\/hello\.py/);
    // 2. The command asked, was allowed at the curl's answer, and ran.
    expect(stdout).toContain('"status": "requires_action"');
    expect(stdout).toContain('"toolName": "Bash"');
    expect(stdout).toMatch(/"response": "Tool result: 42/);
    // 3. The interrupt cut the slow turn.
    expect(stdout).toContain('"status": "interrupting"');
    expect(stdout).toMatch(/^data: .*"status":"interrupted"/m);
    // 4. The reconnect got the rest of the turn, up to its end.
    expect(stdout).toMatch(/^\s+1 event: complete$/m);
    // The end: DELETE answered 204.
    expect(stdout.trimEnd().endsWith('204')).toBe(true);
  }, 180_000);

  it("runs the README's files, diff, fork and rewind block as written", async () => {
    const key = /\b(ccr_[A-Za-z0-9]{40})\b/.exec(server.stdout())![1]!;
    const cwd = tempDir('offline-files');
    try {
      const { stdout } = await promisify(execFile)(
        'bash',
        ['-euo', 'pipefail', '-c', readmeBlock("The agent's work: files, diffs, rewind and fork", 1)],
        {
          cwd,
          env: { ...process.env, KEY: key, H: server.base.replace(/\/api\/v1$/, '') },
          timeout: 120_000,
        },
      );
      const lines = stdout.split('\n');
      const json = (prefix: string): Record<string, unknown>[] =>
        lines.filter((l) => l.startsWith(prefix)).map((l) => JSON.parse(l) as Record<string, unknown>);
      // The upload: the bytes printf wrote, their size and digest.
      const csv = fs.readFileSync(path.join(cwd, 'data.csv'));
      expect(json('{"path":"data/data.csv","size"')).toEqual([
        {
          path: 'data/data.csv',
          size: csv.length,
          sha256: createHash('sha256').update(csv).digest('hex'),
        },
      ]);
      // The listing: the seeded file and the upload (the workspace's own .git left out by jq).
      expect(lines).toContain(`{"path":"data/data.csv","type":"file","size":${csv.length}}`);
      expect(lines).toContain('{"path":"README.md","type":"file","size":7}');
      expect(stdout).not.toContain('"path":".git');
      expect(stdout).toMatch(/^\{"path":"data","type":"dir","size":\d+\}$/m);
      // The download: byte for byte.
      expect(fs.readFileSync(path.join(cwd, 'copy.csv')).equals(csv)).toBe(true);
      expect(lines).toContain('copy.csv: the same bytes');
      expect(lines).toContain('204');
      // The first turn's changes: the file the agent wrote, not the upload nor the delete.
      expect(lines).toContain(
        '[{"path":"hello.py","status":"added","additions":1,"deletions":0,"binary":false}]',
      );
      // The second turn's diff: the changed line, out and in.
      expect(stdout).toContain('+++ b/hello.py');
      expect(lines).toContain('-print("hello")');
      expect(lines).toContain('+print("goodbye")');
      // The range of both turns: one file, added.
      expect(lines).toContain('{"path":"hello.py","status":"added","additions":1,"deletions":0}');
      expect(fs.statSync(path.join(cwd, 'workspace.tar.gz')).size).toBeGreaterThan(0);
      // The fork names its source and first turn, and has that turn's file.
      const [forkedFrom] = json('{"sessionId":');
      expect(forkedFrom).toEqual({
        sessionId: expect.stringMatching(/^sess_/),
        messageId: expect.stringMatching(/^msg_/),
      });
      // The rewind undid the second turn only; the file is as the first turn left it, in both.
      const [rewound] = json('{"rewoundMessageIds"');
      expect(rewound).toEqual({
        rewoundMessageIds: [expect.stringMatching(/^msg_/)],
        files: true,
        conversation: true,
      });
      expect(rewound!.rewoundMessageIds).not.toContain(forkedFrom!.messageId);
      expect(lines.filter((l) => l === 'print("hello")')).toHaveLength(2);
      // The block's last line ended the source (and the fork).
      const source = await call(server.base, 'GET', `/sessions/${forkedFrom!.sessionId as string}`, { key });
      expect(source.status).toBe(404);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  }, 180_000);
});

/** The runnable bash block of a README section: the last of its blocks (`count` of them). */
function readmeBlock(heading: string, count: number): string {
  const readme = fs.readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.split(`## ${heading}`)[1]!.split('\n## ')[0]!;
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(count);
  return blocks.at(-1)!;
}
