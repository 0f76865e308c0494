/**
 * `Idempotency-Key`: a retried POST (same key, same request) gets the first request's outcome
 * instead of creating a second session or running the prompt twice.
 *
 * - The record is stored in the same transaction as what the request made (the session, or the
 *   turn with its prompt), so after a crash a retry finds both or neither.
 * - Requests with the same key that arrive together are serialised here: the first claims the
 *   key; the others wait until its record is stored (or its request failed), then replay it.
 *   Ten identical concurrent requests therefore start exactly one turn.
 * - Keys are scoped to the API key and kept for the retention time (at least 24 hours).
 * - The same key with a different request is refused (IDEMPOTENCY_KEY_REUSED).
 */
import { createHash } from 'node:crypto';
import { idempotencyKeyInvalid, idempotencyKeyReused } from './error-situations.js';
import type { Clock } from './ports.js';
import type { IdempotencyStore } from './stores.js';
import type { IdempotencyRecord } from './types.js';

/** A request that may go ahead: it stores `record(…)` with what it makes, then releases. */
export interface IdempotencyClaim {
  record(sessionId: string, messageId: string | null): IdempotencyRecord;
  /** Lets waiting duplicates look again; safe to call more than once. */
  release(): void;
}

export type IdempotencyDecision =
  { kind: 'fresh'; claim: IdempotencyClaim } | { kind: 'replay'; record: IdempotencyRecord };

const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

export class Idempotency {
  private readonly inflight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: IdempotencyStore,
    private readonly clock: Clock,
    private readonly retentionMs: number,
  ) {}

  /** Forgets records past the retention time (the housekeeping runs it hourly). */
  async purge(): Promise<number> {
    return this.store.purgeIdempotency(this.clock.now() - this.retentionMs);
  }

  /** SHA-256 over what identifies a request: method, path and body (keys sorted). */
  static fingerprint(method: string, path: string, body: unknown): string {
    return createHash('sha256')
      .update(JSON.stringify([method, path, canonical(body)]))
      .digest('hex');
  }

  static validateKey(value: string): void {
    if (!VALID_KEY.test(value)) {
      throw idempotencyKeyInvalid();
    }
  }

  async decide(keyId: string, key: string, fingerprint: string): Promise<IdempotencyDecision> {
    const id = `${keyId}\u0000${key}`;
    for (;;) {
      const pending = this.inflight.get(id);
      if (pending) {
        await pending;
        continue;
      }
      let existing = await this.store.findIdempotency(keyId, key);
      // Someone may have claimed the key while we read.
      if (this.inflight.has(id)) continue;
      if (existing && existing.createdAt < this.clock.now() - this.retentionMs) {
        await this.purge();
        existing = null;
        if (this.inflight.has(id)) continue;
      }
      if (existing) {
        if (existing.fingerprint !== fingerprint) {
          throw idempotencyKeyReused(key);
        }
        return { kind: 'replay', record: existing };
      }
      return { kind: 'fresh', claim: this.claim(id, keyId, key, fingerprint) };
    }
  }

  private claim(id: string, keyId: string, key: string, fingerprint: string): IdempotencyClaim {
    let release!: () => void;
    const waiting = new Promise<void>((resolve) => (release = resolve));
    this.inflight.set(id, waiting);
    const createdAt = this.clock.now();
    return {
      record: (sessionId, messageId) => ({ keyId, key, fingerprint, sessionId, messageId, createdAt }),
      release: () => {
        if (this.inflight.get(id) === waiting) this.inflight.delete(id);
        release();
      },
    };
  }
}

/** The value with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
