/**
 * API keys: made with a recognisable prefix (so secret scanners and people can spot a leaked
 * one), stored only as a SHA-256 hash, and compared in constant time.
 *
 * A plain SHA-256 (not bcrypt or scrypt) is the right tool here: the keys are 238 bits of
 * randomness, so there is nothing to brute-force, and the check runs on every request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { newKeyId, randomBase62 } from './ids.js';
import type { ApiKeyRecord, KeyRole } from './types.js';
import type { KeyPolicy } from './policy-fields.js';

export const KEY_PREFIX = 'ccr_';
const KEY_BODY_LENGTH = 40;
/** A generated key keeps `ccr_` and 8 characters (48 bits) as its visible prefix: enough to tell
 * keys apart in a list, far too little to matter against the other 190 bits. */
const GENERATED_PREFIX_LENGTH = KEY_PREFIX.length + 8;

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
    prefix: visiblePrefix(secret),
    hash: hashKey(secret),
    role: opts.role ?? 'user',
    policy: opts.policy ?? {},
    createdAt: opts.now,
    lastUsedAt: null,
    revokedAt: null,
  };
}

/**
 * The part of a key kept in plain text. An operator-chosen key (API_KEYS) may be short and
 * guessable, so at most a quarter of it, and never more than 4 characters, is kept: the rest
 * must not be recoverable by guessing against the stored hash.
 */
export function visiblePrefix(secret: string): string {
  if (secret.startsWith(KEY_PREFIX) && secret.length >= GENERATED_PREFIX_LENGTH + 16) {
    return secret.slice(0, GENERATED_PREFIX_LENGTH);
  }
  return secret.slice(0, Math.min(4, Math.floor(secret.length / 4)));
}
