/**
 * `npm run start:offline`: the real server and Claude Code against the project's scripted fake
 * model API, with no credentials from the environment, labelled as such.
 */
import { execFile } from 'node:child_process';
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
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', walkThrough()], {
      env: { ...process.env, KEY: key, H: server.base.replace(/\/api\/v1$/, '') },
      timeout: 120_000,
    });
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
});

/** The runnable block of the README's "A walk through with curl" (its second bash block). */
function walkThrough(): string {
  const readme = fs.readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.split('## A walk through with curl')[1]!.split('\n## ')[0]!;
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(2);
  return blocks[1]!;
}
