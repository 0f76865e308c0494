/**
 * What GET /sessions/:id adds up from the store: the session's message count (its log's
 * `message` events) and the usage and cost of its turns. Both are aggregates over the session's
 * whole history, so a dashboard polling a long session would pay for its length on every read.
 *
 * With one instance, every write to a session's log is this instance's own (EventLog, which
 * also stores each turn's begin and end with its event), so the figures read once stay current
 * until `EventLog.appendMark` moves; then they are read again. A read that overlapped a write is
 * answered but not kept. With several instances another one may write to the log (a takeover,
 * a cut turn), so nothing is kept and every read adds up again, as before.
 */
import type { EventLog } from './event-log.js';
import type { Stores } from './stores.js';
import type { TokenUsage } from './events.js';

export interface Totals {
  messageCount: number;
  usage: TokenUsage;
  costUsd: number;
}

export class SessionTotals {
  private readonly kept = new Map<string, { mark: number; totals: Totals }>();

  constructor(
    private readonly deps: {
      stores: Pick<Stores, 'events' | 'usage'>;
      events: Pick<EventLog, 'appendMark'>;
      /** This instance is the only writer of the sessions' logs (not clustered). */
      soleWriter: boolean;
    },
  ) {}

  async of(sessionId: string): Promise<Totals> {
    if (!this.deps.soleWriter) return this.read(sessionId);
    const { events } = this.deps;
    const mark = events.appendMark(sessionId);
    const kept = this.kept.get(sessionId);
    if (kept && kept.mark === mark) return kept.totals;
    const totals = await this.read(sessionId);
    if (events.appendMark(sessionId) === mark) this.kept.set(sessionId, { mark, totals });
    return totals;
  }

  private async read(sessionId: string): Promise<Totals> {
    const { stores } = this.deps;
    const [messageCount, usage] = await Promise.all([
      stores.events.countMessages(sessionId),
      stores.usage.sessionUsage(sessionId),
    ]);
    return { messageCount, usage: usage.usage, costUsd: usage.costUsd };
  }

  /** The session ended: nothing of it is kept. */
  forget(sessionId: string): void {
    this.kept.delete(sessionId);
  }
}
