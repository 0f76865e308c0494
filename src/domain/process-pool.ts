/**
 * The Claude Code processes of the live sessions: started on demand (a new session's at once,
 * so its first message finds it warm; a parked session's at its next message, resuming the
 * conversation), and parked when idle for SESSION_PARK_AFTER_SECONDS.
 *
 * Never more than MAX_LIVE_PROCESSES at once: each process holds one of that many slots from
 * its start to its exit. A start that finds every slot taken first parks the session idle the
 * longest; when no session is idle, it waits in line for a slot (first come, first served, its
 * turn's status says so with its place), for at most PROCESS_WAIT_MAX_MS, then gives up with a
 * 503 and a Retry-After. A running turn is never stopped to make room.
 *
 * Spares (PREWARM_PROCESSES, spare-pool.ts) hold slots of the same count: a spare is the first
 * process closed when a start needs a slot, and never takes the last free one.
 */
import type { Admission } from './admission.js';
import { processCapacity, shuttingDown } from './error-situations.js';
import type { AgentProcess, AgentRunner, AgentSpec, Clock, Logger, Workspaces } from './ports.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionRuntime } from './session-runtime.js';
import { SparePool } from './spare-pool.js';
import type { SpareTemplate } from './spare-template.js';
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
    /** How long a start may wait for a slot when none can be freed (then 503). */
    processWaitMaxMs: number;
    /** Spares to keep (PREWARM_PROCESSES); 0 or absent: none. */
    prewarmProcesses?: number;
  };
  /** Where a spare's workspace is made, and removed if no session took it. */
  workspaces?: Pick<Workspaces, 'create' | 'remove'>;
  /** The options spares start with (the server's defaults). */
  spareTemplate?: SpareTemplate;
}

/** How a start that must wait for a slot is told about it, and stopped. */
export interface SlotWait {
  /** Aborts the wait (the turn was interrupted): the start then throws WaitAborted. */
  signal?: AbortSignal;
  /** Called when the start waits in line, with its place (1 = next). */
  onQueued?: (position: number) => void;
}

/** A start whose wait for a slot was aborted by its caller. */
export class WaitAborted extends Error {
  override name = 'WaitAborted';
}

interface Waiter {
  /** Hands over a slot that was freed. */
  grant: () => void;
  fail: (err: Error) => void;
}

export class ProcessPool {
  /** Slots held by processes that run or are being started. */
  private slotsInUse = 0;
  /** Starts waiting for a slot, in order. */
  private readonly line: Waiter[] = [];
  /** The prewarmed processes (PREWARM_PROCESSES), which hold slots of this pool. */
  readonly spares: SparePool;

  constructor(private readonly deps: ProcessPoolDeps) {
    this.spares = new SparePool({
      runner: deps.runner,
      admission: deps.admission,
      logger: deps.logger,
      prewarmProcesses: deps.settings.prewarmProcesses ?? 0,
      ...(deps.workspaces ? { workspaces: deps.workspaces } : {}),
      ...(deps.spareTemplate ? { spareTemplate: deps.spareTemplate } : {}),
      slots: {
        // Never the last free slot: a start that finds it needs no spare closed first.
        reserveForSpare: () => {
          if (this.slotsInUse + 1 >= deps.settings.maxLiveProcesses || this.line.length > 0) return false;
          this.slotsInUse++;
          return true;
        },
        release: () => this.releaseSlot(),
      },
    });
  }

  /** The session's live process, started (or resumed) if it has none. */
  ensure(session: SessionRuntime, wait: SlotWait = {}): Promise<AgentProcess> {
    // Once the server stopped its processes, none starts again. (Not an async function: a turn
    // reaches its live process without an extra hop.)
    if (this.deps.admission.stopped) {
      try {
        this.deps.admission.assertAccepting();
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return session.ensureProcess(() => this.start(session, wait));
  }

  /** Slots in use now (processes running or starting). */
  get inUse(): number {
    return this.slotsInUse;
  }

  /** Starts waiting for a slot now. */
  get waiting(): number {
    return this.line.length;
  }

  /** Starts a new session's process now, if a slot is free: its first message then finds it warm. */
  warmUp(session: SessionRuntime): void {
    const full = this.slotsInUse >= this.deps.settings.maxLiveProcesses || this.line.length > 0;
    // A session that took a spare has its slot already.
    if (full && !this.spares.isTakenBy(session.id)) return;
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

  /**
   * A session has nothing left to do: while turns wait in line for a slot, its process gives its
   * slot up now (parked; its next message resumes it) rather than at the idle sweep.
   */
  async sessionIdle(session: SessionRuntime): Promise<void> {
    this.spares.refillIfDue();
    if (this.line.length === 0 || !session.parkable) return;
    await this.park(session).catch((err: unknown) =>
      this.deps.logger.error({ err, sessionId: session.id }, 'could not park a session'),
    );
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
    for (const waiter of this.line.splice(0)) waiter.fail(shuttingDown());
    await Promise.all([this.spares.stopAll(), ...this.deps.registry.all().map((s) => s.closeProcess())]);
  }

  private async start(session: SessionRuntime, wait: SlotWait): Promise<AgentProcess> {
    if (this.spares.isTakenBy(session.id)) {
      const claimed = await this.spares.claimFor(session, this.specOf(session, 0));
      this.spares.refillSoon();
      if (claimed) {
        this.logExit(session, claimed);
        return claimed;
      }
    }
    const process = await this.startCold(session, wait);
    this.spares.refillSoon();
    return process;
  }

  private async startCold(session: SessionRuntime, wait: SlotWait): Promise<AgentProcess> {
    await this.acquireSlot(session, wait);
    let process: AgentProcess;
    try {
      process = await this.spawn(session);
    } catch (err) {
      this.releaseSlot();
      throw err;
    }
    // The slot is the process's until it exits (parked, ended, crashed, or killed).
    process.onExit(() => this.releaseSlot());
    return process;
  }

  private async spawn(session: SessionRuntime): Promise<AgentProcess> {
    const { costUsd } = await this.deps.stores.usage.sessionUsage(session.id);
    const process = await this.deps.runner.start(this.specOf(session, costUsd));
    this.logExit(session, process);
    return process;
  }

  private logExit(session: SessionRuntime, process: AgentProcess): void {
    process.onExit((exit) => {
      if (!session.ending)
        this.deps.logger.info({ sessionId: session.id, ...exit }, 'Claude Code process exited');
    });
  }

  private specOf(session: SessionRuntime, priorCostUsd: number): AgentSpec {
    const { config } = session.record;
    return {
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
      priorCostUsd,
    };
  }

  /**
   * A slot for a new process: a free one; else the one of the session idle the longest, parked
   * (its next message resumes it); else the next one freed, in line, for at most
   * PROCESS_WAIT_MAX_MS.
   */
  private async acquireSlot(starting: SessionRuntime, wait: SlotWait): Promise<void> {
    const { maxLiveProcesses, processWaitMaxMs } = this.deps.settings;
    for (;;) {
      if (wait.signal?.aborted) throw new WaitAborted('stopped before it had a process');
      // Those in line go first: a freed slot is handed to them, never taken past them.
      if (this.slotsInUse < maxLiveProcesses && this.line.length === 0) {
        this.slotsInUse++;
        return;
      }
      // A spare goes first: it serves nobody yet.
      if (await this.spares.closeOne()) continue;
      const idle = this.deps.registry
        .all()
        .filter((s) => s !== starting && s.parkable)
        .sort((a, b) => a.record.lastActivityAt - b.record.lastActivityAt)[0];
      // Its exit frees a slot (handed to the first in line, if any); then look again.
      if (idle && (await this.park(idle))) continue;
      await this.waitInLine(wait, maxLiveProcesses, processWaitMaxMs);
      return;
    }
  }

  /** Waits for a slot handed over by `releaseSlot`, or gives up (aborted, too long, shutdown). */
  private waitInLine(wait: SlotWait, maxLiveProcesses: number, maxWaitMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const started = this.deps.clock.now();
      const leave = (): void => {
        const index = this.line.indexOf(waiter);
        if (index >= 0) this.line.splice(index, 1);
        clearTimeout(timer);
        wait.signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          resolve();
        },
        fail: (err) => {
          leave();
          reject(err);
        },
      };
      const onAbort = (): void => waiter.fail(new WaitAborted('stopped while it waited for a process'));
      const timer = setTimeout(
        () => waiter.fail(processCapacity(maxLiveProcesses, this.deps.clock.now() - started)),
        maxWaitMs,
      );
      timer.unref();
      wait.signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
      wait.onQueued?.(this.line.length);
    });
  }

  /** A process exited: its slot goes to the first in line, or is free. */
  private releaseSlot(): void {
    const next = this.line[0];
    if (next) next.grant();
    else this.slotsInUse--;
  }
}
