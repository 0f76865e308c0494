/**
 * Graceful shutdown of the real server process (SIGTERM) with open streams, running turns and a
 * queued turn: new work is refused with 503, a turn that ends within SHUTDOWN_DRAIN_MS ends
 * normally, one that does not is interrupted and recorded so, every open stream gets a final
 * event and a retry hint, the process exits 0 with no child left, and after the restart the
 * queued turn runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { call, readSse, sseRequest, type SseEvent } from '../helpers/http.js';
import { claudeCodeProcesses, descendants, stillRunning } from '../helpers/processes.js';
import { serverEnv, spawnServer, tempDir, TEST_KEYS, type SpawnedServer } from '../helpers/test-server.js';
import { dataOf, expectError, readUntil, SseReader } from './support.js';

const KEY = TEST_KEYS[0];

describe('SIGTERM with open streams and running turns', () => {
  let fake: FakeAnthropic;
  let dataDir: string;
  let server: SpawnedServer | undefined;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    dataDir = tempDir('shutdown');
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  const env = () => serverEnv(fake, dataDir, { SHUTDOWN_DRAIN_MS: '3000', SSE_RETRY_MS: '2500' });

  async function session(base: string): Promise<string> {
    const res = await call(base, 'POST', '/sessions', { key: KEY, body: {} });
    expect(res.status).toBe(201);
    return res.body.sessionId as string;
  }

  async function startTurn(base: string, sessionId: string, prompt: string, queue = false): Promise<string> {
    const res = await call(base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt, stream: true, ...(queue ? { queue: true } : {}) },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.messageId as string;
  }

  async function open(base: string, url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const res = await sseRequest(base, 'GET', url, KEY, undefined, headers);
    expect(res.status).toBe(200);
    return new SseReader(res);
  }

  const isRunning = (e: SseEvent) => e.event === 'status' && dataOf(e).status === 'running';

  it('drains, ends every stream with a final event and a retry hint, exits 0, and resumes after', async () => {
    server = await spawnServer(env());
    const { base } = server;
    const [slow, quick, idle] = [await session(base), await session(base), await session(base)];

    // slow: a turn longer than the drain time (10 s of streaming), and one queued behind it.
    const slowTurn = await startTurn(base, slow, 'A long answer. [[slow:200:50]]');
    const queuedTurn = await startTurn(base, slow, 'Queued behind it.', true);
    // quick: a turn whose model call the fake holds until the server is draining, then answers.
    const quickTurn = await startTurn(base, quick, 'A short answer. [[hang]]');

    // A session-wide stream of `slow` (it follows the queue), and the quick turn's own stream.
    const slowStream = await open(base, `/sessions/${slow}/stream?after=0`);
    const quickStream = await open(base, `/sessions/${quick}/stream?messageId=${quickTurn}`);
    await readUntil(slowStream, isRunning);
    await readUntil(quickStream, isRunning);
    while (fake.hangingCount() < 1) await new Promise((resolve) => setTimeout(resolve, 20));

    const children = descendants(server.child.pid!);
    // One Claude Code per session (the idle one's was started at create, to be ready).
    expect(claudeCodeProcesses(server.child.pid!)).toHaveLength(3);
    const exited = server.stop('SIGTERM');
    const deadline = Date.now() + 5000;
    while (!server.stdout().includes('"msg":"shutting down"')) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Draining: no new turn, no new session; a client is told when to come back.
    const refused = await call(base, 'POST', `/sessions/${idle}/messages`, {
      key: KEY,
      body: { prompt: 'late' },
    });
    expect(expectError(refused, 503, 'SERVICE_UNAVAILABLE')).toBeDefined();
    expect(refused.headers.get('retry-after')).toBe('5');
    expectError(await call(base, 'POST', '/sessions', { key: KEY, body: {} }), 503, 'SERVICE_UNAVAILABLE');
    // A load balancer's health check sees it too.
    const health = await call(base, 'GET', '/health');
    expect({ status: health.status, body: health.body.status }).toEqual({ status: 503, body: 'draining' });

    // The quick turn's answer comes now, and it finishes normally within the drain time.
    expect(fake.releaseHanging()).toBe(1);
    const quickRest = await quickStream.rest();
    expect(quickRest.at(-1)?.event).toBe('complete');
    expect(dataOf(quickRest.at(-1)!)).toMatchObject({ messageId: quickTurn, status: 'completed' });

    // The slow turn was interrupted at the end of the drain time; the stream, still following
    // the session's queue, then got the final event (no id: it is not part of the log) and a
    // retry hint.
    const slowRest = await slowStream.rest();
    const complete = slowRest.find((e) => e.event === 'complete');
    expect(dataOf(complete!)).toMatchObject({ messageId: slowTurn, status: 'interrupted' });
    const final = slowRest.at(-1)!;
    expect(final).toMatchObject({ event: 'error', id: null });
    expect(dataOf(final)).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(slowStream.raw).toMatch(/event: error\ndata: [^\n]*SERVICE_UNAVAILABLE[^\n]*\n\nretry: 2500\n\n$/);

    expect(await exited).toBe(0);
    expect(children.filter(stillRunning)).toEqual([]);

    // The store: the quick turn completed, the slow one interrupted, the queued one still queued.
    const db = new Database(path.join(dataDir, 'server.db'), { readonly: true });
    const status = (id: string) =>
      (db.prepare('SELECT status FROM turns WHERE id = ?').get(id) as { status: string }).status;
    expect([status(quickTurn), status(slowTurn), status(queuedTurn)]).toEqual([
      'completed',
      'interrupted',
      'queued',
    ]);
    db.close();

    // After the restart the queued turn runs, and the sessions take new messages.
    server = await spawnServer(env());
    const queuedStream = await sseRequest(
      server.base,
      'GET',
      `/sessions/${slow}/stream?messageId=${queuedTurn}`,
      KEY,
    );
    const queuedEvents = (await readSse(queuedStream)).events;
    expect(dataOf(queuedEvents.at(-1)!)).toMatchObject({ messageId: queuedTurn, status: 'completed' });
    const next = await call(server.base, 'POST', `/sessions/${idle}/messages`, {
      key: KEY,
      body: { prompt: 'now?' },
    });
    expect(next.status).toBe(200);
    expect(await server.stop('SIGTERM')).toBe(0);
    server = undefined;
  }, 60_000);
});

describe('a store that cannot open', () => {
  it('is one clear startup error and exit code 1, not a crash loop or a stack trace', async () => {
    const fake = await startFakeAnthropic();
    const dataDir = tempDir('corrupt');
    try {
      fs.writeFileSync(path.join(dataDir, 'server.db'), 'not a database\n'.repeat(512));
      const failure = await spawnServer(serverEnv(fake, dataDir)).then(
        () => null,
        (err: Error) => err.message,
      );
      expect(failure).toMatch(/exited with 1 before listening/);
      expect(failure).toContain(`Cannot start: `);
      expect(failure).toContain(path.join(dataDir, 'server.db'));
      expect(failure).not.toMatch(/\n\s+at /);
    } finally {
      await fake.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
