/**
 * Spares (PREWARM_PROCESSES): Claude Code processes started ahead of the next new sessions, each
 * in the owned workspace made for the session it will serve (the process sandbox binds the
 * workspace at spawn) and with the server's default options (spare-template.ts). A new session
 * that fits takes one (`take`, at create); its process is then the spare, claimed, not a cold
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
import { newClaudeSessionId, newSessionId } from './ids.js';
import type { AgentProcess, AgentRunner, AgentSpec, Logger, Workspaces } from './ports.js';
import type { SessionRuntime } from './session-runtime.js';
import { fitsClaimedSpare, fitsSpare, type ClaimRequest, type SpareTemplate } from './spare-template.js';

/** The longest a start's refill of the spares waits for a turn to end (see the comment above). */
export const REFILL_DELAY_MS = 3000;

export interface SparePoolDeps {
  runner: AgentRunner;
  admission: Admission;
  logger: Logger;
  /** Spares to keep (PREWARM_PROCESSES); 0: none. */
  prewarmProcesses: number;
  /** Where a spare's workspace is made, and removed if no session took it. */
  workspaces?: Pick<Workspaces, 'create' | 'remove'>;
  /** The options spares start with (the server's defaults). */
  spareTemplate?: SpareTemplate;
  /** The process pool's slots: a spare holds one from its start to its exit. */
  slots: {
    /** Takes a slot for a spare if one may go to a spare now (never the last free one). */
    reserveForSpare(): boolean;
    release(): void;
  };
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

export class SparePool {
  /** Spares starting or parked, no session's yet. */
  private readonly spares: Spare[] = [];
  /** Spares taken by a new session (by its id), until its process starts. */
  private readonly taken = new Map<string, Spare>();
  private claimedCount = 0;
  /** A refill of the spares waiting for a turn to end (`refillSoon`). */
  private refillTimer: NodeJS.Timeout | null = null;
  /** Whether spares are claimed as soon as they park (see the comment at the top). */
  private claimAhead = true;

  constructor(private readonly deps: SparePoolDeps) {}

  /** Spares parked now, and how many new sessions started on one since the server started. */
  get counts(): { ready: number; claimed: number } {
    return {
      ready: this.spares.filter((s) => s.process && !s.process.exited).length,
      claimed: this.claimedCount,
    };
  }

  /** Whether the workspace named `sessionId` is a spare's (no session record yet: not an orphan). */
  holdsWorkspace(sessionId: string): boolean {
    return this.taken.has(sessionId) || this.spares.some((s) => s.sessionId === sessionId);
  }

  /** Whether the session took a spare whose process it has not claimed yet (it holds a slot). */
  isTakenBy(sessionId: string): boolean {
    return this.taken.has(sessionId);
  }

  /**
   * A spare for a new session asking `request`, if one fits: the session takes its id, its Claude
   * Code session id and its workspace, and its process claims the spare. A parked spare first,
   * else one still starting (waiting for it costs less than a cold start). Null: none fits or
   * none runs (the session makes its own workspace and starts cold).
   */
  async take(request: ClaimRequest): Promise<TakenSpare | null> {
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
  async drop(sessionId: string): Promise<void> {
    const spare = this.taken.get(sessionId);
    if (!spare) return;
    this.taken.delete(sessionId);
    await this.discard(spare);
  }

  /**
   * A session that ended before its process started: the spare it took is closed. The workspace
   * is the session's, and goes as its workspace goes.
   */
  async release(sessionId: string): Promise<void> {
    const spare = this.taken.get(sessionId);
    if (!spare) return;
    this.taken.delete(sessionId);
    await (await spare.ready)?.close();
  }

  /**
   * The process of the spare `session` took, claimed; null when it took none, or when the spare
   * does not fit the session any more or Claude Code refused the claim (the spare is gone then,
   * its slot free). `spec` is what a claim at create tells Claude Code.
   */
  async claimFor(session: SessionRuntime, spec: AgentSpec): Promise<AgentProcess | null> {
    const spare = this.taken.get(session.id);
    if (!spare) return null;
    this.taken.delete(session.id);
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
    const claimed = spare.claimedAhead ? await spare.claimedAhead : await this.claimNow(process, spec);
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
    return claimed;
  }

  /**
   * Starts spares until PREWARM_PROCESSES are parked or starting, while a slot may go to a spare.
   * In the background; a spare that fails to start is logged, and tried again at the next start
   * of a process.
   */
  refill(): void {
    const { runner, workspaces, spareTemplate } = this.deps;
    if (!runner.prewarm || !workspaces || !spareTemplate) return;
    while (
      this.spares.length < this.deps.prewarmProcesses &&
      !this.deps.admission.stopped &&
      this.deps.slots.reserveForSpare()
    ) {
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
      spare.ready = this.start(spare, spareTemplate);
      this.spares.push(spare);
    }
  }

  /** Refills the spares once a turn has ended (`refillIfDue`), or REFILL_DELAY_MS from now. */
  refillSoon(): void {
    if (this.refillTimer || !this.deps.runner.prewarm || !this.deps.prewarmProcesses) return;
    this.refillTimer = setTimeout(() => this.refillNow(), REFILL_DELAY_MS);
    this.refillTimer.unref();
  }

  /** A turn ended: a refill waiting for that happens now. */
  refillIfDue(): void {
    if (this.refillTimer) this.refillNow();
  }

  /** Closes one spare no session took (its slot is then free); false when there is none. */
  async closeOne(): Promise<boolean> {
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

  /** Closes every spare, taken or not (the server stops). */
  async stopAll(): Promise<void> {
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.refillTimer = null;
    await Promise.all([
      ...this.spares.splice(0).map((spare) => this.discard(spare)),
      ...[...this.taken.keys()].map((sessionId) => this.release(sessionId)),
    ]);
  }

  private refillNow(): void {
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.refillTimer = null;
    this.refill();
  }

  private async start(spare: Spare, template: SpareTemplate): Promise<AgentProcess | null> {
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
        this.deps.slots.release();
        const index = this.spares.indexOf(spare);
        if (index < 0) return;
        this.spares.splice(index, 1);
        void this.removeWorkspace(spare);
      });
      // Not once taken: the session that took it claims it with its own options.
      if (this.claimAhead && this.spares.includes(spare)) spare.claimedAhead = this.claimNow(process, spec);
      return process;
    } catch (err) {
      this.deps.slots.release();
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
}
