/**
 * What a stream needs to know of a session's work, wherever its Claude Code process runs: from
 * the session's runtime on the instance that owns it, or from the store on any other instance
 * (its events come from the shared store and bus there; see EventLog.read).
 */
import type { EventLog } from './event-log.js';
import type { SessionRuntime } from './session-runtime.js';
import type { Stores } from './stores.js';

export interface SessionActivity {
  readonly id: string;
  /** A turn runs or waits: a stream of the whole session goes on. */
  hasWork(): Promise<boolean>;
  /** The turn running now, if any. */
  runningTurn(): Promise<{ id: string; firstSeq: number } | null>;
  /** The last sequence number the session's log has given out. */
  lastSeq(): Promise<number>;
}

/** A session of this instance: its runtime knows. */
export function localActivity(session: SessionRuntime, events: EventLog): SessionActivity {
  return {
    id: session.id,
    hasWork: async () => session.hasWork,
    runningTurn: async () => session.turn,
    lastSeq: () => events.currentSeq(session.id),
  };
}

/** A session whose process runs on another instance (or on none right now): the store knows. */
export function storedActivity(sessionId: string, stores: Pick<Stores, 'turns' | 'events'>): SessionActivity {
  return {
    id: sessionId,
    hasWork: async () => (await stores.turns.listUnfinishedTurns(sessionId)).length > 0,
    runningTurn: async () =>
      (await stores.turns.listUnfinishedTurns(sessionId)).find((t) => t.status === 'running') ?? null,
    lastSeq: () => stores.events.lastEventSeq(sessionId),
  };
}
