/**
 * API keys: made with a recognisable prefix (so secret scanners and people can spot a leaked
 * one), stored only as a SHA-256 hash, and compared in constant time.
 *
 * A plain SHA-256 (not bcrypt or scrypt) is the right tool here: the keys are 238 bits of
 * randomness, so there is nothing to brute-force, and the check runs on every request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { newKeyId, randomBase62 } from './ids.js';
import type { ApiKeyRecord, KeyPolicy, KeyRole } from './types.js';

export const KEY_PREFIX = 'ccr_';
const KEY_BODY_LENGTH = 40;
/** How many leading characters of a key are kept (and shown) to recognise it. */
const SHOWN_PREFIX_LENGTH = 12;

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function generateKeySecret(): string {
  return `${KEY_PREFIX}${randomBase62(KEY_BODY_LENGTH)}`;
}

export function keyRecordFor(
  secret: string,
  opts: { name: string; role?: KeyRole; policy?: KeyPolicy; now: number },
): ApiKeyRecord {
  return {
    id: newKeyId(),
    name: opts.name,
    prefix: secret.slice(0, Math.min(SHOWN_PREFIX_LENGTH, Math.max(4, secret.length - 4))),
    hash: hashKey(secret),
    role: opts.role ?? 'user',
    policy: opts.policy ?? {},
    createdAt: opts.now,
    lastUsedAt: null,
    revokedAt: null,
  };
}
