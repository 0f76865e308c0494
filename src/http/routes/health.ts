/** `GET /health`, without a key: is the store answering, and what runs here. */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { stores, sessions, runner, clock } = deps;

  app.get('/health', { config: { public: true } }, async (_request, reply) => {
    let storeOk = true;
    try {
      await stores.ping();
    } catch {
      storeOk = false;
    }
    const now = clock.now();
    // degraded: it answers, but cannot take a new session until one ends. draining: it is
    // shutting down; the 503 tells a load balancer to send new work elsewhere.
    const status = !storeOk
      ? 'unhealthy'
      : sessions.draining
        ? 'draining'
        : sessions.atCapacity
          ? 'degraded'
          : 'healthy';
    return reply.status(storeOk && !sessions.draining ? 200 : 503).send({
      status,
      timestamp: new Date(now).toISOString(),
      version: deps.version,
      uptimeSeconds: Math.floor((now - deps.startedAt) / 1000),
      sessions: {
        /** Sessions with a live Claude Code process. */
        active: sessions.processCount,
        /** Sessions not ended (each may take messages). */
        total: sessions.activeCount,
        /** Turns running now. */
        running: sessions.runningCount,
        max: sessions.maxLive,
      },
      store: { ok: storeOk },
      claudeCode: { version: runner.version() },
    });
  });
}
