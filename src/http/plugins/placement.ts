/**
 * Several instances: a route marked `config: { owner: true }` needs the session's Claude Code
 * process, so it runs on the instance that owns the session. This hook asks the placement where
 * that is, after authentication (another key's session is 404 on every instance alike) and before
 * the handler: elsewhere, the request is forwarded there and the handler never runs here. With
 * one instance nothing is asked: the hook is not even registered.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../domain/errors.js';
import type { Placement } from '../../domain/placement.js';
import { forwardRequest, FORWARDED_HEADER } from '../forward.js';
import { sessionParams } from '../schemas.js';
import { parseOrThrow } from '../validate.js';
import { keyOf } from './auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route needs the session's process: with several instances, served by its owner.
     * `'if-live'`: only while the session lives; an ended one (a `/v1` session archived, still
     * readable and deletable) is served here, where the handler answers for it.
     */
    owner?: boolean | 'if-live';
  }
}

export function registerPlacement(app: FastifyInstance, placement: Placement, selfUrl: string): void {
  if (!placement.clustered) return;
  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config.owner) return;
    const { id } = parseOrThrow(sessionParams, { id: (request.params as { id?: unknown }).id }, 'path');
    const forwarded = request.headers[FORWARDED_HEADER] !== undefined;
    const ifLive = request.routeOptions.config.owner === 'if-live';
    const location = await placement.locate(keyOf(request), id, forwarded).catch((err: unknown) => {
      if (ifLive && err instanceof ApiError && err.code === 'SESSION_NOT_FOUND') return null;
      throw err;
    });
    if (location?.kind === 'forward') await forwardRequest(request, reply, location.url, selfUrl);
  });
}
