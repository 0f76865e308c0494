/**
 * The Managed Agents API (`/v1`) through the official SDK against the real HTTP server (with the
 * fake agent runner: Claude Code itself is the e2e suite's, test/e2e/managed-agents.test.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Anthropic, { toFile } from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { msg, result } from '../helpers/fake-agent-runner.js';
import { KEY_A, KEY_B, startApp, type Harness } from './harness.js';

let h: Harness;
let base: string;
const client = (key: string = KEY_A, options: Record<string, unknown> = {}) =>
  new Anthropic({ apiKey: key, baseURL: base, maxRetries: 0, ...options });

beforeEach(async () => {
  h = await startApp();
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await h?.close();
});

async function agentAndEnvironment(c: Anthropic) {
  const agent = await c.beta.agents.create({
    name: 'coder',
    model: 'claude-sonnet-4-6',
    system: 'Be brief.',
  });
  const environment = await c.beta.environments.create({ name: 'sandbox' });
  return { agent, environment };
}

describe('/v1 agents and environments', () => {
  it('creates, updates as a new version, lists versions, archives', async () => {
    const c = client();
    const agent = await c.beta.agents.create({
      name: 'coder',
      model: 'claude-sonnet-4-6',
      tools: [
        {
          type: 'agent_toolset_20260401',
          configs: [{ name: 'bash', permission_policy: { type: 'always_ask' } }],
        },
      ],
    });
    expect(agent).toMatchObject({
      type: 'agent',
      name: 'coder',
      version: 1,
      model: { id: 'claude-sonnet-4-6' },
    });
    expect(agent.tools[0]).toMatchObject({
      type: 'agent_toolset_20260401',
      configs: [{ name: 'bash', permission_policy: { type: 'always_ask' } }],
    });
    const v2 = await c.beta.agents.update(agent.id, { system: 'Be terse.', version: 1 });
    expect(v2.version).toBe(2);
    expect((await c.beta.agents.retrieve(agent.id)).system).toBe('Be terse.');
    const versions = [];
    for await (const v of c.beta.agents.versions.list(agent.id)) versions.push(v.version);
    expect(versions).toEqual([2, 1]);
    await expect(c.beta.agents.update(agent.id, { name: 'x', version: 1 })).rejects.toBeInstanceOf(
      Anthropic.BadRequestError,
    );
    const archived = await c.beta.agents.archive(agent.id);
    expect(archived.archived_at).not.toBeNull();
    const listed = [];
    for await (const a of c.beta.agents.list()) listed.push(a.id);
    expect(listed).toEqual([]);
  });

  it("another key's agent is NotFoundError; unsupported features are BadRequestError naming them", async () => {
    const { agent } = await agentAndEnvironment(client());
    await expect(client(KEY_B).beta.agents.retrieve(agent.id)).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    const refused = await client()
      .beta.agents.create({
        name: 'x',
        model: 'claude-sonnet-4-6',
        mcp_servers: [{ name: 'm', type: 'url', url: 'http://x' }],
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    expect((refused as InstanceType<typeof Anthropic.BadRequestError>).message).toContain('mcp_servers');
    const env = await client()
      .beta.environments.create({
        name: 'n',
        config: { type: 'cloud', networking: { type: 'unrestricted' } },
      })
      .catch((e: unknown) => e);
    expect(env).toBeInstanceOf(Anthropic.BadRequestError);
    await expect(client().beta.vaults.list()).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe('/v1 errors and headers', () => {
  it('a bad key is AuthenticationError; Bearer works too; the request id is in request-id', async () => {
    await expect(client('nope').beta.agents.list()).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    // No anthropic-version / anthropic-beta at all: accepted; an unknown beta: ignored.
    const res = await fetch(`${base}/v1/agents`, { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('anthropic-ratelimit-requests-limit')).toBe(res.headers.get('x-ratelimit-limit'));
    const odd = await fetch(`${base}/v1/agents`, {
      headers: { 'x-api-key': KEY_A, 'anthropic-version': '1999-01-01', 'anthropic-beta': 'not-a-beta-2099' },
    });
    expect(odd.status).toBe(200);
    const missing = await fetch(`${base}/v1/sessions/sess_nope`, { headers: { 'x-api-key': KEY_A } });
    const body = (await missing.json()) as { type: string; error: { type: string }; request_id: string };
    expect(missing.status).toBe(404);
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('not_found_error');
    expect(missing.headers.get('request-id')).toBe(body.request_id);
  });
});

describe('/v1 sessions', () => {
  it('a /v1 session is a seed session; a message runs a turn; events list it', async () => {
    const c = client();
    const { agent, environment } = await agentAndEnvironment(c);
    const session = await c.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      title: 't',
    });
    expect(session).toMatchObject({
      type: 'session',
      title: 't',
      status: 'idle',
      environment_id: environment.id,
    });
    const seed = await fetch(`${base}/api/v1/sessions/${session.id}`, { headers: { 'x-api-key': KEY_A } });
    expect(seed.status).toBe(200);
    // A session started through /api/v1 is retrieved and listed on /v1 too.
    const viaSeed = await fetch(`${base}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'x-api-key': KEY_A, 'content-type': 'application/json' },
      body: JSON.stringify({ systemPrompt: 'seed' }),
    });
    const seedId = ((await viaSeed.json()) as { sessionId: string }).sessionId;
    expect(await c.beta.sessions.retrieve(seedId)).toMatchObject({
      id: seedId,
      agent: { system: 'seed', version: 0 },
    });
    const listedIds = [];
    for await (const s of c.beta.sessions.list({ order: 'asc' })) listedIds.push(s.id);
    expect(listedIds).toEqual([session.id, seedId]);
    const sent = await c.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'hello' }] }],
    });
    expect(sent.data?.[0]).toMatchObject({ type: 'user.message' });
    const deadline = Date.now() + 5000;
    let types: string[] = [];
    while (Date.now() < deadline) {
      types = [];
      for await (const e of c.beta.sessions.events.list(session.id)) types.push(e.type);
      if (types.includes('session.status_idle')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(types).toEqual([
      'user.message',
      'session.status_running',
      'agent.message',
      'session.usage',
      'session.status_idle',
    ]);
    await expect(client(KEY_B).beta.sessions.retrieve(session.id)).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    const deleted = await c.beta.sessions.delete(session.id);
    expect(deleted).toEqual({ id: session.id, type: 'session_deleted' });
    await expect(c.beta.sessions.retrieve(session.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});

/** Waits until the session's log, as /v1 lists it, has an event of the type. */
async function eventsUntil(
  c: Anthropic,
  sessionId: string,
  type: string,
): Promise<Array<{ id: string; type: string }>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const all: Array<{ id: string; type: string }> = [];
    for await (const e of c.beta.sessions.events.list(sessionId)) all.push(e);
    if (all.some((e) => e.type === type) || Date.now() > deadline) return all;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('/v1 refusals: what cannot mean anything here is a BadRequestError naming it', () => {
  it('session features, resources, events and stream options', async () => {
    const c = client();
    const { agent, environment } = await agentAndEnvironment(c);
    const refused = async (p: Promise<unknown>, name: string) => {
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect((err as Error).message).toContain(name);
    };
    const base = { agent: agent.id, environment_id: environment.id };
    // A repository is cloned only from a remote on the key's allow-list: none here.
    const notAllowed = await c.beta.sessions
      .create({ ...base, resources: [{ type: 'github_repository', url: 'https://github.com/a/b' }] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(notAllowed).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((notAllowed as Error).message).toContain('gitRemotes');
    await refused(
      c.beta.sessions.create({
        ...base,
        budget: { type: 'limit', max_list_cost: { amount: '1', currency: 'USD' } },
      } as never),
      'budget',
    );
    await refused(c.beta.sessions.create({ ...base, vault_ids: ['v1'] }), 'vault_ids');
    await refused(
      c.beta.sessions.create({ ...base, resources: [{ type: 'memory_store', memory_store_id: 'm' }] }),
      'memory_store',
    );
    await refused(c.beta.sessions.create({ ...base, unknown_field: 1 } as never), 'unknown_field');
    const session = await c.beta.sessions.create(base);
    await refused(
      c.beta.sessions.events.send(session.id, {
        events: [
          { type: 'user.define_outcome', description: 'd', rubric: { type: 'text', content: 'r' } } as never,
        ],
      }),
      'outcomes',
    );
    await refused(
      c.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.custom_tool_result', custom_tool_use_id: 'x' }],
      }),
      'custom_tool_result',
    );
    await refused(
      c.beta.sessions.events.stream(session.id, {
        event_deltas: ['agent.tool_use' as 'agent.message'],
      }),
      'event_deltas',
    );
    await refused(c.beta.sessions.threads.list(session.id), 'threads');
    await refused(c.beta.agents.list({ 'created_at[gte]': '2026-01-01T00:00:00Z' }), 'created_at');
    await refused(
      c.beta.agents.create({
        name: 'x',
        model: 'claude-sonnet-4-5',
        tools: [{ type: 'custom', name: 'c', description: 'd', input_schema: { type: 'object' } }],
      }),
      'custom tools',
    );
    await refused(
      c.beta.environments.create({ name: 'x', config: { type: 'cloud', packages: { pip: ['numpy'] } } }),
      'packages',
    );
    // Nothing was half-done: no turn ran for the refused events.
    expect(h.runner.prompts).toEqual([]);
    const bad = await fetch(`${base_()}/v1/sessions/${session.id}/events/stream`, {
      headers: { 'x-api-key': KEY_A, 'last-event-id': 'yesterday' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

const base_ = () => base;

describe('/v1 files and resources', () => {
  it('a file larger than BODY_LIMIT_BYTES (JSON bodies) uploads whole under MANAGED_FILE_MAX_BYTES', async () => {
    const c = client();
    const bytes = Buffer.alloc(2 * 1024 * 1024, 7);
    const file = await c.beta.files.upload({ file: await toFile(bytes, 'blob.bin') });
    expect(file.size_bytes).toBe(bytes.length);
    const back = Buffer.from(await (await c.beta.files.download(file.id)).arrayBuffer());
    expect(back.equals(bytes)).toBe(true);
  });

  it('uploads within the size limit only; a mount path cannot leave the workspace', async () => {
    await h.close();
    h = await startApp({ MANAGED_FILE_MAX_BYTES: '16' });
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const c = client();
    await expect(
      c.beta.files.upload({ file: await toFile(Buffer.alloc(17, 'a'), 'big.txt') }),
    ).rejects.toMatchObject({ status: 413 });
    const file = await c.beta.files.upload({ file: await toFile(Buffer.from('small'), 'small.txt') });
    expect(file).toMatchObject({ size_bytes: 5, filename: 'small.txt' });
    const { agent, environment } = await agentAndEnvironment(c);
    await expect(
      c.beta.sessions.create({
        agent: agent.id,
        environment_id: environment.id,
        resources: [{ type: 'file', file_id: file.id, mount_path: '../outside.txt' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    // Two resources at one path: the second cannot mount after the session was made; the
    // session is not left behind.
    await expect(
      c.beta.sessions.create({
        agent: agent.id,
        environment_id: environment.id,
        resources: [
          { type: 'file', file_id: file.id, mount_path: 'same.txt' },
          { type: 'file', file_id: file.id, mount_path: 'same.txt' },
        ],
      }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    expect(h.deps.registry.all()).toHaveLength(0);
    const sessionsNow = [];
    for await (const s of c.beta.sessions.list()) sessionsNow.push(s.id);
    expect(sessionsNow).toEqual([]);
    const session = await c.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    const added = await c.beta.sessions.resources.add(session.id, { type: 'file', file_id: file.id });
    expect(added).toMatchObject({ type: 'file', file_id: file.id, mount_path: 'uploads/small.txt' });
    const cwd = h.deps.registry.peek(session.id)?.record.config.cwd as string;
    expect(fs.readFileSync(path.join(cwd, 'uploads/small.txt'), 'utf8')).toBe('small');
    // The same path again: refused, the first copy kept.
    await expect(
      c.beta.sessions.resources.add(session.id, { type: 'file', file_id: file.id }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    const listed = [];
    for await (const r of c.beta.sessions.resources.list(session.id)) listed.push((r as { id: string }).id);
    expect(listed).toEqual([added.id]);
    expect(await c.beta.sessions.resources.retrieve(added.id, { session_id: session.id })).toMatchObject({
      id: added.id,
    });
    await c.beta.sessions.resources.delete(added.id, { session_id: session.id });
    expect(fs.existsSync(path.join(cwd, 'uploads/small.txt'))).toBe(false);
  });
});

describe('/v1 events: the view of the log', () => {
  it('a tool call and its result, positions that resume inside one log event, desc order and pages', async () => {
    const c = client();
    const { agent, environment } = await agentAndEnvironment(c);
    const session = await c.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    h.runner.script({
      messages: [
        msg.init(),
        {
          type: 'assistant',
          message: {
            id: 'msg_api_1',
            role: 'assistant',
            content: [
              { type: 'text', text: 'Listing.' },
              { type: 'tool_use', id: 'toolu_9', name: 'Bash', input: { command: 'ls' } },
            ],
          },
          parent_tool_use_id: null,
        },
        msg.toolResult('toolu_9', 'a.txt'),
        msg.assistant('Done.', 'msg_api_2'),
      ],
      end: { result: result({ text: 'Done.' }) },
    });
    await c.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'ls' }] }],
    });
    const all = await eventsUntil(c, session.id, 'session.status_idle');
    expect(all.map((e) => e.type)).toEqual([
      'user.message',
      'session.status_running',
      'agent.message',
      'agent.tool_use',
      'agent.tool_result',
      'agent.message',
      'session.usage',
      'session.status_idle',
    ]);
    expect(all[3]).toMatchObject({ id: 'sevt_toolu_9', name: 'bash', input: { command: 'ls' } });
    expect(all[4]).toMatchObject({
      tool_use_id: 'sevt_toolu_9',
      is_error: false,
      content: [{ type: 'text', text: 'a.txt' }],
    });

    // Resume inside the log event that made both agent.message and agent.tool_use.
    const raw = await fetch(`${base}/v1/sessions/${session.id}/events/stream`, {
      headers: { 'x-api-key': KEY_A, 'last-event-id': '0.0' },
    });
    const text = await readSse(raw, 8);
    const ids = [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]);
    const toolUseAt = ids[3] as string;
    expect(ids[2]?.split('.')[0]).toBe(toolUseAt.split('.')[0]);
    const resumed = await fetch(`${base}/v1/sessions/${session.id}/events/stream`, {
      headers: { 'x-api-key': KEY_A, 'last-event-id': ids[2] as string },
    });
    const rest = await readSse(resumed, 5);
    expect([...rest.matchAll(/^event: (.*)$/gm)].map((m) => m[1])).toEqual([
      'agent.tool_use',
      'agent.tool_result',
      'agent.message',
      'session.usage',
      'session.status_idle',
    ]);

    const desc = await c.beta.sessions.events.list(session.id, { order: 'desc', limit: 2 });
    expect(desc.data.map((e) => e.type)).toEqual(['session.status_idle', 'session.usage']);
    const next = await desc.getNextPage();
    expect(next.data.map((e) => e.type)).toEqual(['agent.message', 'agent.tool_result']);
    const onlyTools = await c.beta.sessions.events.list(session.id, {
      types: ['agent.tool_use', 'agent.tool_result'],
    });
    expect(onlyTools.data.map((e) => e.type)).toEqual(['agent.tool_use', 'agent.tool_result']);
  });
});

/** Reads a raw SSE response until it has `count` events with an id, then closes it. */
async function readSse(res: Response, count: number): Promise<string> {
  const reader = res.body!.getReader();
  let text = '';
  while ((text.match(/^id: /gm) ?? []).length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  return text;
}

describe('/v1 initial events', () => {
  it('a session created with initial_events runs them as its first turn', async () => {
    const c = client();
    const { agent, environment } = await agentAndEnvironment(c);
    const session = await c.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      initial_events: [{ type: 'user.message', content: [{ type: 'text', text: 'start here' }] }],
    });
    const events = await eventsUntil(c, session.id, 'session.status_idle');
    expect(events[0]).toMatchObject({
      type: 'user.message',
      content: [{ type: 'text', text: 'start here' }],
    });
    expect(h.runner.prompts).toEqual(['start here']);
  });
});

describe('/v1 queued messages', () => {
  it('a message sent while a turn runs waits behind it; the session is idle only after the last', async () => {
    const c = client();
    const { agent, environment } = await agentAndEnvironment(c);
    const session = await c.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    let finish!: () => void;
    h.runner.script({
      messages: [msg.init(), msg.assistant('first')],
      end: { result: result({ text: 'first' }) },
      waitFor: new Promise<void>((resolve) => (finish = resolve)),
    });
    h.runner.script({
      messages: [msg.init(), msg.assistant('second')],
      end: { result: result({ text: 'second' }) },
    });
    const stream = await c.beta.sessions.events.stream(session.id);
    const say = (text: string) =>
      c.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
      });
    await say('one');
    await say('two');
    finish();
    const seen: string[] = [];
    for await (const e of stream) {
      seen.push(
        e.type === 'agent.message'
          ? `agent.message:${e.content.map((b) => ('text' in b ? b.text : '')).join('')}`
          : e.type,
      );
      if (e.type === 'session.status_idle') break;
    }
    expect(seen).toEqual([
      'user.message',
      'session.status_running',
      'agent.message:first',
      'session.usage',
      'user.message',
      'session.status_running',
      'agent.message:second',
      'session.usage',
      'session.status_idle',
    ]);
    const listed = await eventsUntil(c, session.id, 'session.status_idle');
    expect(listed.filter((e) => e.type === 'session.status_idle')).toHaveLength(1);
    // session.usage is the session's total so far: each fake turn used 10 input, 5 output tokens.
    const usages = listed.filter((e) => e.type === 'session.usage') as unknown as Array<{
      usage: { input_tokens: number; output_tokens: number };
    }>;
    expect(usages.map((u) => [u.usage.input_tokens, u.usage.output_tokens])).toEqual([
      [10, 5],
      [20, 10],
    ]);
  });
});

describe('/v1 stream limits', () => {
  it("a stream that runs out of the key's events bucket ends with an error event in Anthropic's shape", async () => {
    await h.close();
    h = await startApp({ RATE_LIMIT_EVENTS_PER_HOUR: '2' });
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const c = client();
    const { agent, environment } = await agentAndEnvironment(c);
    const session = await c.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    const stream = await c.beta.sessions.events.stream(session.id);
    await c.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }],
    });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const e of stream) seen.push(e.type);
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(seen).toEqual(['user.message', 'session.status_running']);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect((failure as { error: { error: { type: string } } }).error.error.type).toBe('rate_limit_error');
  });
});

describe('/v1 github_repository resources', () => {
  it('clone the repository as the session workspace, from allowed remotes only, at creation only', async () => {
    const origin = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-origin-'));
    const env = {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    };
    execFileSync('git', ['init', '-q', '-b', 'main', origin], { env });
    fs.writeFileSync(path.join(origin, 'README.md'), 'from the repository\n');
    execFileSync('git', ['-C', origin, 'add', '.'], { env });
    execFileSync('git', ['-C', origin, 'commit', '-q', '-m', 'first'], { env });
    try {
      await h.close();
      h = await startApp({ GIT_REMOTES: `file://${origin}` });
      base = await h.app.listen({ host: '127.0.0.1', port: 0 });
      const c = client();
      const { agent, environment } = await agentAndEnvironment(c);
      const session = await c.beta.sessions.create({
        agent: agent.id,
        environment_id: environment.id,
        resources: [
          { type: 'github_repository', url: `file://${origin}`, checkout: { type: 'branch', name: 'main' } },
        ],
      });
      // The same session through the seed API: its workspace is the clone.
      const seed = await h.app.inject({
        url: `/api/v1/sessions/${session.id}`,
        headers: { 'x-api-key': KEY_A },
      });
      const cwd = (seed.json() as { config: { cwd: string } }).config.cwd;
      expect(fs.readFileSync(path.join(cwd, 'README.md'), 'utf8')).toBe('from the repository\n');

      const refused = async (p: Promise<unknown>, name: string) => {
        const err = await p.then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(Anthropic.BadRequestError);
        expect((err as Error).message).toContain(name);
      };
      const repo = { type: 'github_repository' as const, url: `file://${origin}` };
      await refused(
        c.beta.sessions.resources.add(session.id, repo as never),
        'github_repository resources added to a running session',
      );
      await refused(
        c.beta.sessions.create({
          agent: agent.id,
          environment_id: environment.id,
          resources: [{ ...repo, mount_path: '/workspace/elsewhere' }],
        }),
        'mount_path',
      );
      await refused(
        c.beta.sessions.create({
          agent: agent.id,
          environment_id: environment.id,
          resources: [{ ...repo, checkout: { type: 'commit', sha: 'abc' } }],
        }),
        'commit checkouts',
      );
    } finally {
      fs.rmSync(origin, { recursive: true, force: true });
    }
  });
});
