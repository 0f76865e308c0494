import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../../domain/errors.js';
import type { TurnState } from '../../domain/turn-service.js';
import { API_PREFIX } from '../api-prefix.js';
import { idempotent } from '../idempotent.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { setRateLimitHeaders } from '../plugins/errors.js';
import {
  listMessagesQuery,
  messageParams,
  sendMessageBody,
  sessionParams,
  turnStateQuery,
} from '../schemas.js';
import { parseOrThrow } from '../validate.js';

export function streamUrlOf(sessionId: string, messageId: string): string {
  return `${API_PREFIX}/sessions/${sessionId}/stream?messageId=${messageId}`;
}

function waitUrlOf(sessionId: string, messageId: string): string {
  return `${API_PREFIX}/sessions/${sessionId}/messages/${messageId}?wait=true`;
}

/** A turn's state as JSON: where to watch it and where to wait for it, with what it waits for. */
function turnStateView(state: TurnState) {
  return {
    ...state,
    streamUrl: streamUrlOf(state.sessionId, state.messageId),
    waitUrl: waitUrlOf(state.sessionId, state.messageId),
  };
}

/**
 * What a blocking call answers: 200 with the completion once the turn ended, its error if it
 * failed; 202 with the turn's state while it has not ended (`requires_action`: it waits for an
 * answer to `pendingPermissions`, then the client waits again at `waitUrl`).
 */
function answerBlocking(reply: FastifyReply, state: TurnState): FastifyReply {
  if (state.error) throw ApiError.fromBody(state.error);
  if (state.completion) return reply.status(200).send(state.completion);
  return reply.status(202).send(turnStateView(state));
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
        return answerBlocking(reply, await turns.settle(id, turn.id, deps.settings.turnTimeoutMaxMs));
      },
      replay: async (record) => {
        const messageId = record.messageId ?? '';
        if (body.stream) return accepted(messageId, 0);
        return answerBlocking(reply, await turns.settle(id, messageId, deps.settings.turnTimeoutMaxMs));
      },
    });
  });

  app.get('/sessions/:id/messages', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const page = parseOrThrow(listMessagesQuery, request.query, 'query');
    // Any instance reads the history from the shared store.
    await placement.view(keyOf(request), id);
    const [result, rewound] = await Promise.all([events.history(id, page), deps.history.rewoundTurns(id)]);
    return {
      sessionId: id,
      // A rewound turn's messages stay in the history, marked.
      messages: result.items.map((item) =>
        rewound.has((item as { turnId: string }).turnId) ? { ...(item as object), rewound: true } : item,
      ),
      pagination: {
        limit: page.limit,
        offset: page.offset,
        total: result.total,
        hasMore: page.offset + result.items.length < result.total,
      },
    };
  });

  // One turn: its state now, or (`wait=true`) once it ended or waits for an approval, at most
  // `timeout` ms, answered like a blocking `POST …/messages`.
  app.get('/sessions/:id/messages/:messageId', { config: { scope: 'read' } }, async (request, reply) => {
    const { id, messageId } = parseOrThrow(messageParams, request.params, 'path');
    const query = parseOrThrow(turnStateQuery(deps.settings.turnTimeoutMaxMs), request.query, 'query');
    const key = keyOf(request);
    if (!query.wait) return turnStateView(await turns.state(key, id, messageId));
    return answerBlocking(reply, await turns.settle(id, messageId, query.timeout, key));
  });
}
