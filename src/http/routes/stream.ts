/**
 * SSE: `POST /sessions/:id/stream` starts a turn and streams it; `GET /sessions/:id/stream`
 * attaches to the running (or last) turn, to one turn (`?messageId=`, the `streamUrl` of a
 * `stream: true` message), or resumes after a cursor (`Last-Event-ID` or `?after=`); which part
 * of the log it serves is the domain's rule (StreamAttach). Errors found before the stream opens
 * are ordinary JSON errors with their status.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidField, rateLimitExceeded } from '../../domain/error-situations.js';
import type { SessionActivity } from '../../domain/session-activity.js';
import type { StreamPlan } from '../../domain/stream-attach.js';
import type { ApiKeyRecord } from '../../domain/types.js';
import type { AppDeps } from '../app-deps.js';
import { streamEvents } from '../event-stream.js';
import { idempotent } from '../idempotent.js';
import { keyOf } from '../plugins/auth.js';
import { setRateLimitHeaders } from '../plugins/errors.js';
import { sessionParams, streamBody, streamQuery } from '../schemas.js';
import { SseStream } from '../sse.js';
import type { StreamSlot } from '../stream-registry.js';
import { parseOrThrow } from '../validate.js';

export function registerStreamRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { placement, turns, streamAttach, events, rateLimits, settings, clock, policies } = deps;

  /** The key's place for one more stream (MAX_STREAMS_REACHED when it holds its cap). */
  const takeStreamSlot = (key: ApiKeyRecord): StreamSlot =>
    deps.streams.reserve(key.id, policies.of(key).maxOpenStreams);
  const bodySchema = streamBody(settings.turnTimeoutMaxMs);

  const open = async (
    request: FastifyRequest,
    reply: FastifyReply,
    key: ApiKeyRecord,
    plan: StreamPlan,
    activity: SessionActivity,
    slot: StreamSlot,
  ): Promise<void> => {
    reply.hijack();
    const sse = new SseStream(reply.raw, {
      pingIntervalMs: settings.ssePingIntervalMs,
      retryMs: settings.sseRetryMs,
      maxEventBytes: settings.sseMaxEventBytes,
      stallTimeoutMs: settings.sseStallTimeoutMs,
      headers: reply.getHeaders() as Record<string, string | number | string[]>,
    });
    slot.bind(sse);
    await streamEvents(sse, plan, {
      events,
      rateLimits,
      key,
      activity,
      now: () => clock.now(),
      keyStillValid: () => deps.keys.isStillValid(key.id),
    }).catch((err: unknown) => request.log.error({ err }, 'event stream failed'));
  };

  app.post('/sessions/:id/stream', { config: { scope: 'write', owner: true } }, async (request, reply) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const body = parseOrThrow(bodySchema, request.body, 'message');
    const key = keyOf(request);
    const partial = body.partial === true;
    // A stream nobody may read is refused before its turn runs (and spends a message).
    // Nor one past the key's cap on open streams: checked (and the place held) first as well.
    const slot = takeStreamSlot(key);
    try {
      const budget = await rateLimits.peek(key, 'events');
      if (budget.remaining <= 0) throw rateLimitExceeded(budget, clock.now());
      await idempotent(request, reply, deps.idempotency, {
        run: async (idempotency) => {
          const { turn, rateLimit } = await turns.start(key, id, {
            prompt: body.prompt,
            timeoutMs: body.timeout,
            idempotency,
            queue: body.queue,
          });
          setRateLimitHeaders(reply, rateLimit);
          await open(
            request,
            reply,
            key,
            await streamAttach.ofTurn(id, turn, partial),
            await placement.view(key, id),
            slot,
          );
        },
        // A retry attaches to the first request's turn, from its first event. It spends nothing,
        // and reports the bucket like every answer to a key (a hijacked stream skips onSend).
        replay: async (record) => {
          setRateLimitHeaders(reply, await rateLimits.peek(key, 'messages'));
          await open(
            request,
            reply,
            key,
            await streamAttach.ofStoredTurn(id, record.messageId ?? '', partial),
            await placement.view(key, id),
            slot,
          );
        },
      });
    } finally {
      // Kept by the stream when one opened; given back when the request ended without one.
      slot.release();
    }
  });

  app.get(
    '/sessions/:id/stream',
    { config: { rateLimitBucket: 'events', scope: 'read' } },
    async (request, reply) => {
      const { id } = parseOrThrow(sessionParams, request.params, 'path');
      const query = parseOrThrow(streamQuery, request.query, 'query');
      const key = keyOf(request);
      // Any instance serves a stream, from the shared store and event bus.
      const activity = await placement.view(key, id);
      const decision = await streamAttach.attach(activity, {
        messageId: query.messageId,
        cursor: lastEventId(request) ?? query.after ?? null,
        partial: query.partial,
      });
      // Nothing runs and nothing is left to replay: 204, which also tells a browser's
      // EventSource to stop reconnecting (the SSE spec's way to say "done").
      if (decision.kind === 'nothing') return reply.status(204).send();

      const budget = await rateLimits.peek(key, 'events');
      setRateLimitHeaders(reply, budget);
      if (budget.remaining <= 0) throw rateLimitExceeded(budget, clock.now());
      const slot = takeStreamSlot(key);
      try {
        await open(request, reply, key, decision.plan, activity, slot);
      } finally {
        slot.release();
      }
    },
  );
}

function lastEventId(request: FastifyRequest): number | null {
  const raw = request.headers['last-event-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw invalidField(
      'Last-Event-ID must be the non-negative integer id of an event.',
      'Last-Event-ID',
      'expected a non-negative integer',
    );
  }
  return n;
}
