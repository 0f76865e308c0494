/**
 * Serves a view of a session's event log over SSE: replay after a cursor, follow live, stop
 * at the right terminal event. Each delivered event spends one unit of the key's `events`
 * bucket; when it runs dry the client gets one `error` event and the stream closes, while
 * the turn itself goes on and lands in the history.
 */
import type { EventLog } from '../domain/event-log.js';
import type { RateLimits } from '../domain/rate-limits.js';
import type { SessionActivity } from '../domain/session-activity.js';
import type { StreamPlan } from '../domain/stream-attach.js';
import { rateLimitExceeded } from '../domain/error-situations.js';
import { type ApiKeyRecord } from '../domain/types.js';
import {
  BILLED_EVENT_TYPES,
  OPT_IN_EVENT_TYPES,
  STREAM_NOTICES,
  TERMINAL_EVENT_TYPES,
} from '../domain/events.js';
import type { SseStream } from './sse.js';

export interface EventStreamDeps {
  events: EventLog;
  rateLimits: RateLimits;
  key: ApiKeyRecord;
  /** Whether the session still has work, and its log's head: when a whole-session stream ends. */
  activity: SessionActivity;
  now: () => number;
  /** Is the key still valid? A stream of a revoked key ends within KEY_RECHECK_MS. */
  keyStillValid: () => Promise<boolean>;
}

/** How often an open stream checks that its key has not been revoked. */
const KEY_RECHECK_MS = 1000;

export async function streamEvents(sse: SseStream, plan: StreamPlan, deps: EventStreamDeps): Promise<void> {
  const abort = new AbortController();
  sse.onClose(() => abort.abort());
  let revoked = false;
  const recheck = setInterval(() => {
    void deps.keyStillValid().then(
      (valid) => {
        if (valid || abort.signal.aborted) return;
        revoked = true;
        abort.abort();
      },
      () => undefined,
    );
  }, KEY_RECHECK_MS);
  try {
    if (plan.afterSeq < plan.logFloor) {
      await sse.sendNotice(STREAM_NOTICES.cursorExpired(plan.afterSeq, plan.logFloor));
    }
    for await (const event of deps.events.read(plan.sessionId, plan.afterSeq, abort.signal)) {
      if (plan.untilTurnId !== null && event.turnId !== plan.untilTurnId) continue;
      // Deltas repeat text that the message events carry: opt-in, and free of the bucket.
      if (OPT_IN_EVENT_TYPES.has(event.type) && !plan.partial) continue;
      if (BILLED_EVENT_TYPES.has(event.type)) {
        const budget = await deps.rateLimits.consume(deps.key, 'events');
        if (!budget.allowed) {
          await sse.sendNotice(STREAM_NOTICES.rateLimited(rateLimitExceeded(budget, deps.now()).toBody()));
          break;
        }
      }
      await sse.send(event);
      if (!TERMINAL_EVENT_TYPES.has(event.type)) continue;
      if (plan.untilTurnId !== null) {
        if (event.turnId === plan.untilTurnId) break;
      } else if (!(await deps.activity.hasWork()) && event.seq >= (await deps.activity.lastSeq())) {
        break;
      }
    }
    if (revoked) {
      await sse.sendNotice(STREAM_NOTICES.keyRevoked());
    }
  } finally {
    clearInterval(recheck);
    abort.abort();
    sse.end();
  }
}
