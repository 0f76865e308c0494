/**
 * The in-memory side of an active session: its Claude Code process (if one is running) and
 * its running turn. The durable side is the `SessionRecord` in the store.
 */
import type { AgentProcess } from './ports.js';
import type { TurnEnding } from './turn-outcome.js';
import type { SessionRecord } from './types.js';

export interface RunningTurn {
  id: string;
  /** Sequence number of the turn's prompt event: a stream of this turn replays from here. */
  firstSeq: number;
  /** Resolves when the turn has ended and its terminal event is stored. Never rejects. */
  done: Promise<TurnEnding>;
  /** Stops the turn (Esc); its ending says it was interrupted. */
  interrupt(): Promise<void>;
}

export class LiveSession {
  process: AgentProcess | null = null;
  /** A process being started; concurrent callers wait for the same start. */
  starting: Promise<AgentProcess> | null = null;
  /**
   * True from the moment a turn is accepted, before it has an id: the busy check and the
   * reservation happen in the same synchronous step, so two racing requests cannot both win.
   */
  busy = false;
  turn: RunningTurn | null = null;
  ending = false;

  constructor(public record: SessionRecord) {}

  get id(): string {
    return this.record.id;
  }
}
