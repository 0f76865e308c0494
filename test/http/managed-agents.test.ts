/**
 * The Managed Agents API (`/v1`) through the official SDK against the real HTTP server (with the
 * fake agent runner: Claude Code itself is the e2e suite's, test/e2e/managed-agents.test.ts).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
    const res = await fetch(`${base}/v1/agents`, { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(res.status).toBe(200);
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
    expect(types).toEqual(['user.message', 'session.status_running', 'agent.message', 'session.status_idle']);
    await expect(client(KEY_B).beta.sessions.retrieve(session.id)).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    const deleted = await c.beta.sessions.delete(session.id);
    expect(deleted).toEqual({ id: session.id, type: 'session_deleted' });
    await expect(c.beta.sessions.retrieve(session.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});
