/**
 * One turn's life: accepted (maybe queued behind another), running, ended. It is the handle the
 * HTTP layer holds (`done`, `interrupt`) and what the session's queue holds.
 */
import type { AgentProcess } from './ports.js';
import type { TurnEnding } from './turn-outcome.js';

/** What a request that started a turn holds of it. */
export interface RunningTurn {
  id: string;
  /** Sequence number of the turn's first event: a stream of this turn replays from here. */
  readonly firstSeq: number;
  /** Resolves when the turn has ended and its terminal event is stored. Never rejects. */
  done: Promise<TurnEnding>;
  /** Stops the turn (Esc), or takes it out of the queue if it has not started. */
  interrupt(): Promise<void>;
}

/** After an interrupt, how long Claude Code gets to end the turn before its process is stopped. */
export const INTERRUPT_GRACE_MS = 10_000;

export class TurnRun implements RunningTurn {
  state: 'queued' | 'running' | 'ended' = 'queued';
  firstSeq = 0;
  readonly done: Promise<TurnEnding>;
  /** Set when the turn is taken out of the queue before it started. */
  cancelled = false;
  private resolveDone!: (ending: TurnEnding) => void;
  private process: AgentProcess | null = null;
  private interruptRequested = false;
  /** Aborts when the turn is to stop: also before it has a process (waiting for one). */
  private readonly stopping = new AbortController();
  private killTimer: NodeJS.Timeout | null = null;
  /** Permission questions of this turn waiting for an answer. */
  private pendingApprovals = 0;
  /** Called at each change a waiting client cares about: the end, an approval asked or answered. */
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly id: string,
    readonly prompt: string,
    readonly timeoutMs: number,
    /** Called when a queued turn is cancelled: the service takes it out and ends it. */
    private readonly onCancel: (run: TurnRun) => Promise<void>,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** How the turn ended, once it has. */
  ending: TurnEnding | null = null;

  end(ending: TurnEnding): void {
    this.ending = ending;
    this.state = 'ended';
    this.detach();
    this.resolveDone(ending);
    this.notify();
  }

  /** The turn waits for a client's answer to a permission question. */
  get awaitingApproval(): boolean {
    return this.state === 'running' && this.pendingApprovals > 0;
  }

  /** A permission question of the turn now waits for its answer (until `approvalAnswered`). */
  approvalAsked(): void {
    this.pendingApprovals++;
    this.notify();
  }

  approvalAnswered(): void {
    this.pendingApprovals--;
    this.notify();
  }

  /**
   * Resolves once the turn has ended or waits for an approval (at once if it does now), or when
   * `signal` aborts: what a blocking client waits for.
   */
  untilEndedOrBlocked(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.state !== 'ended' && !this.awaitingApproval && !signal?.aborted) return;
        this.listeners.delete(check);
        signal?.removeEventListener('abort', check);
        resolve();
      };
      this.listeners.add(check);
      signal?.addEventListener('abort', check, { once: true });
      check();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  attach(process: AgentProcess): void {
    this.process = process;
    if (this.interruptRequested) void this.interrupt();
  }

  detach(): void {
    this.process = null;
    if (this.killTimer) clearTimeout(this.killTimer);
  }

  get interrupted(): boolean {
    return this.interruptRequested;
  }

  /** Aborts when the turn is interrupted (or times out): whatever it waits for should give up. */
  get stopSignal(): AbortSignal {
    return this.stopping.signal;
  }

  /**
   * Esc for Claude Code; if Claude Code does not end the turn within the grace period, its process
   * is stopped, so no turn can hang forever. A queued turn is cancelled instead.
   */
  async interrupt(): Promise<void> {
    if (this.state === 'ended') return;
    if (this.state === 'queued') {
      if (this.cancelled) return;
      this.cancelled = true;
      await this.onCancel(this);
      return;
    }
    this.interruptRequested = true;
    this.stopping.abort();
    const process = this.process;
    if (!process) return;
    this.killTimer ??= setTimeout(() => void process.close(), INTERRUPT_GRACE_MS);
    await process.interrupt();
  }
}
