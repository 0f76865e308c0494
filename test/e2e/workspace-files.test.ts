/**
 * The agent's work through the API, end to end (real server, SQLite, the real Claude Code in its
 * sandbox, the fake model API): the files it writes are listed, downloaded and named in the
 * turn's `files_changed`, `changes` and diff; a client's upload is read by the agent and is not
 * part of the next turn's changes; rewind and fork put the workspace and the conversation where
 * they were, live, parked and after a restart; paths out of the workspace (a symlink the agent
 * made itself) are refused and the data dir is never read.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestUserTexts, startFakeAnthropic, type FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { startServer } from '../../src/main.js';
import { loadConfig } from '../../src/config/config.js';
import { call } from '../helpers/http.js';
import { assertDescribed, headerRecord } from '../helpers/openapi-contract.js';
import { serverEnv, startStack, tempDir, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { expectError, type MessageView } from './support.js';

const [, OTHER_KEY] = TEST_KEYS;

interface Change {
  path: string;
  status: string;
  additions: number;
  deletions: number;
  binary: boolean;
}

/** A key that may run sessions in bypassPermissions (the agent's commands need no approval). */
async function agentKey(stack: Stack): Promise<string> {
  const { secret } = await stack.server.server.deps.keyAdmin.create({
    name: 'files e2e',
    policy: { permissionModes: ['default', 'acceptEdits', 'bypassPermissions'] },
  });
  return secret;
}

async function newSession(
  stack: Stack,
  key: string,
  body: object = {},
): Promise<{ id: string; cwd: string }> {
  const created = await call(stack.base, 'POST', '/sessions', {
    key,
    body: { permissionMode: 'bypassPermissions', ...body },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.sessionId as string;
  const details = await call(stack.base, 'GET', `/sessions/${id}`, { key });
  return { id, cwd: (details.body.config as { cwd: string }).cwd };
}

async function turn(
  stack: Stack,
  key: string,
  id: string,
  prompt: string,
): Promise<{ messageId: string; response: string; changes: Change[] }> {
  const res = await call(stack.base, 'POST', `/sessions/${id}/messages`, {
    key,
    body: { prompt, timeout: 60_000 },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as unknown as { messageId: string; response: string; changes: Change[] };
}

/** A request whose answer is not JSON (bytes, a diff); checked against the OpenAPI document too. */
async function raw(stack: Stack, key: string, method: string, url: string, body?: Buffer | string) {
  const res = await fetch(`${stack.base}${url}`, {
    method,
    headers: {
      'x-api-key': key,
      ...(body !== undefined ? { 'content-type': 'application/octet-stream' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  assertDescribed({
    method,
    url: `${stack.base}${url}`,
    status: res.status,
    headers: headerRecord(res.headers),
    body: await res.clone().text(),
  });
  return res;
}

/** The user texts of the next model request after `mark`. */
async function nextUserTexts(fake: FakeAnthropic, mark: number): Promise<string[]> {
  const request = await fake.waitForRequest((r) => r.path.startsWith('/v1/messages'), 10_000, mark);
  return requestUserTexts(request);
}

describe('the agent’s work through the API', () => {
  let stack: Stack;
  let key: string;
  beforeAll(async () => {
    stack = await startStack();
    key = await agentKey(stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a file the agent writes is listed, downloaded byte for byte, in files_changed, changes and the diff', async () => {
    const { id } = await newSession(stack, key);
    const answer = await turn(stack, key, id, 'Write it [[write:src/hello.py:print("hello world")]]');
    expect(answer.changes).toEqual([
      { path: 'src/hello.py', status: 'added', additions: 1, deletions: 0, binary: false },
    ]);

    const listing = await call<{ entries: Array<{ path: string; type: string; size: number }> }>(
      stack.base,
      'GET',
      `/sessions/${id}/files?path=src`,
      { key },
    );
    expect(listing.body.entries).toEqual([
      expect.objectContaining({ path: 'src/hello.py', type: 'file', size: 'print("hello world")'.length }),
    ]);
    const download = await raw(stack, key, 'GET', `/sessions/${id}/files/content?path=src/hello.py`);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('print("hello world")');
    expect(download.headers.get('etag')).toBeTruthy();

    // files_changed is stored before the turn's complete.
    const events = await raw(stack, key, 'GET', `/sessions/${id}/stream?after=0`);
    const text = await events.text();
    const names = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    // After the turn's last message, before its complete.
    expect(names.slice(-3).sort()).toEqual(['complete', 'files_changed', 'status']);
    expect(names.at(-1)).toBe('complete');
    const changed = JSON.parse(/event: files_changed\ndata: (.*)$/m.exec(text)?.[1] ?? '{}') as {
      messageId: string;
      checkpoint: string;
      files: Change[];
    };
    expect(changed).toMatchObject({ messageId: answer.messageId, files: answer.changes });
    expect(changed.checkpoint).toMatch(/^[0-9a-f]{40}$/);

    const diff = await raw(stack, key, 'GET', `/sessions/${id}/diff?messageId=${answer.messageId}`);
    expect(diff.headers.get('content-type')).toMatch(/^text\/x-diff/);
    const diffText = await diff.text();
    expect(diffText).toContain('+++ b/src/hello.py');
    expect(diffText).toContain('+print("hello world")');

    // A binary file round-trips unchanged, and its diff says binary without dumping bytes.
    const bytes = randomBytes(4096);
    expect((await raw(stack, key, 'PUT', `/sessions/${id}/files/content?path=blob.bin`, bytes)).status).toBe(
      201,
    );
    const back = Buffer.from(
      await (await raw(stack, key, 'GET', `/sessions/${id}/files/content?path=blob.bin`)).arrayBuffer(),
    );
    expect(back.equals(bytes)).toBe(true);
    const copy = await turn(stack, key, id, 'Copy it [[bash:cp blob.bin blob2.bin]]');
    expect(copy.changes).toEqual([
      { path: 'blob2.bin', status: 'added', additions: 0, deletions: 0, binary: true },
    ]);
    const binaryDiff = await (
      await raw(stack, key, 'GET', `/sessions/${id}/diff?messageId=${copy.messageId}`)
    ).text();
    expect(binaryDiff).toContain('Binary files /dev/null and b/blob2.bin differ');
    expect(binaryDiff.length).toBeLessThan(1000);
  });

  it('the model is asked while the snapshot before the turn is taken; the tool waits for it, and its file is the turn’s change', async () => {
    const { id } = await newSession(stack, key);
    // Claude Code started (a cold start takes longer than the delay below).
    await turn(stack, key, id, 'hello');
    const snapshots = stack.server.server.snapshots;
    const snapshot = snapshots.snapshot.bind(snapshots);
    let snapshotTaken = Infinity;
    // This session's snapshot before a turn takes 1.5 s longer.
    snapshots.snapshot = async (sessionId, cwd, name, message) => {
      if (sessionId !== id || !name.endsWith('/before')) return snapshot(sessionId, cwd, name, message);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const taken = await snapshot(sessionId, cwd, name, message);
      snapshotTaken = Date.now();
      return taken;
    };
    try {
      const mark = stack.fake.mark();
      const answer = await turn(stack, key, id, 'Write it [[write:late.txt:after the snapshot]]');
      const [first] = stack.fake.messagesRequests().filter((r) => r.id > mark);
      expect(first!.receivedAt).toBeLessThan(snapshotTaken);
      // Had the Write run before the snapshot, the file would be part of the workspace before it.
      expect(answer.changes).toMatchObject([{ path: 'late.txt', status: 'added' }]);
    } finally {
      snapshots.snapshot = snapshot;
    }
  });

  it('the agent reads an uploaded file; the upload is not part of the next turn’s changes', async () => {
    const { id } = await newSession(stack, key);
    const secretText = `uploaded-${randomBytes(6).toString('hex')}`;
    expect(
      (await raw(stack, key, 'PUT', `/sessions/${id}/files/content?path=docs/in.txt`, secretText)).status,
    ).toBe(201);
    const answer = await turn(stack, key, id, 'Read it [[read:docs/in.txt]]');
    expect(answer.response).toContain(secretText);
    expect(answer.changes).toEqual([]);
  });

  it('paths out of the workspace, a symlink the agent made, another key: each refused; the data dir is never read', async () => {
    const { id, cwd } = await newSession(stack, key);
    const answer = await turn(
      stack,
      key,
      id,
      // Relative and built at run time: Claude Code refuses an `ln` that names a path outside.
      `Link [[bash:python3 -c "import os; os.symlink('../..', 'data-link'); os.symlink(chr(47) + 'etc', 'etc-link')"]]`,
    );
    expect(
      fs.lstatSync(path.join(cwd, 'data-link'), { throwIfNoEntry: false })?.isSymbolicLink(),
      answer.response,
    ).toBe(true);
    expect(fs.realpathSync(path.join(cwd, 'data-link'))).toBe(fs.realpathSync(stack.dataDir));
    expect(fs.lstatSync(path.join(cwd, 'etc-link')).isSymbolicLink()).toBe(true);
    for (const p of ['data-link/ccr.db', 'etc-link/passwd', '../../ccr.db', '/etc/passwd']) {
      const res = await call(
        stack.base,
        'GET',
        `/sessions/${id}/files/content?path=${encodeURIComponent(p)}`,
        { key },
      );
      expect(expectError(res, 403, 'FORBIDDEN').details).toMatchObject({ policy: 'workspace' });
    }
    const listed = await call(stack.base, 'GET', `/sessions/${id}/files?path=data-link`, { key });
    expectError(listed, 403, 'FORBIDDEN');
    const archive = await call(stack.base, 'GET', `/sessions/${id}/archive?path=etc-link`, { key });
    expectError(archive, 403, 'FORBIDDEN');
    // The snapshots live in the data dir, never in the workspace.
    expect(fs.existsSync(path.join(stack.dataDir, 'snapshots', `${id}.git`))).toBe(true);
    // (`.claude` is Claude Code's own, made for its sandboxed commands.)
    expect(
      fs
        .readdirSync(cwd)
        .filter((n) => n !== '.claude')
        .sort(),
    ).toEqual(['.git', 'data-link', 'etc-link']);
    const other = await call(stack.base, 'GET', `/sessions/${id}/files`, { key: OTHER_KEY });
    expectError(other, 404, 'SESSION_NOT_FOUND');
  });

  it('the agent cannot read the snapshots (they are in the data dir its sandbox hides)', async () => {
    const { id } = await newSession(stack, key);
    await turn(stack, key, id, 'Write [[write:a.txt:one]]');
    const snapshots = path.join(stack.dataDir, 'snapshots', `${id}.git`);
    const answer = await turn(stack, key, id, `Look [[bash:ls ${snapshots} 2>&1 || echo NOPE]]`);
    expect(answer.response).not.toContain('HEAD');
    expect(answer.response).not.toContain('objects');
  });

  it('409 SESSION_BUSY for an upload, a delete and a rewind while a turn runs', async () => {
    const { id } = await newSession(stack, key);
    const first = await turn(stack, key, id, 'Write [[write:a.txt:one]]');
    const started = await call(stack.base, 'POST', `/sessions/${id}/messages`, {
      key,
      body: { prompt: 'Wait [[hang]]', stream: true },
    });
    expect(started.status).toBe(202);
    expectError(
      await call(stack.base, 'PUT', `/sessions/${id}/files/content?path=x.txt`, { key, body: 'x' }),
      409,
      'SESSION_BUSY',
    );
    expectError(
      await call(stack.base, 'DELETE', `/sessions/${id}/files/content?path=a.txt`, { key }),
      409,
      'SESSION_BUSY',
    );
    expectError(
      await call(stack.base, 'POST', `/sessions/${id}/rewind`, { key, body: { messageId: first.messageId } }),
      409,
      'SESSION_BUSY',
    );
    await call(stack.base, 'POST', `/sessions/${id}/interrupt`, { key });
  });

  it('rewind to the second of three turns: files and conversation as before it, the history keeps all three', async () => {
    const { id, cwd } = await newSession(stack, key);
    const one = await turn(stack, key, id, 'First [[write:one.txt:1]]');
    const two = await turn(stack, key, id, 'Second [[write:two.txt:2]]');
    const three = await turn(stack, key, id, 'Third [[write:one.txt:changed]]');
    expect(three.changes).toEqual([
      { path: 'one.txt', status: 'modified', additions: 1, deletions: 1, binary: false },
    ]);

    const rewound = await call(stack.base, 'POST', `/sessions/${id}/rewind`, {
      key,
      body: { messageId: two.messageId, files: true, conversation: true },
    });
    expect(rewound.status, JSON.stringify(rewound.body)).toBe(200);
    expect(rewound.body).toMatchObject({
      messageId: two.messageId,
      files: true,
      conversation: true,
      rewoundMessageIds: [two.messageId, three.messageId],
    });
    expect(fs.readFileSync(path.join(cwd, 'one.txt'), 'utf8')).toBe('1');
    expect(fs.existsSync(path.join(cwd, 'two.txt'))).toBe(false);

    const mark = stack.fake.mark();
    await turn(stack, key, id, 'Fourth');
    const texts = await nextUserTexts(stack.fake, mark);
    expect(texts).toContain('First [[write:one.txt:1]]');
    expect(texts.some((t) => t.startsWith('Second') || t.startsWith('Third'))).toBe(false);

    const history = await call<{ messages: MessageView[] }>(stack.base, 'GET', `/sessions/${id}/messages`, {
      key,
    });
    const prompts = history.body.messages.filter((m) => m.source === 'client');
    expect(prompts.map((m) => [m.turnId, m.rewound === true])).toEqual([
      [one.messageId, false],
      [two.messageId, true],
      [three.messageId, true],
      [expect.stringMatching(/^msg_/), false],
    ]);
    // The rewind is in the log; rewinding a rewound turn again is refused.
    const again = await call(stack.base, 'POST', `/sessions/${id}/rewind`, {
      key,
      body: { messageId: three.messageId },
    });
    expectError(again, 400, 'INVALID_REQUEST');
  });

  it('rewind of the files only, or of the conversation only', async () => {
    const { id, cwd } = await newSession(stack, key);
    await turn(stack, key, id, 'Keep [[write:keep.txt:k]]');
    const second = await turn(stack, key, id, 'Drop [[write:drop.txt:d]]');
    const filesOnly = await call(stack.base, 'POST', `/sessions/${id}/rewind`, {
      key,
      body: { messageId: second.messageId, files: true, conversation: false },
    });
    expect(filesOnly.status).toBe(200);
    expect(fs.existsSync(path.join(cwd, 'drop.txt'))).toBe(false);
    const mark = stack.fake.mark();
    await turn(stack, key, id, 'Next');
    // The conversation still has the second turn.
    expect(await nextUserTexts(stack.fake, mark)).toContain('Drop [[write:drop.txt:d]]');
  });

  it('fork at the first of two turns: its workspace and context are the first turn’s; both then diverge', async () => {
    const { id, cwd } = await newSession(stack, key);
    const one = await turn(stack, key, id, 'Alpha [[write:a.txt:alpha]]');
    await turn(stack, key, id, 'Beta [[write:b.txt:beta]]');
    const forked = await call(stack.base, 'POST', `/sessions/${id}/fork`, {
      key,
      body: { messageId: one.messageId, metadata: { branch: 'try-2' } },
    });
    expect(forked.status, JSON.stringify(forked.body)).toBe(201);
    const forkId = forked.body.sessionId as string;
    expect(forked.body.metadata).toEqual({ branch: 'try-2' });
    const details = await call(stack.base, 'GET', `/sessions/${forkId}`, { key });
    expect(details.body.forkedFrom).toEqual({ sessionId: id, messageId: one.messageId });
    const forkCwd = (details.body.config as { cwd: string }).cwd;
    expect(forkCwd).not.toBe(cwd);
    expect(fs.readFileSync(path.join(forkCwd, 'a.txt'), 'utf8')).toBe('alpha');
    expect(fs.existsSync(path.join(forkCwd, 'b.txt'))).toBe(false);

    let mark = stack.fake.mark();
    const inFork = await turn(stack, key, forkId, 'Gamma [[write:c.txt:gamma]]');
    let texts = await nextUserTexts(stack.fake, mark);
    expect(texts).toContain('Alpha [[write:a.txt:alpha]]');
    expect(texts.some((t) => t.startsWith('Beta'))).toBe(false);
    expect(inFork.changes.map((c) => c.path)).toEqual(['c.txt']);
    expect(fs.existsSync(path.join(cwd, 'c.txt'))).toBe(false);

    mark = stack.fake.mark();
    await turn(stack, key, id, 'Delta');
    texts = await nextUserTexts(stack.fake, mark);
    expect(texts).toContain('Beta [[write:b.txt:beta]]');
    expect(texts.some((t) => t.startsWith('Gamma'))).toBe(false);
    expect(fs.existsSync(path.join(cwd, 'b.txt'))).toBe(true);

    // The fork rewound to before its own first turn: back to what it was forked with.
    const back = await call(stack.base, 'POST', `/sessions/${forkId}/rewind`, {
      key,
      body: { messageId: inFork.messageId },
    });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(fs.existsSync(path.join(forkCwd, 'c.txt'))).toBe(false);
    mark = stack.fake.mark();
    await turn(stack, key, forkId, 'Epsilon');
    texts = await nextUserTexts(stack.fake, mark);
    expect(texts).toContain('Alpha [[write:a.txt:alpha]]');
    expect(texts.some((t) => t.startsWith('Gamma') || t.startsWith('Beta'))).toBe(false);
  });
});

describe('rewind and fork of a parked session and after a restart', () => {
  let fake: FakeAnthropic;
  let dataDir: string;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    dataDir = tempDir('files-restart');
  });
  afterAll(async () => {
    await fake?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('rewinds a parked session, then forks and rewinds after a restart', async () => {
    const config = () => loadConfig(serverEnv(fake, dataDir, {}));
    let server = await startServer(config());
    let base = `${server.url}/api/v1`;
    const { secret: key } = await server.server.deps.keyAdmin.create({
      name: 'restart',
      policy: { permissionModes: ['bypassPermissions'] },
    });
    const session = await call(base, 'POST', '/sessions', {
      key,
      body: { permissionMode: 'bypassPermissions' },
    });
    const id = session.body.sessionId as string;
    const say = async (prompt: string) => {
      const res = await call(base, 'POST', `/sessions/${id}/messages`, { key, body: { prompt } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.messageId as string;
    };
    const one = await say('One [[write:f.txt:1]]');
    const two = await say('Two [[write:f.txt:2]]');
    const three = await say('Three [[write:f.txt:3]]');

    // Parked: no Claude Code process.
    const runtime = server.server.deps.registry.peek(id);
    expect(await server.server.pool.park(runtime!)).toBe(true);
    expect((await call(base, 'GET', `/sessions/${id}`, { key })).body.process).toBe('parked');
    const rewound = await call(base, 'POST', `/sessions/${id}/rewind`, { key, body: { messageId: three } });
    expect(rewound.status, JSON.stringify(rewound.body)).toBe(200);
    const cwd = ((await call(base, 'GET', `/sessions/${id}`, { key })).body.config as { cwd: string }).cwd;
    expect(fs.readFileSync(path.join(cwd, 'f.txt'), 'utf8')).toBe('2');

    await server.close();
    server = await startServer(config());
    base = `${server.url}/api/v1`;

    const forked = await call(base, 'POST', `/sessions/${id}/fork`, { key, body: { messageId: one } });
    expect(forked.status, JSON.stringify(forked.body)).toBe(201);
    const forkCwd = (
      (await call(base, 'GET', `/sessions/${forked.body.sessionId as string}`, { key })).body.config as {
        cwd: string;
      }
    ).cwd;
    expect(fs.readFileSync(path.join(forkCwd, 'f.txt'), 'utf8')).toBe('1');

    const again = await call(base, 'POST', `/sessions/${id}/rewind`, { key, body: { messageId: two } });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(fs.readFileSync(path.join(cwd, 'f.txt'), 'utf8')).toBe('1');
    const mark = fake.mark();
    const res = await call(base, 'POST', `/sessions/${id}/messages`, { key, body: { prompt: 'After' } });
    expect(res.status).toBe(200);
    const texts = requestUserTexts(
      await fake.waitForRequest((r) => r.path.startsWith('/v1/messages'), 10_000, mark),
    );
    expect(texts).toContain('One [[write:f.txt:1]]');
    expect(texts.some((t) => t.startsWith('Two') || t.startsWith('Three'))).toBe(false);
    await server.close();
  });
});
