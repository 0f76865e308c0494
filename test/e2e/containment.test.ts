/**
 * Containment: what the agent, acting for a key holder, cannot do to the machine. Each attack is
 * a scripted model call (`[[write:…]]`, `[[read:…]]`, `[[bash:…]]`, `[[tool:…]]`) run by the real
 * Claude Code; each test checks what the agent was told (the tool result Claude Code sent back to
 * the model API) and the real effect on the machine (files, the fake's own request log).
 *
 * The strongest attacker is a session in `bypassPermissions` (every tool call approved), so
 * most attacks run there: only the containment layers can stop them. Commands written so that
 * Claude Code cannot analyse them (`python3 -c "…"`) test the sandbox itself; plain `cat` and the
 * file tools test Claude Code's confinement of paths (FILE_TOOLS_CONFINED).
 *
 * Secrets are random per run and never part of a prompt: a prompt names a path, or a pattern
 * (`<prefix>[0-9a-f]+`) that only a successful read would turn into the secret.
 *
 * Network probes only ever target the fake model API on 127.0.0.1 and TEST-NET-1 (192.0.2.1,
 * RFC 5737, never routed).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolResultView } from '../../src/fake-anthropic/index.js';
import { loadConfig } from '../../src/config/config.js';
import { call } from '../helpers/http.js';
import { startStack, tempDir, TEST_KEYS, WITH_SPARES, type Stack } from '../helpers/test-server.js';
import { attempt, expectNotLeaked, toldOf } from './attempts.js';
import { claudeTranscriptPath, createSession, deleteSession, expectError, until } from './support.js';

const [TENANT, OTHER_TENANT] = TEST_KEYS;
/** The server's credential for the model API (serverEnv sets it). */
const MODEL_API_KEY = 'sk-ant-fake-test-key';
const TAG = randomBytes(4).toString('hex');
/** Every planted secret is PREFIX + random hex: a prompt may name PREFIX, never a secret. */
const PREFIX = `ccr-leak-${TAG}-`;
const secret = (): string => `${PREFIX}${randomBytes(8).toString('hex')}`;

/**
 * The server's own secrets, in its environment. (Its database and Redis URLs are secrets too:
 * secrets.test.ts checks those, on a server really using PostgreSQL and Redis; this suite's server
 * keeps SQLite, whose file the agent must not read either.)
 */
const SERVER_SECRETS: Record<string, string> = {
  ADMIN_API_KEYS: `admin-${secret()}`,
};

/** A command Claude Code cannot analyse: only the sandbox stands between it and the file. */
const pythonFinds = (file: string): string =>
  `[[bash:python3 -c "import re; print(re.findall(rb'${PREFIX}[0-9a-f]+', open('${file}', 'rb').read()))"]]`;

/** Claude Code's per-user temp dir (its sandbox's TMPDIR), shared by every session of the user. */
const CLAUDE_TMP = path.join(os.tmpdir(), `claude-${process.getuid?.() ?? 0}`);

/** Removes what a stack's sessions left in Claude Code's temp dir (named after their cwd). */
function removeClaudeTemp(marker: string): void {
  if (!fs.existsSync(CLAUDE_TMP)) return;
  for (const entry of fs.readdirSync(CLAUDE_TMP, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.includes(marker)) {
      fs.rmSync(path.join(CLAUDE_TMP, entry.name), { recursive: true, force: true });
    }
  }
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}

const BYPASS_POLICY = { permissionModes: ['default', 'acceptEdits', 'bypassPermissions'] } as const;

describe('with the sandbox (the default where bubblewrap works)', () => {
  let stack: Stack;
  let bypassKey: string;
  /** TENANT's session in acceptEdits: the Write tool runs without asking. */
  let edits: string;
  /** A bypassPermissions session: every tool call is approved, only containment stops it. */
  let bypass: string;
  const escapes: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ env: { ...SERVER_SECRETS, ...WITH_SPARES } });
    ({ secret: bypassKey } = await stack.server.server.deps.keyAdmin.create({
      name: 'containment bypass',
      policy: { permissionModes: [...BYPASS_POLICY.permissionModes] },
    }));
    edits = await createSession(stack, TENANT, { permissionMode: 'acceptEdits' });
    bypass = await createSession(stack, bypassKey, { permissionMode: 'bypassPermissions' });
  });
  afterAll(async () => {
    for (const file of escapes) fs.rmSync(file, { force: true });
    await stack?.close();
    if (stack) removeClaudeTemp(path.basename(stack.dataDir).replace(/_/g, '-'));
  });

  describe('writing outside the workspace', () => {
    const escapeFile = (name: string): string => {
      const file = path.join(os.tmpdir(), `ccr-escape-${TAG}-${name}.txt`);
      escapes.push(file);
      return file;
    };

    it('the Write tool, in acceptEdits and in bypassPermissions, to an absolute path', async () => {
      for (const [key, sessionId, name] of [
        [TENANT, edits, 'accept-edits'],
        [bypassKey, bypass, 'bypass'],
      ] as const) {
        const file = escapeFile(name);
        const told = toldOf(await attempt(stack, key, sessionId, `[[write:${file}:x]]`));
        expect(told.isError).toBe(true);
        expect(told.text).toMatch(/outside .*blockWritesOutsideWorkingDirectories/s);
        expect(fs.existsSync(file)).toBe(false);
      }
    });

    it('a command, even one Claude Code cannot analyse: the file system is read-only', async () => {
      // Outside the system temp dir, whose contents the sandbox hides behind a throwaway file
      // system (see the next probe).
      const shell = `/etc/ccr-escape-${TAG}-bash.txt`;
      const python = `/etc/ccr-escape-${TAG}-python.txt`;
      escapes.push(shell, python);
      const told = toldOf(await attempt(stack, bypassKey, bypass, `[[bash:echo x > ${shell}]]`));
      expect(told.isError).toBe(true);
      expect(told.text).toMatch(/Read-only file system/);
      expect(fs.existsSync(shell)).toBe(false);

      const viaPython = toldOf(
        await attempt(stack, bypassKey, bypass, `[[bash:python3 -c "open('${python}', 'w').write('x')"]]`),
      );
      expect(viaPython.isError).toBe(true);
      expect(viaPython.text).toMatch(/Read-only file system/);
      expect(fs.existsSync(python)).toBe(false);
    });

    it('a command writing to the system temp dir writes into a throwaway copy, never the host’s', async () => {
      const file = escapeFile('tmp');
      toldOf(await attempt(stack, bypassKey, bypass, `[[bash:echo x > ${file}; cat ${file}]]`));
      expect(fs.existsSync(file)).toBe(false);
    });

    it('`..` from the workspace', async () => {
      const name = `escape-${TAG}.txt`;
      const landing = path.join(stack.dataDir, 'workspaces', name);
      escapes.push(landing);
      for (const [key, sessionId] of [
        [TENANT, edits],
        [bypassKey, bypass],
      ] as const) {
        const told = toldOf(await attempt(stack, key, sessionId, `[[write:../${name}:x]]`));
        expect(told.isError).toBe(true);
        expect(told.text).toMatch(/outside/);
      }
      // A command may write there: the sandbox hides the data dir behind an empty, throwaway
      // file system (denyRead), so the write lands in it and vanishes with the command.
      toldOf(await attempt(stack, bypassKey, bypass, `[[bash:echo x > ../${name}]]`));
      expect(fs.existsSync(landing)).toBe(false);
      expect(fs.readdirSync(path.dirname(landing)).filter((f) => !f.startsWith('sess_'))).toEqual([]);
    });
  });

  describe('reading secrets', () => {
    const sshDir = path.join(os.homedir(), '.ssh');
    let madeSshDir = false;
    let sshKeyFile: string;
    const SSH_SECRET = secret();
    const WORKSPACE_SECRET = secret();
    const TRANSCRIPT_SECRET = secret();
    /** The other tenant's session, its workspace file and its Claude Code transcript. */
    let victim: string;
    let victimFile: string;
    let transcript: string;

    beforeAll(async () => {
      madeSshDir = !fs.existsSync(sshDir);
      fs.mkdirSync(sshDir, { recursive: true, mode: 0o700 });
      sshKeyFile = path.join(sshDir, `ccr-test-${TAG}`);
      fs.writeFileSync(sshKeyFile, `-----BEGIN OPENSSH PRIVATE KEY-----\n${SSH_SECRET}\n`, { mode: 0o600 });

      victim = await createSession(stack, OTHER_TENANT, { permissionMode: 'acceptEdits' });
      const planted = await attempt(
        stack,
        OTHER_TENANT,
        victim,
        `My notes: ${TRANSCRIPT_SECRET} [[write:notes.txt:${WORKSPACE_SECRET}]]`,
      );
      expect(toldOf(planted).isError).toBe(false);
      victimFile = path.join(stack.dataDir, 'workspaces', victim, 'notes.txt');
      const details = await call(stack.base, 'GET', `/sessions/${victim}`, { key: OTHER_TENANT });
      const found = claudeTranscriptPath(stack.dataDir, details.body.claudeSessionId as string);
      expect(found).not.toBeNull();
      transcript = found!;

      // The targets really hold the secrets: an attack that read them would show them.
      expect(fs.readFileSync(victimFile, 'utf8')).toBe(WORKSPACE_SECRET);
      expect(fs.readFileSync(transcript, 'utf8')).toContain(TRANSCRIPT_SECRET);
      const db = path.join(stack.dataDir, 'server.db');
      expect(readIfExists(db) + readIfExists(`${db}-wal`)).toContain(TRANSCRIPT_SECRET);
    });
    afterAll(async () => {
      fs.rmSync(sshKeyFile, { force: true });
      if (madeSshDir) fs.rmSync(sshDir, { recursive: true, force: true });
      if (victim) await deleteSession(stack, OTHER_TENANT, victim);
    });

    /** Runs each attack from the bypass session; none may reveal any of the planted secrets. */
    async function expectAllRefused(prompts: string[]): Promise<ToolResultView[]> {
      const results: ToolResultView[] = [];
      for (const prompt of prompts) {
        const a = await attempt(stack, bypassKey, bypass, prompt);
        const told = toldOf(a);
        expect(told.isError, `${prompt} → ${told.text}`).toBe(true);
        expectNotLeaked(a, [SSH_SECRET, WORKSPACE_SECRET, TRANSCRIPT_SECRET]);
        results.push(told);
      }
      return results;
    }

    it("the server user's SSH keys: Read tool, cat, and a command Claude Code cannot analyse", async () => {
      const [read, cat, python] = await expectAllRefused([
        `[[read:${sshKeyFile}]]`,
        `[[bash:cat ${sshKeyFile}]]`,
        pythonFinds(sshKeyFile),
      ]);
      expect(read!.text).toMatch(/blockReadsOutsideWorkingDirectories/);
      expect(cat!.text).toMatch(/blockReadsOutsideWorkingDirectories/);
      // The sandbox hides the directory (denyRead ~/.ssh): the file is not there for the command.
      expect(python!.text).toMatch(/No such file or directory|Permission denied/);
      // Also from a session in acceptEdits of another key.
      const a = await attempt(stack, TENANT, edits, `[[read:${sshKeyFile}]]`);
      expect(toldOf(a).isError).toBe(true);
      expectNotLeaked(a, [SSH_SECRET]);
    });

    it("another session's workspace", async () => {
      const [, , python] = await expectAllRefused([
        `[[read:${victimFile}]]`,
        `[[bash:cat ${victimFile}]]`,
        pythonFinds(victimFile),
      ]);
      expect(python!.text).toMatch(/No such file or directory|Permission denied/);
    });

    it('the server database (and its WAL, which holds every prompt)', async () => {
      const db = path.join(stack.dataDir, 'server.db');
      const results = await expectAllRefused([
        `[[read:${db}]]`,
        `[[read:${db}-wal]]`,
        pythonFinds(db),
        pythonFinds(`${db}-wal`),
        `[[bash:python3 -c "print(open('${db}', 'rb').read(16))"]]`,
      ]);
      for (const told of results) expect(told.text).not.toContain('SQLite format 3');
    });

    it("Claude Code's transcripts of the other sessions", async () => {
      await expectAllRefused([
        `[[read:${transcript}]]`,
        `[[bash:cat ${transcript}]]`,
        pythonFinds(transcript),
      ]);
    });

    it('a symlink planted in the workspace does not lead the Read tool out', async () => {
      // The sandbox lets a command create the link; Claude Code resolves it before reading.
      const link = `link-${TAG}`;
      const made = toldOf(
        await attempt(
          stack,
          bypassKey,
          bypass,
          `[[bash:python3 -c "import os; os.symlink('${victimFile}', '${link}')"]]`,
        ),
      );
      expect(made.isError).toBe(false);
      const [read] = await expectAllRefused([`[[read:${link}]]`]);
      expect(read!.text).toMatch(/resolves through a symlink/);
    });
  });

  describe("the agent's environment", () => {
    it("`env` shows none of the server's secrets, nor the model API key", async () => {
      const sessionId = await createSession(stack, TENANT, { allowedTools: ['Bash(env)'] });
      try {
        const a = await attempt(stack, TENANT, sessionId, 'print your environment [[env]]');
        const told = toldOf(a);
        expect(told.isError).toBe(false);
        expect(told.text).toMatch(/^PATH=/m); // `env` ran
        expectNotLeaked(a, [...TEST_KEYS, ...Object.values(SERVER_SECRETS), MODEL_API_KEY]);
        for (const name of ['API_KEYS', 'ANTHROPIC_API_KEY', ...Object.keys(SERVER_SECRETS)]) {
          expect(told.text).not.toMatch(new RegExp(`^${name}=`, 'm'));
        }
      } finally {
        await deleteSession(stack, TENANT, sessionId);
      }
    });

    it("Claude Code's own /proc/<pid>/environ is out of reach of commands", async () => {
      const pid = stack.server.server.deps.registry.pidOf(bypass);
      expect(pid).toBeGreaterThan(0);
      // The target is real: Claude Code's environment holds the model API key.
      expect(fs.readFileSync(`/proc/${pid}/environ`, 'latin1')).toContain(MODEL_API_KEY);
      const attempts = [
        `[[bash:cat /proc/${pid}/environ]]`,
        `[[bash:python3 -c "print(open('/proc/${pid}/environ', 'rb').read())"]]`,
        `[[read:/proc/${pid}/environ]]`,
      ];
      for (const prompt of attempts) {
        const a = await attempt(stack, bypassKey, bypass, prompt);
        expect(toldOf(a).isError, prompt).toBe(true);
        expectNotLeaked(a, [MODEL_API_KEY]);
      }
    });
  });

  describe('the network', () => {
    let netSession: string;
    beforeAll(async () => {
      netSession = await createSession(stack, TENANT, { allowedTools: ['Bash(python3:*)', 'Bash(curl:*)'] });
    });
    afterAll(async () => {
      if (netSession) await deleteSession(stack, TENANT, netSession);
    });

    const helloRequests = (probe: string): number =>
      stack.fake.requests.filter((r) => r.path === '/api/hello' && r.url.includes(probe)).length;

    it('a command cannot reach the model API on loopback, while Claude Code itself does', async () => {
      const probe = `probe=${TAG}-loopback`;
      const url = `${stack.fake.url}/api/hello?${probe}`;
      const direct = await attempt(
        stack,
        TENANT,
        netSession,
        `[[bash:python3 -c "import urllib.request; print(urllib.request.urlopen('${url}', timeout=5).status)"]]`,
      );
      const told = toldOf(direct);
      expect(told.isError).toBe(true);
      // The sandbox's own network namespace: nothing listens on its loopback. Refused at once,
      // not a timeout.
      expect(told.text).toMatch(/Connection refused/);
      expect(told.text).not.toMatch(/timed out/i);
      // Through the sandbox's proxy, which is the only way out: refused by its allowlist.
      const viaProxy = toldOf(
        await attempt(stack, TENANT, netSession, `[[bash:curl -sS -m 5 --noproxy '' ${url}]]`),
      );
      expect(viaProxy.text).toMatch(/Connection blocked by network allowlist/);
      expect(viaProxy.text).toMatch(/deny network-outbound 127\.0\.0\.1/);
      expect(helloRequests(probe)).toBe(0);
      // Meanwhile the same Claude Code process reached the model API for both turns.
      expect(direct.answer.response).toMatch(/^Tool result: /);
    });

    it('a command cannot reach another address (TEST-NET-1): the sandbox says so', async () => {
      const a = await attempt(stack, TENANT, netSession, '[[bash:curl -sS -m 5 http://192.0.2.1/]]');
      const told = toldOf(a);
      expect(told.text).toMatch(/Connection blocked by network allowlist/);
      expect(told.text).toMatch(/deny network-outbound 192\.0\.2\.1:80/);
      expect(told.text).not.toMatch(/timed out/i);
    });

    it('in bypassPermissions too, a command cannot reach the model API on loopback', async () => {
      // In bypassPermissions nobody refuses the sandbox proxy's question about an unlisted host:
      // network.strictAllowlist (sandbox-settings.ts) makes every unlisted host a refusal.
      const probe = `probe=${TAG}-bypass`;
      const a = await attempt(
        stack,
        bypassKey,
        bypass,
        `[[bash:curl -sS -m 5 --noproxy '' ${stack.fake.url}/api/hello?${probe}]]`,
      );
      const testNet = toldOf(
        await attempt(stack, bypassKey, bypass, '[[bash:curl -sS -m 5 http://192.0.2.1/]]'),
      );
      expect(helloRequests(probe), `the command reached the fake model API: ${toldOf(a).text}`).toBe(0);
      expect(toldOf(a).text).toMatch(/Connection blocked by network allowlist/);
      expect(testNet.text, 'the proxy tried to connect to TEST-NET').toMatch(
        /Connection blocked by network allowlist/,
      );
    });
  });

  describe("Claude Code's temp dir", () => {
    it("a command cannot read another tenant's command output", async () => {
      // Claude Code's default temp dir (/tmp/claude-<uid>) is shared by every session and kept;
      // each process gets its own CLAUDE_CODE_TMPDIR under the data dir (claude-sdk-runner.ts),
      // readable by its own commands only, removed when the process ends.
      const BG_SECRET = secret();
      const victim = await createSession(stack, OTHER_TENANT, { allowedTools: ['Bash(echo:*)'] });
      const reader = await createSession(stack, TENANT, { allowedTools: ['Bash(python3:*)'] });
      try {
        const started = toldOf(
          await attempt(
            stack,
            OTHER_TENANT,
            victim,
            `[[tool:Bash:{"command":"echo ${BG_SECRET}","run_in_background":true,"description":"report"}]]`,
          ),
        );
        const output = /written to: (\S+\.output)/.exec(started.text)?.[1];
        expect(output, started.text).toBeDefined();
        await until(() => readIfExists(output!).includes(BG_SECRET), 'the background command output');

        const a = await attempt(
          stack,
          TENANT,
          reader,
          `[[bash:python3 -c "print(open('${output}').read())"]]`,
        );
        toldOf(a);
        expectNotLeaked(a, [BG_SECRET]);
      } finally {
        await deleteSession(stack, OTHER_TENANT, victim);
        await deleteSession(stack, TENANT, reader);
      }
    });
  });

  describe("the server's deny list (DISALLOWED_TOOLS: WebFetch, WebSearch)", () => {
    it('a session asking to allow WebFetch is 403 naming the policy', async () => {
      const res = await call(stack.base, 'POST', '/sessions', {
        key: TENANT,
        body: { allowedTools: ['WebFetch'] },
      });
      expect(expectError(res, 403, 'FORBIDDEN').details).toMatchObject({
        policy: 'DISALLOWED_TOOLS',
        tool: 'WebFetch',
      });
    });

    it('a model call to WebFetch gets "No such tool available", even in bypassPermissions', async () => {
      const a = await attempt(
        stack,
        bypassKey,
        bypass,
        '[[tool:WebFetch:{"url":"http://192.0.2.1/","prompt":"summarise"}]]',
      );
      const told = toldOf(a);
      expect(told.isError).toBe(true);
      expect(told.text).toMatch(/No such tool available: WebFetch/);
    });
  });
});

describe('without the sandbox (SANDBOX_MODE=off): the same probes get through', () => {
  let stack: Stack;
  let sessionId: string;
  beforeAll(async () => {
    stack = await startStack({ env: { SANDBOX_MODE: 'off' } });
    sessionId = await createSession(stack, TENANT, { allowedTools: ['Bash(curl:*)', 'Bash(env)'] });
  });
  afterAll(async () => {
    if (sessionId) await deleteSession(stack, TENANT, sessionId);
    await stack?.close();
    if (stack) removeClaudeTemp(path.basename(stack.dataDir).replace(/_/g, '-'));
  });

  it('a command reaches the model API on loopback', async () => {
    const probe = `probe=${TAG}-unsandboxed`;
    const told = toldOf(
      await attempt(stack, TENANT, sessionId, `[[bash:curl -sS -m 5 ${stack.fake.url}/api/hello?${probe}]]`),
    );
    expect(told.text).toContain('hello from the fake Anthropic API');
    expect(stack.fake.requests.filter((r) => r.url.includes(probe))).toHaveLength(1);
  });

  it('`env` shows the model API key to the command', async () => {
    // Claude Code hands its environment, credentials included, to its commands; only the
    // sandbox takes them out.
    const told = toldOf(await attempt(stack, TENANT, sessionId, '[[env]]'));
    expect(told.text).toContain(`ANTHROPIC_API_KEY=${MODEL_API_KEY}`);
    // The server's own secrets are still not there: the child environment is an allow-list.
    for (const key of TEST_KEYS) expect(told.text).not.toContain(key);
  });

  it("TEST-NET fails, but not with the sandbox's message", async () => {
    const told = toldOf(await attempt(stack, TENANT, sessionId, '[[bash:curl -sS -m 3 http://192.0.2.1/]]'));
    expect(told.isError).toBe(true);
    expect(told.text).not.toMatch(/network allowlist|sandbox_violations/);
  });

  it('bypassPermissions is refused as root without the sandbox', async () => {
    const { secret: key } = await stack.server.server.deps.keyAdmin.create({
      name: 'unsandboxed bypass',
      policy: { permissionModes: [...BYPASS_POLICY.permissionModes] },
    });
    const res = await call(stack.base, 'POST', '/sessions', {
      key,
      body: { permissionMode: 'bypassPermissions' },
    });
    if (process.getuid?.() === 0) {
      expect(expectError(res, 403, 'FORBIDDEN').details).toMatchObject({ policy: 'bypassPermissions' });
    } else {
      expect(res.status).toBe(201);
      await deleteSession(stack, key, res.body.sessionId as string);
    }
  });
});

describe('a workspace root that contains the data dir', () => {
  it('is refused at start when configured for the server', () => {
    const root = tempDir('root');
    try {
      expect(() => loadConfig({ WORKSPACE_ROOTS: root, DATA_DIR: path.join(root, 'data') })).toThrow(
        /WORKSPACE_ROOTS: .* overlaps DATA_DIR/,
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("given by a key's policy, does not let a session's cwd reach other tenants' workspaces or the data dir", async () => {
    const stack = await startStack({ env: WITH_SPARES });
    // The stack's data dir lives in a temp root; a key may name that root as its own.
    const root = path.dirname(stack.dataDir);
    try {
      const { secret: wide } = await stack.server.server.deps.keyAdmin.create({
        name: 'wide roots',
        policy: { workspaceRoots: [root] },
      });
      const WORKSPACE_SECRET = secret();
      const victim = await createSession(stack, OTHER_TENANT, { permissionMode: 'acceptEdits' });
      toldOf(await attempt(stack, OTHER_TENANT, victim, `[[write:notes.txt:${WORKSPACE_SECRET}]]`));
      const victimDir = path.join(stack.dataDir, 'workspaces', victim);
      expect(fs.readFileSync(path.join(victimDir, 'notes.txt'), 'utf8')).toBe(WORKSPACE_SECRET);

      for (const cwd of [stack.dataDir, victimDir, path.join(stack.dataDir, 'claude')]) {
        const res = await call(stack.base, 'POST', '/sessions', { key: wide, body: { cwd } });
        expect(expectError(res, 403, 'FORBIDDEN').details).toMatchObject({ policy: 'DATA_DIR' });
      }
      await deleteSession(stack, OTHER_TENANT, victim);
    } finally {
      await stack.close();
    }
  });
});
