/**
 * Previews (`events.stream` with `event_deltas`): the log's text deltas (published, never stored:
 * the `delta` events of src/domain/events.ts) as the SDK's `event_start` and `event_delta`. A
 * preview carries the id of the event it previews (`blockEventId`): the `agent.message` made from
 * the same content block of the same model message, which follows with the whole text.
 *
 * - `agent.message`: an `event_start`, then one `event_delta` (`content_delta`, a text block at
 *   `index` 0 of the message's `content`) per piece of text as the model writes it;
 * - `agent.thinking`: start-only, as the SDK defines it (the thinking is not shown here anyway).
 *
 * Best-effort, as on the hosted service: no `id:`, never replayed, free of the `events` bucket.
 */
import type { DeltaEvent } from '../../domain/events.js';
import type { SessionEvent } from '../../domain/types.js';
import { blockEventId } from './event-view.js';

export const DELTA_TYPES = ['agent.message', 'agent.thinking'] as const;
export type DeltaType = (typeof DELTA_TYPES)[number];

export interface PreviewEvent {
  type: 'event_start' | 'event_delta';
  [field: string]: unknown;
}

/** How many previews a stream remembers having started (blocks overlap only across subagents). */
const REMEMBERED_PREVIEWS = 64;

export class DeltaView {
  private readonly started = new Set<string>();

  constructor(private readonly wanted: ReadonlySet<DeltaType>) {}

  /** The previews of one published delta (none when its type was not asked for). */
  next(event: SessionEvent): PreviewEvent[] {
    if (!event.ephemeral || event.type !== 'delta') return [];
    const delta = JSON.parse(event.data) as DeltaEvent;
    const type: DeltaType = delta.kind === 'text' ? 'agent.message' : 'agent.thinking';
    // Without the model's message id the previewed event's id cannot be known.
    if (!this.wanted.has(type) || !delta.apiMessageId) return [];
    const id = blockEventId(delta.apiMessageId, delta.index);
    const out: PreviewEvent[] = [];
    if (!this.started.has(id)) {
      if (this.started.size >= REMEMBERED_PREVIEWS) this.started.clear();
      this.started.add(id);
      out.push({ type: 'event_start', event: { id, type } });
    }
    if (type === 'agent.message' && delta.text !== '') {
      out.push({
        type: 'event_delta',
        event_id: id,
        delta: { type: 'content_delta', content: { type: 'text', text: delta.text }, index: 0 },
      });
    }
    return out;
  }
}
