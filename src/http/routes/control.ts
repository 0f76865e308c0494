/**
 * Live control of a running turn: interrupt it (Esc), and answer its permission questions.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { permissionDecisionBody, permissionParams, sessionParams } from '../schemas.js';
import { parseOrThrow } from '../validate.js';

export function registerControlRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { registry, turns, permissions } = deps;

  // 202 when a turn was interrupted (its stream ends with `complete`, status interrupted);
  // 200 when nothing ran: a harmless no-op.
  app.post('/sessions/:id/interrupt', { config: { scope: 'write', owner: true } }, async (request, reply) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const { interrupted, messageId } = await turns.interrupt(keyOf(request), id);
    const session = registry.find(keyOf(request), id);
    return reply.status(interrupted ? 202 : 200).send({
      sessionId: id,
      interrupted,
      messageId,
      status: interrupted ? 'interrupting' : 'idle',
      queued: session.queue.length,
    });
  });

  app.get('/sessions/:id/permissions', { config: { scope: 'read', owner: true } }, async (request) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    registry.find(keyOf(request), id);
    return { sessionId: id, permissions: permissions.list(id) };
  });

  app.post(
    '/sessions/:id/permissions/:requestId',
    { config: { scope: 'write', owner: true } },
    async (request) => {
      const { id, requestId } = parseOrThrow(permissionParams, request.params, 'path');
      const body = parseOrThrow(permissionDecisionBody, request.body, 'decision');
      registry.find(keyOf(request), id);
      return permissions.answer(id, requestId, body);
    },
  );
}
