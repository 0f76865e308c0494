/**
 * Authentication and the first-start key bootstrap.
 */
import { generateKeySecret, hashKey, keyRecordFor, sameHash } from './api-keys.js';
import { invalidApiKey, missingApiKey } from './error-situations.js';
import type { Clock } from './ports.js';
import type { KeyStore } from './stores.js';
import type { ApiKeyRecord } from './types.js';

/** `last_used_at` is a hint for operators; writing it on every request would cost a sync write. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * How long a looked-up key is reused without asking the store again. Every request authenticates,
 * so this spares a database read per request; a key revoked or changed through the key CLI or
 * another instance is refused within this time (through this server's admin API, at once:
 * `forget`). Unknown keys are not cached, so a new key works at once.
 */
export const KEY_CACHE_MS = 1000;

export class KeyService {
  private readonly cache = new Map<string, { key: ApiKeyRecord; until: number }>();

  constructor(
    private readonly store: KeyStore,
    private readonly clock: Clock,
  ) {}

  /** Drops what the cache holds: a key was changed here (revoked, its policy edited). */
  forget(): void {
    this.cache.clear();
  }

  private async lookUp(hash: string): Promise<ApiKeyRecord | null> {
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.key;
    const key = await this.store.findKeyByHash(hash);
    if (key === null) this.cache.delete(hash);
    else this.cache.set(hash, { key, until: now + KEY_CACHE_MS });
    return key;
  }

  /** Resolves a presented key to its record, or fails with MISSING_API_KEY / INVALID_API_KEY. */
  async authenticate(presented: string | null): Promise<ApiKeyRecord> {
    if (presented === null || presented === '') {
      throw missingApiKey();
    }
    const hash = hashKey(presented);
    const key = await this.lookUp(hash);
    if (!key || !sameHash(key.hash, hash) || key.revokedAt !== null) {
      throw invalidApiKey();
    }
    const now = this.clock.now();
    if (key.lastUsedAt === null || now - key.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      await this.store.updateKey(key.id, { lastUsedAt: now });
      key.lastUsedAt = now;
    }
    return key;
  }

  /** Is the key still valid (not revoked, not deleted)? Long-lived streams ask this. */
  async isStillValid(keyId: string): Promise<boolean> {
    const key = await this.store.getKey(keyId);
    return key !== null && key.revokedAt === null;
  }

  /**
   * Seeds the keys listed in API_KEYS (once each), and when the store has no key at all makes
   * one and returns its secret so the caller can print it, once.
   */
  async bootstrap(
    seedKeys: string[],
    adminKeys: string[] = [],
  ): Promise<{ generatedSecret: string | null; seeded: number }> {
    let seeded = 0;
    const seeds = [
      ...seedKeys.map((secret, i) => ({ secret, name: `API_KEYS #${i + 1}`, role: 'user' as const })),
      ...adminKeys.map((secret, i) => ({ secret, name: `ADMIN_API_KEYS #${i + 1}`, role: 'admin' as const })),
    ];
    for (const { secret, name, role } of seeds) {
      if (await this.store.findKeyByHash(hashKey(secret))) continue;
      try {
        await this.store.insertKey(keyRecordFor(secret, { name, role, now: this.clock.now() }));
      } catch (err) {
        // Another instance starting on the same database seeded it meanwhile.
        if (await this.store.findKeyByHash(hashKey(secret))) continue;
        throw err;
      }
      seeded++;
    }
    if ((await this.store.countKeys()) > 0) return { generatedSecret: null, seeded };
    const secret = generateKeySecret();
    await this.store.insertKey(keyRecordFor(secret, { name: 'first-start', now: this.clock.now() }));
    return { generatedSecret: secret, seeded };
  }
}
