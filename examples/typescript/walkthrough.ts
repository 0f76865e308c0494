/**
 * The seed's walk-through with a client GENERATED from the OpenAPI document: types by
 * openapi-typescript (./api.d.ts, written by `npm run openapi`), requests by openapi-fetch.
 * Health, a session, a blocking message, a streamed one (`stream: true`, then its events), the
 * history, the session's details, and its end. Every call is typed by the document: a path, a
 * field or a status it does not have is a type error.
 *
 *   CLAUDE_CODE_REST_URL=http://127.0.0.1:3050 CLAUDE_CODE_REST_KEY=ccr_… npx tsx examples/typescript/walkthrough.ts
 */
import createClient from 'openapi-fetch';
import type { paths } from './api.js';

export interface WalkthroughResult {
  sessionId: string;
  response: string;
  streamedEvents: string[];
  historyLength: number;
}

export async function walkthrough(
  serverUrl: string,
  apiKey: string,
  log: (line: string) => void = console.log,
): Promise<WalkthroughResult> {
  const client = createClient<paths>({ baseUrl: `${serverUrl}/api/v1`, headers: { 'x-api-key': apiKey } });

  const health = await client.GET('/health');
  if (!health.data) throw new Error(`health: ${health.response.status}`);
  log(`server ${health.data.status} (${health.data.version})`);

  const created = await client.POST('/sessions', { body: { permissionMode: 'acceptEdits' } });
  if (!created.data) throw new Error(`create: ${created.error?.error.code}`);
  const sessionId = created.data.sessionId;
  log(`session ${sessionId}`);

  const sent = await client.POST('/sessions/{id}/messages', {
    params: { path: { id: sessionId } },
    body: { prompt: 'Hello! What can you help me with?' },
  });
  if (sent.response.status !== 200 || !sent.data || !('response' in sent.data)) {
    throw new Error(`message: ${sent.response.status} ${sent.error?.error.code ?? ''}`);
  }
  log(`answer: ${sent.data.response} (${sent.data.usage.outputTokens} tokens, $${sent.data.costUsd})`);
  const response = sent.data.response;

  const accepted = await client.POST('/sessions/{id}/messages', {
    params: { path: { id: sessionId } },
    body: { prompt: 'Write a Python hello world program', stream: true },
  });
  if (!accepted.data || !('streamUrl' in accepted.data))
    throw new Error(`stream: ${accepted.response.status}`);
  const stream = await client.GET('/sessions/{id}/stream', {
    params: { path: { id: sessionId }, query: { messageId: accepted.data.messageId } },
    parseAs: 'text',
  });
  const streamedEvents = (stream.data ?? '')
    .split('\n')
    .filter((line) => line.startsWith('event: '))
    .map((line) => line.slice('event: '.length));
  log(`streamed: ${streamedEvents.join(' ')}`);

  const history = await client.GET('/sessions/{id}/messages', {
    params: { path: { id: sessionId }, query: { limit: 100 } },
  });
  if (!history.data) throw new Error(`history: ${history.response.status}`);
  log(`history: ${history.data.messages.length} messages`);

  const details = await client.GET('/sessions/{id}', { params: { path: { id: sessionId } } });
  log(`cost so far: $${details.data?.usage.costUsd ?? '?'}`);

  const ended = await client.DELETE('/sessions/{id}', { params: { path: { id: sessionId } } });
  if (ended.response.status !== 204) throw new Error(`end: ${ended.response.status}`);
  log('session ended');

  return { sessionId, response, streamedEvents, historyLength: history.data.messages.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await walkthrough(
    process.env.CLAUDE_CODE_REST_URL ?? 'http://127.0.0.1:3050',
    process.env.CLAUDE_CODE_REST_KEY ?? '',
  );
}
