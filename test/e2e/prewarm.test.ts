/**
 * Prewarmed Claude Code processes (PREWARM_PROCESSES): a new session with the server's default
 * options starts on a spare claimed as it parked, one with prompts on a spare it claims at create
 * (once such sessions came), rather than a cold start; either is told the same things as a cold
 * one (system prompt, tools, model); a refused claim falls back to a cold start within the same
 * turn; with 0 no spare runs. Containment with spares is covered by workspace-escape and
 * containment, which run with a spare (`WITH_SPARES`, a real server's default) where the other
 * test servers run without one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestUserTexts, type RecordedRequest } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { startStack, TEST_KEYS, WITH_SPARES, type Stack } from '../helpers/test-server.js';
import { assistantTexts, createSession, deleteSession, history, type Completion } from './support.js';

const KEY = TEST_KEYS[0];

interface Spares {
  ready: number;
  claimed: number;
}

async function spares(stack: Stack): Promise<Spares> {
  const res = await call<{ spares: Spares }>(stack.base, 'GET', '/health', {
    key: KEY,
  });
  expect(res.status).toBe(200);
  return res.body.spares;
}

/** Polls /health until a spare is parked (starting one takes about a second on this machine). */
async function spareReady(stack: Stack): Promise<Spares> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const now = await spares(stack);
    if (now.ready > 0) return now;
    if (Date.now() > deadline) throw new Error('no spare was parked within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function send(stack: Stack, sessionId: string, prompt: string) {
  const mark = stack.fake.mark();
  const res = await call<Completion & { messageId: string }>(
    stack.base,
    'POST',
    `/sessions/${sessionId}/messages`,
    {
      key: KEY,
      body: { prompt },
    },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return stack.fake.messagesRequests().filter((r) => r.id > mark);
}

/** The user texts of the whole conversation the model API was sent for the turn of `prompt`. */
async function contextOf(stack: Stack, sessionId: string, prompt: string): Promise<string[]> {
  const requests = await send(stack, sessionId, prompt);
  return requestUserTexts(requests.at(-1)!);
}

async function turnIds(stack: Stack, sessionId: string): Promise<string[]> {
  return (await history(stack, KEY, sessionId)).filter((m) => m.source === 'client').map((m) => m.turnId!);
}

/**
 * What Claude Code told the model API, with what differs between any two sessions taken out: the
 * session's folder (also as Claude Code names its project, every other character a dash) and
 * the process's own config dir.
 */
function told(request: RecordedRequest, cwd: string) {
  const body = request.body as { system?: unknown; tools?: Array<{ name: string }>; model?: string };
  const system = Array.isArray(body.system)
    ? body.system.map((b: { text?: string }) => b.text ?? '').join('\n')
    : String(body.system ?? '');
  return {
    model: body.model,
    system: system
      .split(cwd)
      .join('<cwd>')
      .split(cwd.replace(/[^a-zA-Z0-9]/g, '-'))
      .join('<project>')
      .replace(/\/s-[A-Za-z0-9]+\/config\//g, '/<process>/config/'),
    tools: (body.tools ?? []).map((t) => t.name).sort(),
  };
}

async function sessionCwd(stack: Stack, sessionId: string): Promise<string> {
  const res = await call<{ config: { cwd: string } }>(stack.base, 'GET', `/sessions/${sessionId}`, {
    key: KEY,
  });
  return res.body.config.cwd;
}

describe('prewarmed processes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { DISALLOWED_TOOLS: 'WebFetch', ...WITH_SPARES } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** Two sessions, one on a spare and one cold, sent the same prompt: what each told the model API. */
  async function toldBoth(warm: string, cold: string) {
    // The same prompt: Claude Code's billing header carries a hash of the first message.
    const warmRequests = await send(stack, warm, 'hello');
    const coldRequests = await send(stack, cold, 'hello');
    return {
      warm: told(warmRequests.at(-1)!, await sessionCwd(stack, warm)),
      cold: told(coldRequests.at(-1)!, await sessionCwd(stack, cold)),
    };
  }

  it('a new session’s first turn is served by a claimed spare, told what a cold start is told', async () => {
    const sessions: string[] = [];
    const create = async (body: Record<string, unknown>) => {
      sessions.push(await createSession(stack, KEY, body));
      return sessions.at(-1)!;
    };
    try {
      // A plain session takes the spare claimed as it parked. maxTurns is fixed when Claude Code
      // starts: no spare carries it, so the other one starts cold.
      const before = await spareReady(stack);
      const plain = await toldBoth(await create({}), await create({ maxTurns: 50 }));
      expect((await spares(stack)).claimed).toBe(before.claimed + 1);
      expect(plain.warm.tools).not.toContain('WebFetch');
      expect(plain.warm.tools).toContain('Bash');
      expect(plain.warm).toEqual(plain.cold);

      // A session with prompts starts cold beside a spare claimed ahead, and from then on spares
      // wait parked: the next such session claims one with its prompts.
      const prompts = { systemPrompt: 'SESSION-PROMPT-3c1d', appendSystemPrompt: 'APPENDED-9e2f' };
      await create(prompts);
      const parked = await spareReady(stack);
      const withPrompts = await toldBoth(await create(prompts), await create({ ...prompts, maxTurns: 50 }));
      expect((await spares(stack)).claimed).toBe(parked.claimed + 1);
      expect(withPrompts.warm.system).toContain('SESSION-PROMPT-3c1d');
      expect(withPrompts.warm.system).toContain('APPENDED-9e2f');
      expect(withPrompts.warm).toEqual(withPrompts.cold);

      // The spare is replaced in the background.
      await spareReady(stack);
    } finally {
      for (const id of sessions) await deleteSession(stack, KEY, id);
    }
  }, 120_000);

  it('a session started on a spare keeps its conversation across turns', async () => {
    await spareReady(stack);
    const sessionId = await createSession(stack, KEY);
    try {
      await send(stack, sessionId, 'remember WALRUS-4471');
      const second = await send(stack, sessionId, 'what did I ask you to remember?');
      const text = JSON.stringify(second.at(-1)!.body);
      expect(text).toContain('WALRUS-4471');
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });
});

describe('a session started on a spare', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: WITH_SPARES });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('is parked and resumed, rewound and forked like any other', async () => {
    const before = await spareReady(stack);
    const sessionId = await createSession(stack, KEY);
    const forks: string[] = [];
    try {
      await send(stack, sessionId, 'The code word is heron.');
      expect((await spares(stack)).claimed).toBe(before.claimed + 1);
      await send(stack, sessionId, 'And the colour is teal.');

      // Parked: its next message resumes the conversation Claude Code recorded under the id the
      // spare was started with.
      const { deps, pool } = stack.server.server;
      const session = deps.registry.find(await deps.keys.authenticate(KEY), sessionId);
      expect(await pool.park(session)).toBe(true);
      expect(await contextOf(stack, sessionId, 'What did I tell you? [[recall]]')).toEqual([
        'The code word is heron.',
        'And the colour is teal.',
        'What did I tell you? [[recall]]',
      ]);

      // Rewound to before the second turn: the conversation goes on from the first.
      const [, second] = await turnIds(stack, sessionId);
      const rewound = await call(stack.base, 'POST', `/sessions/${sessionId}/rewind`, {
        key: KEY,
        body: { messageId: second },
      });
      expect(rewound.status, JSON.stringify(rewound.body)).toBe(200);
      expect(await contextOf(stack, sessionId, 'And now? [[recall]]')).toEqual([
        'The code word is heron.',
        'And now? [[recall]]',
      ]);

      // Forked at its first turn: the fork continues from there (a copy: a cold start).
      const [first] = await turnIds(stack, sessionId);
      const forked = await call<{ sessionId: string }>(stack.base, 'POST', `/sessions/${sessionId}/fork`, {
        key: KEY,
        body: { messageId: first },
      });
      expect(forked.status, JSON.stringify(forked.body)).toBe(201);
      forks.push(forked.body.sessionId);
      expect(await contextOf(stack, forked.body.sessionId, 'In the fork? [[recall]]')).toEqual([
        'The code word is heron.',
        'In the fork? [[recall]]',
      ]);
    } finally {
      for (const id of [sessionId, ...forks]) await deleteSession(stack, KEY, id);
    }
  }, 120_000);
});

describe('a claim Claude Code refuses', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The workspace's project settings are read: a spare refuses a folder whose settings set
    // `env` (Claude Code read its environment at start, before the folder was known).
    stack = await startStack({ env: { CLAUDE_SETTING_SOURCES: 'project', ...WITH_SPARES } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('falls back to a cold start: the client sees one normal turn', async () => {
    const refusedSettings = {
      files: [
        {
          path: '.claude/settings.json',
          content: JSON.stringify({ env: { PREWARM_REFUSAL: '1' } }),
          encoding: 'utf8',
        },
      ],
    };
    // A session with files in its workspace cannot take the spare claimed ahead in an empty one:
    // it starts cold, and spares wait parked from then on, claimed at create.
    const first = await createSession(stack, KEY, refusedSettings);
    await send(stack, first, 'hello first');
    await deleteSession(stack, KEY, first);
    const before = await spareReady(stack);
    const sessionId = await createSession(stack, KEY, refusedSettings);
    try {
      // The session took the spare (its folder was the spare's)…
      expect((await spares(stack)).ready).toBe(before.ready - 1);
      await send(stack, sessionId, 'hello after a refusal');
      // …but its process is a cold one.
      expect((await spares(stack)).claimed).toBe(before.claimed);
      const texts = assistantTexts(await history(stack, KEY, sessionId));
      expect(texts.join(' ')).toContain('hello after a refusal');
      const cwd = await sessionCwd(stack, sessionId);
      expect(fs.existsSync(path.join(cwd, '.claude', 'settings.json'))).toBe(true);
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });
});

describe('PREWARM_PROCESSES=0', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PREWARM_PROCESSES: '0' } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('starts no spare: sessions start cold as before', async () => {
    const sessionId = await createSession(stack, KEY);
    try {
      await send(stack, sessionId, 'hello');
      expect(await spares(stack)).toEqual({ ready: 0, claimed: 0 });
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });
});
