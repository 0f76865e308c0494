/**
 * The server's periodic work, on one timer: park idle sessions' processes, end sessions idle past
 * their expiry, remove ended sessions' workspaces, and (hourly) apply the event log's retention
 * and forget expired Idempotency-Keys.
 */
import type { Idempotency } from './idempotency.js';
import type { Clock, Logger } from './ports.js';
import type { ProcessPool } from './process-pool.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionService } from './session-service.js';
import type { Stores } from './stores.js';

export interface HousekeepingDeps {
  sessions: SessionService;
  registry: SessionRegistry;
  pool: ProcessPool;
  idempotency: Idempotency;
  stores: Pick<Stores, 'events'>;
  clock: Clock;
  logger: Logger;
  settings: {
    idleExpiryMs: number;
    /** Idle this long, a session's Claude Code process is stopped (parked); 0: never. */
    parkAfterMs: number;
    /** How long events other than messages and final events are kept, and an ended session's log (0: forever). */
    eventRetentionMs: number;
  };
}

/** How often the hourly chores (retention, idempotency records) run. */
const HOURLY_MS = 60 * 60 * 1000;

export class Housekeeping {
  private timer: NodeJS.Timeout | null = null;
  /** When the hourly chores last ran; 0: they run at the first sweep. */
  private lastHourly = 0;

  constructor(private readonly deps: HousekeepingDeps) {}

  /** Starts the sweep: often enough for the shortest of parking and expiry, at least once a minute. */
  start(): void {
    const { idleExpiryMs, parkAfterMs } = this.deps.settings;
    const shortest = Math.min(idleExpiryMs, parkAfterMs > 0 ? parkAfterMs : idleExpiryMs);
    const every = Math.min(60_000, Math.max(1000, Math.floor(shortest / 4)));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async sweep(): Promise<void> {
    const { pool, sessions, clock, logger } = this.deps;
    await pool.parkIdle(this.deps.settings.parkAfterMs);
    if (clock.now() - this.lastHourly >= HOURLY_MS) {
      this.lastHourly = clock.now();
      await this.applyRetention().catch((err: unknown) =>
        logger.error({ err }, 'event log retention failed'),
      );
      await this.deps.idempotency
        .purge()
        .catch((err: unknown) => logger.error({ err }, 'idempotency purge failed'));
    }
    await sessions.expireIdle();
    await sessions
      .removeEndedWorkspaces()
      .catch((err: unknown) => logger.error({ err }, 'workspace retention sweep failed'));
  }

  /**
   * Retention of the event log: open sessions lose their events older than the retention time,
   * except messages (the history stays whole) and each turn's final event; ended sessions lose
   * their whole log and transcript.
   */
  private async applyRetention(): Promise<void> {
    const retention = this.deps.settings.eventRetentionMs;
    if (retention <= 0) return;
    const before = this.deps.clock.now() - retention;
    for (const session of this.deps.registry.all())
      await this.deps.stores.events.pruneEvents(session.id, before);
    await this.deps.stores.events.purgeEndedSessions(before);
  }
}
