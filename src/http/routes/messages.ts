import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../domain/errors.js';
import type { TurnEnding } from '../../domain/turn-outcome.js';
import { API_PREFIX } from '../api-prefix.js';
import { idempotent } from '../idempotent.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { setRateLimitHeaders } from '../plugins/errors.js';
import { listMessagesQuery, sendMessageBody, sessionParams } from '../schemas.js';
import { parseOrThrow } from '../validate.js';

export function streamUrlOf(sessionId: string, messageId: string): string {
  return `${API_PREFIX}/sessions/${sessionId}/stream?messageId=${messageId}`;
}

export function registerMessageRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { placement, turns, events } = deps;
  const bodySchema = sendMessageBody(deps.settings.turnTimeoutMaxMs);

  app.post('/sessions/:id/messages', { config: { scope: 'write', owner: true } }, async (request, reply) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const body = parseOrThrow(bodySchema, request.body, 'message');
    const accepted = (messageId: string, position: number) =>
      reply.status(202).send({
        messageId,
        sessionId: id,
        streamUrl: streamUrlOf(id, messageId),
        ...(position > 0 ? { queued: true, position } : {}),
      });
    const answered = (ending: Pick<TurnEnding, 'completion' | 'error'>) => {
      if (ending.error) throw ApiError.fromBody(ending.error);
      return reply.status(200).send(ending.completion);
    };
    return idempotent(request, reply, deps.idempotency, {
      run: async (idempotency) => {
        const { turn, rateLimit, position } = await turns.start(keyOf(request), id, {
          prompt: body.prompt,
          timeoutMs: body.timeout,
          idempotency,
          queue: body.queue,
        });
        setRateLimitHeaders(reply, rateLimit);
        if (body.stream) return accepted(turn.id, position);
        // The turn runs on even if this client goes away; it is in the history either way.
        return answered(await turn.done);
      },
      replay: async (record) => {
        const messageId = record.messageId ?? '';
        if (body.stream) return accepted(messageId, 0);
        return answered(await turns.outcome(id, messageId));
      },
    });
  });

  app.get('/sessions/:id/messages', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const page = parseOrThrow(listMessagesQuery, request.query, 'query');
    // Any instance reads the history from the shared store.
    await placement.view(keyOf(request), id);
    const result = await events.history(id, page);
    return {
      sessionId: id,
      messages: result.items,
      pagination: {
        limit: page.limit,
        offset: page.offset,
        total: result.total,
        hasMore: page.offset + result.items.length < result.total,
      },
    };
  });
}
