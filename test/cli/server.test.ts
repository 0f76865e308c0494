/**
 * The command-line tool and a running server on one data dir (the server as its own process,
 * as in production): a key made with the tool works at once, and a policy change or a
 * revocation applies within KEY_CACHE_MS (the server reuses a looked-up key that long), without
 * a restart.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { serverEnv, spawnServer, tempDir, type SpawnedServer } from '../helpers/test-server.js';
import type { ErrorEnvelope } from '../../src/http/envelope.js';
import { KEY_CACHE_MS } from '../../src/domain/key-service.js';
import { ok, okJson } from './run-cli.js';

/**
 * The first answer of `request` with `status`, asked every 100 ms; fails unless it comes within
 * KEY_CACHE_MS of `since` (with 300 ms for the request itself on a busy machine).
 */
async function answerWithin<T>(
  since: number,
  status: number,
  request: () => Promise<{ status: number; body: T }>,
): Promise<{ status: number; body: T }> {
  for (;;) {
    const answer = await request();
    if (answer.status === status) {
      expect(performance.now() - since).toBeLessThan(KEY_CACHE_MS + 300);
      return answer;
    }
    if (performance.now() - since > KEY_CACHE_MS + 300) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface KeyJson {
  id: string;
  prefix: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

let fake: FakeAnthropic;
let dataDir: string;
let server: SpawnedServer;
let dd: string[];

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dataDir = tempDir('cli-server');
  dd = ['--data-dir', dataDir];
  server = await spawnServer(serverEnv(fake, dataDir));
});
afterAll(async () => {
  await server?.stop();
  await fake?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('keys managed with the CLI while the server runs', () => {
  it('a new key authenticates at once; the server records its use where the CLI sees it', async () => {
    const { key, secret } = await okJson<{ key: KeyJson; secret: string }>([
      'keys',
      'create',
      '--name',
      'made by cli',
      ...dd,
    ]);
    const res = await call(server.base, 'GET', '/sessions', { key: secret });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ sessions: [], total: 0 });

    const shown = await okJson<KeyJson>(['keys', 'show', key.id, ...dd]);
    expect(shown.lastUsedAt).not.toBeNull();
  });

  it('a policy change applies within a second, without a restart', async () => {
    const { key, secret } = await okJson<{ key: KeyJson; secret: string }>([
      'keys',
      'create',
      '--name',
      'narrowed',
      ...dd,
    ]);
    expect((await call(server.base, 'GET', '/models', { key: secret })).status).toBe(200);

    await ok(['keys', 'policy', key.prefix, '--scopes', 'read', ...dd]);
    const changedAt = performance.now();
    const refused = await answerWithin(changedAt, 403, () =>
      call<ErrorEnvelope>(server.base, 'POST', '/sessions', { key: secret, body: {} }),
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FORBIDDEN', details: { policy: 'scopes' } });
    expect((await call(server.base, 'GET', '/sessions', { key: secret })).status).toBe(200);
  });

  it('after `keys revoke` the key is 401 INVALID_API_KEY within a second; other keys are unaffected', async () => {
    const { key, secret } = await okJson<{ key: KeyJson; secret: string }>([
      'keys',
      'create',
      '--name',
      'to revoke',
      ...dd,
    ]);
    const { secret: other } = await okJson<{ secret: string }>([
      'keys',
      'create',
      '--name',
      'bystander',
      ...dd,
    ]);
    expect((await call(server.base, 'GET', '/sessions', { key: secret })).status).toBe(200);

    const revoked = await ok(['keys', 'revoke', key.id, ...dd]);
    expect(revoked.stdout).toMatch(/^Revoked key "to revoke"/);
    const revokedAt = performance.now();

    const refused = await answerWithin(revokedAt, 401, () =>
      call<ErrorEnvelope>(server.base, 'GET', '/sessions', { key: secret }),
    );
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('INVALID_API_KEY');
    expect((await call(server.base, 'GET', '/sessions', { key: other })).status).toBe(200);
    // The same process all along.
    expect(server.child.exitCode).toBeNull();
  });
});
