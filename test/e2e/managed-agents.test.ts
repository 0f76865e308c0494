/**
 * The Managed Agents API (`/v1`) driven only by Anthropic's official TypeScript SDK, against the
 * real server, the real Claude Code and the fake model API. Hand-made HTTP appears only where the
 * SDK cannot go: the seed API's view of the same session, a key with a tiny rate limit (set up
 * through the admin API), and a stream read by hand to know its `id:`s (Last-Event-ID).
 */
import Anthropic, { toFile } from '@anthropic-ai/sdk';
// The SDK's own SSE reader, over a raw fetch that can send Last-Event-ID.
import { Stream } from '@anthropic-ai/sdk/core/streaming';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';

const KEY = TEST_KEYS[0];
const ADMIN_KEY = 'ccr_e2e_admin_key_managed_agents_00000001';

type Ev = { id: string; type: string; [field: string]: unknown };

let stack: Stack;
let root: string;
let client: Anthropic;
let environmentId: string;

const sdk = (key: string, options: Record<string, unknown> = {}) =>
  new Anthropic({ apiKey: key, baseURL: root, maxRetries: 0, ...options });

/** Reads a stream until an event matches; the stream is closed on the way out. */
async function readUntil(stream: AsyncIterable<unknown>, done: (e: Ev) => boolean): Promise<Ev[]> {
  const seen: Ev[] = [];
  for await (const raw of stream) {
    const event = raw as Ev;
    seen.push(event);
    if (done(event)) break;
  }
  return seen;
}

const idle = (e: Ev) => e.type === 'session.status_idle';
const textOf = (events: Ev[], type: string) =>
  events
    .filter((e) => e.type === type)
    .flatMap((e) => (e.content as Array<{ text?: string }>).map((c) => c.text ?? ''))
    .join('\n');

async function newSession(
  agent: { tools?: Anthropic.Beta.Agents.AgentCreateParams['tools'] } = {},
  extra = {},
) {
  const created = await client.beta.agents.create({ name: 'e2e', model: 'claude-sonnet-4-5', ...agent });
  return client.beta.sessions.create({ agent: created.id, environment_id: environmentId, ...extra });
}

/** Opens the stream first (it starts at the log's head), then sends, then reads to idle. */
async function turn(sessionId: string, text: string, until: (e: Ev) => boolean = idle): Promise<Ev[]> {
  const stream = await client.beta.sessions.events.stream(sessionId);
  await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text }] }],
  });
  return readUntil(stream, until);
}

beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_API_KEYS: ADMIN_KEY } });
  root = stack.base.replace(/\/api\/v1$/, '');
  client = sdk(KEY);
  environmentId = (await client.beta.environments.create({ name: 'e2e' })).id;
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('Managed Agents through the official SDK', () => {
  it('a session answers a streamed message and ends its turn idle/end_turn, remembers, and is the seed session too', async () => {
    const session = await newSession();
    expect(session.status).toBe('idle');
    const first = await turn(session.id, 'My favourite colour is teal.');
    expect(first.map((e) => e.type)).toEqual([
      'user.message',
      'session.status_running',
      'agent.message',
      // The model request, reported when it ended (its start's processed_at is when it began).
      'span.model_request_start',
      'span.model_request_end',
      'session.usage',
      'session.status_idle',
    ]);
    expect(first.at(-1)).toMatchObject({ stop_reason: { type: 'end_turn' } });
    const usageOf = (events: Ev[]) =>
      (events.find((e) => e.type === 'session.usage') as Ev & { usage: { input_tokens: number } }).usage;
    expect(usageOf(first).input_tokens).toBeGreaterThan(0);

    const second = await turn(session.id, '[[recall]]');
    // The session's usage so far grows turn by turn.
    expect(usageOf(second).input_tokens).toBeGreaterThan(usageOf(first).input_tokens);
    const answer = textOf(second, 'agent.message');
    expect(answer).toContain('2 user message(s)');
    expect(answer).toContain('My favourite colour is teal.');

    // The same session through the seed API: same id, same history.
    const seed = await call<{ sessionId: string; messageCount: number }>(
      stack.base,
      'GET',
      `/sessions/${session.id}`,
      { key: KEY },
    );
    expect(seed.status).toBe(200);
    expect(seed.body.sessionId).toBe(session.id);
    // A turn started through /api/v1 shows in the /v1 view of the log.
    const stream = await client.beta.sessions.events.stream(session.id);
    const viaSeed = await call(stack.base, 'POST', `/sessions/${session.id}/messages`, {
      key: KEY,
      body: { prompt: 'sent through the seed API' },
    });
    expect(viaSeed.status).toBe(200);
    const seen = await readUntil(stream, idle);
    expect(textOf(seen, 'user.message')).toBe('sent through the seed API');

    // Events list and page: every event of the three turns, in order, pages of 3.
    const all: Ev[] = [];
    const page = await client.beta.sessions.events.list(session.id, { limit: 3 });
    expect(page.data).toHaveLength(3);
    for await (const e of client.beta.sessions.events.list(session.id, { limit: 3 })) all.push(e as Ev);
    expect(all.filter((e) => e.type === 'user.message')).toHaveLength(3);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const desc = await client.beta.sessions.events.list(session.id, { limit: 1, order: 'desc' });
    expect(desc.data[0]?.id).toBe(all.at(-1)?.id);

    const archived = await client.beta.sessions.archive(session.id);
    expect(archived.archived_at).not.toBeNull();
    expect(archived.status).toBe('terminated');
    expect((await client.beta.sessions.retrieve(session.id)).archived_at).not.toBeNull();
    await client.beta.sessions.delete(session.id);
    await expect(client.beta.sessions.retrieve(session.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  }, 120_000);

  it('an always_ask tool yields requires_action; allow runs it, deny gives the agent the deny message', async () => {
    const session = await newSession({
      tools: [
        {
          type: 'agent_toolset_20260401',
          configs: [{ name: 'bash', permission_policy: { type: 'always_ask' } }],
        },
      ],
    });
    const ask = async (command: string) => {
      const stream = await client.beta.sessions.events.stream(session.id);
      await client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.message', content: [{ type: 'text', text: `[[bash:${command}]]` }] }],
      });
      const events = await readUntil(stream, idle);
      const waiting = events.at(-1) as Ev & { stop_reason: { type: string; event_ids: string[] } };
      expect(waiting.stop_reason.type).toBe('requires_action');
      const toolUse = events.find((e) => e.type === 'agent.tool_use');
      expect(toolUse).toMatchObject({ name: 'bash' });
      expect(waiting.stop_reason.event_ids).toEqual([toolUse?.id]);
      return waiting.stop_reason.event_ids[0] as string;
    };

    const allowId = await ask('mkdir made_by_agent');
    let stream = await client.beta.sessions.events.stream(session.id);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.tool_confirmation', tool_use_id: allowId, result: 'allow' }],
    });
    let rest = await readUntil(stream, idle);
    expect(rest[0]).toMatchObject({ type: 'user.tool_confirmation', result: 'allow', tool_use_id: allowId });
    expect(rest.find((e) => e.type === 'agent.tool_result')).toMatchObject({
      tool_use_id: allowId,
      is_error: false,
    });
    expect(rest.at(-1)).toMatchObject({ stop_reason: { type: 'end_turn' } });

    const denyId = await ask('mkdir refused_dir');
    stream = await client.beta.sessions.events.stream(session.id);
    await client.beta.sessions.events.send(session.id, {
      events: [
        {
          type: 'user.tool_confirmation',
          tool_use_id: denyId,
          result: 'deny',
          deny_message: 'No new folders today.',
        },
      ],
    });
    rest = await readUntil(stream, idle);
    const result = rest.find((e) => e.type === 'agent.tool_result') as Ev;
    expect(result).toMatchObject({ tool_use_id: denyId, is_error: true });
    expect(textOf([{ ...result, type: 'x' }], 'x')).toContain('No new folders today.');

    // A confirmation for nothing that waits: a typed 404.
    await expect(
      client.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.tool_confirmation', tool_use_id: denyId, result: 'allow' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await client.beta.sessions.delete(session.id);
  }, 120_000);

  it('user.interrupt stops a slow turn; a file uploaded and mounted as a resource is read by the agent', async () => {
    const upload = await client.beta.files.upload({
      file: await toFile(Buffer.from('the launch code is 4242\n'), 'notes.txt', { type: 'text/plain' }),
    });
    expect(upload).toMatchObject({ type: 'file', filename: 'notes.txt', size_bytes: 24 });
    const session = await newSession(
      { tools: [{ type: 'agent_toolset_20260401' }] },
      { resources: [{ type: 'file', file_id: upload.id, mount_path: 'docs/notes.txt' }] },
    );
    expect(session.resources).toMatchObject([
      { type: 'file', file_id: upload.id, mount_path: 'docs/notes.txt' },
    ]);

    const read = await turn(session.id, '[[read:docs/notes.txt]]');
    expect(textOf(read, 'agent.tool_result')).toContain('the launch code is 4242');

    const stream = await client.beta.sessions.events.stream(session.id);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: '[[hang]]' }] }],
    });
    const started = Date.now();
    const running: Ev[] = [];
    let interruptId = '';
    for await (const raw of stream) {
      const e = raw as Ev;
      running.push(e);
      if (e.type === 'session.status_running') {
        const sent = await client.beta.sessions.events.send(session.id, {
          events: [{ type: 'user.interrupt' }],
        });
        interruptId = sent.data?.[0]?.id ?? '';
      }
      if (idle(e)) break;
    }
    expect(running.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
    expect(Date.now() - started).toBeLessThan(20_000);
    // The interrupt is in the log: streamed before the turn's end, listed with the id send gave.
    const streamedInterrupt = running.findIndex((e) => e.type === 'user.interrupt');
    expect(running[streamedInterrupt]?.id).toBe(interruptId);
    expect(streamedInterrupt).toBeLessThan(running.length - 1);
    // One sent through the seed API (nothing runs now: a no-op, recorded all the same) shows too.
    const viaSeed = await call(stack.base, 'POST', `/sessions/${session.id}/interrupt`, { key: KEY });
    expect(viaSeed.status).toBe(200);
    const interrupts: Ev[] = [];
    for await (const e of client.beta.sessions.events.list(session.id, { types: ['user.interrupt'] })) {
      interrupts.push(e as Ev);
    }
    expect(interrupts.map((e) => e.type)).toEqual(['user.interrupt', 'user.interrupt']);
    expect(interrupts[0]?.id).toBe(interruptId);

    // Files: listed, downloaded, deleted; another key sees none of them.
    const ids: string[] = [];
    for await (const f of client.beta.files.list()) ids.push(f.id);
    expect(ids).toContain(upload.id);
    expect(await (await client.beta.files.download(upload.id)).text()).toBe('the launch code is 4242\n');
    await expect(sdk(TEST_KEYS[1]).beta.files.retrieveMetadata(upload.id)).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    await client.beta.files.delete(upload.id);
    await expect(client.beta.files.retrieveMetadata(upload.id)).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    await client.beta.sessions.delete(session.id);
  }, 120_000);

  it('each model request is a span with its own usage, as the model API reported it', async () => {
    const session = await newSession({ tools: [{ type: 'agent_toolset_20260401' }] });
    const mark = stack.fake.mark();
    // Two model requests: the tool call, then the answer after its result.
    const events = await turn(session.id, '[[bash:echo spans]]');
    const starts = events.filter((e) => e.type === 'span.model_request_start');
    const ends = events.filter((e) => e.type === 'span.model_request_end') as Array<
      Ev & {
        model_request_start_id: string;
        is_error: boolean;
        model_usage: Anthropic.Beta.Sessions.BetaManagedAgentsSpanModelUsage;
      }
    >;
    expect(starts).toHaveLength(2);
    expect(ends.map((e) => e.model_request_start_id)).toEqual(starts.map((e) => e.id));
    const replied = stack.fake.requests.slice(mark).flatMap((r) => (r.replied ? [r.replied] : []));
    for (const end of ends) {
      expect(end.is_error).toBe(false);
      // The fake model API's own figures for the request: the span carries exactly them.
      const reply = replied.find((r) => end.model_request_start_id === `sevt_mreq_${r.messageId}`);
      expect(reply, end.model_request_start_id).toBeDefined();
      expect(end.model_usage).toMatchObject({
        input_tokens: reply!.usage.input_tokens,
        output_tokens: reply!.usage.output_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      });
      expect(end.model_usage.input_tokens).toBeGreaterThan(0);
      expect(end.model_usage.output_tokens).toBeGreaterThan(1);
    }
    // In order: the tool call within the first span's request, the answer within the second's.
    const at = (type: string, from = 0) => events.findIndex((e, i) => i >= from && e.type === type);
    expect(at('agent.tool_use')).toBeLessThan(at('span.model_request_end'));
    expect(at('span.model_request_end')).toBeLessThan(at('agent.tool_result'));
    expect(at('agent.message', at('agent.tool_result'))).toBeLessThan(
      at('span.model_request_end', at('agent.tool_result')),
    );
    // The same spans in the session's events list.
    const listed: string[] = [];
    for await (const e of client.beta.sessions.events.list(session.id, {
      types: ['span.model_request_end'],
    })) {
      listed.push(e.id);
    }
    expect(listed).toEqual(ends.map((e) => e.id));
    await client.beta.sessions.delete(session.id);
  }, 120_000);

  it('event_deltas: the text arrives in pieces before its agent.message, which has it whole', async () => {
    const session = await newSession();
    const plain = await client.beta.sessions.events.stream(session.id);
    const previewing = await client.beta.sessions.events.stream(session.id, {
      event_deltas: ['agent.message'],
    });
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: '[[slow:6:80]]' }] }],
    });
    const events = await readUntil(previewing, idle);
    const message = events.find((e) => e.type === 'agent.message') as Ev & {
      content: Array<{ text: string }>;
    };
    const starts = events.filter((e) => e.type === 'event_start');
    expect(starts).toEqual([{ type: 'event_start', event: { id: message.id, type: 'agent.message' } }]);
    const deltas = events.filter((e) => e.type === 'event_delta') as Array<
      Ev & { event_id: string; delta: { content: { text: string } } }
    >;
    expect(deltas.length).toBeGreaterThan(1);
    for (const d of deltas) expect(d.event_id).toBe(message.id);
    // Every piece came before the message, and so before the turn's end.
    const lastDelta = events.lastIndexOf(deltas.at(-1)!);
    expect(events.indexOf(starts[0]!)).toBeLessThan(events.indexOf(deltas[0]!));
    expect(lastDelta).toBeLessThan(events.indexOf(message));
    expect(deltas.map((d) => d.delta.content.text).join('')).toBe(
      message.content.map((c) => c.text).join(''),
    );
    // Without the opt-in: nothing extra, the same events otherwise.
    const others = await readUntil(plain, idle);
    expect(others.map((e) => e.type)).not.toContain('event_delta');
    expect(others.map((e) => e.id)).toEqual(
      events.filter((e) => e.type !== 'event_start' && e.type !== 'event_delta').map((e) => e.id),
    );
    // Previews are never listed.
    const listed: string[] = [];
    for await (const e of client.beta.sessions.events.list(session.id)) listed.push(e.type);
    expect(listed).not.toContain('event_delta');
    await client.beta.sessions.delete(session.id);
  }, 120_000);

  it('a stream dropped mid-turn resumes with Last-Event-ID: no gap, no duplicate', async () => {
    const session = await newSession();
    const url = `${root}/v1/sessions/${session.id}/events/stream`;
    const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
    const first = new AbortController();
    const res = await fetch(url, { headers, signal: first.signal });
    expect(res.status).toBe(200);
    await client.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: '[[slow:20:50]]' }] }],
    });
    // Read by hand up to the first event after `session.status_running`, keeping the ids.
    const before: Array<{ id: string; event: Ev }> = [];
    const reader = res.body!.getReader();
    let buffer = '';
    while (!before.some((b) => b.event.type === 'session.status_running')) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += new TextDecoder().decode(value);
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop() ?? '';
      for (const block of blocks) {
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id && data) before.push({ id, event: JSON.parse(data) as Ev });
      }
    }
    first.abort();
    const lastId = before.at(-1)!.id;
    const resumed = await fetch(url, { headers: { ...headers, 'last-event-id': lastId } });
    const after = await readUntil(Stream.fromSSEResponse(resumed, new AbortController()), idle);
    const ids = [...before.map((b) => b.event.id), ...after.map((e) => e.id)];
    const listed: string[] = [];
    for await (const e of client.beta.sessions.events.list(session.id)) listed.push(e.id);
    expect(ids).toEqual(listed);
    await client.beta.sessions.delete(session.id);
  }, 120_000);

  it('typed errors: a missing session, a bad key, a rate limit (with retry-after)', async () => {
    await expect(client.beta.sessions.retrieve('sess_missing')).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    await expect(sdk('not-a-key').beta.sessions.list()).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    const created = await call<{ secret: string }>(stack.base, 'POST', '/admin/keys', {
      key: ADMIN_KEY,
      body: { name: 'tiny', policy: { rateLimits: { sessions: 1 } } },
    });
    expect(created.status).toBe(201);
    const tiny = sdk(created.body.secret);
    const agent = await tiny.beta.agents.create({ name: 'tiny', model: 'claude-sonnet-4-5' });
    const env = await tiny.beta.environments.create({ name: 'tiny' });
    const one = await tiny.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    const refused = await tiny.beta.sessions
      .create({ agent: agent.id, environment_id: env.id })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
    expect(
      Number((refused as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')),
    ).toBeGreaterThan(0);
    await tiny.beta.sessions.delete(one.id);

    // Archive and delete: an archived agent or environment starts no session; a deleted
    // environment is gone.
    const archivedAgent = await tiny.beta.agents.archive(agent.id);
    expect(archivedAgent.archived_at).not.toBeNull();
    const archivedEnv = await tiny.beta.environments.archive(env.id);
    expect(archivedEnv.archived_at).not.toBeNull();
    await expect(
      tiny.beta.sessions.create({ agent: agent.id, environment_id: env.id }),
    ).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    expect(await tiny.beta.environments.delete(env.id)).toEqual({ id: env.id, type: 'environment_deleted' });
    await expect(tiny.beta.environments.retrieve(env.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  }, 60_000);
});
