/** `/v1/agents` and `/v1/environments`: the configurations sessions start from. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { parseOrThrow } from '../validate.js';
import {
  agentCreateBody,
  agentUpdateBody,
  environmentCreateBody,
  environmentUpdateBody,
  idParams,
  pageQuery,
  refuseFilters,
} from './schemas.js';

const versionQuery = z.looseObject({ version: z.coerce.number().int().min(1).optional() });

export function registerAgentRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { agents, environments } = deps.managed;
  const page = (query: unknown) => {
    const q = parseOrThrow(pageQuery, query, 'query');
    return { limit: q.limit, page: q.page, includeArchived: q.include_archived === 'true' };
  };

  app.post('/agents', { config: { scope: 'write' } }, async (request) =>
    agents.create(keyOf(request), parseOrThrow(agentCreateBody, request.body, 'agent')),
  );
  app.get('/agents', { config: { scope: 'read' } }, async (request) => {
    refuseFilters(request.query, ['created_at[gte]', 'created_at[lte]']);
    return agents.list(keyOf(request), page(request.query));
  });
  app.get('/agents/:id', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    const { version } = parseOrThrow(versionQuery, request.query, 'query');
    return agents.get(keyOf(request), id, version);
  });
  app.post('/agents/:id', { config: { scope: 'write' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return agents.update(keyOf(request), id, parseOrThrow(agentUpdateBody, request.body, 'agent'));
  });
  app.post('/agents/:id/archive', { config: { scope: 'write' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return agents.archive(keyOf(request), id);
  });
  app.get('/agents/:id/versions', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return agents.versions(keyOf(request), id, page(request.query));
  });

  app.post('/environments', { config: { scope: 'write' } }, async (request) =>
    environments.create(keyOf(request), parseOrThrow(environmentCreateBody, request.body, 'environment')),
  );
  app.get('/environments', { config: { scope: 'read' } }, async (request) =>
    environments.list(keyOf(request), page(request.query)),
  );
  app.get('/environments/:id', { config: { scope: 'read' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return environments.get(keyOf(request), id);
  });
  app.post('/environments/:id', { config: { scope: 'write' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return environments.update(
      keyOf(request),
      id,
      parseOrThrow(environmentUpdateBody, request.body, 'environment'),
    );
  });
  app.post('/environments/:id/archive', { config: { scope: 'write' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return environments.archive(keyOf(request), id);
  });
  app.delete('/environments/:id', { config: { scope: 'write' } }, async (request) => {
    const { id } = parseOrThrow(idParams, request.params, 'path');
    return environments.delete(keyOf(request), id);
  });
}
