/**
 * The in-memory side of an active session: its Claude Code process (if one is running), its
 * running turn and its queue. The durable side is the `SessionRecord` in the store.
 */
import type { AgentProcess } from './ports.js';
import type { TurnEnding } from './turn-outcome.js';
import type { SessionRecord } from './types.js';

export interface RunningTurn {
  id: string;
  /** Sequence number of the turn's first event: a stream of this turn replays from here. */
  readonly firstSeq: number;
  /** Resolves when the turn has ended and its terminal event is stored. Never rejects. */
  done: Promise<TurnEnding>;
  /** Stops the turn (Esc), or takes it out of the queue if it has not started. */
  interrupt(): Promise<void>;
}

export class LiveSession {
  process: AgentProcess | null = null;
  /** A process being started; concurrent callers wait for the same start. */
  starting: Promise<AgentProcess> | null = null;
  /** The process being stopped because the session idled (parked); a new turn waits for it. */
  parking: Promise<void> | null = null;
  /**
   * True from the moment a turn is accepted to run now, before it has an id: the busy check and
   * the reservation happen in the same synchronous step, so two racing requests cannot both win.
   */
  busy = false;
  turn: RunningTurn | null = null;
  /** Turns accepted with `queue: true`, waiting behind the running one, in order. */
  readonly queue: RunningTurn[] = [];
  /** Queue places taken by requests still being accepted (counted against the queue's size). */
  queueReserved = 0;
  ending = false;
  /** Tool names by tool_use id, so a tool result's summary can name its tool. */
  readonly toolNames = new Map<string, string>();

  constructor(public record: SessionRecord) {}

  get id(): string {
    return this.record.id;
  }
}
