/**
 * SSE: `POST /sessions/:id/stream` starts a turn and streams it; `GET /sessions/:id/stream`
 * attaches to the running (or last) turn, to one turn (`?messageId=`, the `streamUrl` of a
 * `stream: true` message), or resumes after a cursor (`Last-Event-ID` or `?after=`).
 * Errors found before the stream opens are ordinary JSON errors with their status.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../domain/errors.js';
import type { LiveSession } from '../../domain/live-session.js';
import { rateLimitExceeded } from '../../domain/rate-limits.js';
import type { ApiKeyRecord } from '../../domain/types.js';
import type { AppDeps } from '../app-deps.js';
import { streamEvents, type EventStreamPlan } from '../event-stream.js';
import { idempotent } from '../idempotent.js';
import { keyOf } from '../plugins/auth.js';
import { setRateLimitHeaders } from '../plugins/errors.js';
import { sessionParams, streamBody, streamQuery } from '../schemas.js';
import { SseStream } from '../sse.js';
import { parseOrThrow } from '../validate.js';

export function registerStreamRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { sessions, turns, stores, events, rateLimits, settings, clock } = deps;
  const bodySchema = streamBody(settings.turnTimeoutMaxMs);

  const open = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: LiveSession | undefined,
    key: ApiKeyRecord,
    plan: Omit<EventStreamPlan, 'logFloor'>,
  ): Promise<void> => {
    reply.hijack();
    const sse = new SseStream(reply.raw, {
      pingIntervalMs: settings.ssePingIntervalMs,
      retryMs: settings.sseRetryMs,
      maxEventBytes: settings.sseMaxEventBytes,
      stallTimeoutMs: settings.sseStallTimeoutMs,
      headers: reply.getHeaders() as Record<string, string | number | string[]>,
    });
    deps.streams.add(sse);
    const logFloor = await stores.events.logFloor(plan.sessionId);
    await streamEvents(
      sse,
      { ...plan, logFloor },
      {
        events,
        rateLimits,
        key,
        isRunning: () => (session ? session.busy || session.queue.length > 0 : false),
        now: () => clock.now(),
        keyStillValid: () => deps.keys.isStillValid(key.id),
      },
    ).catch((err: unknown) => request.log.error({ err }, 'event stream failed'));
  };

  app.post('/sessions/:id/stream', { config: { scope: 'write' } }, async (request, reply) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const body = parseOrThrow(bodySchema, request.body, 'message');
    const key = keyOf(request);
    // A stream nobody may read is refused before its turn runs (and spends a message).
    const budget = await rateLimits.peek(key, 'events');
    if (budget.remaining <= 0) throw rateLimitExceeded(budget, clock.now());
    await idempotent(request, reply, deps.idempotency, {
      run: async (idempotency) => {
        const { turn, session, rateLimit } = await turns.start(key, id, {
          prompt: body.prompt,
          timeoutMs: body.timeout,
          idempotency,
          queue: body.queue,
        });
        setRateLimitHeaders(reply, rateLimit);
        await open(request, reply, session, key, {
          sessionId: id,
          afterSeq: turn.firstSeq - 1,
          untilTurnId: turn.id,
          partial: body.partial === true,
        });
      },
      // A retry attaches to the first request's turn, from its first event.
      replay: async (record) => {
        const turn = await stores.turns.getTurn(record.messageId ?? '');
        if (!turn) throw new ApiError('NOT_FOUND', 'The turn of this Idempotency-Key no longer exists.');
        await open(request, reply, sessions.peek(id), key, {
          sessionId: id,
          afterSeq: turn.firstSeq - 1,
          untilTurnId: turn.id,
          partial: body.partial === true,
        });
      },
    });
  });

  app.get(
    '/sessions/:id/stream',
    { config: { rateLimitBucket: 'events', scope: 'read' } },
    async (request, reply) => {
      const { id } = parseOrThrow(sessionParams, request.params, 'path');
      const query = parseOrThrow(streamQuery, request.query, 'query');
      const key = keyOf(request);
      const session = sessions.find(key, id);
      const cursor = lastEventId(request) ?? query.after ?? null;

      let plan: Omit<EventStreamPlan, 'logFloor'>;
      if (query.messageId !== undefined) {
        const turn = await stores.turns.getTurn(query.messageId);
        if (!turn || turn.sessionId !== id) {
          throw new ApiError('NOT_FOUND', `Message ${query.messageId} is not a prompt of session ${id}.`, {
            messageId: query.messageId,
          });
        }
        // The client already has this turn's last event: nothing of it is left to send.
        if (cursor !== null && turn.lastSeq !== null && cursor >= turn.lastSeq) return noContent(reply);
        plan = {
          sessionId: id,
          afterSeq: cursor ?? turn.firstSeq - 1,
          untilTurnId: turn.id,
          partial: query.partial,
        };
      } else if (cursor !== null) {
        plan = { sessionId: id, afterSeq: cursor, untilTurnId: null, partial: query.partial };
        const idle = !session.busy && session.queue.length === 0;
        if (idle && cursor >= (await events.currentSeq(id))) return noContent(reply);
      } else {
        const turn = session.turn ?? (await stores.turns.latestTurn(id));
        if (!turn) return noContent(reply);
        plan = { sessionId: id, afterSeq: turn.firstSeq - 1, untilTurnId: turn.id, partial: query.partial };
      }

      const budget = await rateLimits.peek(key, 'events');
      setRateLimitHeaders(reply, budget);
      if (budget.remaining <= 0) throw rateLimitExceeded(budget, clock.now());
      await open(request, reply, session, key, plan);
    },
  );
}

/**
 * Nothing runs and nothing is left to replay: 204, which also tells a browser's EventSource
 * to stop reconnecting (the SSE spec's way to say "done").
 */
function noContent(reply: FastifyReply): FastifyReply {
  return reply.status(204).send();
}

function lastEventId(request: FastifyRequest): number | null {
  const raw = request.headers['last-event-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new ApiError('INVALID_REQUEST', 'Last-Event-ID must be the non-negative integer id of an event.', {
      issues: [{ field: 'Last-Event-ID', message: 'expected a non-negative integer' }],
    });
  }
  return n;
}
