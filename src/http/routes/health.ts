/**
 * `GET /health`. Without a key (or with one that is not valid: a health check must not fail on
 * it) it says only whether the server is up: `status`, `timestamp`, `version`. How busy it is,
 * what is wrong and whether it has model credentials are for the server's own users: any valid
 * key (admin or user) sees the same server-wide figures, which are counts, never another key's
 * data.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { presentedKey } from '../plugins/auth.js';

export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { store, sessions, runner, clock, keys } = deps;

  /** A valid key's holder, or null: authentication errors are not this route's answer. */
  const isKnownCaller = async (request: FastifyRequest): Promise<boolean> => {
    const presented = presentedKey(request);
    if (presented === null) return false;
    return keys.authenticate(presented).then(
      () => true,
      () => false,
    );
  };

  app.get('/health', { config: { public: true } }, async (request, reply) => {
    let storeOk = true;
    try {
      await store.ping();
    } catch {
      storeOk = false;
    }
    const agent = runner.health();
    const now = clock.now();
    // degraded: it answers, but cannot take a new session until one ends, or its turns would
    // fail (agent.problems). draining: it is shutting down; the 503 tells a load balancer to
    // send new work elsewhere.
    const status = !storeOk
      ? 'unhealthy'
      : sessions.draining
        ? 'draining'
        : sessions.atCapacity || agent.problems.length > 0
          ? 'degraded'
          : 'healthy';
    const summary = { status, timestamp: new Date(now).toISOString(), version: deps.version };
    reply.status(storeOk && !sessions.draining ? 200 : 503);
    if (!(await isKnownCaller(request))) return reply.send(summary);
    return reply.send({
      ...summary,
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
      credentials: agent.credentials,
      problems: agent.problems,
    });
  });
}
