/**
 * The server's own health, for `GET /health`: is the store answering, is it taking work, and
 * how full it is.
 */
import type { Admission } from './admission.js';
import type { AgentHealth, AgentRunner } from './ports.js';
import type { SessionRegistry } from './session-registry.js';
import type { Stores } from './stores.js';

export type HealthStatus = 'healthy' | 'degraded' | 'draining' | 'unhealthy';

export interface ServerHealth {
  status: HealthStatus;
  /** Whether a load balancer should send work here (the answer's HTTP status says so too). */
  serving: boolean;
  storeOk: boolean;
  /** Claude Code's side: its credentials, and what keeps new turns from working. */
  agent: AgentHealth;
  sessions: {
    /** Sessions with a live Claude Code process. */
    active: number;
    /** Sessions not ended (each may take messages). */
    total: number;
    /** Turns running now. */
    running: number;
    max: number;
  };
  /** Prewarmed Claude Code processes (PREWARM_PROCESSES). */
  spares: {
    /** Parked now, waiting for a new session. */
    ready: number;
    /** New sessions that started on one since the server started. */
    claimed: number;
  };
}

/** Whether this instance should get traffic now, and why not (GET /health/ready). */
export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

export class ServerStatus {
  constructor(
    private readonly deps: {
      stores: Pick<Stores, 'ping'>;
      registry: SessionRegistry;
      admission: Admission;
      runner: Pick<AgentRunner, 'health'>;
      /** Other services the server needs to serve (Redis), by name: each resolves when it answers. */
      services?: Record<string, () => Promise<void>>;
      /** Whether this instance's lease is alive (always, for a single instance). */
      leaseAlive?: () => boolean;
      /** The prewarmed processes (SparePool.counts). */
      spares?: () => { ready: number; claimed: number };
    },
  ) {}

  /**
   * Readiness: the store and every other service answer, the instance's lease is alive, and it
   * is not shutting down. A load balancer sends work only to a ready instance; `/health` stays
   * the liveness probe.
   */
  async readiness(): Promise<Readiness> {
    const answers = async (ping: () => Promise<void>): Promise<boolean> =>
      ping().then(
        () => true,
        () => false,
      );
    const services = Object.entries(this.deps.services ?? {});
    const results = await Promise.all([
      answers(() => this.deps.stores.ping()),
      ...services.map(([, ping]) => answers(ping)),
    ]);
    const checks: Record<string, boolean> = { store: results[0] ?? false };
    services.forEach(([name], i) => (checks[name] = results[i + 1] ?? false));
    checks.lease = this.deps.leaseAlive?.() ?? true;
    checks.accepting = !this.deps.admission.draining;
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  async health(): Promise<ServerHealth> {
    const { registry, admission } = this.deps;
    let storeOk = true;
    try {
      await this.deps.stores.ping();
    } catch {
      storeOk = false;
    }
    const agent = this.deps.runner.health();
    // degraded: it answers, but cannot take a new session until one ends, or its turns would
    // fail (agent problems). draining: it is shutting down, and new work should go elsewhere.
    const status: HealthStatus = !storeOk
      ? 'unhealthy'
      : admission.draining
        ? 'draining'
        : registry.atCapacity || agent.problems.length > 0
          ? 'degraded'
          : 'healthy';
    return {
      status,
      serving: storeOk && !admission.draining,
      storeOk,
      agent,
      sessions: {
        active: registry.processCount,
        total: registry.activeCount,
        running: registry.runningCount,
        max: registry.maxLive,
      },
      spares: this.deps.spares?.() ?? { ready: 0, claimed: 0 },
    };
  }
}
