/** One event of an SSE text, as the test helpers read it. */
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** Parses a complete SSE text into events (comments and bare `retry:` blocks carry none). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ id, event, data: data.join('\n') });
  }
  return events;
}
