/**
 * The catalogue is the one source of every event's shape: what the domain really emits must be
 * exactly what it says (no field missing, none added), or the documents generated from it lie.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { wireDomain } from '../../test/helpers/domain.js';
import { FakeAgentRunner, msg, reply, result } from '../../test/helpers/fake-agent-runner.js';
import { MemorySnapshots } from '../../test/helpers/memory-snapshots.js';
import { keyRecordFor } from './api-keys.js';
import { EVENT_CATALOGUE, EVENT_TYPES, STREAM_NOTICES, type SessionEventType } from './events.js';
import type { SessionEvent } from './types.js';

const T0 = Date.UTC(2026, 0, 1);

/** Parses with the type's schema; a stripped (undeclared) field shows up as a difference. */
function expectConforms(type: SessionEventType, data: unknown): void {
  const parsed = EVENT_CATALOGUE[type].schema.safeParse(data);
  expect(parsed.success, `${type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
  expect(parsed.data, `${type} carries a field the catalogue does not declare`).toEqual(data);
}

describe('the event catalogue', () => {
  let h: ReturnType<typeof wireDomain>;

  afterEach(async () => {
    await h.stop();
  });

  it('every event of turns that use each feature matches its schema, deltas included', async () => {
    const runner = new FakeAgentRunner();
    const snapshots = new MemorySnapshots();
    h = wireDomain({ runner, snapshots });
    const key = keyRecordFor('ccr_key', { name: 'k', now: T0 });
    await h.store.insertKey(key);
    const { session } = await h.sessions.create(key, {});
    const seen: SessionEvent[] = [];
    const abort = new AbortController();
    const reading = (async () => {
      for await (const event of h.events.read(session.id, 0, abort.signal)) seen.push(event);
    })();

    // A turn with a tool call, a retry notice, a permission question (answered), and deltas.
    let release!: () => void;
    runner.script({
      messages: [msg.init(), msg.apiRetry(1, 529), msg.toolUse('toolu_1', 'Bash', { command: 'ls' })],
      ask: {
        toolName: 'Bash',
        input: { command: 'ls' },
        toolUseId: 'toolu_1',
        description: 'List files',
        displayName: 'Bash',
        decisionReason: 'This command requires approval',
        suggestions: [{ type: 'addRules', behavior: 'allow', rules: [{ toolName: 'Bash' }] }],
      },
      waitFor: new Promise<void>((resolve) => (release = resolve)),
      end: { result: result({ text: 'done' }) },
    });
    const first = await h.turns.start(key, session.id, { prompt: 'list' });
    // The turn writes a file (files_changed before its complete).
    await runner.until(() => runner.prompts.length === 1);
    snapshots.files(session.record.config.cwd).set('out.txt', 'hello');
    // Queued behind it: a `queued` status, then the turn itself.
    const second = await h.turns.start(key, session.id, { prompt: 'again', queue: true });
    runner.script(reply('again'));
    await runner.until(() => h.permissions.list(session.id).length === 1);
    const [request] = h.permissions.list(session.id);
    await h.permissions.answer(session.id, request!.requestId, { decision: 'allow', remember: true });
    runner.lastProcess.delta('thinking out ');
    runner.lastProcess.delta('loud');
    runner.lastProcess.modelRequest('msg_api_1', { input: 120, output: 30 });
    release();
    await first.turn.done;
    await second.turn.done;
    // An interrupt (with nothing to stop, recorded all the same): an `interrupt` event.
    await h.turns.interrupt(key, session.id);
    // A turn that fails: an `error` event.
    runner.script({ messages: [msg.init()], end: { crash: 'spawn claude ENOENT' } });
    await (
      await h.turns.start(key, session.id, { prompt: 'fail' })
    ).turn.done;
    // A rewind to before the first turn: a `rewound` event.
    await h.history?.rewind(key, session.id, { messageId: first.turn.id, files: true, conversation: true });
    await h.events.settled(session.id);
    abort.abort();
    await reading;

    const types = new Set(seen.map((e) => e.type));
    expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
    for (const event of seen) expectConforms(event.type, JSON.parse(event.data));
    for (const event of seen) expect(event.ephemeral === true).toBe(!EVENT_CATALOGUE[event.type].stored);
  });

  it('each stream notice is an error event whose data is the error envelope object', () => {
    const notices = [
      STREAM_NOTICES.cursorExpired(3, 9),
      STREAM_NOTICES.keyRevoked(),
      STREAM_NOTICES.shuttingDown(3000),
      STREAM_NOTICES.rateLimited({ code: 'RATE_LIMIT_EXCEEDED', message: 'x', details: {} }),
    ];
    for (const notice of notices) {
      expect(notice.type).toBe('error');
      expectConforms('error', notice.data);
    }
  });
});
