/**
 * Identifiers: a readable prefix (`sess_`, `msg_`, `key_`) and random base62, so an id says
 * what it names in a log line, and cannot be guessed.
 */
import { randomFillSync, randomUUID } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * CSPRNG bytes drawn from a pool refilled 4 KiB at a time, as Node's own `randomUUID` does: a
 * request id per request would otherwise cost a call into OpenSSL each.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

/** `length` characters of base62 from a CSPRNG, without modulo bias (rejection sampling). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte >= 248) continue; // 248 = 62 * 4: keeps every character equally likely
    out += ALPHABET[byte % 62];
  }
  return out;
}

export const newSessionId = (): string => `sess_${randomBase62(24)}`;
export const newMessageId = (): string => `msg_${randomBase62(24)}`;
export const newKeyId = (): string => `key_${randomBase62(16)}`;
/** Claude Code wants a UUID for its own session id. */
export const newClaudeSessionId = (): string => randomUUID();
