import { createHash } from 'node:crypto';
import type * as NodeCrypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Spied on, not replaced: the real comparison runs, the test sees that it is the one used.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

// The unit project shares modules between test files (isolate: false): api-keys.js may already be
// loaded with the real node:crypto by an earlier file, so it is loaded afresh under the mock.
vi.resetModules();
const crypto = await import('node:crypto');
const { KEY_PREFIX, generateKeySecret, hashKey, keyRecordFor, sameHash } = await import('./api-keys.js');

afterEach(() => {
  vi.mocked(crypto.timingSafeEqual).mockClear();
});

describe('api keys', () => {
  it('hashes with SHA-256, hex', () => {
    const expected = createHash('sha256').update('ccr_secret', 'utf8').digest('hex');
    expect(hashKey('ccr_secret')).toBe(expected);
    expect(hashKey('ccr_secret')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKey('ccr_secreT')).not.toBe(expected);
  });

  it('compares hashes in constant time', () => {
    const a = hashKey('one');
    expect(sameHash(a, hashKey('one'))).toBe(true);
    expect(sameHash(a, hashKey('two'))).toBe(false);
    expect(vi.mocked(crypto.timingSafeEqual)).toHaveBeenCalledTimes(2);
  });

  it('hashes of different lengths are different (and do not throw)', () => {
    const a = hashKey('one');
    expect(sameHash(a, a.slice(0, 32))).toBe(false);
  });

  it('generates `ccr_` and 40 characters of base62, each time different', () => {
    const keys = Array.from({ length: 500 }, () => generateKeySecret());
    for (const k of keys) expect(k).toMatch(/^ccr_[0-9A-Za-z]{40}$/);
    expect(new Set(keys).size).toBe(500);
    // 20,000 random characters: every one of the 62 shows up.
    expect(new Set(keys.map((k) => k.slice(KEY_PREFIX.length)).join('')).size).toBe(62);
  });

  it('makes a record that keeps only a short prefix and the hash of the key', () => {
    const secret = generateKeySecret();
    const record = keyRecordFor(secret, { name: 'ci', now: 1234 });
    expect(record).toEqual({
      id: expect.stringMatching(/^key_[0-9A-Za-z]{16}$/),
      name: 'ci',
      prefix: secret.slice(0, 12),
      hash: hashKey(secret),
      role: 'user',
      policy: {},
      createdAt: 1234,
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(JSON.stringify(record)).not.toContain(secret.slice(12));
  });

  it('a generated key keeps 32 base62 characters (190 bits) out of its stored prefix', () => {
    const secret = generateKeySecret();
    const { prefix } = keyRecordFor(secret, { name: 'x', now: 0 });
    expect(secret.startsWith(prefix)).toBe(true);
    expect(secret.length - prefix.length).toBeGreaterThanOrEqual(32);
  });

  // An operator-chosen key keeps at most a quarter of itself (and 4 characters) in clear.
  it('the prefix of an operator-chosen key reveals at most half of it', () => {
    const revealing = [3, 4, 8, 12, 16, 19, 24]
      .map((n) => {
        const secret = 'abcdefghijklmnopqrstuvwxyz'.slice(0, n);
        return { length: n, shown: keyRecordFor(secret, { name: 'x', now: 0 }).prefix.length };
      })
      .filter(({ length, shown }) => shown > length / 2);
    // Today: 3 of 3, 4 of 4, 8 of 12, 12 of 16, 12 of 19 characters are stored in clear.
    expect(revealing).toEqual([]);
  });

  it('takes a role and a policy', () => {
    const record = keyRecordFor('ccr_x', {
      name: 'admin',
      role: 'admin',
      policy: { rateLimits: { sessions: 1 } },
      now: 0,
    });
    expect(record).toMatchObject({ role: 'admin', policy: { rateLimits: { sessions: 1 } } });
  });
});
