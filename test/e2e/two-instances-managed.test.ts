/**
 * The Managed Agents API (`/v1`) on two server instances sharing PostgreSQL, Redis and the data
 * dir (as two-instances.test.ts sets them up), driven only by the official SDK: what needs the
 * session's Claude Code process, sent to the instance that does not run it, is forwarded to the
 * one that does; that instance's streams follow the session from the shared store and bus.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { TEST_KEYS, type SpawnedServer } from '../helpers/test-server.js';

const KEY = TEST_KEYS[0];

type Ev = { id?: string; type: string; [field: string]: unknown };

let cluster: Cluster;

const sdk = (server: SpawnedServer) =>
  new Anthropic({ apiKey: KEY, baseURL: server.base.replace(/\/api\/v1$/, ''), maxRetries: 0 });

async function readUntil(
  stream: AsyncIterable<unknown>,
  done: (e: Ev) => boolean,
  onEach?: (e: Ev) => Promise<void>,
) {
  const seen: Ev[] = [];
  for await (const raw of stream) {
    const event = raw as Ev;
    seen.push(event);
    await onEach?.(event);
    if (done(event)) break;
  }
  return seen;
}

const idle = (e: Ev) => e.type === 'session.status_idle';

let a: SpawnedServer;
let b: SpawnedServer;

beforeAll(async () => {
  cluster = await startCluster('cluster-v1');
  a = await cluster.start();
  b = await cluster.start();
}, 90_000);

afterAll(() => cluster?.close());

describe('/v1 on two instances', () => {
  it('a session run by one instance takes messages, interrupts and its archive through the other', async () => {
    const owner = sdk(a);
    const other = sdk(b);
    const agent = await owner.beta.agents.create({ name: 'two', model: 'claude-sonnet-4-5' });
    const environment = await owner.beta.environments.create({ name: 'two' });
    // Created on A: A runs its Claude Code.
    const session = await owner.beta.sessions.create({ agent: agent.id, environment_id: environment.id });

    // A message sent to B runs on A (B has no process for it: without forwarding, a 404); B's
    // stream follows it live.
    let stream = await other.beta.sessions.events.stream(session.id);
    await other.beta.sessions.events.send(session.id, {
      events: [
        { type: 'user.message', content: [{ type: 'text', text: 'Hello through the other instance' }] },
      ],
    });
    const first = await readUntil(stream, idle);
    const answer = first.find((e) => e.type === 'agent.message') as Ev & { content: Array<{ text: string }> };
    expect(answer.content.map((c) => c.text).join('')).toContain('Hello through the other instance');
    expect(first.at(-1)).toMatchObject({ stop_reason: { type: 'end_turn' } });
    expect(first.map((e) => e.type)).toContain('span.model_request_end');

    // An interrupt sent to B stops the turn running on A.
    stream = await other.beta.sessions.events.stream(session.id);
    await other.beta.sessions.events.send(session.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: '[[hang]]' }] }],
    });
    let interruptId = '';
    const started = Date.now();
    const second = await readUntil(stream, idle, async (e) => {
      if (e.type !== 'session.status_running') return;
      const sent = await other.beta.sessions.events.send(session.id, {
        events: [{ type: 'user.interrupt' }],
      });
      interruptId = sent.data?.[0]?.id ?? '';
    });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(second.find((e) => e.type === 'user.interrupt')?.id).toBe(interruptId);
    // The stream opened after the first turn: it starts from there.
    expect(second[0]).toMatchObject({ type: 'user.message', content: [{ text: '[[hang]]' }] });
    expect(second.at(-1)).toMatchObject({ stop_reason: { type: 'end_turn' } });

    // Archived through B: A stops its Claude Code; B's open stream ends with the session.
    stream = await other.beta.sessions.events.stream(session.id);
    const archived = await other.beta.sessions.archive(session.id);
    expect(archived.status).toBe('terminated');
    const last = await readUntil(stream, (e) => e.type === 'session.status_terminated');
    expect(last.at(-1)?.type).toBe('session.status_terminated');
    expect((await owner.beta.sessions.retrieve(session.id)).archived_at).not.toBeNull();
    // Ended, it is still deletable from either instance.
    await other.beta.sessions.delete(session.id);
    await expect(owner.beta.sessions.retrieve(session.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  }, 120_000);
});
