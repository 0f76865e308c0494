/**
 * Reads an SSE response body into events. `EventSource` cannot send the key header, so the
 * console reads the stream with `fetch`; `eventsource-parser` does the SSE framing.
 */
import { createParser } from 'eventsource-parser';

export interface StreamEvent {
  /** The event's place in the session's log; absent for `delta` and stream-level errors. */
  id?: number;
  event: string;
  data: unknown;
}

export async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (e: StreamEvent) => void) {
  const parser = createParser({
    onEvent(message) {
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        return; // Not JSON: not an event of this API.
      }
      const id = message.id === undefined || message.id === '' ? undefined : Number(message.id);
      onEvent({ id, event: message.event ?? 'message', data });
    },
  });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    parser.feed(decoder.decode(value, { stream: true }));
  }
}
