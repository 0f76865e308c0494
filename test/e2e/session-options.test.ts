/**
 * What a session asks for reaches Claude Code: model, system prompts on top of Claude Code's own,
 * maxTurns, allowed and disallowed tools, cwd inside a workspace root; settings files of the
 * workspace are not loaded; retries of the model API are kept; the model catalogue is Claude Code's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolResults, lastUserMessage, type RecordedRequest } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { startStack, tempDir, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  claudeTranscriptPath,
  createSession,
  deleteSession,
  expectError,
  history,
  type Completion,
} from './support.js';

const KEY = TEST_KEYS[0];

let stack: Stack;
let root: string;

beforeAll(async () => {
  // A root one level down, so that its `..` is neither /tmp (which holds the data dir) nor a root.
  root = path.join(tempDir('roots'), 'root');
  fs.mkdirSync(root);
  stack = await startStack({ env: { WORKSPACE_ROOTS: root, CLAUDE_CODE_MAX_RETRIES: '2' } });
});
afterAll(async () => {
  await stack?.close();
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
});

/** The system prompt text the model API was sent. */
function systemText(request: RecordedRequest): string {
  const system = (request.body as { system?: unknown }).system;
  if (typeof system === 'string') return system;
  return Array.isArray(system) ? system.map((b: { text?: string }) => b.text ?? '').join('\n') : '';
}

async function send(sessionId: string, prompt: string) {
  const mark = stack.fake.mark();
  let res = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
    key: KEY,
    body: { prompt },
  });
  // A turn that asks an approval answers 202 requires_action at once; nobody answers here, so
  // wait for the turn's end (the server's approval timeout decides).
  const messageId = (res.body as { messageId?: string }).messageId;
  const turnUrl = `/sessions/${sessionId}/messages/${messageId}`;
  for (let tries = 0; res.status === 202 && tries < 200; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const state = await call<{ status: string }>(stack.base, 'GET', turnUrl, { key: KEY });
    if (state.body.status !== 'requires_action') {
      res = await call<Completion>(stack.base, 'GET', `${turnUrl}?wait=true&timeout=60000`, { key: KEY });
    }
  }
  const requests = stack.fake.messagesRequests().filter((r) => r.id > mark);
  return { res, requests };
}

describe('session options reach Claude Code', () => {
  it('model, and the system prompts on top of Claude Code’s own prompt', async () => {
    const sessionId = await createSession(stack, KEY, {
      model: 'claude-sonnet-4-5',
      systemPrompt: 'SESSION-INSTRUCTIONS-7f3a',
      appendSystemPrompt: 'APPENDED-LINE-91bc',
    });
    try {
      const { res, requests } = await send(sessionId, 'hello');
      expect(res.status).toBe(200);
      const request = requests[0]!;
      expect((request.body as { model: string }).model).toBe('claude-sonnet-4-5');
      const system = systemText(request);
      expect(system).toContain("You are Claude Code, Anthropic's official CLI for Claude");
      expect(system).toContain('SESSION-INSTRUCTIONS-7f3a');
      expect(system.indexOf('APPENDED-LINE-91bc')).toBeGreaterThan(
        system.indexOf('SESSION-INSTRUCTIONS-7f3a'),
      );
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });

  it('maxTurns ends a message that needs more model calls with stopReason max_turns', async () => {
    const sessionId = await createSession(stack, KEY, { maxTurns: 1, permissionMode: 'acceptEdits' });
    try {
      const { res } = await send(sessionId, 'I will write [[write:a.txt:x]]');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ stopReason: 'max_turns', status: 'completed' });
      expect(res.body.response).toContain('I will');
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });

  it('disallowedTools removes a tool; allowedTools lets a command run without asking', async () => {
    const denied = await createSession(stack, KEY, { disallowedTools: ['Bash'] });
    const allowed = await createSession(stack, KEY, { allowedTools: ['Bash(python3:*)'] });
    try {
      const a = await send(denied, '[[bash:python3 -c "print(40 + 2)"]]');
      expect(toolResults(lastUserMessage(a.requests.at(-1)!.body))[0]?.text).toMatch(
        /No such tool available: Bash/,
      );
      const b = await send(allowed, '[[bash:python3 -c "print(40 + 2)"]]');
      expect(toolResults(lastUserMessage(b.requests.at(-1)!.body))[0]?.text).toMatch(/^42$/m);
    } finally {
      await deleteSession(stack, KEY, denied);
      await deleteSession(stack, KEY, allowed);
    }
  });

  it('a cwd inside a workspace root is used, and its settings files are not loaded', async () => {
    const project = path.join(root, 'project');
    fs.mkdirSync(path.join(project, '.claude'), { recursive: true });
    fs.writeFileSync(path.join(project, 'CLAUDE.md'), 'PROJECT-MEMORY-5d2e: always answer in French.');
    fs.writeFileSync(
      path.join(project, '.claude', 'settings.json'),
      JSON.stringify({ permissions: { allow: ['Bash(python3:*)'] } }),
    );
    fs.writeFileSync(path.join(project, 'data.txt'), 'project file');
    const sessionId = await createSession(stack, KEY, { cwd: project });
    try {
      const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
      expect(details.body.config).toMatchObject({ cwd: fs.realpathSync(project), workspace: 'external' });
      const { requests } = await send(sessionId, '[[bash:python3 -c "print(6 * 7)"]]');
      const body = JSON.stringify(requests.map((r) => r.body));
      expect(body).toContain(fs.realpathSync(project));
      // Neither CLAUDE.md nor the project's permission rules were read (settingSources: []).
      expect(body).not.toContain('PROJECT-MEMORY-5d2e');
      // Nobody answered the approval question: the server's default (deny) applied.
      expect(toolResults(lastUserMessage(requests.at(-1)!.body))[0]?.text).toMatch(/No decision arrived/);
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
    // An external workspace is the client's: ending the session leaves it.
    expect(fs.existsSync(path.join(project, 'data.txt'))).toBe(true);
  });

  it('a cwd outside the roots is refused: .., a symlink out, another absolute path', async () => {
    const link = path.join(root, 'escape');
    fs.symlinkSync('/etc', link);
    for (const cwd of [path.join(root, '..'), link, '/etc']) {
      const res = await call(stack.base, 'POST', '/sessions', { key: KEY, body: { cwd } });
      expect(expectError(res, 403, 'FORBIDDEN').details).toMatchObject({ policy: 'WORKSPACE_ROOTS' });
    }
    expectError(
      await call(stack.base, 'POST', '/sessions', { key: KEY, body: { cwd: 'relative/dir' } }),
      400,
      'INVALID_REQUEST',
    );
  });

  it("Claude Code's transcript is the server's: in the process's own config dir and in the store, never shared", async () => {
    const sessionId = await createSession(stack, KEY);
    try {
      await send(sessionId, 'hello');
      const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY });
      const claudeId = details.body.claudeSessionId as string;
      const file = claudeTranscriptPath(stack.dataDir, claudeId);
      expect(file).not.toBeNull();
      // A config dir of this process only (sandboxed), not the one every process shared.
      const base = fs.readFileSync(path.join(stack.dataDir, 'agent-tmp-dir'), 'utf8').trim();
      expect(file!.startsWith(`${base}${path.sep}s-`)).toBe(true);
      expect(fs.existsSync(path.join(stack.dataDir, 'claude', 'projects'))).toBe(false);
      expect(await stack.server.server.stores.transcripts.has(claudeId)).toBe(true);
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });

  it('a model API retry is kept in the history (Claude Code’s system/api_retry)', async () => {
    const sessionId = await createSession(stack, KEY);
    try {
      const { res } = await send(sessionId, 'try again [[flaky:1:529]]');
      expect(res.status).toBe(200);
      const retries = (await history(stack, KEY, sessionId)).filter(
        (m) => m.type === 'system' && m.subtype === 'api_retry',
      );
      expect(retries).toHaveLength(1);
      expect(retries[0]!.content).toMatchObject({ error_status: 529, attempt: 1 });
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });
});

describe('GET /models', () => {
  it("is Claude Code's own catalogue plus the mapped seed ids", async () => {
    const res = await call<{ models: Array<{ id: string; resolvedModel: string | null; source: string }> }>(
      stack.base,
      'GET',
      '/models',
      { key: KEY },
    );
    expect(res.status).toBe(200);
    const ids = res.body.models.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining(['default', 'opus', 'sonnet', 'haiku', 'claude-3-opus-20240229']),
    );
    expect(res.body.models.find((m) => m.id === 'sonnet')).toMatchObject({ source: 'claude_code' });
    expect(res.body.models.find((m) => m.id === 'sonnet')?.resolvedModel).toMatch(/^claude-sonnet-/);
    expect(res.body.models.find((m) => m.id === 'claude-3-opus-20240229')).toMatchObject({
      resolvedModel: 'opus',
      source: 'model_map',
    });
    // Read from Claude Code without a call to the model API.
    expect(stack.fake.requests.filter((r) => r.path.startsWith('/v1/models'))).toHaveLength(0);
  });
});
