/**
 * Wraps a POST route in `Idempotency-Key` handling (src/domain/idempotency.ts): without the
 * header the request just runs; with it, a retry replays the first request's outcome and says
 * so in `Idempotent-Replayed: true`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Idempotency, type IdempotencyClaim } from '../domain/idempotency.js';
import type { IdempotencyRecord } from '../domain/types.js';
import { keyOf } from './plugins/auth.js';

export async function idempotent<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  idempotency: Idempotency,
  handlers: {
    run: (claim: IdempotencyClaim | undefined) => Promise<T>;
    replay: (record: IdempotencyRecord) => Promise<T>;
  },
): Promise<T> {
  const header = request.headers['idempotency-key'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return handlers.run(undefined);
  Idempotency.validateKey(value);
  const path = request.url.split('?')[0] ?? request.url;
  const fingerprint = Idempotency.fingerprint(request.method, path, request.body ?? null);
  const decision = await idempotency.decide(keyOf(request).id, value, fingerprint);
  if (decision.kind === 'replay') {
    reply.header('idempotent-replayed', 'true');
    return handlers.replay(decision.record);
  }
  try {
    return await handlers.run(decision.claim);
  } finally {
    decision.claim.release();
  }
}
