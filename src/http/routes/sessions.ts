import type { FastifyInstance } from 'fastify';
import type { SessionSnapshot } from '../../domain/session-runtime.js';
import { API_PREFIX } from '../api-prefix.js';
import { idempotent } from '../idempotent.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { setRateLimitHeaders } from '../plugins/errors.js';
import { CreateSessionBody, listSessionsQuery, sessionParams } from '../schemas.js';
import { SessionDetailsSchema } from '../openapi/response-schemas.js';
import { serializedAs } from '../serialization.js';
import { parseOrThrow } from '../validate.js';
import { sessionDetails, sessionSummary } from '../views.js';

export function registerSessionRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { sessions } = deps;

  app.post(
    '/sessions',
    { config: { rateLimitBucket: 'sessions', scope: 'write' } },
    async (request, reply) => {
      const body = parseOrThrow(CreateSessionBody, request.body, 'session');
      const created = (session: SessionSnapshot) => {
        reply.header('location', `${API_PREFIX}/sessions/${session.record.id}`);
        return reply.status(201).send(sessionSummary(session, sessions.expiresAt(session.record)));
      };
      return idempotent(request, reply, deps.idempotency, {
        run: async (claim) => {
          const { session, rateLimit } = await sessions.create(keyOf(request), body, claim);
          setRateLimitHeaders(reply, rateLimit);
          return created(session.snapshot());
        },
        // The session as it is now (it may have been used or ended since).
        replay: async (record) => created(await sessions.current(record.sessionId)),
      });
    },
  );

  app.get('/sessions', { config: { scope: 'read' } }, async (request) => {
    const page = parseOrThrow(listSessionsQuery, request.query, 'query');
    const result = await sessions.list(keyOf(request), page);
    return {
      sessions: result.items.map((s) => sessionSummary(s, sessions.expiresAt(s.record))),
      total: result.total,
      limit: page.limit,
      offset: page.offset,
      hasMore: page.offset + result.items.length < result.total,
    };
  });

  app.get(
    '/sessions/:id',
    // Polled by dashboards: written by a serializer compiled from its schema.
    {
      config: { scope: 'read', owner: true },
      schema: { response: serializedAs({ 200: SessionDetailsSchema }) },
    },
    async (request) => {
      const { id } = parseOrThrow(sessionParams, request.params, 'path');
      return sessionDetails(await sessions.details(keyOf(request), id));
    },
  );

  app.delete('/sessions/:id', { config: { scope: 'write', owner: true } }, async (request, reply) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    await sessions.end(keyOf(request), id);
    return reply.status(204).send();
  });
}
