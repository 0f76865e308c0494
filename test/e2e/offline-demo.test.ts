/**
 * `npm run start:offline`: the real server and Claude Code against the project's scripted fake
 * model API, with no credentials from the environment, labelled as such.
 */
import fs from 'node:fs';
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
});
