/**
 * `buildApp(deps)`: the Fastify instance with every plugin and route, never listening.
 * `main.ts` listens; tests call `inject()` or listen on port 0.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { API_PREFIX } from './api-prefix.js';
import type { AppDeps } from './app-deps.js';
import { registerConsole } from './console.js';
import { AccessLog } from './plugins/access-log.js';
import { registerAuth } from './plugins/auth.js';
import { clientErrorHandler } from './plugins/client-errors.js';
import { invalidUrl } from '../domain/error-situations.js';
import { registerErrorHandling, sendError } from './plugins/errors.js';
import { registerJsonBody } from './plugins/json-body.js';
import { registerManagedAgents } from './managed-agents/index.js';
import { registerPlacement } from './plugins/placement.js';
import { genRequestId, registerRequestId } from './plugins/request-id.js';
import { registerSilentConnectionsClose } from './plugins/silent-connections.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerControlRoutes } from './routes/control.js';
import { registerFileRoutes } from './routes/files.js';
import { registerHistoryRoutes } from './routes/history.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMessageRoutes } from './routes/messages.js';
import { registerModelRoutes } from './routes/models.js';
import { registerOpenApiRoute, registerReferencePage } from './routes/reference.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerStreamRoutes } from './routes/stream.js';
import { registerUsageRoutes } from './routes/usage.js';

export async function buildApp(deps: AppDeps, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    genReqId: genRequestId,
    bodyLimit: deps.settings.bodyLimitBytes,
    trustProxy: deps.settings.trustProxy,
    // Slow or idle clients cannot hold a connection forever; SSE responses write pings well
    // inside these limits.
    requestTimeout: 120_000,
    connectionTimeout: 0,
    keepAliveTimeout: 72_000,
    return503OnClosing: false,
    // One line per request instead of Fastify's two.
    logController: new AccessLog(),
    routerOptions: { ignoreTrailingSlash: true },
    // The router's own refusals (an over-long or badly encoded URL) get the envelope too.
    frameworkErrors: (err, _request, reply) => sendError(reply, invalidUrl(err.message)),
    // And requests too broken to reach the router (bad framing, oversized headers).
    clientErrorHandler,
  });

  registerRequestId(app);
  registerSilentConnectionsClose(app);
  registerErrorHandling(app, deps.settings.bodyLimitBytes);
  registerJsonBody(app);

  await app.register(
    async (api) => {
      // Every route says who may call it; one that does not is a bug caught at start.
      api.addHook('onRoute', (route) => {
        const access = route.config as { public?: boolean; admin?: boolean; scope?: string } | undefined;
        if (!access?.public && !access?.admin && !access?.scope) {
          throw new Error(`route ${route.method} ${route.url} declares no access (public, admin or scope)`);
        }
      });
      registerAuth(api, deps.keys, deps.rateLimits);
      registerPlacement(api, deps.placement, deps.settings.instanceUrl ?? '');
      registerHealthRoutes(api, deps);
      registerModelRoutes(api, deps);
      registerSessionRoutes(api, deps);
      registerMessageRoutes(api, deps);
      registerStreamRoutes(api, deps);
      registerAdminRoutes(api, deps);
      registerUsageRoutes(api, deps);
      registerControlRoutes(api, deps);
      registerOpenApiRoute(api, deps);
      registerFileRoutes(api, deps);
      registerHistoryRoutes(api, deps);
    },
    { prefix: API_PREFIX },
  );
  await registerConsole(app);
  // Anthropic's Managed Agents API, for its official SDKs (docs/managed-agents.md).
  await registerManagedAgents(app, deps);
  registerReferencePage(app);
  return app;
}
