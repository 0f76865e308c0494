/**
 * The files API, seeds, diffs, rewind and fork through `inject()`: the real composition (real
 * file system, real git snapshots) with the FakeAgentRunner; a turn "changes files" by writing
 * them while it runs (a thenable its script awaits, after the server's snapshot before the turn).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { msg, result } from '../helpers/fake-agent-runner.js';
import { KEY_B, auth, createSession, expectError, startApp, type Harness } from './harness.js';

/** This suite is about the workspace: the real snapshots (shadow git), not the twin. */
const GIT_SNAPSHOTS = { snapshots: 'git' } as const;

const S = '/api/v1/sessions';

/** A thenable that runs `work` when the fake turn awaits it (inside the turn), then waits for `gate`. */
function during(work: () => void, gate: Promise<void> = Promise.resolve()): Promise<void> {
  const thenable = {
    then(resolve: () => void, reject: (err: unknown) => void) {
      try {
        work();
        gate.then(resolve, reject);
      } catch (err) {
        reject(err);
      }
    },
  };
  return thenable as unknown as Promise<void>;
}

describe('workspace files', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  const cwdOf = async (id: string): Promise<string> =>
    ((await h.app.inject({ url: `${S}/${id}`, headers: auth() })).json() as { config: { cwd: string } })
      .config.cwd;

  const put = (id: string, p: string, body: string | Buffer, key?: string) =>
    h.app.inject({
      method: 'PUT',
      url: `${S}/${id}/files/content?path=${encodeURIComponent(p)}`,
      headers: { ...auth(key), 'content-type': 'application/octet-stream' },
      payload: body,
    });

  it('uploads, lists, downloads (ranges, validators), deletes and archives', async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const id = await createSession(h);
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13]);
    const created = await put(id, 'data/bin.dat', bytes);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toEqual({
      path: 'data/bin.dat',
      size: 8,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect((await put(id, 'data/bin.dat', bytes)).statusCode).toBe(200);
    expect((await put(id, 'notes.md', '# hi\n')).statusCode).toBe(201);

    const root = await h.app.inject({ url: `${S}/${id}/files`, headers: auth() });
    expect(root.statusCode).toBe(200);
    const names = (root.json() as { entries: Array<{ name: string; type: string }> }).entries.map(
      (e) => `${e.name}:${e.type}`,
    );
    expect(names).toEqual(['.git:dir', 'data:dir', 'notes.md:file']);
    const tree = await h.app.inject({ url: `${S}/${id}/files?recursive=true`, headers: auth() });
    const treeBody = tree.json() as { truncated: boolean; entries: Array<{ path: string; size: number }> };
    expect(treeBody.truncated).toBe(false);
    expect(treeBody.entries.find((e) => e.path === 'data/bin.dat')?.size).toBe(8);

    const download = await h.app.inject({
      url: `${S}/${id}/files/content?path=data/bin.dat`,
      headers: auth(),
    });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(bytes)).toBe(true);
    expect(download.headers['content-type']).toBe('application/octet-stream');
    expect(download.headers['content-length']).toBe('8');
    const etag = download.headers.etag as string;
    expect(etag).toBeTruthy();
    expect(download.headers['last-modified']).toBeTruthy();
    const md = await h.app.inject({ url: `${S}/${id}/files/content?path=notes.md`, headers: auth() });
    expect(md.headers['content-type'], JSON.stringify(md.headers)).toMatch(/^text\/markdown/);

    const ranged = await h.app.inject({
      url: `${S}/${id}/files/content?path=data/bin.dat`,
      headers: { ...auth(), range: 'bytes=2-4' },
    });
    expect(ranged.statusCode).toBe(206);
    expect(ranged.rawPayload.equals(bytes.subarray(2, 5))).toBe(true);
    expect(ranged.headers['content-range']).toBe('bytes 2-4/8');
    const unsatisfiable = await h.app.inject({
      url: `${S}/${id}/files/content?path=data/bin.dat`,
      headers: { ...auth(), range: 'bytes=100-200' },
    });
    expectError(unsatisfiable, 416, 'RANGE_NOT_SATISFIABLE');
    const notModified = await h.app.inject({
      url: `${S}/${id}/files/content?path=data/bin.dat`,
      headers: { ...auth(), 'if-none-match': etag },
    });
    expect(notModified.statusCode).toBe(304);
    // A precondition that does not hold is 412 (not the file's absence).
    const changed = await h.app.inject({
      url: `${S}/${id}/files/content?path=data/bin.dat`,
      headers: { ...auth(), 'if-match': '"another-version"' },
    });
    expectError(changed, 412, 'PRECONDITION_FAILED');
    const sameVersion = await h.app.inject({
      url: `${S}/${id}/files/content?path=data/bin.dat`,
      headers: { ...auth(), 'if-match': etag },
    });
    expect(sameVersion.statusCode).toBe(200);

    const archive = await h.app.inject({ url: `${S}/${id}/archive`, headers: auth() });
    expect(archive.statusCode).toBe(200);
    expect(archive.headers['content-type']).toBe('application/gzip');
    const tar = gunzipSync(archive.rawPayload);
    expect(tar.includes(Buffer.from('data/bin.dat'))).toBe(true);
    expect(tar.includes(bytes)).toBe(true);

    const deleted = await h.app.inject({
      method: 'DELETE',
      url: `${S}/${id}/files/content?path=data/bin.dat`,
      headers: auth(),
    });
    expect(deleted.statusCode).toBe(204);
    expectError(
      await h.app.inject({ url: `${S}/${id}/files/content?path=data/bin.dat`, headers: auth() }),
      404,
      'NOT_FOUND',
    );
  });

  it('refuses paths out of the workspace (.., absolute, symlinks), NUL bytes and absurd lengths', async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const id = await createSession(h);
    const cwd = await cwdOf(id);
    fs.symlinkSync(h.dataDir, path.join(cwd, 'data-link'));
    fs.symlinkSync('/nonexistent-target', path.join(cwd, 'dangling'));
    for (const p of ['../x', '/etc/passwd', 'data-link/sessions.db', 'a/../../b', 'data-link']) {
      const read = await h.app.inject({
        url: `${S}/${id}/files/content?path=${encodeURIComponent(p)}`,
        headers: auth(),
      });
      const body = expectError(read, 403, 'FORBIDDEN');
      expect(body.error.details.policy).toBe('workspace');
    }
    expect(expectError(await put(id, 'data-link/evil', 'x'), 403, 'FORBIDDEN').error.details.policy).toBe(
      'workspace',
    );
    expectError(await put(id, 'dangling', 'x'), 403, 'FORBIDDEN');
    expect(fs.existsSync('/nonexistent-target')).toBe(false);
    expectError(
      await h.app.inject({ url: `${S}/${id}/files?path=data-link`, headers: auth() }),
      403,
      'FORBIDDEN',
    );
    expectError(await h.app.inject({ url: `${S}/${id}/archive?path=..`, headers: auth() }), 403, 'FORBIDDEN');
    expectError(
      await h.app.inject({ url: `${S}/${id}/files/content?path=a%00b`, headers: auth() }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await h.app.inject({ url: `${S}/${id}/files/content?path=${'a'.repeat(5000)}`, headers: auth() }),
      400,
      'INVALID_REQUEST',
    );
    // The link itself may be deleted (it is in the workspace); its target is not touched.
    expect(
      (
        await h.app.inject({
          method: 'DELETE',
          url: `${S}/${id}/files/content?path=data-link`,
          headers: auth(),
        })
      ).statusCode,
    ).toBe(204);
    expect(fs.existsSync(h.dataDir)).toBe(true);
  });

  it('a workspace folder swapped for a symlink (to /) is refused, never followed nor snapshotted', async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const id = await createSession(h);
    const cwd = await cwdOf(id);
    fs.renameSync(cwd, `${cwd}.moved`);
    fs.symlinkSync('/', cwd);
    try {
      for (const url of [
        `${S}/${id}/files`,
        `${S}/${id}/files/content?path=etc/hostname`,
        `${S}/${id}/archive`,
      ]) {
        const body = expectError(await h.app.inject({ url, headers: auth() }), 403, 'FORBIDDEN');
        expect(body.error.details).toMatchObject({ policy: 'workspace', reason: 'moved' });
      }
      expectError(await put(id, 'tmp/x.txt', 'x'), 403, 'FORBIDDEN');
      expect(fs.existsSync('/tmp/x.txt')).toBe(false);
      // A turn's snapshots refuse too: nothing of / is stored.
      h.runner.script({ messages: [msg.init()], end: { result: result({ text: 'ok' }) } });
      await h.app.inject({
        method: 'POST',
        url: `${S}/${id}/messages`,
        headers: auth(),
        payload: { prompt: 'x' },
      });
      const snapshots = path.join(h.dataDir, 'snapshots', `${id}.git`);
      const objects = fs.existsSync(snapshots)
        ? fs.readdirSync(path.join(snapshots, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d))
        : [];
      expect(objects).toEqual([]);
    } finally {
      fs.rmSync(cwd);
      fs.renameSync(`${cwd}.moved`, cwd);
    }
  });

  it("another key's session is 404 on every files route", async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const id = await createSession(h);
    expect((await put(id, 'a.txt', 'secret')).statusCode).toBe(201);
    for (const [method, url] of [
      ['GET', `${S}/${id}/files`],
      ['GET', `${S}/${id}/files/content?path=a.txt`],
      ['DELETE', `${S}/${id}/files/content?path=a.txt`],
      ['GET', `${S}/${id}/archive`],
      ['GET', `${S}/${id}/diff?messageId=msg_x`],
    ] as const) {
      expectError(await h.app.inject({ method, url, headers: auth(KEY_B) }), 404, 'SESSION_NOT_FOUND');
    }
    expectError(await put(id, 'a.txt', 'x', KEY_B), 404, 'SESSION_NOT_FOUND');
  });

  it('413 over FILE_UPLOAD_LIMIT_BYTES and over WORKSPACE_MAX_BYTES (with details), nothing left behind', async () => {
    h = await startApp({ FILE_UPLOAD_LIMIT_BYTES: '600', WORKSPACE_MAX_BYTES: '1000' }, GIT_SNAPSHOTS);
    const id = await createSession(h);
    const tooBig = expectError(await put(id, 'big.bin', Buffer.alloc(601)), 413, 'PAYLOAD_TOO_LARGE');
    expect(tooBig.error.details).toMatchObject({ limitBytes: 600, limit: 'file' });
    expect((await put(id, 'a.bin', Buffer.alloc(600))).statusCode).toBe(201);
    const quota = expectError(await put(id, 'b.bin', Buffer.alloc(500)), 413, 'PAYLOAD_TOO_LARGE');
    // The workspace's own `.git` (its project boundary) counts too.
    expect(quota.error.details).toMatchObject({ limitBytes: 1000, limit: 'workspace' });
    expect(quota.error.details.usedBytes).toBeGreaterThanOrEqual(600);
    const cwd = await cwdOf(id);
    expect(fs.readdirSync(cwd).sort()).toEqual(['.git', 'a.bin']);
    // Replacing a file counts its new size only.
    expect((await put(id, 'a.bin', Buffer.alloc(590))).statusCode).toBe(200);
  });

  it('409 SESSION_BUSY for uploads and deletes while a turn runs; the turn reports its own changes only', async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const id = await createSession(h);
    const cwd = await cwdOf(id);
    expect((await put(id, 'uploaded.txt', 'from the client\n')).statusCode).toBe(201);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    h.runner.script({
      messages: [msg.init()],
      waitFor: during(() => fs.writeFileSync(path.join(cwd, 'agent.txt'), 'by the agent\n'), gate),
      end: { result: result({ text: 'done' }) },
    });
    const started = await h.app.inject({
      method: 'POST',
      url: `${S}/${id}/messages`,
      headers: auth(),
      payload: { prompt: 'write', stream: true },
    });
    expect(started.statusCode).toBe(202);
    const messageId = (started.json() as { messageId: string }).messageId;
    await expect.poll(() => fs.existsSync(path.join(cwd, 'agent.txt')), { timeout: 10_000 }).toBe(true);
    expectError(await put(id, 'x.txt', 'x'), 409, 'SESSION_BUSY');
    expectError(
      await h.app.inject({
        method: 'DELETE',
        url: `${S}/${id}/files/content?path=uploaded.txt`,
        headers: auth(),
      }),
      409,
      'SESSION_BUSY',
    );
    release();
    const done = (
      await h.app.inject({
        url: `${S}/${id}/messages/${messageId}?wait=true`,
        headers: auth(),
      })
    ).json() as { changes: Array<{ path: string; status: string; additions: number }> };
    expect(done.changes).toEqual([
      { path: 'agent.txt', status: 'added', additions: 1, deletions: 0, binary: false },
    ]);
    const diff = await h.app.inject({ url: `${S}/${id}/diff?messageId=${messageId}`, headers: auth() });
    expect(diff.statusCode).toBe(200);
    expect(diff.headers['content-type']).toMatch(/^text\/x-diff/);
    expect(diff.body).toContain('+++ b/agent.txt');
    expect(diff.body).not.toContain('uploaded.txt');
    const json = await h.app.inject({
      url: `${S}/${id}/diff?messageId=${messageId}&format=json`,
      headers: auth(),
    });
    expect(
      (json.json() as { files: Array<{ path: string; hunks: Array<{ lines: string[] }> }> }).files,
    ).toEqual([
      expect.objectContaining({
        path: 'agent.txt',
        hunks: [expect.objectContaining({ lines: ['+by the agent'] })],
      }),
    ]);
  });

  it('seeds a new workspace with files (utf8 and base64); a refused seed creates nothing', async () => {
    h = await startApp({ FILE_UPLOAD_LIMIT_BYTES: '1000' }, GIT_SNAPSHOTS);
    const id = await createSession(h, {
      files: [
        { path: 'src/main.py', content: 'print("hi")\n' },
        { path: 'logo.bin', content: Buffer.from([1, 2, 3]).toString('base64'), encoding: 'base64' },
      ],
    });
    const cwd = await cwdOf(id);
    expect(fs.readFileSync(path.join(cwd, 'src/main.py'), 'utf8')).toBe('print("hi")\n');
    expect([...fs.readFileSync(path.join(cwd, 'logo.bin'))]).toEqual([1, 2, 3]);
    const before = fs.readdirSync(path.join(h.dataDir, 'workspaces')).length;
    const escape = await h.app.inject({
      method: 'POST',
      url: S,
      headers: auth(),
      payload: {
        files: [
          { path: 'ok.txt', content: 'x' },
          { path: '../escape.txt', content: 'x' },
        ],
      },
    });
    expectError(escape, 403, 'FORBIDDEN');
    const big = await h.app.inject({
      method: 'POST',
      url: S,
      headers: auth(),
      payload: { files: [{ path: 'big.txt', content: 'x'.repeat(1001) }] },
    });
    expectError(big, 413, 'PAYLOAD_TOO_LARGE');
    expect(fs.readdirSync(path.join(h.dataDir, 'workspaces')).length).toBe(before);
    expect(fs.existsSync(path.join(h.dataDir, 'workspaces', 'escape.txt'))).toBe(false);
    const list = (await h.app.inject({ url: S, headers: auth() })).json() as { total: number };
    expect(list.total).toBe(1);
  });

  it('clones a git seed from an allowed remote only; a failed clone creates nothing and hides credentials', async () => {
    const origin = fs.mkdtempSync(path.join('/tmp', 'ccr-origin-'));
    const env = {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    };
    execFileSync('git', ['init', '-q', '-b', 'main', origin], { env });
    fs.writeFileSync(path.join(origin, 'README.md'), 'cloned\n');
    execFileSync('git', ['-C', origin, 'add', '.'], { env });
    execFileSync('git', ['-C', origin, 'commit', '-q', '-m', 'first'], { env });
    try {
      h = await startApp({ GIT_REMOTES: `file://${origin}` }, GIT_SNAPSHOTS);
      const id = await createSession(h, { git: { url: `file://${origin}`, ref: 'main' } });
      const cwd = await cwdOf(id);
      expect(fs.readFileSync(path.join(cwd, 'README.md'), 'utf8')).toBe('cloned\n');
      expect(fs.existsSync(path.join(cwd, '.git', 'HEAD'))).toBe(true);

      const refused = await h.app.inject({
        method: 'POST',
        url: S,
        headers: auth(),
        payload: { git: { url: 'https://user:hunter2@example.invalid/repo.git' } },
      });
      const body = expectError(refused, 403, 'FORBIDDEN');
      expect(body.error.details.policy).toBe('gitRemotes');
      expect(refused.body).not.toContain('hunter2');

      const missing = await h.app.inject({
        method: 'POST',
        url: S,
        headers: auth(),
        payload: { git: { url: `file://${origin}`, ref: 'no-such-branch' } },
      });
      expectError(missing, 502, 'GIT_CLONE_FAILED');
      const list = (await h.app.inject({ url: S, headers: auth() })).json() as { total: number };
      expect(list.total).toBe(1);
      expect(fs.readdirSync(path.join(h.dataDir, 'workspaces')).length).toBe(1);
    } finally {
      fs.rmSync(origin, { recursive: true, force: true });
    }
  });

  it('a clone that fails with credentials in the URL is a 502 that never shows them', async () => {
    h = await startApp({ GIT_REMOTES: 'http://127.0.0.1:1/' }, GIT_SNAPSHOTS);
    const res = await h.app.inject({
      method: 'POST',
      url: S,
      headers: auth(),
      payload: { git: { url: 'http://alice:hunter2-secret@127.0.0.1:1/repo.git' } },
    });
    const body = expectError(res, 502, 'GIT_CLONE_FAILED');
    expect(body.error.details).toMatchObject({ url: 'http://127.0.0.1:1/repo.git', reason: 'failed' });
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('alice');
    expect(fs.readdirSync(path.join(h.dataDir, 'workspaces'))).toEqual([]);
  });

  it('with no gitRemotes a git seed is refused', async () => {
    h = await startApp({}, GIT_SNAPSHOTS);
    const refused = await h.app.inject({
      method: 'POST',
      url: S,
      headers: auth(),
      payload: { git: { url: 'https://github.com/anthropics/claude-code.git' } },
    });
    expect(expectError(refused, 403, 'FORBIDDEN').error.details).toMatchObject({
      policy: 'gitRemotes',
      allowed: [],
    });
  });
});
