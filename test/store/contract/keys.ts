/** Contract: the lifecycle methods and the API keys. */
import { describe, expect, it } from 'vitest';
import { makeKey, T0, type ContractContext } from '../fixtures.js';

export function lifecycleContract(ctx: ContractContext): void {
  describe('lifecycle', () => {
    it('ping resolves on an open store', async () => {
      await expect(ctx.stores().ping()).resolves.toBeUndefined();
    });

    it('close is idempotent, and a closed store refuses work', async () => {
      await ctx.stores().close();
      await ctx.stores().close();
      await expect(ctx.stores().ping()).rejects.toThrow();
      await expect(ctx.stores().keys.countKeys()).rejects.toThrow();
    });
  });
}

export function keysContract(ctx: ContractContext): void {
  describe('keys', () => {
    it('round-trips every field, nulls and nested policy included', async () => {
      const key = makeKey();
      await ctx.stores().keys.insertKey(key);
      expect(await ctx.stores().keys.getKey(key.id)).toEqual(key);

      const used = makeKey({ id: 'key_2', role: 'admin', policy: {}, lastUsedAt: T0 + 5, revokedAt: T0 + 6 });
      await ctx.stores().keys.insertKey(used);
      expect(await ctx.stores().keys.getKey('key_2')).toEqual(used);
    });

    it('finds a key by its hash, and answers null for unknown hashes and ids', async () => {
      await ctx.stores().keys.insertKey(makeKey({ id: 'key_1', hash: 'aaa' }));
      await ctx.stores().keys.insertKey(makeKey({ id: 'key_2', hash: 'bbb' }));
      expect((await ctx.stores().keys.findKeyByHash('bbb'))?.id).toBe('key_2');
      expect(await ctx.stores().keys.findKeyByHash('ccc')).toBeNull();
      expect(await ctx.stores().keys.getKey('key_9')).toBeNull();
    });

    it('refuses a duplicate id and a duplicate hash', async () => {
      await ctx.stores().keys.insertKey(makeKey({ id: 'key_1', hash: 'aaa' }));
      await expect(ctx.stores().keys.insertKey(makeKey({ id: 'key_1', hash: 'bbb' }))).rejects.toThrow();
      await expect(ctx.stores().keys.insertKey(makeKey({ id: 'key_2', hash: 'aaa' }))).rejects.toThrow();
      expect(await ctx.stores().keys.countKeys()).toBe(1);
      expect(await ctx.stores().keys.findKeyByHash('bbb')).toBeNull();
    });

    it('keeps its own copy: mutating the inserted or a returned record changes nothing', async () => {
      const key = makeKey();
      await ctx.stores().keys.insertKey(key);
      key.name = 'changed';
      key.policy.rateLimits = { sessions: 999 };

      const read = await ctx.stores().keys.getKey(key.id);
      expect(read).toEqual(makeKey());
      if (read?.policy.rateLimits) read.policy.rateLimits.messages = 1;
      const listed = await ctx.stores().keys.listKeys();
      if (listed[0]) listed[0].name = 'changed too';
      expect(await ctx.stores().keys.findKeyByHash(key.hash)).toEqual(makeKey());
    });

    it('lists keys oldest first (then by id) and counts them', async () => {
      expect(await ctx.stores().keys.listKeys()).toEqual([]);
      expect(await ctx.stores().keys.countKeys()).toBe(0);
      await ctx.stores().keys.insertKey(makeKey({ id: 'key_c', hash: 'c', createdAt: T0 + 2 }));
      await ctx.stores().keys.insertKey(makeKey({ id: 'key_b', hash: 'b', createdAt: T0 + 1 }));
      await ctx.stores().keys.insertKey(makeKey({ id: 'key_a', hash: 'a', createdAt: T0 + 2 }));
      expect((await ctx.stores().keys.listKeys()).map((k) => k.id)).toEqual(['key_b', 'key_a', 'key_c']);
      expect(await ctx.stores().keys.countKeys()).toBe(3);
    });

    it('updateKey writes only the given fields; null is a value, undefined is absence', async () => {
      const key = makeKey();
      await ctx.stores().keys.insertKey(key);

      await ctx.stores().keys.updateKey(key.id, { lastUsedAt: T0 + 50 });
      expect(await ctx.stores().keys.getKey(key.id)).toEqual({ ...key, lastUsedAt: T0 + 50 });

      await ctx
        .stores()
        .keys.updateKey(key.id, { revokedAt: T0 + 60, name: 'renamed', lastUsedAt: undefined });
      expect(await ctx.stores().keys.getKey(key.id)).toEqual({
        ...key,
        lastUsedAt: T0 + 50,
        revokedAt: T0 + 60,
        name: 'renamed',
      });

      const policy = { rateLimits: { events: 7 } };
      await ctx.stores().keys.updateKey(key.id, { policy, revokedAt: null });
      policy.rateLimits.events = 8; // the store copied the patch
      await ctx.stores().keys.updateKey(key.id, {});
      expect(await ctx.stores().keys.getKey(key.id)).toEqual({
        ...key,
        lastUsedAt: T0 + 50,
        revokedAt: null,
        name: 'renamed',
        policy: { rateLimits: { events: 7 } },
      });
      // The hash is not patchable, so the lookup still works.
      expect((await ctx.stores().keys.findKeyByHash(key.hash))?.name).toBe('renamed');
    });

    it('updateKey of an unknown id does nothing', async () => {
      await ctx.stores().keys.updateKey('key_9', { name: 'ghost' });
      expect(await ctx.stores().keys.getKey('key_9')).toBeNull();
      expect(await ctx.stores().keys.countKeys()).toBe(0);
    });
  });
}
