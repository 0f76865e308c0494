/**
 * One server per data dir. A second server started on a data dir in use (the same `npm start`
 * run twice, or the offline demo next to it) must refuse with one line and exit 1 before it
 * touches anything: before the fix it killed the first server's Claude Code processes and
 * deleted its agent temp dir while cleaning up "leftovers", and then every turn of the first
 * server failed. Servers on separate data dirs still run side by side.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { descendants, stillRunning } from '../helpers/processes.js';
import {
  runServerToExit,
  serverEnv,
  spawnServer,
  tempDir,
  TEST_KEYS,
  type SpawnedServer,
} from '../helpers/test-server.js';
import type { Completion } from './support.js';

const KEY = TEST_KEYS[0];

let fake: FakeAnthropic;
const dirs: string[] = [];
const servers: SpawnedServer[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  for (const server of servers) await server.stop('SIGTERM');
  await fake?.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

function dataDir(): string {
  const dir = tempDir('lock');
  dirs.push(dir);
  return dir;
}

async function start(dir: string): Promise<SpawnedServer> {
  const server = await spawnServer(serverEnv(fake, dir));
  servers.push(server);
  return server;
}

async function session(base: string): Promise<string> {
  const res = await call<{ sessionId: string }>(base, 'POST', '/sessions', { key: KEY, body: {} });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.sessionId;
}

async function turn(base: string, sessionId: string, prompt: string): Promise<void> {
  const res = await call<Completion>(base, 'POST', `/sessions/${sessionId}/messages`, {
    key: KEY,
    body: { prompt, timeout: 20_000 },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.response).toContain(prompt);
}

describe('a second server on a data dir in use', () => {
  it('exits 1 with one line and touches nothing; the first server keeps answering turns', async () => {
    const dir = dataDir();
    const first = await start(dir);
    const sessionId = await session(first.base);
    await turn(first.base, sessionId, 'before the second server');
    const claudes = descendants(first.child.pid!).filter((p) => p.name === 'claude');
    expect(claudes.length).toBeGreaterThan(0);
    const tempBase = fs.readFileSync(path.join(dir, 'agent-tmp-dir'), 'utf8').trim();
    const port = new URL(first.base).port;

    // The same port (npm start twice) and any free port: both refused on the data dir alone.
    for (const PORT of [port, '0']) {
      const second = await runServerToExit({ ...serverEnv(fake, dir, { PORT }), LOG_LEVEL: 'info' });
      expect(second.code).toBe(1);
      expect(second.stdout).toBe('');
      expect(second.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^Cannot start: another claude-code-rest server is using the data dir /),
      ]);
      expect(second.stderr).toContain(dir);
    }

    // Nothing of the first server's was touched: its Claude Code processes, its temp dir.
    expect(claudes.filter(stillRunning)).toEqual(claudes);
    expect(fs.existsSync(tempBase)).toBe(true);
    await turn(first.base, sessionId, 'after the second server');
    await turn(first.base, await session(first.base), 'in a new session');
    const health = await call<{ status: string }>(first.base, 'GET', '/health');
    expect(health.body.status).toBe('healthy');
  }, 60_000);

  it('a server on another data dir runs side by side', async () => {
    const [a, b] = [await start(dataDir()), await start(dataDir())];
    const [sa, sb] = [await session(a.base), await session(b.base)];
    await turn(a.base, sa, 'on the first data dir');
    await turn(b.base, sb, 'on the second data dir');
  }, 60_000);

  it('takes over the lock of a server that was killed (the kernel drops it with the process)', async () => {
    const dir = dataDir();
    const killed = await start(dir);
    expect(await killed.stop('SIGKILL')).toBeNull();
    const next = await start(dir);
    await turn(next.base, await session(next.base), 'after a crash');
  }, 60_000);

  it('a busy port is refused before the start-up clean-up and migrations', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as net.AddressInfo;
      const dir = dataDir();
      const refused = await runServerToExit(serverEnv(fake, dir, { PORT: String(port) }));
      expect(refused.code).toBe(1);
      expect(refused.stderr.trimEnd().split('\n')).toEqual([
        `Cannot start: 127.0.0.1:${port} cannot be bound (EADDRINUSE): another process listens there. Stop it, or set PORT to another port.`,
      ]);
      // Only the lock was made: no database, no temp-dir marker, no process registry.
      expect(fs.readdirSync(dir).sort()).toEqual(['server.lock']);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('/health reports an agent temp dir that was removed under the running server', async () => {
    const dir = dataDir();
    const server = await start(dir);
    fs.rmSync(fs.readFileSync(path.join(dir, 'agent-tmp-dir'), 'utf8').trim(), {
      recursive: true,
      force: true,
    });
    const health = await call(server.base, 'GET', '/health', { key: KEY });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'degraded',
      problems: [
        { code: 'agent_temp_dir', message: expect.stringMatching(/temp dir .* is not usable \(ENOENT\)/) },
      ],
    });
  });
});
