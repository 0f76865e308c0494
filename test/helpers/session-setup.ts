/**
 * The setup of the session services' unit tests (session-service, process-pool, housekeeping):
 * the domain wired on memory stores and a fake runner, with workspaces that record what they are
 * asked, and two keys.
 */
import { wireDomain, IDLE_EXPIRY_MS, type DomainSettings } from './domain.js';
import type { MemoryStore } from '../../src/adapters/memory/memory-store.js';
import { keyRecordFor } from '../../src/domain/api-keys.js';
import { ApiError } from '../../src/domain/errors.js';
import type { PolicyDefaults } from '../../src/domain/policy-fields.js';
import type { Workspaces } from '../../src/domain/ports.js';
import type { ApiKeyRecord } from '../../src/domain/types.js';
import type { RateLimitBucket } from '../../src/domain/rate-limit-buckets.js';

export const T0 = Date.UTC(2026, 0, 1);
export const IDLE_MS = IDLE_EXPIRY_MS;

/** Records what the service asks of the file system. */
export class FakeWorkspaces implements Workspaces {
  readonly created: string[] = [];
  readonly removed: string[] = [];
  /** cwd → real path, for the cwds a client may name. */
  readonly allowed = new Map<string, string>();

  async create(sessionId: string): Promise<string> {
    const dir = `/data/workspaces/${sessionId}`;
    this.created.push(dir);
    return dir;
  }

  async list() {
    return this.created
      .filter((dir) => !this.removed.includes(dir))
      .map((dir) => ({ sessionId: dir.split('/').at(-1) ?? '', path: dir }));
  }

  async resolveExternal(cwd: string) {
    const real = this.allowed.get(cwd);
    if (real) return { ok: true as const, path: real };
    return { ok: false as const, reason: 'outside_roots' as const };
  }

  async remove(dir: string): Promise<void> {
    this.removed.push(dir);
  }
}

export function setup(
  settings: Partial<DomainSettings> = {},
  limits?: Record<RateLimitBucket, number>,
  policyDefaults: Partial<PolicyDefaults> = {},
  spares = 0,
) {
  const workspaces = new FakeWorkspaces();
  const domain = wireDomain({
    spares,
    settings: { maxLiveSessions: 5, modelMap: { 'claude-3-opus-20240229': 'opus' }, ...settings },
    limits,
    policyDefaults,
    workspaces,
  });
  return { ...domain, workspaces };
}

export async function addKeys(store: MemoryStore): Promise<[ApiKeyRecord, ApiKeyRecord]> {
  const a = keyRecordFor('ccr_key_a', { name: 'a', now: T0 });
  const b = keyRecordFor('ccr_key_b', { name: 'b', now: T0 });
  await store.insertKey(a);
  await store.insertKey(b);
  return [a, b];
}

export async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(err)}`);
  return err.code;
}
