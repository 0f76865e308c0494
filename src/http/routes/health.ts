/**
 * Probes, without a key. `GET /health` (liveness): is the store answering, and what runs here.
 * `GET /health/ready` (readiness): should a load balancer send work here now.
 */
import type { FastifyInstance } from 'fastify';
import { iso } from '../../domain/time.js';
import type { AppDeps } from '../app-deps.js';

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { status, runner, clock } = deps;

  app.get('/health', { config: { public: true } }, async (_request, reply) => {
    const health = await status.health();
    const now = clock.now();
    // A 503 tells a load balancer to send new work elsewhere (store down, or shutting down).
    return reply.status(health.serving ? 200 : 503).send({
      status: health.status,
      timestamp: iso(now),
      version: deps.version,
      uptimeSeconds: Math.floor((now - deps.startedAt) / 1000),
      sessions: health.sessions,
      store: { ok: health.storeOk },
      claudeCode: { version: runner.version() },
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
