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
 * Spares (PREWARM_PROCESSES): Claude Code processes started ahead of the next new sessions, each
 * in the owned workspace made for the session it will serve (the process sandbox binds the
 * workspace at spawn) and with the server's default options (spare-template.ts). A new session
 * that fits takes one (`takeSpare`, at create); its process is then the spare, claimed, not a cold
 * start. A spare holds a slot like any process, and is the first thing closed when a start needs
 * a slot: live sessions are never kept waiting by a spare. Spares are started again after each
 * start of a process, while more than one slot is free and nobody waits for one: once a turn has
 * ended, or REFILL_DELAY_MS after the start, whichever comes first. A spare started at once took
 * the CPU of the first turn it was started beside (that turn took 0.3-0.4 s longer on 2 cores).
 *
 * Claimed ahead: a claim costs Claude Code 0.25-0.4 s (it takes the folder, settings, sandbox and
 * plugins), which a first message sent right after create waited for. So a spare is claimed as
 * soon as it parks, with the template's permission mode and no system prompt, in its still empty
 * workspace: what a plain `POST /sessions {}` would claim it with (spare-template.ts,
 * `fitsClaimedSpare`). That holds while the last new session that could take a spare asked for
 * exactly that; one that asked for more (a system prompt, another permission mode, files in its
 * workspace) turns it off, and spares claimed ahead are replaced by parked ones that such
 * sessions claim at create, until a plain session turns it on again. A workload keeps its habit,
 * so neither kind of session waits for a cold start where a spare could serve it.
 */
import type { Admission } from './admission.js';
import { processCapacity, shuttingDown } from './error-situations.js';
import { newClaudeSessionId, newSessionId } from './ids.js';
import type { AgentProcess, AgentRunner, AgentSpec, Clock, Logger, Workspaces } from './ports.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionRuntime } from './session-runtime.js';
import { fitsClaimedSpare, fitsSpare, type ClaimRequest, type SpareTemplate } from './spare-template.js';
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

/** A spare: a process started ahead of the new session that will be `sessionId`. */
interface Spare {
  sessionId: string;
  claudeSessionId: string;
  cwd: string | null;
  /** Resolves once its workspace is made (its path), or failed to be (null). */
  folder: Promise<string | null>;
  /** Null while it starts. */
  process: AgentProcess | null;
  /** Resolves once it is parked (the process) or failed to start (null). */
  ready: Promise<AgentProcess | null>;
  /** Claimed as soon as it parked: the claimed process, or null when Claude Code refused. */
  claimedAhead: Promise<AgentProcess | null> | null;
}

/** What a new session takes from a spare: its identity and workspace. */
export interface TakenSpare {
  sessionId: string;
  claudeSessionId: string;
  cwd: string;
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

/** The longest a start's refill of the spares waits for a turn to end (see the comment above). */
export const REFILL_DELAY_MS = 3000;

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
  /** Spares starting or parked, no session's yet. */
  private readonly spares: Spare[] = [];
  /** Spares taken by a new session (by its id), until its process starts. */
  private readonly taken = new Map<string, Spare>();
  private claimedCount = 0;
  /** A refill of the spares waiting for a turn to end (`refillSoon`). */
  private refillTimer: NodeJS.Timeout | null = null;
  /** Whether spares are claimed as soon as they park (see the comment at the top). */
  private claimAhead = true;

  constructor(private readonly deps: ProcessPoolDeps) {}

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

  /** Spares parked now, and how many new sessions started on one since the server started. */
  get spareCounts(): { ready: number; claimed: number } {
    return {
      ready: this.spares.filter((s) => s.process && !s.process.exited).length,
      claimed: this.claimedCount,
    };
  }

  /** Whether the workspace named `sessionId` is a spare's (no session record yet: not an orphan). */
  holdsWorkspace(sessionId: string): boolean {
    return this.taken.has(sessionId) || this.spares.some((s) => s.sessionId === sessionId);
  }

  /**
   * A spare for a new session with `config`, if one fits: the session takes its id, its Claude
   * Code session id and its workspace, and its process claims the spare. A parked spare first,
   * else one still starting (waiting for it costs less than a cold start). Null: none fits or
   * none runs (the session makes its own workspace and starts cold).
   */
  async takeSpare(request: ClaimRequest): Promise<TakenSpare | null> {
    const template = this.deps.spareTemplate;
    if (!template || !fitsSpare(request, template)) return null;
    const claimable = fitsClaimedSpare(request, template);
    this.learnClaimAhead(claimable);
    const spare =
      this.spares.find((s) => s.process && !s.process.exited && (claimable || !s.claimedAhead)) ??
      this.spares.find((s) => s.process === null);
    if (!spare) return null;
    this.spares.splice(this.spares.indexOf(spare), 1);
    this.taken.set(spare.sessionId, spare);
    const cwd = await spare.folder;
    if (cwd === null) {
      this.taken.delete(spare.sessionId);
      return null;
    }
    return { sessionId: spare.sessionId, claudeSessionId: spare.claudeSessionId, cwd };
  }

  /** A taken spare whose session was not created after all: closed, its workspace removed. */
  async dropSpare(sessionId: string): Promise<void> {
    const spare = this.taken.get(sessionId);
    if (!spare) return;
    this.taken.delete(sessionId);
    await this.discard(spare);
  }

  /**
   * A session that ended before its process started: the spare it took is closed. The workspace
   * is the session's, and goes as its workspace goes.
   */
  async releaseSpare(sessionId: string): Promise<void> {
    const spare = this.taken.get(sessionId);
    if (!spare) return;
    this.taken.delete(sessionId);
    await (await spare.ready)?.close();
  }

  /**
   * Starts spares until PREWARM_PROCESSES are parked or starting, while more than one slot is
   * free and no start waits for one. In the background; a spare that fails to start is logged, and tried
   * again at the next start of a process.
   */
  refillSpares(): void {
    const { runner, workspaces, spareTemplate, settings } = this.deps;
    if (!runner.prewarm || !workspaces || !spareTemplate) return;
    while (
      this.spares.length < (settings.prewarmProcesses ?? 0) &&
      // Never the last free slot: a start that finds it needs no spare closed first.
      this.slotsInUse + 1 < settings.maxLiveProcesses &&
      this.line.length === 0 &&
      !this.deps.admission.stopped
    ) {
      this.slotsInUse++;
      const sessionId = newSessionId();
      const spare: Spare = {
        sessionId,
        claudeSessionId: newClaudeSessionId(),
        cwd: null,
        folder: workspaces.create(sessionId).catch((err: unknown) => {
          this.deps.logger.warn({ err }, "could not make a spare's workspace");
          return null;
        }),
        process: null,
        ready: Promise.resolve(null),
        claimedAhead: null,
      };
      spare.ready = this.startSpare(spare, spareTemplate);
      this.spares.push(spare);
    }
  }

  private async startSpare(spare: Spare, template: SpareTemplate): Promise<AgentProcess | null> {
    try {
      spare.cwd = await spare.folder;
      if (spare.cwd === null) throw new Error('no workspace');
      const spec: AgentSpec = {
        ...template,
        sessionId: spare.sessionId,
        claudeSessionId: spare.claudeSessionId,
        cwd: spare.cwd,
        systemPrompt: null,
        appendSystemPrompt: null,
        priorCostUsd: 0,
      };
      const process = await this.deps.runner.prewarm!(spec);
      spare.process = process;
      // The slot is the process's until it exits, whether a session claimed it or not. A spare
      // that dies unclaimed takes its workspace with it.
      process.onExit(() => {
        this.releaseSlot();
        const index = this.spares.indexOf(spare);
        if (index < 0) return;
        this.spares.splice(index, 1);
        void this.removeWorkspace(spare);
      });
      // Not once taken: the session that took it claims it with its own options.
      if (this.claimAhead && this.spares.includes(spare)) spare.claimedAhead = this.claimNow(process, spec);
      return process;
    } catch (err) {
      this.releaseSlot();
      const index = this.spares.indexOf(spare);
      if (index >= 0) this.spares.splice(index, 1);
      // Taken by a session meanwhile, the workspace is that session's (it starts cold there).
      if (!this.taken.has(spare.sessionId)) void this.removeWorkspace(spare);
      if (!this.deps.admission.stopped)
        this.deps.logger.warn({ err }, 'a spare Claude Code process did not start');
      return null;
    }
  }

  /** A claim of a parked spare: the claimed process, or null (refused: the process is gone). */
  private claimNow(process: AgentProcess, spec: AgentSpec): Promise<AgentProcess | null> {
    return this.deps.runner.claim!(process, spec).catch((err: unknown) => {
      this.deps.logger.warn({ err, sessionId: spec.sessionId }, 'could not claim a spare process');
      return null;
    });
  }

  /**
   * Whether spares are claimed ahead from now on: yes while new sessions that could take one
   * would fit one claimed ahead. Turned off, the spares claimed ahead are replaced by parked ones.
   */
  private learnClaimAhead(claimable: boolean): void {
    if (this.claimAhead === claimable) return;
    this.claimAhead = claimable;
    if (claimable) return;
    for (const spare of this.spares.filter((s) => s.claimedAhead)) {
      this.spares.splice(this.spares.indexOf(spare), 1);
      void this.discard(spare);
    }
    this.refillSoon();
  }

  /** Closes a spare no session took, once started, and removes its workspace. */
  private async discard(spare: Spare): Promise<void> {
    const process = await spare.ready;
    await process?.close();
    await this.removeWorkspace(spare);
  }

  private async removeWorkspace(spare: Spare): Promise<void> {
    if (!spare.cwd) return;
    await this.deps.workspaces?.remove(spare.cwd).catch((err: unknown) => {
      this.deps.logger.warn({ err }, "could not remove a spare's workspace");
    });
  }

  /** Closes one spare no session took (its slot is then free); false when there is none. */
  private async closeOneSpare(): Promise<boolean> {
    const index = Math.max(
      0,
      this.spares.findIndex((s) => s.process !== null),
    );
    const spare = this.spares[index];
    if (!spare) return false;
    this.spares.splice(index, 1);
    await this.discard(spare);
    return true;
  }

  /** Starts a new session's process now, if a slot is free: its first message then finds it warm. */
  warmUp(session: SessionRuntime): void {
    const full = this.slotsInUse >= this.deps.settings.maxLiveProcesses || this.line.length > 0;
    // A session that took a spare has its slot already.
    if (full && !this.taken.has(session.id)) return;
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
    if (this.refillTimer) this.refillNow();
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
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.refillTimer = null;
    for (const waiter of this.line.splice(0)) waiter.fail(shuttingDown());
    await Promise.all([
      ...this.spares.splice(0).map((spare) => this.discard(spare)),
      ...[...this.taken.keys()].map((sessionId) => this.releaseSpare(sessionId)),
      ...this.deps.registry.all().map((s) => s.closeProcess()),
    ]);
  }

  private async start(session: SessionRuntime, wait: SlotWait): Promise<AgentProcess> {
    const spare = this.taken.get(session.id);
    if (spare) {
      this.taken.delete(session.id);
      const claimed = await this.claim(spare, session);
      this.refillSoon();
      if (claimed) return claimed;
    }
    const process = await this.startCold(session, wait);
    this.refillSoon();
    return process;
  }

  /** Refills the spares once a turn has ended, or REFILL_DELAY_MS from now. */
  private refillSoon(): void {
    if (this.refillTimer || !this.deps.runner.prewarm || !this.deps.settings.prewarmProcesses) return;
    this.refillTimer = setTimeout(() => this.refillNow(), REFILL_DELAY_MS);
    this.refillTimer.unref();
  }

  private refillNow(): void {
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.refillTimer = null;
    this.refillSpares();
  }

  /**
   * The session's process from the spare it took, or null (the spare is gone then, its slot
   * free): the spare does not fit the session any more, or Claude Code refused the claim.
   */
  private async claim(spare: Spare, session: SessionRuntime): Promise<AgentProcess | null> {
    const { record } = session;
    const process = await spare.ready;
    const { runner, spareTemplate } = this.deps;
    const fits =
      process !== null &&
      !process.exited &&
      runner.claim !== undefined &&
      spareTemplate !== undefined &&
      record.claudeSessionId === spare.claudeSessionId &&
      record.config.cwd === spare.cwd &&
      fitsSpare(record.config, spareTemplate) &&
      // Claimed ahead, it was told what this session asks (its workspace was checked at take).
      (!spare.claimedAhead || fitsClaimedSpare({ ...record.config, seeded: false }, spareTemplate));
    if (!fits) {
      await process?.close();
      return null;
    }
    const claimed = spare.claimedAhead
      ? await spare.claimedAhead
      : await this.claimNow(process, this.specOf(session, 0));
    if (!claimed) {
      await process.close();
      this.deps.logger.info({ sessionId: session.id }, 'the spare was refused; Claude Code starts cold');
      return null;
    }
    this.claimedCount++;
    this.deps.logger.info(
      { sessionId: session.id, pid: claimed.pid },
      'session started on a prewarmed Claude Code process',
    );
    this.logExit(session, claimed);
    return claimed;
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
      if (await this.closeOneSpare()) continue;
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
