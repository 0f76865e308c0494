/**
 * The HTTP tests' app: the real composition (domain, memory rate limiter, fs workspaces under a
 * temp data dir) with a FakeAgentRunner and a MemoryStore, driven through `inject()`.
 *
 * Workspace snapshots are the in-memory twin unless a test asks for git (`snapshots: 'git'`):
 * the suites about the workspace (files, history) do; the others do not look at snapshots, and
 * the git ones (several git processes a turn) were a quarter of the unit loop's time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { expect } from 'vitest';
import { MemoryStore, memoryStores } from '../../src/adapters/memory/memory-store.js';
import { compose } from '../../src/composition.js';
import { loadConfig } from '../../src/config/config.js';
import { hashKey } from '../../src/domain/api-keys.js';
import type { ErrorCode } from '../../src/domain/errors.js';
import type { Clock } from '../../src/domain/ports.js';
import type { ApiKeyRecord } from '../../src/domain/types.js';
import type { AppDeps } from '../../src/http/app-deps.js';
import { buildApp } from '../../src/http/app.js';
import type { ErrorEnvelope } from '../../src/http/envelope.js';
import { FakeAgentRunner } from '../helpers/fake-agent-runner.js';
import { MemorySnapshots } from '../helpers/memory-snapshots.js';
import { assertDescribed, headerRecord } from '../helpers/openapi-contract.js';

export const KEY_A = 'ccr_test_key_alpha_000000000000000000001';
export const KEY_B = 'ccr_test_key_bravo_000000000000000000002';

export interface Harness {
  app: FastifyInstance;
  deps: AppDeps;
  runner: FakeAgentRunner;
  store: MemoryStore;
  dataDir: string;
  close(): Promise<void>;
}

export async function startApp(
  env: Record<string, string> = {},
  options: {
    clock?: Clock;
    runner?: FakeAgentRunner;
    snapshots?: 'git' | 'memory';
    logger?: Logger;
  } = {},
): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-http-'));
  const runner = options.runner ?? new FakeAgentRunner();
  const store = new MemoryStore();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    WORKSPACE_RETENTION_SECONDS: '0',
    // No spare, as for the test servers (test-server.ts): each start would make another, with a
    // workspace of its own, in the background of every test. The spares' own tests ask for one.
    PREWARM_PROCESSES: '0',
    ...env,
  });
  const server = await compose(config, {
    runner,
    stores: memoryStores(store),
    clock: options.clock,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.snapshots === 'git' ? {} : { snapshots: new MemorySnapshots() }),
  });
  await server.deps.keys.bootstrap([KEY_A, KEY_B], config.adminApiKeys);
  const app = await buildApp(server.deps, server.logger);
  checkEveryResponse(app);
  return {
    app,
    deps: server.deps,
    runner,
    store,
    dataDir,
    async close() {
      // As main.ts closes: a turn a test left running ends (interrupted) and records its end,
      // snapshot included, before the data dir goes.
      server.deps.admission.drain();
      await server.deps.turns.drain(0);
      await app.close();
      await server.shutdown();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Every response a test gets through `inject()` is checked against the OpenAPI document: one it
 * does not describe (status, headers, body, SSE events) fails the test that asked for it.
 */
function checkEveryResponse(app: FastifyInstance): void {
  const inject = app.inject.bind(app) as (options: InjectOptions | string) => Promise<LightMyRequestResponse>;
  const checked = async (options: InjectOptions | string): Promise<LightMyRequestResponse> => {
    const res = await inject(options);
    const request = typeof options === 'string' ? { method: 'GET', url: options } : options;
    assertDescribed({
      method: request.method ?? 'GET',
      url: typeof request.url === 'string' ? request.url : String(request.url),
      status: res.statusCode,
      headers: headerRecord(res.headers),
      body: res.body,
    });
    return res;
  };
  app.inject = checked as unknown as FastifyInstance['inject'];
}

/** A clock the test moves by hand (rate-limit windows, expiry, ordering by creation time). */
export class ManualClock implements Clock {
  constructor(public t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export function auth(key: string = KEY_A): Record<string, string> {
  return { 'x-api-key': key };
}

export async function keyRecord(h: Harness, secret: string): Promise<ApiKeyRecord> {
  const key = await h.store.findKeyByHash(hashKey(secret));
  if (!key) throw new Error('no such key');
  return key;
}

/** Creates a session through the API and returns its id. */
export async function createSession(h: Harness, body: object = {}, key: string = KEY_A): Promise<string> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/sessions',
    headers: auth(key),
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { sessionId: string }).sessionId;
}

/** Asserts the contract's error envelope, exactly, and returns it. */
export function expectError(res: LightMyRequestResponse, status: number, code: ErrorCode): ErrorEnvelope {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as ErrorEnvelope;
  expect(Object.keys(body).sort()).toEqual(['error', 'requestId', 'timestamp']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.details).toBeTypeOf('object');
  expect(body.error.details).not.toBeNull();
  expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
  expect(body.requestId).toMatch(/\S/);
  expect(res.headers['x-request-id']).toBe(body.requestId);
  expect(res.body).not.toMatch(/\n\s+at /); // no stack trace
  return body;
}

/** The issues of an INVALID_REQUEST, as `field` names. */
export function issueFields(body: ErrorEnvelope): string[] {
  return (body.error.details.issues as Array<{ field: string }>).map((i) => i.field).sort();
}

/** Resolves with the data of the next terminal event (`complete` or `error`) of a session's log. */
export async function nextTerminalEvent(h: Harness, sessionId: string, afterSeq = 0): Promise<unknown> {
  const abort = new AbortController();
  try {
    for await (const event of h.deps.events.read(sessionId, afterSeq, abort.signal)) {
      if (event.type === 'complete' || event.type === 'error') return JSON.parse(event.data) as unknown;
    }
  } finally {
    abort.abort();
  }
  throw new Error('the event log ended without a terminal event');
}

/** Asserts the three rate-limit headers and returns them as numbers. */
export function rateLimitHeaders(res: LightMyRequestResponse): {
  limit: number;
  remaining: number;
  reset: number;
} {
  const limit = Number(res.headers['x-ratelimit-limit']);
  const remaining = Number(res.headers['x-ratelimit-remaining']);
  const reset = Number(res.headers['x-ratelimit-reset']);
  expect(Number.isInteger(limit) && Number.isInteger(remaining) && Number.isInteger(reset), res.body).toBe(
    true,
  );
  return { limit, remaining, reset };
}
