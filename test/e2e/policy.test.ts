/**
 * Per-key policy, end to end: keys are made with their policy through the key administration
 * service (as the CLI and the admin API do), and each rule is checked on the real server with
 * the real Claude Code: permission modes, the maxTurns ceiling and default, allowed tools, cwd
 * roots, open sessions, running turns, the daily budget, rate limits, scopes, GET /usage, and
 * revocation (the next request and the open streams of the key).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserMessage, toolResults } from '../../src/fake-anthropic/index.js';
import type { KeyPolicy } from '../../src/domain/policy-fields.js';
import { call, sseRequest, type JsonResponse } from '../helpers/http.js';
import { startStack, tempDir, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  createSession,
  dataOf,
  deleteSession,
  expectError,
  history,
  rateLimitOf,
  SseReader,
  type Completion,
  type ErrorBody,
  type SessionSummary,
} from './support.js';

const DEFAULT_KEY = TEST_KEYS[0];
/** KEY_MAX_TURNS: the server's default maxTurns ceiling for keys that set none. */
const SERVER_MAX_TURNS = 7;
const DAY_S = 24 * 3600;

/** The answer of a message, with the turn's cost. */
interface Answer extends Completion {
  costUsd: number;
}

let stack: Stack;
/** A root only the key with a workspaceRoots policy is limited to, and another server root. */
let keyRoot: string;
let otherRoot: string;

beforeAll(async () => {
  keyRoot = tempDir('key-root');
  otherRoot = tempDir('server-root');
  stack = await startStack({
    env: { WORKSPACE_ROOTS: `${keyRoot},${otherRoot}`, KEY_MAX_TURNS: String(SERVER_MAX_TURNS) },
  });
});
afterAll(async () => {
  await stack?.close();
  for (const dir of [keyRoot, otherRoot]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface TestKey {
  id: string;
  secret: string;
}

async function keyWith(policy: KeyPolicy, name = 'policy test'): Promise<TestKey> {
  const { key, secret } = await stack.server.server.deps.keyAdmin.create({ name, policy });
  return { id: key.id, secret };
}

function createRaw(key: string, body: Record<string, unknown> = {}): Promise<JsonResponse<SessionSummary>> {
  return call<SessionSummary>(stack.base, 'POST', '/sessions', { key, body });
}

function send(key: string, sessionId: string, body: Record<string, unknown>): Promise<JsonResponse<Answer>> {
  return call<Answer>(stack.base, 'POST', `/sessions/${sessionId}/messages`, { key, body });
}

/** A 403 FORBIDDEN whose details name the policy (and match `details`). */
function expectForbidden(res: JsonResponse<unknown>, details: Record<string, unknown>): ErrorBody {
  const error = expectError(res, 403, 'FORBIDDEN');
  expect(error.details).toMatchObject(details);
  return error;
}

/** A 429 with the error code and a Retry-After of at least a second and at most `maxSeconds`. */
function expectTooMany(res: JsonResponse<unknown>, code: string, maxSeconds: number): ErrorBody {
  const error = expectError(res, 429, code);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  return error;
}

describe('permission modes', () => {
  it('bypassPermissions is refused by default, with 403 naming the policy', async () => {
    expectForbidden(await createRaw(DEFAULT_KEY, { permissionMode: 'bypassPermissions' }), {
      policy: 'permissionModes',
      permissionMode: 'bypassPermissions',
      allowed: ['default', 'acceptEdits', 'plan'],
    });
  });

  it('a key whose policy lists bypassPermissions runs a session in it', async () => {
    const key = await keyWith({ permissionModes: ['default', 'bypassPermissions'] });
    const sessionId = await createSession(stack, key.secret, { permissionMode: 'bypassPermissions' });
    try {
      const answered = await send(key.secret, sessionId, { prompt: 'hello' });
      expect(answered.status, JSON.stringify(answered.body)).toBe(200);
      const init = (await history(stack, key.secret, sessionId)).find(
        (m) => m.type === 'system' && m.subtype === 'init',
      );
      // Claude Code itself reports the mode it runs in.
      expect(init?.content).toMatchObject({ permissionMode: 'bypassPermissions' });
    } finally {
      await deleteSession(stack, key.secret, sessionId);
    }
  });

  it("a key's modes replace the server's: one limited to plan cannot take the default mode", async () => {
    const key = await keyWith({ permissionModes: ['plan'] });
    expectForbidden(await createRaw(key.secret), { policy: 'permissionModes', permissionMode: 'default' });
    expectForbidden(await createRaw(key.secret, { permissionMode: 'acceptEdits' }), {
      policy: 'permissionModes',
    });
    const sessionId = await createSession(stack, key.secret, { permissionMode: 'plan' });
    await deleteSession(stack, key.secret, sessionId);
  });
});

describe('maxTurns', () => {
  it("a key's ceiling: above is 403, absent takes the ceiling, and Claude Code stops there", async () => {
    const key = await keyWith({ maxTurns: 1 });
    expectForbidden(await createRaw(key.secret, { maxTurns: 2 }), { policy: 'maxTurns', maxTurns: 1 });
    const created = await createRaw(key.secret, { permissionMode: 'acceptEdits' });
    expect(created.status).toBe(201);
    expect(created.body.maxTurns).toBe(1);
    const sessionId = created.body.sessionId;
    try {
      // Writing a file needs a second model call: maxTurns 1 ends the message before it.
      const answered = await send(key.secret, sessionId, { prompt: '[[write:a.txt:x]]' });
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ stopReason: 'max_turns', status: 'completed' });
    } finally {
      await deleteSession(stack, key.secret, sessionId);
    }
  });

  it("the server's default ceiling (KEY_MAX_TURNS) for a key that sets none", async () => {
    expectForbidden(await createRaw(DEFAULT_KEY, { maxTurns: SERVER_MAX_TURNS + 1 }), {
      policy: 'maxTurns',
      maxTurns: SERVER_MAX_TURNS,
    });
    const created = await createRaw(DEFAULT_KEY);
    expect(created.status).toBe(201);
    expect(created.body.maxTurns).toBe(SERVER_MAX_TURNS);
    await deleteSession(stack, DEFAULT_KEY, created.body.sessionId);
  });
});

describe('allowedTools', () => {
  it('a session may allow only the rules the key permits, and a permitted one runs', async () => {
    const key = await keyWith({ allowedTools: ['Bash(python3:*)', 'Read'] });
    for (const rule of ['Bash', 'Bash(curl:*)', 'Write']) {
      expectForbidden(await createRaw(key.secret, { allowedTools: [rule] }), {
        policy: 'allowedTools',
        tool: rule,
      });
    }
    const sessionId = await createSession(stack, key.secret, { allowedTools: ['Bash(python3:*)', 'Read'] });
    try {
      const mark = stack.fake.mark();
      const answered = await send(key.secret, sessionId, { prompt: '[[bash:python3 -c "print(6 * 7)"]]' });
      expect(answered.status).toBe(200);
      const last = stack.fake
        .messagesRequests()
        .filter((r) => r.id > mark)
        .at(-1);
      expect(toolResults(lastUserMessage(last?.body))[0]?.text).toMatch(/^42$/m);
    } finally {
      await deleteSession(stack, key.secret, sessionId);
    }
  });
});

describe('workspaceRoots', () => {
  it("a cwd inside the key's root works; a server root that is not the key's is refused", async () => {
    const key = await keyWith({ workspaceRoots: [keyRoot] });
    const inKeyRoot = path.join(keyRoot, 'project');
    const inOtherRoot = path.join(otherRoot, 'project');
    fs.mkdirSync(inKeyRoot, { recursive: true });
    fs.mkdirSync(inOtherRoot, { recursive: true });

    expectForbidden(await createRaw(key.secret, { cwd: inOtherRoot }), { policy: 'WORKSPACE_ROOTS' });
    const sessionId = await createSession(stack, key.secret, { cwd: inKeyRoot });
    const details = await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: key.secret });
    expect(details.body.config).toMatchObject({ cwd: fs.realpathSync(inKeyRoot), workspace: 'external' });
    await deleteSession(stack, key.secret, sessionId);

    // The other root is the server's: a key without its own roots may use it.
    const other = await createSession(stack, DEFAULT_KEY, { cwd: inOtherRoot });
    await deleteSession(stack, DEFAULT_KEY, other);
  });
});

describe('maxConcurrentSessions', () => {
  it('the next create is 429 MAX_SESSIONS_REACHED with scope key, until one ends', async () => {
    const key = await keyWith({ maxConcurrentSessions: 1 });
    const first = await createSession(stack, key.secret);
    const error = expectTooMany(await createRaw(key.secret), 'MAX_SESSIONS_REACHED', 3600);
    expect(error.details).toMatchObject({ scope: 'key', policy: 'maxConcurrentSessions', limit: 1 });
    // Other keys are not affected.
    const others = await createSession(stack, DEFAULT_KEY);
    await deleteSession(stack, DEFAULT_KEY, others);

    await deleteSession(stack, key.secret, first);
    const next = await createSession(stack, key.secret);
    await deleteSession(stack, key.secret, next);
  });
});

describe('maxRunningTurns', () => {
  it('a turn in another session of the key is 429 MAX_RUNNING_TURNS_REACHED while one runs', async () => {
    const key = await keyWith({ maxRunningTurns: 1 });
    const slow = await createSession(stack, key.secret);
    const other = await createSession(stack, key.secret);
    try {
      const started = await send(key.secret, slow, { prompt: '[[slow:30:100]]', stream: true });
      expect(started.status).toBe(202);
      const error = expectTooMany(
        await send(key.secret, other, { prompt: 'hello' }),
        'MAX_RUNNING_TURNS_REACHED',
        60,
      );
      expect(error.details).toMatchObject({ policy: 'maxRunningTurns', limit: 1 });
      // Ending the slow session stops its turn; the other session may then run one.
      await deleteSession(stack, key.secret, slow);
      const answered = await send(key.secret, other, { prompt: 'hello' });
      expect(answered.status).toBe(200);
    } finally {
      await deleteSession(stack, key.secret, other);
    }
  });
});

describe('dailyBudgetUsd', () => {
  it('the first turn runs, the next is 429 BUDGET_EXCEEDED; GET /usage shows the spending', async () => {
    const budget = 0.000001;
    const key = await keyWith({ dailyBudgetUsd: budget });
    const sessionId = await createSession(stack, key.secret);
    try {
      const first = await send(key.secret, sessionId, { prompt: 'hello' });
      expect(first.status).toBe(200);
      expect(first.body.costUsd).toBeGreaterThan(budget);

      const refused = await send(key.secret, sessionId, { prompt: 'again' });
      const error = expectTooMany(refused, 'BUDGET_EXCEEDED', DAY_S);
      const midnight = new Date();
      midnight.setUTCHours(24, 0, 0, 0);
      expect(error.details).toMatchObject({
        policy: 'dailyBudgetUsd',
        dailyBudgetUsd: budget,
        resetsAt: midnight.toISOString(),
      });
      expect(error.details.spentUsd as number).toBeCloseTo(first.body.costUsd, 6);

      const usage = await call<{
        total: { turns: number; costUsd: number };
        today: { costUsd: number; dailyBudgetUsd: number | null; remainingUsd: number | null };
      }>(stack.base, 'GET', '/usage', { key: key.secret });
      expect(usage.status).toBe(200);
      expect(usage.body.total.turns).toBe(1);
      expect(usage.body.today.costUsd).toBeCloseTo(first.body.costUsd, 6);
      expect(usage.body.today).toMatchObject({ dailyBudgetUsd: budget, remainingUsd: 0 });
    } finally {
      await deleteSession(stack, key.secret, sessionId);
    }
  });
});

describe('rate limits per key', () => {
  it("a key's own limits replace the server's", async () => {
    const key = await keyWith({ rateLimits: { sessions: 1, messages: 1 } });
    const created = await createRaw(key.secret);
    expect(created.status).toBe(201);
    expect(rateLimitOf(created.headers)).toMatchObject({ limit: 1, remaining: 0 });
    const refused = expectTooMany(await createRaw(key.secret), 'RATE_LIMIT_EXCEEDED', 3600);
    expect(refused.details).toMatchObject({ bucket: 'sessions', limit: 1 });

    const sessionId = created.body.sessionId;
    try {
      const first = await send(key.secret, sessionId, { prompt: 'hello' });
      expect(first.status).toBe(200);
      expect(rateLimitOf(first.headers)).toMatchObject({ limit: 1, remaining: 0 });
      const second = expectTooMany(
        await send(key.secret, sessionId, { prompt: 'again' }),
        'RATE_LIMIT_EXCEEDED',
        3600,
      );
      expect(second.details).toMatchObject({ bucket: 'messages', limit: 1 });
    } finally {
      await deleteSession(stack, key.secret, sessionId);
    }
    // A key without its own limits has the server's (RATE_LIMIT_MESSAGES_PER_HOUR, 100).
    const other = await call(stack.base, 'GET', '/sessions', { key: DEFAULT_KEY });
    expect(rateLimitOf(other.headers).limit).toBe(100);
  });
});

describe('scopes', () => {
  it('a read-only key reads, and is 403 naming the scope on what writes', async () => {
    const key = await keyWith({ scopes: ['read'] });
    for (const url of ['/sessions', '/usage', '/models']) {
      expect((await call(stack.base, 'GET', url, { key: key.secret })).status, url).toBe(200);
    }
    expectForbidden(await createRaw(key.secret), { policy: 'scopes', required: 'write', scopes: ['read'] });
    // Checked before the body is read or anything else is looked up.
    expectForbidden(await send(key.secret, 'sess_unknown', { prompt: 'hi' }), {
      policy: 'scopes',
      required: 'write',
    });
    // Admin routes need an admin key, whatever the scopes.
    expectForbidden(await call(stack.base, 'GET', '/admin/keys', { key: key.secret }), {
      policy: 'admin_key_required',
    });
  });

  it('a write-only key cannot read', async () => {
    const key = await keyWith({ scopes: ['write'] });
    expectForbidden(await call(stack.base, 'GET', '/sessions', { key: key.secret }), {
      policy: 'scopes',
      required: 'read',
    });
  });
});

describe('GET /usage', () => {
  interface UsageRow {
    sessionId: string;
    turns: number;
    usage: Record<string, number>;
    costUsd: number;
  }

  it('totals and per-session rows match each session’s own usage', async () => {
    const key = await keyWith({});
    const a = await createSession(stack, key.secret);
    const b = await createSession(stack, key.secret);
    try {
      for (const [sessionId, prompt] of [
        [a, 'one'],
        [a, 'two'],
        [b, 'three'],
      ] as const) {
        expect((await send(key.secret, sessionId, { prompt })).status).toBe(200);
      }
      const usage = await call<{
        total: { turns: number; usage: Record<string, number>; costUsd: number };
        sessions: UsageRow[];
      }>(stack.base, 'GET', '/usage', { key: key.secret });
      expect(usage.status).toBe(200);
      expect(usage.body.sessions.map((r) => r.sessionId).sort()).toEqual([a, b].sort());

      const totals = { turns: 0, costUsd: 0, inputTokens: 0, outputTokens: 0 };
      for (const row of usage.body.sessions) {
        const details = await call<{ usage: Record<string, number> }>(
          stack.base,
          'GET',
          `/sessions/${row.sessionId}`,
          { key: key.secret },
        );
        const { costUsd, ...tokens } = details.body.usage;
        expect(row.usage).toEqual(tokens);
        expect(row.costUsd).toBeCloseTo(costUsd!, 6);
        expect(row.turns).toBe(row.sessionId === a ? 2 : 1);
        totals.turns += row.turns;
        totals.costUsd += row.costUsd;
        totals.inputTokens += row.usage.inputTokens!;
        totals.outputTokens += row.usage.outputTokens!;
      }
      expect(totals.inputTokens).toBeGreaterThan(0);
      expect(usage.body.total.turns).toBe(3);
      expect(usage.body.total.costUsd).toBeCloseTo(totals.costUsd, 6);
      expect(usage.body.total.usage).toMatchObject({
        inputTokens: totals.inputTokens,
        outputTokens: totals.outputTokens,
      });
      // Another key's usage is its own.
      const other = await call<{ sessions: UsageRow[] }>(stack.base, 'GET', '/usage', { key: DEFAULT_KEY });
      expect(other.body.sessions.map((r) => r.sessionId)).not.toContain(a);
    } finally {
      await deleteSession(stack, key.secret, a);
      await deleteSession(stack, key.secret, b);
    }
  });
});

describe('revocation', () => {
  it('the next request is 401; an open stream ends with INVALID_API_KEY; the turn completes', async () => {
    const { deps } = stack.server.server;
    const key = await keyWith({}, 'revoked soon');
    const sessionId = await createSession(stack, key.secret);
    const res = await sseRequest(stack.base, 'POST', `/sessions/${sessionId}/stream`, key.secret, {
      prompt: '[[slow:30:100]]',
    });
    expect(res.status).toBe(200);
    const reader = new SseReader(res);
    // The stream is open and the turn runs: its first event is the prompt.
    const first = await reader.next();
    expect(first?.event).toBe('message');
    const messageId = dataOf<{ turnId: string }>(first!).turnId;

    const revokedAt = Date.now();
    await deps.keyAdmin.revoke(key.id);
    expectError(await call(stack.base, 'GET', '/sessions', { key: key.secret }), 401, 'INVALID_API_KEY');

    const rest = await reader.rest();
    const endedAfterMs = Date.now() - revokedAt;
    const last = rest.at(-1);
    expect(last?.event).toBe('error');
    expect(last?.id).toBeNull();
    expect(dataOf(last!)).toMatchObject({ code: 'INVALID_API_KEY' });
    expect(rest.some((e) => e.event === 'complete')).toBe(false);
    expect(endedAfterMs).toBeLessThan(2500);
    expect(reader.raw).not.toMatch(/^id: .*\nevent: error/m);

    // The turn itself runs to its end and is stored.
    await deps.registry.peek(sessionId)?.turn?.done;
    const turn = await stack.server.server.stores.turns.getTurn(messageId);
    expect(turn?.status).toBe('completed');
    expect(turn?.completion?.response).toContain('[30/30]');

    const record = await stack.server.server.stores.keys.getKey(key.id);
    if (record) await deps.sessions.end(record, sessionId);
  });
});
