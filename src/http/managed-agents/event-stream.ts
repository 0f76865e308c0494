/**
 * `GET /v1/sessions/:id/events/stream`: the Managed Agents view of the session's log over SSE.
 * Every event carries an `id:` (its position, event-view.ts); a client that reconnects with
 * `Last-Event-ID` gets what it missed, with no gap and no duplicate (the hosted service does not
 * resume). Without one, the stream starts at the log's head: what happens from now on, as the
 * hosted service does. It stays open while the session lives (ending with
 * `session.status_terminated` when it ends), and spends the key's `events` bucket once per log
 * event, like `/api/v1` streams. With `event_deltas`, the agent's text also comes as it is written
 * (event-deltas.ts), before the `agent.message` that carries it whole.
 */
import type { EventLog } from '../../domain/event-log.js';
import { rateLimitExceeded } from '../../domain/error-situations.js';
import { BILLED_EVENT_TYPES } from '../../domain/events.js';
import type { RateLimits } from '../../domain/rate-limits.js';
import type { ApiKeyRecord } from '../../domain/types.js';
import type { SseStream } from '../sse.js';
import { DeltaView, type DeltaType } from './event-deltas.js';
import { isAfter, LogView, positionOf } from './event-view.js';
import { ApiError } from '../../domain/errors.js';

export interface ManagedStreamDeps {
  events: EventLog;
  rateLimits: RateLimits;
  key: ApiKeyRecord;
  now: () => number;
  /** Is the session still live? Checked every second: a stream of an ended session ends. */
  sessionLive: () => Promise<boolean>;
  keyStillValid: () => Promise<boolean>;
  /** The previews asked for (`event_deltas`); empty: none. */
  deltas: ReadonlySet<DeltaType>;
}

const RECHECK_MS = 1000;

export async function streamManagedEvents(
  sse: SseStream,
  sessionId: string,
  after: { seq: number; part: number },
  deps: ManagedStreamDeps,
): Promise<void> {
  const abort = new AbortController();
  sse.onClose(() => abort.abort());
  let ended: 'terminated' | 'revoked' | null = null;
  const recheck = setInterval(() => {
    void Promise.all([deps.sessionLive(), deps.keyStillValid()]).then(
      ([live, valid]) => {
        if (abort.signal.aborted || (live && valid)) return;
        ended = valid ? 'terminated' : 'revoked';
        abort.abort();
      },
      () => undefined,
    );
  }, RECHECK_MS);
  // A notice about this connection: no `id:`, so a reconnect resumes after the last event.
  const fail = (error: ApiError) => sse.sendNotice({ type: 'error', data: error.toBody() });
  try {
    // Events of the log event at `after.seq` past `after.part` are still to send: start there.
    const fromSeq = after.part === Number.MAX_SAFE_INTEGER ? after.seq : Math.max(0, after.seq - 1);
    // The view remembers what came before (usage so far, the event just before): read up to
    // the cursor first, without sending. Retention keeps each turn's end, so usage stays whole.
    const view = new LogView();
    for (let seq = 0; seq < fromSeq;) {
      const page = await deps.events.list(sessionId, seq, 500);
      for (const event of page) if (event.seq <= fromSeq) view.next(event);
      if (page.length < 500) break;
      seq = page[page.length - 1]?.seq ?? fromSeq;
    }
    const previews = new DeltaView(deps.deltas);
    for await (const logEvent of deps.events.read(sessionId, fromSeq, abort.signal)) {
      if (logEvent.ephemeral) {
        for (const preview of previews.next(logEvent)) {
          await sse.sendNamed(null, preview.type, JSON.stringify(preview));
        }
        continue;
      }
      const viewed = view.next(logEvent).filter((e) => isAfter(e, after));
      if (viewed.length === 0) continue;
      if (BILLED_EVENT_TYPES.has(logEvent.type)) {
        const budget = await deps.rateLimits.consume(deps.key, 'events');
        if (!budget.allowed) {
          await fail(rateLimitExceeded(budget, deps.now()));
          break;
        }
      }
      for (const e of viewed) {
        await sse.sendNamed(positionOf(e), e.event.type, JSON.stringify(e.event));
      }
    }
    if (ended === 'terminated') {
      const at = new Date(deps.now()).toISOString();
      await sse.sendNamed(
        null,
        'session.status_terminated',
        JSON.stringify({
          id: `sevt_terminated_${sessionId}`,
          type: 'session.status_terminated',
          processed_at: at,
        }),
      );
    } else if (ended === 'revoked') {
      await fail(new ApiError('INVALID_API_KEY', 'The API key of this stream was revoked.'));
    }
  } finally {
    clearInterval(recheck);
    abort.abort();
    sse.end();
  }
}
