/**
 * Key management: create (the secret is returned once), list, look up, change name or policy,
 * revoke. Used by the command-line tool (src/cli) and the admin API (src/http/routes/admin.ts),
 * which both work on the same store as the server. A revocation is seen by the server on the
 * key's next request, since authentication reads the store each time.
 */
import { generateKeySecret, keyRecordFor } from './api-keys.js';
import { invalidFields, issuesOf, keyNameInvalid, keyNotFound } from './error-situations.js';
import { KeyPolicySchema } from './policy-fields.js';
import type { Clock } from './ports.js';
import type { KeyStore } from './stores.js';
import type { ApiKeyRecord, KeyRole } from './types.js';
import { iso, isoOrNull } from './time.js';
import type { KeyPolicy } from './policy-fields.js';

export interface NewKeyInput {
  name: string;
  role?: KeyRole;
  policy?: KeyPolicy;
}

/** A key as it may be shown: everything but its hash. */
export type KeyView = Omit<ApiKeyRecord, 'hash'>;

export function keyView(key: ApiKeyRecord): KeyView {
  const { hash: _hash, ...view } = key;
  return view;
}

export interface KeyJson {
  id: string;
  name: string;
  prefix: string;
  role: KeyRole;
  policy: KeyPolicy;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A key as the admin API and the `keys` CLI show it: `keyView`, times as ISO 8601. */
export function keyJson(key: ApiKeyRecord): KeyJson {
  const view = keyView(key);
  return {
    id: view.id,
    name: view.name,
    prefix: view.prefix,
    role: view.role,
    policy: view.policy,
    createdAt: iso(view.createdAt),
    lastUsedAt: isoOrNull(view.lastUsedAt),
    revokedAt: isoOrNull(view.revokedAt),
  };
}

const NAME = /^[\p{L}\p{N} ._:@/-]{1,100}$/u;

export class KeyAdmin {
  constructor(
    private readonly store: KeyStore,
    private readonly clock: Clock,
    /** Told of every change to a key, so the server's key cache drops it at once. */
    private readonly changed: () => void = () => undefined,
  ) {}

  async create(input: NewKeyInput): Promise<{ key: ApiKeyRecord; secret: string }> {
    const name = validName(input.name);
    const policy = validPolicy(input.policy ?? {});
    const secret = generateKeySecret();
    const key = keyRecordFor(secret, { name, role: input.role ?? 'user', policy, now: this.clock.now() });
    await this.store.insertKey(key);
    return { key, secret };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.listKeys();
  }

  /** By id (`key_…`), or by the visible prefix when exactly one key has it. */
  async find(idOrPrefix: string): Promise<ApiKeyRecord> {
    const byId = await this.store.getKey(idOrPrefix);
    if (byId) return byId;
    const matches = (await this.store.listKeys()).filter((k) => k.prefix === idOrPrefix);
    if (matches.length === 1 && matches[0]) return matches[0];
    throw keyNotFound(idOrPrefix, matches.length > 1);
  }

  async update(idOrPrefix: string, patch: { name?: string; policy?: KeyPolicy }): Promise<ApiKeyRecord> {
    const key = await this.find(idOrPrefix);
    const name = patch.name === undefined ? undefined : validName(patch.name);
    const policy = patch.policy === undefined ? undefined : validPolicy(patch.policy);
    await this.store.updateKey(key.id, { name, policy });
    this.changed();
    return (await this.store.getKey(key.id)) ?? key;
  }

  /** Revokes a key for good; revoking a revoked key is a no-op that keeps the first time. */
  async revoke(idOrPrefix: string): Promise<ApiKeyRecord> {
    const key = await this.find(idOrPrefix);
    if (key.revokedAt === null) await this.store.updateKey(key.id, { revokedAt: this.clock.now() });
    this.changed();
    return (await this.store.getKey(key.id)) ?? key;
  }
}

function validName(name: string): string {
  const trimmed = name.trim();
  if (!NAME.test(trimmed)) throw keyNameInvalid();
  return trimmed;
}

function validPolicy(policy: unknown): KeyPolicy {
  const parsed = KeyPolicySchema.safeParse(policy);
  if (parsed.success) return parsed.data;
  throw invalidFields('policy', issuesOf(parsed.error, 'policy'));
}
