/**
 * The server's own health, for `GET /health`: is the store answering, is it taking work, and
 * how full it is.
 */
import type { Admission } from './admission.js';
import type { SessionRegistry } from './session-registry.js';
import type { Stores } from './stores.js';

export type HealthStatus = 'healthy' | 'degraded' | 'draining' | 'unhealthy';

export interface ServerHealth {
  status: HealthStatus;
  /** Whether a load balancer should send work here (the answer's HTTP status says so too). */
  serving: boolean;
  storeOk: boolean;
  sessions: {
    /** Sessions with a live Claude Code process. */
    active: number;
    /** Sessions not ended (each may take messages). */
    total: number;
    /** Turns running now. */
    running: number;
    max: number;
  };
}

export class ServerStatus {
  constructor(
    private readonly deps: { stores: Pick<Stores, 'ping'>; registry: SessionRegistry; admission: Admission },
  ) {}

  async health(): Promise<ServerHealth> {
    const { registry, admission } = this.deps;
    let storeOk = true;
    try {
      await this.deps.stores.ping();
    } catch {
      storeOk = false;
    }
    // degraded: it answers, but cannot take a new session until one ends. draining: it is
    // shutting down, and new work should go elsewhere.
    const status: HealthStatus = !storeOk
      ? 'unhealthy'
      : admission.draining
        ? 'draining'
        : registry.atCapacity
          ? 'degraded'
          : 'healthy';
    return {
      status,
      serving: storeOk && !admission.draining,
      storeOk,
      sessions: {
        active: registry.processCount,
        total: registry.activeCount,
        running: registry.runningCount,
        max: registry.maxLive,
      },
    };
  }
}
