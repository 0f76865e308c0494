/**
 * The in-memory side of one active session, with an owner: its Claude Code process (if one
 * runs), its running turn, its queue of turns and its flags. Everything outside reads them and
 * changes them only through the intent methods below (admit a turn, start it, queue it, end it,
 * start or park the process, end the session), so each rule about them has one home.
 * The durable side is the `SessionRecord` in the store.
 */
import { queueFull, sessionBusy, sessionNotFound, workspaceBusy } from './error-situations.js';
import type { AgentProcess } from './ports.js';
import type { TurnRun } from './turn-run.js';
import type { SessionEndReason, SessionRecord } from './types.js';

/** Whether an accepted turn runs now or waits behind the running one. */
export type Admission = 'run' | 'queue';

/** How a session looks to a reader: enough for its JSON views, without its live parts. */
export interface SessionSnapshot {
  record: SessionRecord;
  /** A turn runs (or is being started) now. */
  running: boolean;
  currentMessageId: string | null;
  /** live: a Claude Code process runs; parked: none, the next message resumes the conversation. */
  process: 'live' | 'parked';
}

/** The snapshot of a session known only from its record (not loaded here). */
export function snapshotOfRecord(record: SessionRecord): SessionSnapshot {
  return { record, running: false, currentMessageId: null, process: 'parked' };
}

export class SessionRuntime {
  private currentRecord: SessionRecord;
  private agent: AgentProcess | null = null;
  /** A process being started; concurrent callers wait for the same start. */
  private starting: Promise<AgentProcess> | null = null;
  /** The process being stopped because the session idled (parked); a new turn waits for it. */
  private parking: Promise<void> | null = null;
  /**
   * True from the moment a turn is admitted to run now, before it has an id: the busy check and
   * the reservation happen in the same synchronous step, so two racing requests cannot both win.
   */
  private reservedToRun = false;
  private current: TurnRun | null = null;
  /** Turns accepted with `queue: true`, waiting behind the running one, in order. */
  private readonly waiting: TurnRun[] = [];
  /** Queue places taken by requests still being accepted (counted against the queue's size). */
  private queuePlacesReserved = 0;
  private endingFlag = false;
  /** A client changes the workspace (upload, delete, rewind): no turn starts meanwhile. */
  private workspaceHeld = false;
  /** Tool names by tool_use id, so a tool result's summary can name its tool. */
  readonly toolNames = new Map<string, string>();

  constructor(record: SessionRecord) {
    this.currentRecord = record;
  }

  get id(): string {
    return this.currentRecord.id;
  }

  get record(): SessionRecord {
    return this.currentRecord;
  }

  // --- state, read-only -------------------------------------------------------------------------

  /** A turn runs, or is admitted to run. */
  get busy(): boolean {
    return this.reservedToRun;
  }

  get turn(): TurnRun | null {
    return this.current;
  }

  get queue(): readonly TurnRun[] {
    return this.waiting;
  }

  get queueReserved(): number {
    return this.queuePlacesReserved;
  }

  get ending(): boolean {
    return this.endingFlag;
  }

  /** The Claude Code process, while it runs. */
  get process(): AgentProcess | null {
    return this.agent;
  }

  get hasLiveProcess(): boolean {
    return this.agent !== null && !this.agent.exited;
  }

  get pid(): number | null {
    return this.hasLiveProcess ? (this.agent?.pid ?? null) : null;
  }

  /** Nothing runs, nothing waits: a new turn would run at once. */
  get idle(): boolean {
    return (
      !this.reservedToRun &&
      this.waiting.length === 0 &&
      this.queuePlacesReserved === 0 &&
      !this.workspaceHeld
    );
  }

  /** Something runs or waits: a stream of the session goes on. */
  get hasWork(): boolean {
    return this.reservedToRun || this.waiting.length > 0;
  }

  /** The running or a queued turn with this id. */
  findTurn(messageId: string): TurnRun | undefined {
    return this.current?.id === messageId ? this.current : this.waiting.find((t) => t.id === messageId);
  }

  snapshot(): SessionSnapshot {
    return {
      record: this.currentRecord,
      running: this.reservedToRun,
      currentMessageId: this.current?.id ?? null,
      process: this.hasLiveProcess ? 'live' : 'parked',
    };
  }

  // --- turns ------------------------------------------------------------------------------------

  /**
   * Admits a new turn, in one synchronous step with its reservation: it runs now when the session
   * is idle; otherwise it may wait in the queue (`queue: true`, with room) or is SESSION_BUSY.
   * `checkRun` is asked before a turn is admitted to run (a key's cap on running turns), while
   * this session is not yet counted as running. Undo with `withdraw` if it is never recorded.
   */
  admit(options: { queue: boolean; maxQueuedTurns: number; checkRun: () => void }): Admission {
    if (this.idle) {
      options.checkRun();
      this.reservedToRun = true;
      return 'run';
    }
    const running = this.current?.id ?? null;
    // Nothing would start a queued turn when the hold ends: a turn waits for no file operation.
    if (!options.queue || this.workspaceHeld) throw sessionBusy(this.id, running);
    if (this.waiting.length + this.queuePlacesReserved >= options.maxQueuedTurns) {
      throw queueFull(this.id, running, this.waiting.length, options.maxQueuedTurns);
    }
    this.queuePlacesReserved++;
    return 'queue';
  }

  /** The admitted request has finished being accepted; a queue place is held by its turn now. */
  settled(admission: Admission): void {
    if (admission === 'queue') this.queuePlacesReserved--;
  }

  /** The admitted request failed before its turn was recorded: the reservation is given back. */
  withdraw(admission: Admission): void {
    if (admission === 'run') {
      this.reservedToRun = false;
      this.current = null;
    }
  }

  /** The admitted turn is recorded and starts now. */
  beginRunning(run: TurnRun): void {
    this.current = run;
    run.state = 'running';
  }

  /** The place a turn queued now would take (1 = next). */
  nextQueuePosition(): number {
    return this.waiting.length + 1;
  }

  /** A turn joins the queue (recorded as queued; or again after a restart). */
  enqueue(run: TurnRun): void {
    this.waiting.push(run);
  }

  /** Takes the next queued turn to run it, if the session is free; null otherwise. */
  startNextQueued(): TurnRun | null {
    if (this.reservedToRun || this.endingFlag) return null;
    const run = this.waiting.shift();
    if (!run) return null;
    this.reservedToRun = true;
    this.beginRunning(run);
    return run;
  }

  /** A queued turn is taken out before it started (cancelled). */
  removeQueued(run: TurnRun): void {
    const index = this.waiting.indexOf(run);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  /** Whether the session goes idle when this turn ends: it is the running one, and nothing waits. */
  idlesAfter(run: TurnRun): boolean {
    return this.current === run && this.waiting.length === 0 && !this.endingFlag;
  }

  /** A turn ended (its terminal event is stored); the session is free for the next. */
  turnEnded(run: TurnRun): void {
    if (this.current !== run) return;
    this.current = null;
    this.reservedToRun = false;
  }

  /** The conversation goes on from another Claude Code session (a rewind's copy). */
  switchConversation(claudeSessionId: string): void {
    this.currentRecord = { ...this.currentRecord, claudeSessionId };
  }

  touch(now: number): void {
    this.currentRecord = { ...this.currentRecord, lastActivityAt: now };
  }

  /**
   * Holds the workspace for a client's change (upload, delete, rewind), in one synchronous step
   * with the check that no turn runs or waits: a turn's changes are its own, and a client's are
   * recorded apart. Returns the release.
   */
  holdWorkspace(): () => void {
    if (this.endingFlag) throw sessionNotFound(this.id);
    if (!this.idle) throw workspaceBusy(this.id, this.current?.id ?? null);
    this.workspaceHeld = true;
    return () => {
      this.workspaceHeld = false;
    };
  }

  // --- the Claude Code process -----------------------------------------------------------------

  /**
   * The session's live process, started with `start` if it has none (or its last one died).
   * An ended session never gets a new one (nothing would ever close it); a process being parked
   * is waited for, then a new one resumes the conversation.
   */
  async ensureProcess(start: () => Promise<AgentProcess>): Promise<AgentProcess> {
    if (this.endingFlag) throw sessionNotFound(this.id);
    if (this.parking) await this.parking;
    if (this.agent && !this.agent.exited) return this.agent;
    this.starting ??= start()
      .then((process) => {
        this.agent = process;
        process.onExit(() => {
          if (this.agent === process) this.agent = null;
        });
        return process;
      })
      .finally(() => {
        this.starting = null;
      });
    return this.starting;
  }

  /** Whether the process may be stopped now: it runs, and no turn runs or waits. */
  get parkable(): boolean {
    return this.hasLiveProcess && !this.reservedToRun && this.waiting.length === 0 && !this.endingFlag;
  }

  /**
   * Stops the Claude Code process of a session that has nothing to do; the session stays, and
   * its next message resumes the conversation in a new process. False when there was nothing to
   * park.
   */
  async park(): Promise<boolean> {
    const process = this.agent;
    if (!process || !this.parkable) return false;
    this.parking = process.close().finally(() => {
      this.parking = null;
    });
    await this.parking;
    return true;
  }

  /** Stops the process (a start under way finishes first, so its process is closed too). */
  async closeProcess(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.agent?.close();
  }

  // --- the end ----------------------------------------------------------------------------------

  /**
   * Marks the session ended (once: false if it already was). Its turns are then the caller's to
   * stop: `turnsToStop` lists the queued ones first, so none starts when the running one ends.
   */
  markEnded(now: number, reason: SessionEndReason): boolean {
    if (this.endingFlag) return false;
    this.endingFlag = true;
    this.currentRecord = { ...this.currentRecord, status: 'ended', endedAt: now, endReason: reason };
    return true;
  }

  turnsToStop(): { queued: TurnRun[]; running: TurnRun | null } {
    return { queued: [...this.waiting], running: this.current };
  }
}
