/**
 * Serves a view of a session's event log over SSE: replay after a cursor, follow live, stop
 * at the right terminal event. Each delivered event spends one unit of the key's `events`
 * bucket; when it runs dry the client gets one `error` event and the stream closes, while
 * the turn itself goes on and lands in the history.
 */
import type { EventLog } from '../domain/event-log.js';
import type { RateLimits } from '../domain/rate-limits.js';
import { rateLimitExceeded } from '../domain/rate-limits.js';
import { TERMINAL_EVENT_TYPES, type ApiKeyRecord } from '../domain/types.js';
import type { SseStream } from './sse.js';

export interface EventStreamPlan {
  sessionId: string;
  afterSeq: number;
  /** Stop after this turn's terminal event; null: stop once nothing runs and all is sent. */
  untilTurnId: string | null;
}

export interface EventStreamDeps {
  events: EventLog;
  rateLimits: RateLimits;
  key: ApiKeyRecord;
  isRunning: () => boolean;
  now: () => number;
}

export async function streamEvents(
  sse: SseStream,
  plan: EventStreamPlan,
  deps: EventStreamDeps,
): Promise<void> {
  const abort = new AbortController();
  sse.onClose(() => abort.abort());
  try {
    for await (const event of deps.events.read(plan.sessionId, plan.afterSeq, abort.signal)) {
      const budget = await deps.rateLimits.consume(deps.key, 'events');
      if (!budget.allowed) {
        await sse.sendUnlogged('error', rateLimitExceeded(budget, deps.now()).toBody());
        break;
      }
      await sse.send(event);
      if (!TERMINAL_EVENT_TYPES.has(event.type)) continue;
      if (plan.untilTurnId !== null) {
        if (event.turnId === plan.untilTurnId) break;
      } else if (!deps.isRunning() && event.seq >= (await deps.events.currentSeq(plan.sessionId))) {
        break;
      }
    }
  } finally {
    abort.abort();
    sse.end();
  }
}
