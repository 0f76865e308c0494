/**
 * Probes, without a key. `GET /health` (liveness): is the store answering, and what runs here.
 * Without a key (or with one that is not valid: a health check must not fail on it) it says only
 * whether the server is up: `status`, `timestamp`, `version`. How busy it is, what is wrong and
 * whether it has model credentials are for the server's own users: any valid key (admin or user)
 * sees the same server-wide figures, which are counts, never another key's data.
 * `GET /health/ready` (readiness): should a load balancer send work here now.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { iso } from '../../domain/time.js';
import type { AppDeps } from '../app-deps.js';
import { presentedKey } from '../plugins/auth.js';

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { status, runner, clock, keys } = deps;

  /** A valid key's holder, or not: authentication errors are not this route's answer. */
  const isKnownCaller = async (request: FastifyRequest): Promise<boolean> => {
    const presented = presentedKey(request);
    if (presented === null) return false;
    return keys.authenticate(presented).then(
      () => true,
      () => false,
    );
  };

  app.get('/health', { config: { public: true } }, async (request, reply) => {
    const health = await status.health();
    const now = clock.now();
    const summary = { status: health.status, timestamp: iso(now), version: deps.version };
    // A 503 tells a load balancer to send new work elsewhere (store down, or shutting down).
    reply.status(health.serving ? 200 : 503);
    if (!(await isKnownCaller(request))) return reply.send(summary);
    return reply.send({
      ...summary,
      uptimeSeconds: Math.floor((now - deps.startedAt) / 1000),
      sessions: health.sessions,
      spares: health.spares,
      store: { ok: health.storeOk },
      claudeCode: { version: runner.version() },
      credentials: health.agent.credentials,
      problems: health.agent.problems,
    });
  });

  app.get('/health/ready', { config: { public: true } }, async (_request, reply) => {
    const readiness = await status.readiness();
    return reply.status(readiness.ready ? 200 : 503).send({
      status: readiness.ready ? 'ready' : 'not_ready',
      timestamp: iso(clock.now()),
      checks: readiness.checks,
    });
  });
}
