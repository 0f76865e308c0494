import { beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../adapters/memory/memory-store.js';
import { hashKey, keyRecordFor } from './api-keys.js';
import { ApiError } from './errors.js';
import { KeyAdmin } from './key-admin.js';
import { KEY_CACHE_MS, KeyService } from './key-service.js';

const T0 = 1_700_000_000_000;

describe('KeyService', () => {
  let store: MemoryStore;
  let clock: { t: number; now(): number };
  let keys: KeyService;

  beforeEach(() => {
    store = new MemoryStore();
    clock = {
      t: T0,
      now() {
        return this.t;
      },
    };
    keys = new KeyService(store, clock);
  });

  async function addKey(secret: string, revokedAt: number | null = null): Promise<string> {
    const record = { ...keyRecordFor(secret, { name: secret, now: T0 }), revokedAt };
    await store.insertKey(record);
    return record.id;
  }

  const failure = (presented: string | null): Promise<unknown> =>
    keys.authenticate(presented).then(
      () => null,
      (err: unknown) => err,
    );

  describe('authenticate', () => {
    it('returns the record of a valid key', async () => {
      const id = await addKey('ccr_valid');
      expect(await keys.authenticate('ccr_valid')).toMatchObject({ id, name: 'ccr_valid', role: 'user' });
    });

    it.each([null, ''])('a missing key (%j) is MISSING_API_KEY', async (presented) => {
      const err = await failure(presented);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code: 'MISSING_API_KEY' });
    });

    it('an unknown key is INVALID_API_KEY', async () => {
      await addKey('ccr_valid');
      expect(await failure('ccr_valiD')).toMatchObject({ code: 'INVALID_API_KEY' });
    });

    it('a revoked key is INVALID_API_KEY, with the same message as an unknown one', async () => {
      await addKey('ccr_revoked', T0 - 1);
      const revoked = (await failure('ccr_revoked')) as ApiError;
      const unknown = (await failure('ccr_unknown')) as ApiError;
      expect(revoked.code).toBe('INVALID_API_KEY');
      expect(revoked.message).toBe(unknown.message);
    });

    it('records last use, at most once a minute', async () => {
      const id = await addKey('ccr_valid');
      const updateKey = vi.spyOn(store, 'updateKey');
      await keys.authenticate('ccr_valid');
      expect((await store.getKey(id))?.lastUsedAt).toBe(T0);
      clock.t = T0 + 59_999;
      await keys.authenticate('ccr_valid');
      expect(updateKey).toHaveBeenCalledTimes(1);
      expect((await store.getKey(id))?.lastUsedAt).toBe(T0);
      clock.t = T0 + 60_000;
      const record = await keys.authenticate('ccr_valid');
      expect(updateKey).toHaveBeenCalledTimes(2);
      expect(record.lastUsedAt).toBe(T0 + 60_000);
      expect((await store.getKey(id))?.lastUsedAt).toBe(T0 + 60_000);
    });
  });

  it('isStillValid: false once revoked or gone', async () => {
    const id = await addKey('ccr_valid');
    expect(await keys.isStillValid(id)).toBe(true);
    await store.updateKey(id, { revokedAt: T0 });
    expect(await keys.isStillValid(id)).toBe(false);
    expect(await keys.isStillValid('key_missing')).toBe(false);
  });

  describe('bootstrap', () => {
    it('seeds the API_KEYS keys once each, and generates none', async () => {
      expect(await keys.bootstrap(['seed-one', 'seed-two'])).toEqual({ generatedSecret: null, seeded: 2 });
      expect(await keys.bootstrap(['seed-one', 'seed-two'])).toEqual({ generatedSecret: null, seeded: 0 });
      expect(await store.countKeys()).toBe(2);
      expect((await store.findKeyByHash(hashKey('seed-two')))?.name).toBe('API_KEYS #2');
      await expect(keys.authenticate('seed-one')).resolves.toMatchObject({ name: 'API_KEYS #1' });
    });

    it('stores a key listed twice once', async () => {
      expect(await keys.bootstrap(['same', 'same'])).toEqual({ generatedSecret: null, seeded: 1 });
      expect(await store.countKeys()).toBe(1);
    });

    it('adds a key newly listed in API_KEYS on a later start', async () => {
      await keys.bootstrap(['seed-one']);
      expect(await keys.bootstrap(['seed-one', 'seed-new'])).toEqual({ generatedSecret: null, seeded: 1 });
      await expect(keys.authenticate('seed-new')).resolves.toBeDefined();
    });

    it('generates exactly one key when none exists, and only then', async () => {
      const first = await keys.bootstrap([]);
      expect(first.seeded).toBe(0);
      expect(first.generatedSecret).toMatch(/^ccr_[0-9A-Za-z]{40}$/);
      expect(await store.countKeys()).toBe(1);
      await expect(keys.authenticate(first.generatedSecret as string)).resolves.toMatchObject({
        name: 'first-start',
      });
      // The store keeps only the hash.
      const stored = JSON.stringify(await store.listKeys());
      expect(stored).not.toContain((first.generatedSecret as string).slice(12));

      expect(await keys.bootstrap([])).toEqual({ generatedSecret: null, seeded: 0 });
      expect(await store.countKeys()).toBe(1);
    });

    it('generates none when a key exists, even a revoked one', async () => {
      await addKey('ccr_old', T0);
      expect(await keys.bootstrap([])).toEqual({ generatedSecret: null, seeded: 0 });
      expect(await store.countKeys()).toBe(1);
    });
  });

  describe('the key cache', () => {
    it('spares the store a read per request, and a change made elsewhere counts within KEY_CACHE_MS', async () => {
      const id = await addKey('ccr_cached');
      const reads = vi.spyOn(store, 'findKeyByHash');
      await keys.authenticate('ccr_cached');
      await keys.authenticate('ccr_cached');
      expect(reads).toHaveBeenCalledTimes(1);
      // Revoked by the key CLI or another instance: straight in the store.
      await store.updateKey(id, { revokedAt: T0 });
      clock.t += KEY_CACHE_MS - 1;
      await expect(keys.authenticate('ccr_cached')).resolves.toMatchObject({ id });
      clock.t += 1;
      expect(await failure('ccr_cached')).toMatchObject({ code: 'INVALID_API_KEY' });
    });

    it("a change through this server's admin counts at once", async () => {
      const id = await addKey('ccr_admin_revoked');
      const admin = new KeyAdmin(store, clock, () => keys.forget());
      await keys.authenticate('ccr_admin_revoked');
      await admin.revoke(id);
      expect(await failure('ccr_admin_revoked')).toMatchObject({ code: 'INVALID_API_KEY' });
    });

    it('does not remember an unknown key: a key made meanwhile works at once', async () => {
      expect(await failure('ccr_later')).toMatchObject({ code: 'INVALID_API_KEY' });
      await addKey('ccr_later');
      await expect(keys.authenticate('ccr_later')).resolves.toMatchObject({ name: 'ccr_later' });
    });
  });
});
