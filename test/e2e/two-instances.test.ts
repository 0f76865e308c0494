/**
 * Two server instances, each its own OS process on its own port, sharing one PostgreSQL database,
 * one Redis and one data dir (the workspaces volume), with the real Claude Code and the fake model
 * API: any instance answers for any session. A session's process runs on its owner; the other
 * instance forwards what needs the process and serves streams from the shared store and bus.
 * The last test kills one instance (SIGKILL) in the middle of a turn.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/adapters/postgres/migrations.js';
import { requestUserTexts } from '../../src/fake-anthropic/index.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { call, sseRequest, type SseEvent } from '../helpers/http.js';
import { tempDir, TEST_KEYS, type SpawnedServer } from '../helpers/test-server.js';
import { dataOf, history, named, readUntil, SseReader } from './support.js';

const KEY = TEST_KEYS[0];
/** Spent only by the rate-limit burst, so its bucket is whole. */
const BURST_KEY = TEST_KEYS[1];
const LEASE_MS = 2000;

let cluster: Cluster;
let a: SpawnedServer;
let b: SpawnedServer;

const startInstance = (dir?: string): Promise<SpawnedServer> =>
  cluster.start(
    {
      INSTANCE_LEASE_MS: String(LEASE_MS),
      // Few processes at once: the burst creates sessions on both instances.
      MAX_LIVE_PROCESSES: '3',
    },
    dir,
  );

async function createOn(server: SpawnedServer, body: Record<string, unknown> = {}): Promise<string> {
  const res = await call(server.base, 'POST', '/sessions', { key: KEY, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.sessionId as string;
}

async function openStream(server: SpawnedServer, url: string, body?: unknown): Promise<SseReader> {
  const res = await sseRequest(server.base, body === undefined ? 'GET' : 'POST', url, KEY, body);
  expect(res.status).toBe(200);
  return new SseReader(res);
}

/** The sequence numbers of the stored events of a stream, checked to follow one another. */
function expectWholeLog(events: SseEvent[]): void {
  const ids = events.filter((e) => e.id !== null).map((e) => Number(e.id));
  expect(ids.length).toBeGreaterThan(0);
  ids.forEach((id, i) => expect(id).toBe((ids[0] ?? 0) + i));
}

beforeAll(async () => {
  cluster = await startCluster('cluster');
  // Both at once, on an empty database: one migrates, the other waits for it.
  [a, b] = await Promise.all([startInstance(), startInstance()]);
}, 90_000);

afterAll(() => cluster?.close());

describe('two instances sharing PostgreSQL and Redis', () => {
  it('both started at once on an empty database: migrated once, both ready', async () => {
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const versions = await client.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY 1',
      );
      // Each migration once, though both instances ran them at the same time.
      expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      const instances = await client.query('SELECT url FROM instances ORDER BY url');
      expect(instances.rowCount).toBe(2);
    } finally {
      await client.end();
    }
    for (const server of [a, b]) {
      const ready = await call(server.base, 'GET', '/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'ready',
        checks: { store: true, redis: true, lease: true },
      });
    }
  });

  it('a session created on one instance takes messages and streams on the other', async () => {
    const sessionId = await createOn(a);
    const answer = await call(b.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'Say hello from the other instance' },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ sessionId, status: 'completed' });
    expect(answer.body.response).toContain('Say hello from the other instance');
    const messageId = answer.body.messageId as string;

    // Its stream, replayed on the instance that did not run it, ends with its completion.
    const replay = await (await openStream(b, `/sessions/${sessionId}/stream?messageId=${messageId}`)).rest();
    expect(replay.at(-1)?.event).toBe('complete');
    expectWholeLog(replay);
    // A POST …/stream on the other instance starts and streams a turn.
    const streamed = await (
      await openStream(b, `/sessions/${sessionId}/stream`, { prompt: 'And again' })
    ).rest();
    expect(dataOf(streamed.at(-1)!)).toMatchObject({ status: 'completed' });
    // Both instances show the same history and details.
    const messages = await history(a, KEY, sessionId);
    expect(await history(b, KEY, sessionId)).toEqual(messages);
    const [onA, onB] = await Promise.all(
      [a, b].map((s) => call(s.base, 'GET', `/sessions/${sessionId}`, { key: KEY })),
    );
    expect(onA?.body).toEqual(onB?.body);
    expect(onA?.body).toMatchObject({ messageCount: messages.length, process: 'live' });
    // Another key's session is not found on either.
    const other = await call(b.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: BURST_KEY,
      body: { prompt: 'x' },
    });
    expect(other.status).toBe(404);
  });

  it('a stream on one instance sees a turn running on the other, live (text deltas included)', async () => {
    const sessionId = await createOn(b);
    const sent = await call(b.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'Count slowly [[slow:12:80]]', stream: true },
    });
    expect(sent.status).toBe(202);
    const messageId = sent.body.messageId as string;
    const events = await (
      await openStream(a, `/sessions/${sessionId}/stream?messageId=${messageId}&partial=true`)
    ).rest();
    // Deltas are never stored: they can only have come over the bus, live from the other instance.
    expect(events.filter(named('delta')).length).toBeGreaterThan(0);
    expect(events.at(-1)?.event).toBe('complete');
    expectWholeLog(events);
  });

  it('an approval and an interrupt sent to one instance reach a turn running on the other', async () => {
    const sessionId = await createOn(b, { permissionMode: 'default' });
    const stream = await openStream(b, `/sessions/${sessionId}/stream`, {
      prompt: 'Write it [[write:from-a.txt:approved on A]]',
    });
    const asked = (await readUntil(stream, named('permission_request'))).at(-1)!;
    const { requestId } = dataOf<{ requestId: string }>(asked);
    const open = await call(a.base, 'GET', `/sessions/${sessionId}/permissions`, { key: KEY });
    expect(open.body).toMatchObject({ permissions: [{ requestId }] });
    const answered = await call(a.base, 'POST', `/sessions/${sessionId}/permissions/${requestId}`, {
      key: KEY,
      body: { decision: 'allow' },
    });
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    expect(answered.body).toMatchObject({ decision: 'allow', by: 'client' });
    const rest = await stream.rest();
    expect(rest.at(-1)?.event).toBe('complete');
    const details = await call(a.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
    const cwd = (details.body.config as { cwd: string }).cwd;
    expect(fs.readFileSync(path.join(cwd, 'from-a.txt'), 'utf8')).toContain('approved on A');

    // An interrupt sent to A stops a turn running on B.
    const slow = await openStream(b, `/sessions/${sessionId}/stream`, { prompt: 'Go on [[hang]]' });
    await readUntil(slow, (e) => e.event === 'status' && dataOf(e).status === 'running');
    const interrupted = await call(a.base, 'POST', `/sessions/${sessionId}/interrupt`, { key: KEY });
    expect(interrupted.status).toBe(202);
    const end = (await slow.rest()).at(-1)!;
    expect(end.event).toBe('complete');
    expect(dataOf(end)).toMatchObject({ status: 'interrupted' });
  });

  it('an upload, a download and a delete sent to the instance that does not own the session', async () => {
    const sessionId = await createOn(a);
    // The session's process, and so its workspace's changes, are A's: B forwards each request.
    const bytes = randomBytes(256 * 1024);
    const url = `${b.base}/sessions/${sessionId}/files/content?path=${encodeURIComponent('in/data.bin')}`;
    const headers = { 'x-api-key': KEY, 'content-type': 'application/octet-stream' };
    const put = await fetch(url, { method: 'PUT', headers, body: bytes });
    expect(put.status, await put.clone().text()).toBe(201);
    expect(await put.json()).toEqual({
      path: 'in/data.bin',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    const details = await call(a.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
    const cwd = (details.body.config as { cwd: string }).cwd;
    expect(fs.readFileSync(path.join(cwd, 'in/data.bin')).equals(bytes)).toBe(true);

    // Replaced through B: 200. Read back through either instance: the new bytes, whole.
    const again = randomBytes(1000);
    const replaced = await fetch(url, { method: 'PUT', headers, body: again });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ path: 'in/data.bin', size: again.length });
    for (const server of [a, b]) {
      const got = await fetch(`${server.base}/sessions/${sessionId}/files/content?path=in/data.bin`, {
        headers: { 'x-api-key': KEY },
      });
      expect(got.status).toBe(200);
      expect(got.headers.get('content-length')).toBe(String(again.length));
      expect(Buffer.from(await got.arrayBuffer()).equals(again)).toBe(true);
    }
    // A range through B, and a refusal through B in the contract's envelope.
    const ranged = await fetch(`${b.base}/sessions/${sessionId}/files/content?path=in/data.bin`, {
      headers: { 'x-api-key': KEY, range: 'bytes=0-9' },
    });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(again.subarray(0, 10))).toBe(true);
    const outside = await fetch(`${b.base}/sessions/${sessionId}/files/content?path=../x`, {
      method: 'PUT',
      headers,
      body: 'x',
    });
    expect(outside.status).toBe(403);
    expect(await outside.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });

    // The upload is a checkpoint of its own on the owner: the next turn's changes are the agent's only.
    const turn = await call(b.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'Nothing to change' },
    });
    expect(turn.status, JSON.stringify(turn.body)).toBe(200);
    expect(turn.body.changes).toEqual([]);

    const deleted = await fetch(url, { method: 'DELETE', headers: { 'x-api-key': KEY } });
    expect(deleted.status).toBe(204);
    expect(fs.existsSync(path.join(cwd, 'in/data.bin'))).toBe(false);
    const gone = await call(a.base, 'GET', `/sessions/${sessionId}/files/content?path=in/data.bin`, {
      key: KEY,
    });
    expect(gone.status).toBe(404);
    // Another key's session is not found through B either.
    const other = await fetch(url, {
      method: 'PUT',
      headers: { ...headers, 'x-api-key': BURST_KEY },
      body: 'x',
    });
    expect(other.status).toBe(404);
  });

  it('rate limits are exact across both instances under a parallel burst', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        call(i % 2 === 0 ? a.base : b.base, 'POST', '/sessions', { key: BURST_KEY, body: {} }),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(10); // RATE_LIMIT_SESSIONS_PER_HOUR
    expect(results.filter((r) => r.status === 429)).toHaveLength(14);
    expect(new Set(created.map((r) => r.body.sessionId)).size).toBe(10);
    // Both instances made some of them, so the limit really was shared.
    expect(results.filter((r, i) => r.status === 201 && i % 2 === 0).length).toBeGreaterThan(0);
    expect(results.filter((r, i) => r.status === 201 && i % 2 === 1).length).toBeGreaterThan(0);
    for (const r of created) {
      const deleted = await call(a.base, 'DELETE', `/sessions/${r.body.sessionId as string}`, {
        key: BURST_KEY,
      });
      expect(deleted.status).toBe(204);
    }
  });

  it('refuses to start an instance that does not share the workspaces volume', async () => {
    const elsewhere = tempDir('unshared');
    try {
      const failed = await startInstance(elsewhere).catch((err: Error) => err);
      expect(failed).toBeInstanceOf(Error);
      expect((failed as Error).message).toMatch(/exited with 1/);
      expect((failed as Error).message).toMatch(
        /is not shared with the instance at http:\/\/127\.0\.0\.1:\d+/,
      );
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('kill -9 of the owner mid-turn: the other records the cut turn once and the session goes on', async () => {
    const sessionId = await createOn(b);
    const first = await call(a.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'Remember the word heliotrope.' },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const sent = await call(a.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'A long answer [[slow:40:100]]', stream: true },
    });
    expect(sent.status).toBe(202);
    const cutId = sent.body.messageId as string;
    const stream = await openStream(a, `/sessions/${sessionId}/stream?messageId=${cutId}`);
    await readUntil(stream, (e) => e.event === 'status' && dataOf(e).status === 'running');

    await b.stop('SIGKILL');
    // A notices B's lease expire, takes the session over and records the cut turn: the stream,
    // served by A all along, ends with it.
    const end = (await stream.rest()).at(-1)!;
    expect(end.event).toBe('error');
    expect(dataOf(end)).toMatchObject({
      code: 'AGENT_ERROR',
      details: { messageId: cutId, reason: 'server_restart' },
    });

    const mark = cluster.fake.mark();
    const next = await call(a.base, 'POST', `/sessions/${sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'Which word? [[recall]]' },
    });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    const request = await cluster.fake.waitForRequest((r) => r.path.startsWith('/v1/messages'), 10_000, mark);
    expect(requestUserTexts(request)).toContain('Remember the word heliotrope.');

    // Recorded once: one terminal event for the cut turn, and it is interrupted in the store.
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const terminal = await client.query(
        `SELECT type FROM events WHERE session_id = $1 AND turn_id = $2 AND type IN ('complete', 'error')`,
        [sessionId, cutId],
      );
      expect(terminal.rows).toEqual([{ type: 'error' }]);
      const turn = await client.query('SELECT status FROM turns WHERE id = $1', [cutId]);
      expect(turn.rows).toEqual([{ status: 'interrupted' }]);
    } finally {
      await client.end();
    }
    const messages = await history(a, KEY, sessionId);
    expect(messages.filter((m) => m.source === 'client').map((m) => m.turnId)).toContain(cutId);
  });
});
