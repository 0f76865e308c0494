/**
 * Which part of a session's event log a stream serves: the rule behind `GET …/stream` (attach
 * to one turn, resume after a cursor, or follow the running or last turn) and behind the stream
 * of a turn just started. "Nothing to send" is a decision too: the HTTP layer answers it with 204.
 */
import { idempotentTurnGone, messageNotInSession } from './error-situations.js';
import type { EventLog } from './event-log.js';
import type { SessionActivity } from './session-activity.js';
import type { Stores } from './stores.js';

export interface StreamPlan {
  sessionId: string;
  /** Serve the events after this sequence number. */
  afterSeq: number;
  /**
   * Stream only this turn's events and stop after its terminal event; null: every event, until
   * nothing runs and all is sent.
   */
  untilTurnId: string | null;
  /** Also send `delta` events (text as it is written). */
  partial: boolean;
  /**
   * The log's floor (events up to it may have been pruned): a cursor below it gets one
   * CURSOR_EXPIRED notice first, so the gap is never silent.
   */
  logFloor: number;
}

export type AttachDecision = { kind: 'nothing' } | { kind: 'stream'; plan: StreamPlan };

export interface AttachRequest {
  /** `?messageId=`: one turn (the `streamUrl` of a `stream: true` message). */
  messageId?: string;
  /** `Last-Event-ID` or `?after=`: resume after this event. */
  cursor: number | null;
  partial: boolean;
}

export class StreamAttach {
  constructor(private readonly deps: { stores: Pick<Stores, 'turns' | 'events'>; events: EventLog }) {}

  /** A turn's whole stream, from its first event: the turn a request just started. */
  async ofTurn(
    sessionId: string,
    turn: { id: string; firstSeq: number },
    partial: boolean,
  ): Promise<StreamPlan> {
    return this.plan(sessionId, turn.firstSeq - 1, turn.id, partial);
  }

  /** The stream of a turn started by an earlier request (a retry with its Idempotency-Key). */
  async ofStoredTurn(sessionId: string, messageId: string, partial: boolean): Promise<StreamPlan> {
    const turn = await this.deps.stores.turns.getTurn(messageId);
    if (!turn) throw idempotentTurnGone();
    return this.ofTurn(sessionId, turn, partial);
  }

  /** `GET …/stream`: what to serve a client that attaches to the session. */
  async attach(session: SessionActivity, request: AttachRequest): Promise<AttachDecision> {
    const sessionId = session.id;
    const { cursor, partial } = request;
    if (request.messageId !== undefined) {
      const turn = await this.deps.stores.turns.getTurn(request.messageId);
      if (!turn || turn.sessionId !== sessionId) {
        throw messageNotInSession(request.messageId, sessionId);
      }
      // The client already has this turn's last event: nothing of it is left to send.
      if (cursor !== null && turn.lastSeq !== null && cursor >= turn.lastSeq) return { kind: 'nothing' };
      return this.stream(sessionId, cursor ?? turn.firstSeq - 1, turn.id, partial);
    }
    if (cursor !== null) {
      // Nothing runs or waits, and the client has every event: nothing to send.
      if (!(await session.hasWork()) && cursor >= (await session.lastSeq())) return { kind: 'nothing' };
      return this.stream(sessionId, cursor, null, partial);
    }
    const turn = (await session.runningTurn()) ?? (await this.deps.stores.turns.latestTurn(sessionId));
    if (!turn) return { kind: 'nothing' };
    return this.stream(sessionId, turn.firstSeq - 1, turn.id, partial);
  }

  private async stream(
    sessionId: string,
    afterSeq: number,
    untilTurnId: string | null,
    partial: boolean,
  ): Promise<AttachDecision> {
    return { kind: 'stream', plan: await this.plan(sessionId, afterSeq, untilTurnId, partial) };
  }

  private async plan(
    sessionId: string,
    afterSeq: number,
    untilTurnId: string | null,
    partial: boolean,
  ): Promise<StreamPlan> {
    const logFloor = await this.deps.stores.events.logFloor(sessionId);
    return { sessionId, afterSeq, untilTurnId, partial, logFloor };
  }
}
