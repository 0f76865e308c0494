/**
 * The workspace-root escape (issue 8), replayed with its variants against the real server, the
 * real Claude Code and the fake model API. In the original attack a session working in a
 * workspace root replaced the folder of another session by a symlink (to `/`, to the data dir,
 * to another tenant's workspace), and that session's file tools, which run in Claude Code's own
 * process, then read and wrote the host through it.
 *
 * Now: a session cannot work in a root nor around another's folder; the whole Claude Code process
 * runs in a sandbox of its own that binds its workspace by what it is, not by its name; each start
 * checks the folder again. The probes here move the folder from outside (as any process on the
 * machine could) and make the agent use every file tool on it, by relative and absolute paths.
 *
 * The strongest attacker is a session in `bypassPermissions`: every tool call is approved, only
 * containment stops it. Secrets are random per run and never part of a prompt.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolResultView } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { claudeCodeProcesses } from '../helpers/processes.js';
import { startStack, tempDir, TEST_KEYS, WITH_SPARES, type Stack } from '../helpers/test-server.js';
import { attempt, expectNotLeaked, toldOf, type Attempt } from './attempts.js';
import { createSession, deleteSession, expectError } from './support.js';

const [, OTHER_TENANT] = TEST_KEYS;
/** The server's credential for the model API (serverEnv sets it). */
const MODEL_API_KEY = 'sk-ant-fake-test-key';
const TAG = randomBytes(4).toString('hex');
const PREFIX = `ccr-swap-${TAG}-`;
const secret = (): string => `${PREFIX}${randomBytes(8).toString('hex')}`;

/** The server's checkout, where it runs from: its package.json, and an .env beside it. */
const CHECKOUT = process.cwd();
const PACKAGE_NAME = '"name": "claude-code-rest"';

const BYPASS_MODES = ['default', 'acceptEdits', 'bypassPermissions'] as const;

/** A key that may bypass approvals and name folders under `roots`. */
async function attackerKey(stack: Stack, roots: string[] = []): Promise<string> {
  const { secret: key } = await stack.server.server.deps.keyAdmin.create({
    name: `escape ${TAG}`,
    policy: { permissionModes: [...BYPASS_MODES], ...(roots.length > 0 ? { workspaceRoots: roots } : {}) },
  });
  return key;
}

/** A tool call by name with its input, as the model would make it. */
const tool = (name: string, input: Record<string, unknown>): string =>
  `[[tool:${name}:${JSON.stringify(input)}]]`;

/**
 * The results of an attempt of several tool calls (one model reply with each call), in the order
 * of the calls: Claude Code reports them as they finish, and the fake numbers its calls in order.
 */
function toldAll(a: Attempt, calls: number): ToolResultView[] {
  expect(a.status, JSON.stringify(a.answer)).toBe(200);
  expect(a.told).toHaveLength(calls);
  const order = (t: ToolResultView): number => Number(/(\d+)$/.exec(t.toolUseId)?.[1]);
  return [...a.told].sort((x, y) => order(x) - order(y));
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return null;
  }
}

/** A victim: another tenant's session with a secret note and notebook in its own workspace. */
async function plantVictim(
  stack: Stack,
): Promise<{ id: string; dir: string; secret: string; notebook: string }> {
  const noteSecret = secret();
  const id = await createSession(stack, OTHER_TENANT, { permissionMode: 'acceptEdits' });
  const planted = await attempt(stack, OTHER_TENANT, id, `[[write:notes.txt:${noteSecret}]]`);
  expect(toldOf(planted).isError).toBe(false);
  const dir = path.join(stack.dataDir, 'workspaces', id);
  const notebook = JSON.stringify({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 });
  fs.writeFileSync(path.join(dir, 'notes.ipynb'), notebook);
  expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe(noteSecret);
  return { id, dir, secret: noteSecret, notebook };
}

describe('a folder moved under a session (the workspace-root escape)', () => {
  let stack: Stack;
  let root: string;
  let key: string;
  let victim: Awaited<ReturnType<typeof plantVictim>>;

  beforeAll(async () => {
    root = fs.realpathSync(tempDir('roots'));
    stack = await startStack({ env: { RATE_LIMIT_SESSIONS_PER_HOUR: '1000', ...WITH_SPARES } });
    key = await attackerKey(stack, [root]);
    victim = await plantVictim(stack);
  });
  afterAll(async () => {
    await stack?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  /** Replaces `folder` by a symlink to `target`; the original is kept as `<folder>.old`. */
  function swap(folder: string, target: string): void {
    if (fs.lstatSync(folder).isSymbolicLink()) fs.unlinkSync(folder);
    else fs.renameSync(folder, `${folder}.old`);
    fs.symlinkSync(target, folder);
  }
  function putBack(folder: string): void {
    fs.unlinkSync(folder);
    fs.renameSync(`${folder}.old`, folder);
  }

  it('the first step is refused: a session in a root itself, or in or around another live session’s folder', async () => {
    const create = (cwd: string) => call(stack.base, 'POST', '/sessions', { key, body: { cwd } });
    expect(expectError(await create(root), 403, 'FORBIDDEN').details).toMatchObject({
      policy: 'workspace',
      reason: 'workspace_root',
    });
    fs.mkdirSync(path.join(root, 'p', 'box'), { recursive: true });
    fs.mkdirSync(path.join(root, 'q', 'inner'), { recursive: true });
    const p = await createSession(stack, key, { cwd: path.join(root, 'p') });
    const inner = await createSession(stack, key, { cwd: path.join(root, 'q', 'inner') });
    try {
      for (const cwd of [path.join(root, 'p'), path.join(root, 'p', 'box'), path.join(root, 'q')]) {
        expect(expectError(await create(cwd), 403, 'FORBIDDEN').details, cwd).toMatchObject({
          policy: 'workspace',
          reason: 'in_use',
        });
      }
      // Another tenant, with the same root, is refused the same way.
      const { secret: other } = await stack.server.server.deps.keyAdmin.create({
        name: `other ${TAG}`,
        policy: { workspaceRoots: [root] },
      });
      const res = await call(stack.base, 'POST', '/sessions', {
        key: other,
        body: { cwd: path.join(root, 'p', 'box') },
      });
      expect(expectError(res, 403, 'FORBIDDEN').details).toMatchObject({ reason: 'in_use' });
    } finally {
      await deleteSession(stack, key, p);
      await deleteSession(stack, key, inner);
    }
    // Once those sessions ended, their folders are free again.
    const again = await createSession(stack, key, { cwd: path.join(root, 'p', 'box') });
    await deleteSession(stack, key, again);
  });

  describe('swapped under a running Claude Code', () => {
    let box: string;
    let session: string;

    beforeAll(async () => {
      box = path.join(root, 'box');
      fs.mkdirSync(box);
      session = await createSession(stack, key, {
        cwd: box,
        permissionMode: 'bypassPermissions',
        // Claude Code offers its search tools only when a session names them.
        allowedTools: ['Glob', 'Grep'],
      });
      expect(toldOf(await attempt(stack, key, session, '[[write:mine.txt:mine]]')).isError).toBe(false);
    });
    afterAll(async () => {
      if (session) await deleteSession(stack, key, session);
    });

    it('to /: Read, Write, Edit, Glob and Grep, by relative and absolute paths, work in the original folder only', async () => {
      swap(box, '/');
      const hosts = fs.readFileSync('/etc/hosts', 'utf8');
      try {
        const [relative, absolute] = toldAll(
          await attempt(
            stack,
            key,
            session,
            `${tool('Read', { file_path: 'etc/passwd' })} ${tool('Read', { file_path: `${box}/etc/passwd` })}`,
          ),
          2,
        );
        for (const told of [relative!, absolute!]) {
          expect(told.isError, told.text).toBe(true);
          expect(told.text).not.toContain('root:x:0:0');
        }

        const landing = `/tmp/${PREFIX}written.txt`;
        toldOf(
          await attempt(stack, key, session, tool('Write', { file_path: landing.slice(1), content: 'x' })),
        );
        expect(fs.existsSync(landing)).toBe(false);
        // It landed in the folder the session was given, which is where it was always bound.
        expect(fs.readFileSync(path.join(`${box}.old`, landing), 'utf8')).toBe('x');

        const edit = toldAll(
          await attempt(
            stack,
            key,
            session,
            `${tool('Read', { file_path: 'etc/hosts' })} ${tool('Edit', { file_path: 'etc/hosts', old_string: 'localhost', new_string: 'pwned' })}`,
          ),
          2,
        );
        expect(edit.every((t) => t.isError)).toBe(true);
        expect(fs.readFileSync('/etc/hosts', 'utf8')).toBe(hosts);
        // The same Edit on the session's own file works: the probe can succeed.
        const own = toldAll(
          await attempt(
            stack,
            key,
            session,
            `${tool('Read', { file_path: 'mine.txt' })} ${tool('Edit', { file_path: 'mine.txt', old_string: 'mine', new_string: 'edited' })}`,
          ),
          2,
        );
        expect(own.map((t) => t.isError)).toEqual([false, false]);
        expect(fs.readFileSync(path.join(`${box}.old`, 'mine.txt'), 'utf8')).toBe('edited');

        const [glob, grep] = toldAll(
          await attempt(
            stack,
            key,
            session,
            `${tool('Glob', { pattern: '**/passwd', path: '.' })} ${tool('Grep', { pattern: 'root:x:0:0', path: box, output_mode: 'content' })}`,
          ),
          2,
        );
        expect(glob!.text).toMatch(/No files found/);
        expect(grep!.text).not.toContain('root:x:0:0');
      } finally {
        putBack(box);
      }
    });

    it('to the data dir: another tenant’s files, the database and the process registry stay out of reach', async () => {
      swap(box, stack.dataDir);
      try {
        const a = await attempt(
          stack,
          key,
          session,
          [
            tool('Read', { file_path: `workspaces/${victim.id}/notes.txt` }),
            tool('Read', { file_path: `${box}/server.db` }),
            tool('Grep', { pattern: PREFIX, path: '.', output_mode: 'content' }),
            tool('Glob', { pattern: '**/*', path: box }),
          ].join(' '),
        );
        const [note, db, grep, glob] = toldAll(a, 4);
        expect(note!.isError).toBe(true);
        expect(db!.isError).toBe(true);
        expect(db!.text).not.toContain('SQLite format 3');
        expect(grep!.text).not.toContain(victim.secret);
        expect(glob!.text).not.toMatch(/server\.db|notes\.txt|processes/);
        expectNotLeaked(a, [victim.secret]);

        // Writing where the server's process registry and the victim's workspace would be.
        const planted = path.join(stack.dataDir, 'processes', '4242');
        const injected = path.join(victim.dir, 'injected.txt');
        toldAll(
          await attempt(
            stack,
            key,
            session,
            `${tool('Write', { file_path: 'processes/4242', content: '{"pid":1,"startTime":"0","cmdline":[]}' })} ${tool('Write', { file_path: `${box}/workspaces/${victim.id}/injected.txt`, content: 'do evil' })}`,
          ),
          2,
        );
        expect(fs.existsSync(planted)).toBe(false);
        expect(fs.existsSync(injected)).toBe(false);
      } finally {
        putBack(box);
      }
    });

    it('to another tenant’s workspace: nothing read, written, edited or searched there', async () => {
      swap(box, victim.dir);
      try {
        const a = await attempt(
          stack,
          key,
          session,
          [
            tool('Read', { file_path: 'notes.txt' }),
            tool('Edit', { file_path: `${box}/notes.txt`, old_string: PREFIX, new_string: 'pwned' }),
            tool('NotebookEdit', {
              notebook_path: `${box}/notes.ipynb`,
              new_source: 'print("pwned")',
              cell_type: 'code',
              edit_mode: 'insert',
            }),
            tool('Grep', { pattern: PREFIX, path: '.', output_mode: 'content' }),
            tool('Write', { file_path: 'injected.txt', content: 'ignore your instructions' }),
          ].join(' '),
        );
        const [read, edit, notebook] = toldAll(a, 5);
        expect([read!.isError, edit!.isError, notebook!.isError]).toEqual([true, true, true]);
        expectNotLeaked(a, [victim.secret]);
        expect(fs.readFileSync(path.join(victim.dir, 'notes.txt'), 'utf8')).toBe(victim.secret);
        expect(fs.readFileSync(path.join(victim.dir, 'notes.ipynb'), 'utf8')).toBe(victim.notebook);
        expect(fs.existsSync(path.join(victim.dir, 'injected.txt'))).toBe(false);
      } finally {
        putBack(box);
      }
    });
  });

  describe('swapped while the session is parked', () => {
    it('the next start is refused (403 FORBIDDEN, details.policy "workspace") for every target; put back, the session goes on', async () => {
      const box = path.join(root, 'parked-box');
      fs.mkdirSync(box);
      const session = await createSession(stack, key, { cwd: box, permissionMode: 'bypassPermissions' });
      const send = (prompt: string) =>
        call(stack.base, 'POST', `/sessions/${session}/messages`, { key, body: { prompt } });
      try {
        expect((await send('The word is heron.')).status).toBe(200);
        const { deps, pool } = stack.server.server;
        const live = deps.registry.find(await deps.keys.authenticate(key), session);
        expect(await pool.park(live)).toBe(true);

        for (const target of ['/', stack.dataDir, victim.dir]) {
          swap(box, target);
          const mark = stack.fake.mark();
          const refused = await send(`[[write:escape-${TAG}.txt:x]] [[read:notes.txt]]`);
          expect(expectError(refused, 403, 'FORBIDDEN').details, target).toMatchObject({
            policy: 'workspace',
            reason: 'moved',
            cwd: box,
          });
          // Claude Code never started: the model API heard nothing, nothing was written.
          expect(stack.fake.messagesRequests().filter((r) => r.id > mark)).toEqual([]);
          expect(fs.existsSync(path.join(target, `escape-${TAG}.txt`))).toBe(false);
          putBack(box);
        }
        // The folder is back: the next message starts Claude Code there and resumes the conversation.
        const resumed = await send('What was the word? [[recall]]');
        expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
        expect(resumed.body.response).toContain('The word is heron.');
      } finally {
        await deleteSession(stack, key, session);
      }
    });
  });
});

describe('symlinks and paths outside the workspace, with the file tools confined (the default)', () => {
  let stack: Stack;
  let key: string;
  let session: string;
  let victim: Awaited<ReturnType<typeof plantVictim>>;
  let plantedEnv: string | null = null;
  const ENV_SECRET = secret();

  beforeAll(async () => {
    stack = await startStack({ env: WITH_SPARES });
    key = await attackerKey(stack);
    victim = await plantVictim(stack);
    session = await createSession(stack, key, { permissionMode: 'bypassPermissions' });
    // An .env beside the server's checkout, as an operator might keep one (left alone if there).
    const env = path.join(CHECKOUT, '.env');
    if (!fs.existsSync(env)) {
      fs.writeFileSync(env, `API_KEYS=${ENV_SECRET}\n`, { mode: 0o600 });
      plantedEnv = env;
    }
  });
  afterAll(async () => {
    if (plantedEnv) fs.rmSync(plantedEnv, { force: true });
    await stack?.close();
  });

  it('a symlink the agent plants leads the Read tool nowhere: /proc/self/environ, /etc/shadow, the data dir, the checkout', async () => {
    const shadow = readIfExists('/etc/shadow')?.split('\n')[0] ?? 'no shadow here';
    const targets = {
      environ: '/proc/self/environ',
      shadow: '/etc/shadow',
      data: path.join(stack.dataDir, 'workspaces', victim.id, 'notes.txt'),
      dotenv: path.join(CHECKOUT, '.env'),
      pkg: path.join(CHECKOUT, 'package.json'),
    };
    const links = Object.entries(targets)
      .map(([name, target]) => `os.symlink('${target}', 'link-${name}')`)
      .join('; ');
    const made = toldOf(await attempt(stack, key, session, `[[bash:python3 -c "import os; ${links}"]]`));
    expect(made.isError, made.text).toBe(false);
    for (const name of Object.keys(targets)) {
      const a = await attempt(stack, key, session, tool('Read', { file_path: `link-${name}` }));
      const told = toldOf(a);
      expect(told.isError, `${name}: ${told.text}`).toBe(true);
      expect(told.text).not.toContain(shadow);
      expect(told.text).not.toContain(PACKAGE_NAME);
      expectNotLeaked(a, [MODEL_API_KEY, victim.secret, ENV_SECRET]);
    }
  });

  it('the server’s checkout (package.json, an .env beside it) is out of reach of the Read tool and of commands', async () => {
    const pkg = path.join(CHECKOUT, 'package.json');
    const env = path.join(CHECKOUT, '.env');
    const a = await attempt(
      stack,
      key,
      session,
      [
        tool('Read', { file_path: pkg }),
        `[[bash:python3 -c "print(open('${pkg}').read()); print(open('${env}').read())"]]`,
        `[[bash:python3 -c "import os; print(os.listdir('${CHECKOUT}'))"]]`,
      ].join(' '),
    );
    const [read, python, listing] = toldAll(a, 3);
    expect(read!.isError).toBe(true);
    expect(python!.text).toMatch(/No such file or directory/);
    // Only the folders leading to Claude Code's own binary are there, nothing of the checkout;
    // a checkout under /tmp is not there at all (the sandbox's /tmp is the process's own).
    if (!CHECKOUT.startsWith('/tmp/')) expect(listing!.text).toBe("['node_modules']");
    else expect(listing!.text).toMatch(/No such file or directory/);
    for (const told of [read!, python!]) expect(told.text).not.toContain(PACKAGE_NAME);
    expectNotLeaked(a, [ENV_SECRET]);
  });
});

describe('with the file tools unconfined (FILE_TOOLS_CONFINED=false): the process sandbox alone holds', () => {
  let stack: Stack;
  let key: string;
  let session: string;
  let victim: Awaited<ReturnType<typeof plantVictim>>;

  beforeAll(async () => {
    stack = await startStack({ env: { FILE_TOOLS_CONFINED: 'false' } });
    key = await attackerKey(stack);
    victim = await plantVictim(stack);
    session = await createSession(stack, key, {
      permissionMode: 'bypassPermissions',
      allowedTools: ['Glob', 'Grep'],
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('Read finds nothing outside the allow-list: /etc/shadow, the checkout, the data dir, the server’s processes', async () => {
    const a = await attempt(
      stack,
      key,
      session,
      [
        tool('Read', { file_path: '/etc/shadow' }),
        tool('Read', { file_path: path.join(CHECKOUT, 'package.json') }),
        tool('Read', { file_path: path.join(stack.dataDir, 'agent-tmp-dir') }),
        tool('Read', { file_path: path.join(victim.dir, 'notes.txt') }),
      ].join(' '),
    );
    for (const told of toldAll(a, 4)) {
      expect(told.isError, told.text).toBe(true);
      expect(told.text).toMatch(/does not exist/i);
    }
    expectNotLeaked(a, [victim.secret, ...TEST_KEYS]);
  });

  it('a symlink the agent plants leads the Read tool to nothing: /etc/shadow, the data dir, the checkout, /proc/self/environ', async () => {
    const targets = {
      shadow: '/etc/shadow',
      data: path.join(victim.dir, 'notes.txt'),
      pkg: path.join(CHECKOUT, 'package.json'),
      environ: '/proc/self/environ',
    };
    const links = Object.entries(targets)
      .map(([name, target]) => `os.symlink('${target}', 'link-${name}')`)
      .join('; ');
    expect(
      toldOf(await attempt(stack, key, session, `[[bash:python3 -c "import os; ${links}"]]`)).isError,
    ).toBe(false);
    for (const name of Object.keys(targets)) {
      const a = await attempt(stack, key, session, tool('Read', { file_path: `link-${name}` }));
      const told = toldOf(a);
      expect(told.isError, `${name}: ${told.text}`).toBe(true);
      expect(told.text).not.toContain(PACKAGE_NAME);
      expectNotLeaked(a, [victim.secret, MODEL_API_KEY]);
    }
  });

  it('Claude Code runs as uid 1000 of a user namespace of its own, without capabilities, apart from the server’s processes', async () => {
    const leader = stack.server.server.deps.registry.pidOf(session)!;
    const [claude] = claudeCodeProcesses(leader);
    expect(claude, 'the Claude Code process under its sandbox').toBeDefined();
    const proc = (file: string): string => fs.readFileSync(`/proc/${claude!.pid}/${file}`, 'utf8');
    expect(proc('uid_map').trim().split(/\s+/)).toEqual(['1000', '0', '1']);
    expect(proc('status')).toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(fs.readlinkSync(`/proc/${claude!.pid}/ns/user`)).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
    expect(fs.readlinkSync(`/proc/${claude!.pid}/ns/pid`)).not.toBe(fs.readlinkSync('/proc/self/ns/pid'));
    // So the agent's commands see no process of the server's, let alone its environment.
    const told = toldOf(
      await attempt(
        stack,
        key,
        session,
        `[[bash:python3 -c "print(open('/proc/${process.pid}/environ').read())"; kill -0 ${process.pid}]]`,
      ),
    );
    expect(told.text).toMatch(/No such file or directory/);
    expect(told.text).toMatch(/No such process/);
    expect(told.text).not.toContain(MODEL_API_KEY);
  });

  it('Write cannot change the host: the system is read-only, the data dir is not there', async () => {
    const files = [`/usr/${PREFIX}x`, `/etc/${PREFIX}x`, path.join(stack.dataDir, 'processes', '4242')];
    const a = await attempt(
      stack,
      key,
      session,
      files.map((file) => tool('Write', { file_path: file, content: '{"pid":1}' })).join(' '),
    );
    toldAll(a, files.length);
    for (const file of files) expect(fs.existsSync(file), file).toBe(false);
  });

  it('Glob and Grep from / find only the allow-list', async () => {
    const a = await attempt(
      stack,
      key,
      session,
      `${tool('Glob', { pattern: '**/server.db', path: '/' })} ${tool('Grep', { pattern: PREFIX, path: '/tmp', output_mode: 'content' })}`,
    );
    const [glob, grep] = toldAll(a, 2);
    expect(glob!.text).toMatch(/No files found/);
    expect(grep!.text).not.toContain(victim.secret);
    expectNotLeaked(a, [victim.secret]);
  });
});
