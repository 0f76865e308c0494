import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { setRateLimitHeaders } from '../plugins/errors.js';
import { CreateSessionBody, listSessionsQuery, sessionParams } from '../schemas.js';
import { parseOrThrow } from '../validate.js';
import { sessionDetails, sessionSummary } from '../views.js';

export function registerSessionRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { sessions, store } = deps;

  app.post('/sessions', async (request, reply) => {
    const body = parseOrThrow(CreateSessionBody, request.body, 'session');
    const { session, rateLimit } = await sessions.create(keyOf(request), body);
    setRateLimitHeaders(reply, rateLimit);
    reply.header('location', `/api/v1/sessions/${session.id}`);
    return reply.status(201).send(sessionSummary(session, sessions.expiresAt(session)));
  });

  app.get('/sessions', async (request) => {
    const page = parseOrThrow(listSessionsQuery, request.query, 'query');
    const result = await sessions.list(keyOf(request), page);
    return {
      sessions: result.items.map((s) => sessionSummary(s, sessions.expiresAt(s))),
      total: result.total,
      limit: page.limit,
      offset: page.offset,
      hasMore: page.offset + result.items.length < result.total,
    };
  });

  app.get('/sessions/:id', async (request) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const session = sessions.find(keyOf(request), id);
    const [messageCount, usage] = await Promise.all([store.countMessages(id), store.sessionUsage(id)]);
    return sessionDetails(session, {
      expiresAt: sessions.expiresAt(session),
      messageCount,
      usage: usage.usage,
      costUsd: usage.costUsd,
    });
  });

  app.delete('/sessions/:id', async (request, reply) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    await sessions.end(keyOf(request), id);
    return reply.status(204).send();
  });
}
