/**
 * The user's document (docs/seed/claude-code-rest-api-examples.md) has four client examples:
 * JavaScript, Python, cURL and Go. Each must run as written against the server and print what
 * its author meant. This file runs the copies committed under examples/seed/ (see each file's
 * header for its few, listed edits) as real child processes, with the real toolchains, against
 * the real server in its own process (fake Anthropic API behind it), then checks their output
 * and, from the server's side, that their prompts reached Claude Code.
 *
 * Each example takes the server's URL from CLAUDE_API_BASE and the key from CLAUDE_API_KEY (the
 * seed's URL and placeholder stay as the fallbacks); the URL given names `localhost:<test server
 * port>`, so name resolution is exercised too. Each runs as a copy in a temp dir of its own.
 *
 * Tools: Node (JS), Debian's /usr/bin/python3 with `requests`, `go`, `curl` and `jq`;
 * `scripts/ensure-system-packages.sh test` installs them. A missing tool fails the test, naming that script.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PREFIX, requestUserTexts, startFakeAnthropic } from '../../src/fake-anthropic/index.js';
import type { FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { call, parseSse } from '../helpers/http.js';
import { serverEnv, spawnServer, tempDir, TEST_KEYS, type SpawnedServer } from '../helpers/test-server.js';

const KEY = TEST_KEYS[0];
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The examples themselves live with the project's other examples. */
const HERE = path.join(REPO, 'examples/seed');
const ENSURE = 'scripts/ensure-system-packages.sh test';

const HELLO = 'Hello! What can you help me with?';
const STREAM_PROMPT = 'Write a Python hello world program';
/** What the fake model answers to the seed's first prompt (its default, echoing responder). */
const HELLO_REPLY = `${DEMO_PREFIX} You said: "${HELLO}"`;

const SESSION_ID = /^sess_[A-Za-z0-9_-]+$/;

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end (killed after `timeoutMs`), with the output it printed. */
function run(
  cmd: string,
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; timeoutMs: number },
): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}. Run ${ENSURE} to install the test tools.`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function explain(what: string, r: RunResult): string {
  return `${what} (exit ${r.code}${r.signal ? `, signal ${r.signal}` : ''}, ${r.ms} ms)\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Fails (never skips) when a tool the example needs is missing, naming the script that installs it. */
function requireTool(what: string, cmd: string, args: string[]): void {
  const probe = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${what} is missing (\`${[cmd, ...args].join(' ')}\` failed: ${probe.error?.message ?? probe.stderr.trim()}). ` +
        `Run ${ENSURE} (as root it installs python3-requests, golang-go, jq and curl from Debian).`,
    );
  }
}

/** One item of GET …/sessions/:id/messages (the fields this file reads). */
interface HistoryMessage {
  turnId: string;
  sequence: number;
  type: string;
  source: 'client' | 'claude_code';
  content: { message?: { content?: unknown } };
}

describe('the seed document’s client examples, run as written against the real server', () => {
  let fake: FakeAnthropic;
  let server: SpawnedServer;
  let dataDir: string;
  let workDir: string;
  /** `http://127.0.0.1:<port>/api/v1`, for the test's own calls. */
  let base: string;
  let port: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    dataDir = tempDir('clients-data');
    workDir = tempDir('clients-work');
    server = await spawnServer(serverEnv(fake, dataDir));
    base = server.base;
    port = new URL(base).port;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
    for (const dir of [dataDir, workDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The environment every example runs with: the caller's, plus the server, the key and no proxy for loopback. */
  function clientEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
    return {
      ...process.env,
      CLAUDE_API_KEY: KEY,
      CLAUDE_API_BASE: `http://localhost:${port}/api/v1`,
      NO_PROXY: 'localhost,127.0.0.1,::1',
      no_proxy: 'localhost,127.0.0.1,::1',
      ...extra,
    };
  }

  /** Copies a committed example, unchanged, into its own temp dir (the environment names the server). */
  function prepare(relPath: string): { dir: string; file: string } {
    const source = fs.readFileSync(path.join(HERE, relPath), 'utf8');
    expect(source, `${relPath} should keep the seed's base URL as its fallback`).toContain(
      'http://localhost:3050/api/v1',
    );
    const dir = fs.mkdtempSync(path.join(workDir, `${path.basename(path.dirname(relPath))}-`));
    const file = path.join(dir, path.basename(relPath));
    fs.writeFileSync(file, source);
    return { dir, file };
  }

  /** The user texts of the model API requests made since `mark`. */
  function promptsSince(mark: number): string[][] {
    return fake.requests
      .slice(mark)
      .filter((r) => r.method === 'POST' && r.path.startsWith('/v1/messages'))
      .map((r) => requestUserTexts(r));
  }

  async function history(sessionId: string): Promise<HistoryMessage[]> {
    const res = await call<{ messages: HistoryMessage[] }>(base, 'GET', `/sessions/${sessionId}/messages`, {
      key: KEY,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.messages;
  }

  /** The prompts of a session's history, in order: what the server handed to Claude Code. */
  function promptsOf(messages: HistoryMessage[]): unknown[] {
    return messages.filter((m) => m.source === 'client').map((m) => m.content.message?.content);
  }

  async function expectGone(sessionId: string): Promise<void> {
    const res = await call<{ error: { code: string } }>(base, 'GET', `/sessions/${sessionId}`, { key: KEY });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('SESSION_NOT_FOUND');
  }

  async function endSession(sessionId: string): Promise<void> {
    const res = await call(base, 'DELETE', `/sessions/${sessionId}`, { key: KEY });
    expect(res.status).toBe(204);
  }

  it('JavaScript: creates a session, prints the reply, then every streamed event and its data', async () => {
    const { dir, file } = prepare('javascript/seed-example.cjs');
    const mark = fake.mark();
    // The copy lives in a temp dir, so `require('axios')` finds the project's modules through NODE_PATH.
    const r = await run(process.execPath, [file], {
      cwd: dir,
      env: clientEnv({ NODE_PATH: path.join(REPO, 'node_modules') }),
      timeoutMs: 90_000,
    });
    expect(r.code, explain('the JavaScript example should exit 0', r)).toBe(0);

    const lines = r.stdout.split('\n');
    const sessionId = /^Session created: (\S+)$/m.exec(r.stdout)?.[1];
    expect(sessionId, explain('no "Session created:" line', r)).toMatch(SESSION_ID);
    expect(lines, explain('the non-streaming reply', r)).toContain(`Response: ${HELLO_REPLY}`);

    // Its newline-splitting parser prints "Event: <name>" then "Data: <object>" for each event.
    const events = lines.filter((l) => l.startsWith('Event: ')).map((l) => l.slice('Event: '.length));
    const data = lines.filter((l) => l.startsWith('Data: '));
    expect(events, explain('streamed events', r)).toContain('message');
    expect(events.at(-1), explain('the last event', r)).toBe('complete');
    // Besides message and complete, the server streams status events (running, idle) and one
    // model_request per model call, which the example prints like any other: clients ignore names
    // they do not know.
    expect(
      events.every((e) => ['message', 'complete', 'status', 'model_request'].includes(e)),
      explain('event names', r),
    ).toBe(true);
    expect(data.length, explain('one Data line per event', r)).toBe(events.length);
    expect(
      data.every((l) => l.startsWith('Data: {')),
      explain('Data lines are objects', r),
    ).toBe(true);

    // Server side: both prompts reached Claude Code, the second with the first in its context,
    // and the example printed every message event of the streamed turn, none lost to its parser.
    const messages = await history(sessionId!);
    expect(promptsOf(messages)).toEqual([HELLO, STREAM_PROMPT]);
    expect(promptsSince(mark)).toContainEqual([HELLO, STREAM_PROMPT]);
    const streamTurn = messages.find(
      (m) => m.source === 'client' && m.content.message?.content === STREAM_PROMPT,
    )!;
    const streamedSeqs = [...r.stdout.matchAll(/^ {2}sequence: (\d+),$/gm)].map((m) => Number(m[1]));
    expect(streamedSeqs, explain('sequences printed in Data objects', r)).toEqual(
      messages.filter((m) => m.turnId === streamTurn.turnId).map((m) => m.sequence),
    );
    expect(r.stdout).toContain(`messageId: '${streamTurn.turnId}'`);

    await endSession(sessionId!);
  }, 120_000);

  it('Python: creates a session, prints the reply and the stream, ends the session', async () => {
    requireTool('Debian python3 with requests', '/usr/bin/python3', ['-c', 'import requests']);
    const { dir, file } = prepare('python/seed_example.py');
    const mark = fake.mark();
    // `import sseclient` finds the stand-in beside the committed example (see sseclient.py).
    const r = await run('/usr/bin/python3', [file], {
      cwd: dir,
      env: clientEnv({ PYTHONPATH: path.join(HERE, 'python'), PYTHONDONTWRITEBYTECODE: '1' }),
      timeoutMs: 90_000,
    });
    expect(r.code, explain('the Python example should exit 0', r)).toBe(0);

    const lines = r.stdout.trimEnd().split('\n');
    const sessionId = /^Session created: (\S+)$/m.exec(r.stdout)?.[1];
    expect(sessionId, explain('no "Session created:" line', r)).toMatch(SESSION_ID);
    expect(lines[1], explain('the non-streaming reply', r)).toBe(`Response: ${HELLO_REPLY}`);
    const streamed = lines.slice(2, -2);
    expect(streamed.length, explain('at least one "Stream message"', r)).toBeGreaterThan(0);
    expect(
      streamed.every((l) => l.startsWith('Stream message: {')),
      explain('stream lines', r),
    ).toBe(true);
    expect(streamed.join('\n')).toContain(STREAM_PROMPT);
    expect(lines.at(-2), explain('the complete event', r)).toMatch(
      /^Stream complete: \{.*'messageId': 'msg_/,
    );
    expect(lines.at(-1)).toBe('Session ended');

    // Server side: the prompts reached Claude Code, and the session is really gone.
    expect(promptsSince(mark)).toContainEqual([HELLO, STREAM_PROMPT]);
    await expectGone(sessionId!);
  }, 120_000);

  it('Python: the sseclient stand-in parses SSE as sseclient-py does', async () => {
    requireTool('Debian python3', '/usr/bin/python3', ['-c', 'import sys']);
    const r = await run('/usr/bin/python3', [path.join(HERE, 'python/sseclient_selftest.py')], {
      cwd: path.join(HERE, 'python'),
      env: clientEnv({ PYTHONDONTWRITEBYTECODE: '1' }),
      timeoutMs: 30_000,
    });
    expect(r.code, explain('sseclient self-test', r)).toBe(0);
    expect(r.stdout).toMatch(/^sseclient selftest: \d+ checks passed$/m);
  });

  it('cURL: prints the session id, the jq-formatted reply and the raw SSE stream, then deletes', async () => {
    requireTool('curl', 'curl', ['--version']);
    requireTool('jq', 'jq', ['--version']);
    const { dir, file } = prepare('curl/seed-example.sh');
    const mark = fake.mark();
    const r = await run('bash', [file], { cwd: dir, env: clientEnv(), timeoutMs: 90_000 });
    expect(r.code, explain('the cURL example should exit 0', r)).toBe(0);

    const sessionId = /^Session ID: (\S+)$/m.exec(r.stdout)?.[1];
    expect(sessionId, explain('no "Session ID:" line', r)).toMatch(SESSION_ID);

    // Between the id and the stream: the message response, pretty-printed by `jq`.
    const afterId = r.stdout.slice(r.stdout.indexOf('\n') + 1);
    const streamStart = afterId.indexOf('retry: ');
    expect(streamStart, explain('the SSE stream should follow the JSON', r)).toBeGreaterThan(0);
    const json = afterId.slice(0, streamStart);
    expect(json, explain('jq output', r)).toMatch(/^\{\n {2}"messageId": "msg_[\s\S]*\n\}\n$/);
    const reply = JSON.parse(json) as Record<string, unknown>;
    expect(reply).toMatchObject({ sessionId, response: HELLO_REPLY, stopReason: 'end_turn' });
    expect(reply.messageId).toMatch(/^msg_/);

    // The raw stream, as curl -N printed it: message events, then `event: complete`.
    const raw = afterId.slice(streamStart);
    expect(raw).toMatch(/^event: complete$/m);
    const events = parseSse(raw);
    expect(events.map((e) => e.event)).toContain('message');
    expect(events.at(-1)?.event).toBe('complete');
    for (const e of events) expect(() => JSON.parse(e.data), e.data).not.toThrow();
    expect(JSON.parse(events[0]!.data)).toMatchObject({
      source: 'client',
      content: { message: { content: STREAM_PROMPT } },
    });

    // Server side: the prompts reached Claude Code; the DELETE really ended the session.
    expect(promptsSince(mark)).toContainEqual([HELLO, STREAM_PROMPT]);
    await expectGone(sessionId!);
  }, 120_000);

  it('Go: compiles, creates a session and prints the reply', async () => {
    requireTool('Go', 'go', ['version']);
    const { dir, file } = prepare('go/main.go');
    const mark = fake.mark();
    // Standard library only: no go.mod, and nothing to download.
    const r = await run('go', ['run', path.basename(file)], {
      cwd: dir,
      env: clientEnv({ GOPROXY: 'off' }),
      timeoutMs: 240_000,
    });
    expect(r.code, explain('the Go example should exit 0', r)).toBe(0);
    const sessionId = /^Session created: (\S+)$/m.exec(r.stdout)?.[1];
    expect(sessionId, explain('no "Session created:" line', r)).toMatch(SESSION_ID);
    expect(r.stdout.split('\n'), explain('the reply', r)).toContain(`Response: ${HELLO_REPLY}`);

    const messages = await history(sessionId!);
    expect(promptsOf(messages)).toEqual([HELLO]);
    expect(promptsSince(mark)).toContainEqual([HELLO]);
    await endSession(sessionId!);
  }, 300_000);

  it('the committed examples are the seed’s text with only the edits their headers list', () => {
    for (const example of EXAMPLES) {
      const text = fs.readFileSync(path.join(HERE, example.file), 'utf8');
      const marker = text.indexOf(example.marker);
      expect(marker, `${example.file}: marker line`).toBeGreaterThan(0);
      const body = text.slice(marker + example.marker.length);
      const seedText = example.undo(body);
      expect(seedText, `${example.file}: an edit that its header does not list`).not.toBeNull();
      expect(sha256(seedText!), `${example.file} differs from the seed's ${example.section} example`).toBe(
        example.seedSha256,
      );
      expect(seedText, `${example.file}: the seed document's ${example.section} example`).toBe(
        seedBlock(example.fence),
      );
    }
  });
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The example in the seed document (kept in the repository, docs/seed/) under that code fence. */
function seedBlock(fence: string): string | null {
  const doc = fs.readFileSync(path.join(REPO, 'docs/seed/claude-code-rest-api-examples.md'), 'utf8');
  const match = new RegExp('```' + fence + '\\n([\\s\\S]*?)```').exec(doc);
  return match?.[1] ?? null;
}

/** Removes one exact edit; null when the text is not there exactly once. */
function undoOnce(body: string | null, edited: string, original: string): string | null {
  if (body === null) return null;
  const at = body.indexOf(edited);
  if (at === -1 || body.indexOf(edited, at + 1) !== -1) return null;
  return body.slice(0, at) + original + body.slice(at + edited.length);
}

/** Removes an appended last line; null when the text does not end with it. */
function undoAppended(body: string | null, appended: string): string | null {
  return body?.endsWith(appended) ? body.slice(0, -appended.length) : null;
}

const SEED_URL = 'http://localhost:3050/api/v1';

/** Each committed example: how to get the seed's text back, and that text's SHA-256 (taken when copied). */
const EXAMPLES: Array<{
  file: string;
  section: string;
  fence: string;
  marker: string;
  seedSha256: string;
  undo(body: string): string | null;
}> = [
  {
    file: 'javascript/seed-example.cjs',
    section: 'JavaScript/Node.js',
    fence: 'javascript',
    marker: '// ---- seed example below ----\n',
    seedSha256: '1556f7640ee63c2304740285f0555115a47d505f5c667f313625787194804671',
    undo: (body) =>
      undoOnce(
        undoAppended(body, 'claudeCodeExample().catch((e) => { console.error(e); process.exit(1); });\n'),
        `const API_BASE = process.env.CLAUDE_API_BASE || '${SEED_URL}';\n`,
        `const API_BASE = '${SEED_URL}';\n`,
      ),
  },
  {
    file: 'python/seed_example.py',
    section: 'Python',
    fence: 'python',
    marker: '# ---- seed example below ----\n',
    seedSha256: 'bad58028b484e60242f25139d7aa8cdedd5774f10b9d28a165bab32349b7ae57',
    undo: (body) =>
      undoOnce(
        undoAppended(body, "if __name__ == '__main__': claude_code_example()\n"),
        `API_BASE = os.environ.get('CLAUDE_API_BASE', '${SEED_URL}')\n`,
        `API_BASE = '${SEED_URL}'\n`,
      ),
  },
  {
    file: 'curl/seed-example.sh',
    section: 'cURL',
    fence: 'bash',
    marker: '# ---- seed example below ----\n',
    seedSha256: '1bb544299b05e7824762fdac5552588380b4e0575b071e18207cba0687320d61',
    undo: (body) =>
      undoOnce(
        undoOnce(body, 'API_KEY="${CLAUDE_API_KEY:-your-api-key}"\n', 'API_KEY="your-api-key"\n'),
        `BASE_URL="\${CLAUDE_API_BASE:-${SEED_URL}}"\n`,
        `BASE_URL="${SEED_URL}"\n`,
      ),
  },
  {
    file: 'go/main.go',
    section: 'Go',
    fence: 'go',
    marker: '// ---- seed example below ----\n',
    seedSha256: '61e70c3f0539c8d56dcf1f69965f5ee48d803e09dd07fd85b43c9c3610ef4690',
    undo: (body) =>
      undoOnce(
        undoOnce(body, '    "os"\n)\n', '    "os"\n    "bufio"\n    "strings"\n)\n'),
        `var API_BASE = func() string { if v := os.Getenv("CLAUDE_API_BASE"); v != "" { return v }; return "${SEED_URL}" }()\n`,
        `const API_BASE = "${SEED_URL}"\n`,
      ),
  },
];
