/**
 * Routes whose bodies are written by a serializer compiled from their response schema
 * (src/http/serialization.ts). fast-json-stringify drops any property its schema does not list,
 * so each such route must answer exactly its view, with every optional property present: a view
 * that gains a property its schema lacks fails here.
 */
import fastJsonStringify from 'fast-json-stringify';
import { afterEach, describe, expect, it } from 'vitest';
import { msg, result } from '../helpers/fake-agent-runner.js';
import { SessionDetailsSchema } from '../../src/http/openapi/response-schemas.js';
import { serializationSchema } from '../../src/http/serialization.js';
import { sessionDetails } from '../../src/http/views.js';
import { auth, createSession, keyRecord, KEY_A, startApp, type Harness } from './harness.js';

const S = '/api/v1/sessions';

describe('responses serialized from their schemas', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  async function turn(id: string): Promise<string> {
    h.runner.script({
      messages: [msg.init(), msg.assistant('ok')],
      end: {
        result: result({
          text: 'ok',
          costUsd: 0.125,
          usage: { inputTokens: 7, outputTokens: 3, cacheCreationInputTokens: 1, cacheReadInputTokens: 2 },
        }),
      },
    });
    const res = await h.app.inject({
      method: 'POST',
      url: `${S}/${id}/messages`,
      headers: auth(),
      payload: { prompt: 'hi' },
    });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { messageId: string }).messageId;
  }

  /** The body GET /sessions/:id sends, beside the view the handler built, as JSON. */
  async function sentAndView(id: string): Promise<{ sent: unknown; view: unknown }> {
    const res = await h.app.inject({ method: 'GET', url: `${S}/${id}`, headers: auth() });
    expect(res.statusCode, res.body).toBe(200);
    const view = sessionDetails(await h.deps.sessions.details(await keyRecord(h, KEY_A), id));
    return { sent: res.json(), view: JSON.parse(JSON.stringify(view)) };
  }

  it('GET /sessions/:id answers its whole view: a fork with metadata, usage and simulated costs', async () => {
    h = await startApp({ COSTS_SIMULATED: 'true' });
    const id = await createSession(h, {
      model: 'sonnet',
      maxTurns: 3,
      systemPrompt: 'Be brief.',
      appendSystemPrompt: 'Say why.',
      allowedTools: ['Read'],
      metadata: { team: 'a', nested: { list: [1, 'two', null, { deep: true }], n: 1.5 } },
    });
    const first = await turn(id);
    const fork = await h.app.inject({ method: 'POST', url: `${S}/${id}/fork`, headers: auth(), payload: {} });
    expect(fork.statusCode, fork.body).toBe(201);
    const forkId = (fork.json() as { sessionId: string }).sessionId;

    const { sent, view } = await sentAndView(forkId);
    expect(sent).toEqual(view);
    // Every optional property is there, so none was dropped for want of a schema.
    expect(sent).toMatchObject({
      forkedFrom: { sessionId: id, messageId: first },
      metadata: { nested: { list: [1, 'two', null, { deep: true }], n: 1.5 } },
      usage: { costSimulated: true },
    });

    const original = await sentAndView(id);
    expect(original.sent).toEqual(original.view);
    expect(original.sent).toMatchObject({ messageCount: 3, usage: { inputTokens: 7, costUsd: 0.125 } });
  });

  it('GET /sessions/:id answers its whole view with nulls and defaults', async () => {
    h = await startApp();
    const id = await createSession(h);
    const { sent, view } = await sentAndView(id);
    expect(sent).toEqual(view);
    expect(sent).toMatchObject({
      maxTurns: null,
      currentMessageId: null,
      config: { model: null, systemPrompt: null },
    });
    expect(Object.keys(sent as object)).toEqual(Object.keys(view as object));
  });

  it('the compiled serializer writes exactly what JSON.stringify writes for a view with every property', () => {
    const view = {
      sessionId: 'sess_1',
      model: 'sonnet',
      resolvedModel: 'claude-sonnet-4-5',
      permissionMode: 'plan',
      maxTurns: 4,
      status: 'running',
      createdAt: '2026-01-01T00:00:00.000Z',
      lastActivity: '2026-01-01T00:00:01.000Z',
      expiresAt: '2026-01-08T00:00:01.000Z',
      metadata: { a: { b: [1, 'x', null] }, 'quote"d': 'line\nbreak' },
      messageCount: 12,
      currentMessageId: 'msg_1',
      claudeSessionId: '00000000-0000-4000-8000-000000000000',
      forkedFrom: { sessionId: 'sess_0', messageId: 'msg_0' },
      process: 'parked',
      config: {
        model: 'sonnet',
        resolvedModel: 'claude-sonnet-4-5',
        permissionMode: 'plan',
        maxTurns: 4,
        cwd: '/w/"odd" dir',
        workspace: 'external',
        systemPrompt: 'a\u2028b \ud800 lone',
        appendSystemPrompt: '</script>',
        allowedTools: ['Read', 'Bash(git:*)'],
        disallowedTools: ['WebFetch'],
      },
      usage: {
        inputTokens: 1,
        outputTokens: 2,
        cacheCreationInputTokens: 3,
        cacheReadInputTokens: 4,
        costUsd: 0.000123,
        costSimulated: true,
      },
    };
    SessionDetailsSchema.parse(view);
    const serialize = fastJsonStringify(serializationSchema(SessionDetailsSchema));
    expect(JSON.parse(serialize(view))).toEqual(view);
    // A property the schema does not list is dropped: this is why the routes are checked above.
    expect(JSON.parse(serialize({ ...view, unlisted: 1 }))).toEqual(view);
  });
});
