/**
 * The Claude Code processes of the live sessions: started on demand (a new session's at once,
 * so its first message finds it warm; a parked session's at its next message, resuming the
 * conversation), never more than MAX_LIVE_PROCESSES when an idle one can be parked to make room,
 * and parked when idle for SESSION_PARK_AFTER_SECONDS.
 */
import type { Admission } from './admission.js';
import type { AgentProcess, AgentRunner, Clock, Logger } from './ports.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionRuntime } from './session-runtime.js';
import type { Stores } from './stores.js';

export interface ProcessPoolDeps {
  registry: SessionRegistry;
  runner: AgentRunner;
  /** For the session's cost so far, which a resumed process continues from. */
  stores: Pick<Stores, 'usage'>;
  admission: Admission;
  clock: Clock;
  logger: Logger;
  settings: {
    /** Claude Code processes at once; starting one more parks the longest-idle session first. */
    maxLiveProcesses: number;
  };
}

export class ProcessPool {
  constructor(private readonly deps: ProcessPoolDeps) {}

  /** The session's live process, started (or resumed) if it has none. */
  ensure(session: SessionRuntime): Promise<AgentProcess> {
    // Once the server stopped its processes, none starts again. (Not an async function: a turn
    // reaches its live process without an extra hop.)
    if (this.deps.admission.stopped) {
      try {
        this.deps.admission.assertAccepting();
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return session.ensureProcess(() => this.start(session));
  }

  /** Starts a new session's process now, if there is room: its first message then finds it warm. */
  warmUp(session: SessionRuntime): void {
    if (this.deps.registry.processCount >= this.deps.settings.maxLiveProcesses) return;
    this.ensure(session).catch((err: unknown) =>
      this.deps.logger.warn(
        { err, sessionId: session.id },
        'Claude Code did not start; the next message retries',
      ),
    );
  }

  /** Parks one session (see SessionRuntime.park), saying so in the log. */
  async park(session: SessionRuntime): Promise<boolean> {
    const started = this.deps.clock.now();
    const parked = await session.park();
    if (parked) {
      this.deps.logger.info(
        { sessionId: session.id, idleMs: started - session.record.lastActivityAt },
        'session parked: its Claude Code process stopped until the next message',
      );
    }
    return parked;
  }

  /** Parks every session idle for at least `afterMs` (the housekeeping sweep). */
  async parkIdle(afterMs: number): Promise<void> {
    if (afterMs <= 0) return;
    const now = this.deps.clock.now();
    for (const session of this.deps.registry.all()) {
      if (now - session.record.lastActivityAt < afterMs) continue;
      await this.park(session).catch((err: unknown) =>
        this.deps.logger.error({ err, sessionId: session.id }, 'could not park a session'),
      );
    }
  }

  /** Stops every Claude Code process (the sessions stay active in the store). */
  async stopAll(): Promise<void> {
    this.deps.admission.stop();
    await Promise.all(this.deps.registry.all().map((s) => s.closeProcess()));
  }

  private async start(session: SessionRuntime): Promise<AgentProcess> {
    await this.makeRoom(session);
    const { config } = session.record;
    const { costUsd } = await this.deps.stores.usage.sessionUsage(session.id);
    const process = await this.deps.runner.start({
      sessionId: session.id,
      claudeSessionId: session.record.claudeSessionId,
      model: config.model,
      permissionMode: config.permissionMode,
      maxTurns: config.maxTurns,
      cwd: config.cwd,
      systemPrompt: config.systemPrompt,
      appendSystemPrompt: config.appendSystemPrompt,
      allowedTools: config.allowedTools,
      disallowedTools: config.disallowedTools,
      priorCostUsd: costUsd,
    });
    process.onExit((exit) => {
      if (!session.ending)
        this.deps.logger.info({ sessionId: session.id, ...exit }, 'Claude Code process exited');
    });
    return process;
  }

  /**
   * At MAX_LIVE_PROCESSES, parks the session idle the longest (its next message resumes it).
   * When every process is busy, the new one starts anyway: a running turn is never stopped to
   * make room, and the cap is exceeded only by turns that run at once.
   */
  private async makeRoom(starting: SessionRuntime): Promise<void> {
    while (this.deps.registry.processCount >= this.deps.settings.maxLiveProcesses) {
      const idle = this.deps.registry
        .all()
        .filter((s) => s !== starting && s.parkable)
        .sort((a, b) => a.record.lastActivityAt - b.record.lastActivityAt)[0];
      if (!idle || !(await this.park(idle))) return;
    }
  }
}
