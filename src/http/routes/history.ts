/**
 * A session's past: the diff of a turn (or a range), rewind to before a turn, and fork from after
 * one. The WorkspaceHistory does the work; these routes only shape requests and answers.
 */
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from '../api-prefix.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { setRateLimitHeaders } from '../plugins/errors.js';
import { diffQuery, forkBody, rewindBody, sessionParams } from '../schemas.js';
import { parseOrThrow } from '../validate.js';
import { sessionSummary } from '../views.js';

export function registerHistoryRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { history, sessions } = deps;

  app.get('/sessions/:id/diff', { config: { scope: 'read', owner: true } }, async (request, reply) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const query = parseOrThrow(diffQuery, request.query, 'query');
    const diff = await history.diff(keyOf(request), id, query, query.format);
    if ('text' in diff) return reply.type('text/x-diff; charset=utf-8').send(diff.text);
    return { sessionId: id, from: diff.from, to: diff.to, files: diff.files };
  });

  app.post('/sessions/:id/rewind', { config: { scope: 'write', owner: true } }, async (request) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const body = parseOrThrow(rewindBody, request.body, 'rewind');
    return history.rewind(keyOf(request), id, body);
  });

  app.post(
    '/sessions/:id/fork',
    { config: { scope: 'write', owner: true, rateLimitBucket: 'sessions' } },
    async (request, reply) => {
      const { id } = parseOrThrow(sessionParams, request.params, 'path');
      const body = parseOrThrow(forkBody, request.body, 'fork');
      const { session, rateLimit } = await history.fork(keyOf(request), id, body);
      setRateLimitHeaders(reply, rateLimit);
      reply.header('location', `${API_PREFIX}/sessions/${session.id}`);
      return reply.status(201).send(sessionSummary(session.snapshot(), sessions.expiresAt(session.record)));
    },
  );
}
