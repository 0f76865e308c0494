/**
 * A server started without credentials for the model API (no ANTHROPIC_API_KEY, no token, no
 * cloud provider, no login of Claude Code's own). Claude Code then answers every turn with "Not
 * logged in · Please run /login" and makes no request; before the fix that was a 503
 * UPSTREAM_UNAVAILABLE "try again later", like an outage. Now the server warns once at start,
 * /health says `credentials: "missing"`, and the turn fails with a non-retryable UPSTREAM_ERROR
 * that says what to set.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { serverEnv, spawnServer, tempDir, TEST_KEYS, type SpawnedServer } from '../helpers/test-server.js';
import { expectError, type SessionSummary } from './support.js';

const KEY = TEST_KEYS[0];

describe('a server without model credentials', () => {
  let fake: FakeAnthropic;
  let dataDir: string;
  let server: SpawnedServer | undefined;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    dataDir = tempDir('nocreds');
    const env = serverEnv(fake, dataDir);
    delete (env as Partial<typeof env>).ANTHROPIC_API_KEY;
    server = await spawnServer(env);
  });
  afterAll(async () => {
    await server?.stop('SIGTERM');
    await fake?.close();
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  it('warns once at start and says so in /health', async () => {
    const warnings = server!
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"problem":"no_credentials"'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({
      level: 40,
      msg: expect.stringMatching(/ANTHROPIC_API_KEY/),
    });

    const health = await call(server!.base, 'GET', '/health', { key: KEY });
    expect(health.body).toMatchObject({
      status: 'degraded',
      credentials: 'missing',
      problems: [{ code: 'no_credentials', message: expect.stringMatching(/set ANTHROPIC_API_KEY/) }],
    });
  });

  it('a turn fails with UPSTREAM_ERROR no_credentials saying what to set, not a 503 to retry', async () => {
    const session = await call<SessionSummary>(server!.base, 'POST', '/sessions', { key: KEY, body: {} });
    expect(session.status).toBe(201);
    const res = await call(server!.base, 'POST', `/sessions/${session.body.sessionId}/messages`, {
      key: KEY,
      body: { prompt: 'hello?' },
    });
    const error = expectError(res, 502, 'UPSTREAM_ERROR');
    expect(error.message).toMatch(/no credentials for the model API: set ANTHROPIC_API_KEY/);
    expect(error.details).toMatchObject({
      reason: 'no_credentials',
      upstreamStatus: null,
      upstreamMessage: expect.stringMatching(/Not logged in/),
    });
    expect(res.headers.get('retry-after')).toBeNull();
    // Claude Code did not even try the model API.
    expect(fake.messagesRequests()).toEqual([]);
  });
});
