/**
 * SIGKILL of the server at random points of a 20-turn conversation, each time followed by a new
 * start on the same data directory. After every restart: every acknowledged message is in the
 * history, a turn the kill cut short is recorded as interrupted (its stream ends with an error
 * event, nothing is left "running"), no Claude Code process of the killed server is left, and the
 * session takes its next message. At the end the model API is sent the whole conversation.
 *
 * The kill points come from a seeded generator: a failure prints its seed, and
 * CRASH_TEST_SEED=<seed> replays the same run.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestUserTexts, startFakeAnthropic, type FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { call, readSse, sseRequest, type SseEvent } from '../helpers/http.js';
import { descendants, stillRunning, type ProcessSnapshot } from '../helpers/processes.js';
import { serverEnv, spawnServer, tempDir, TEST_KEYS, type SpawnedServer } from '../helpers/test-server.js';
import { history, until, type MessageView } from './support.js';

const KEY = TEST_KEYS[0];
const TURNS = 20;
const KILLS = 5;
const SEED = Number(process.env.CRASH_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every event of one turn, read to the end of its stream (a replay when the turn has ended). */
async function turnEvents(base: string, sessionId: string, messageId: string): Promise<SseEvent[]> {
  const res = await sseRequest(base, 'GET', `/sessions/${sessionId}/stream?messageId=${messageId}`, KEY);
  expect(res.status).toBe(200);
  return (await readSse(res)).events;
}

describe(`SIGKILL of the server mid-conversation, then a restart (seed ${SEED})`, () => {
  let fake: FakeAnthropic;
  let dataDir: string;
  let server: SpawnedServer | null = null;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    dataDir = tempDir('crash');
  });
  afterAll(async () => {
    await server?.stop('SIGTERM');
    await fake?.close();
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  const start = async (): Promise<SpawnedServer> =>
    (server = await spawnServer(serverEnv(fake, dataDir, { SHUTDOWN_DRAIN_MS: '0' })));

  it('keeps every acknowledged message, records cut turns as interrupted and leaves no process', async () => {
    const random = seeded(SEED);
    // Which turns are cut, and how long after their 202: from before Claude Code sees the prompt
    // to after the turn has ended (each turn streams for about 300 ms).
    const killAt = new Map<number, number>();
    while (killAt.size < KILLS) killAt.set(Math.floor(random() * TURNS), Math.floor(random() * 600));

    let srv = await start();
    const created = await call(srv.base, 'POST', '/sessions', { key: KEY, body: {} });
    expect(created.status).toBe(201);
    const sessionId = created.body.sessionId as string;

    const acknowledged: Array<{ messageId: string; prompt: string }> = [];
    const completedPrompts: string[] = [];
    let interruptedCount = 0;

    for (let i = 0; i < TURNS; i++) {
      const prompt = `Turn ${i}: remember the word w${i}. [[slow:10:30]]`;
      const sent = await call(srv.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt, stream: true },
      });
      expect(sent.status, `turn ${i} (seed ${SEED}): ${JSON.stringify(sent.body)}`).toBe(202);
      const messageId = sent.body.messageId as string;
      acknowledged.push({ messageId, prompt });

      const delay = killAt.get(i);
      if (delay !== undefined) {
        await sleep(delay);
        const before: ProcessSnapshot[] = descendants(srv.child.pid!);
        await srv.stop('SIGKILL');
        srv = await start();
        // Nothing the killed server started outlives the restart (Claude Code, sandbox helpers).
        await until(
          () => before.every((p) => !stillRunning(p)),
          `the killed server’s processes to be gone (seed ${SEED})`,
        );
      }

      const events = await turnEvents(srv.base, sessionId, messageId);
      const last = events.at(-1)!;
      expect(['complete', 'error'], `turn ${i} (seed ${SEED})`).toContain(last.event);
      if (last.event === 'error') {
        // Only a turn cut by the kill may end so, and it says why.
        expect(delay, `turn ${i} failed without a kill (seed ${SEED}): ${last.data}`).toBeDefined();
        expect(JSON.parse(last.data)).toMatchObject({
          code: 'AGENT_ERROR',
          details: { messageId, reason: 'server_restart' },
        });
        interruptedCount++;
      } else {
        expect(JSON.parse(last.data)).toMatchObject({ messageId, status: 'completed' });
        completedPrompts.push(prompt);
      }
    }

    // Every acknowledged prompt is in the history, once, in the order it was sent.
    const messages: MessageView[] = await history(srv, KEY, sessionId);
    const clientPrompts = messages.filter((m) => m.source === 'client');
    expect(clientPrompts.map((m) => m.turnId)).toEqual(acknowledged.map((a) => a.messageId));

    // The session remembers: the model API gets every completed turn's prompt, in order.
    const mark = fake.mark();
    const recall = await call(srv.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'What did I ask you to remember? [[recall]]' },
    });
    expect(recall.status, JSON.stringify(recall.body)).toBe(200);
    const request = await fake.waitForRequest((r) => r.path.startsWith('/v1/messages'), 5000, mark);
    const sentTexts = requestUserTexts(request);
    const inOrder = sentTexts.filter((t) => completedPrompts.includes(t));
    expect(inOrder, `seed ${SEED}`).toEqual(completedPrompts);
    expect(sentTexts.at(-1)).toBe('What did I ask you to remember? [[recall]]');

    await srv.stop('SIGTERM');
    server = null;
    // The store agrees: no turn is left running, and the cut ones are interrupted.
    const db = new Database(path.join(dataDir, 'server.db'), { readonly: true });
    const statuses = db.prepare('SELECT status, COUNT(*) AS n FROM turns GROUP BY status').all() as Array<{
      status: string;
      n: number;
    }>;
    db.close();
    const byStatus = Object.fromEntries(statuses.map((s) => [s.status, s.n]));
    expect(byStatus, `seed ${SEED}`).toEqual({
      completed: completedPrompts.length + 1,
      ...(interruptedCount > 0 ? { interrupted: interruptedCount } : {}),
    });
  }, 180_000);
});
