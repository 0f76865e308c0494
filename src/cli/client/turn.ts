/**
 * One turn over an event stream, as the terminal client runs it: `POST …/stream`, each event
 * handed to the caller, and when the connection drops before the turn's terminal event, a
 * reconnect to that turn (`GET …/stream?messageId=`) with `Last-Event-ID`, so nothing is missed
 * or shown twice.
 */
import { ApiFailure, type ApiClient, type StreamEvent } from './connection.js';
import type { CompletionData } from './render.js';

export interface TurnHandlers {
  onEvent(event: StreamEvent): Promise<void> | void;
  /** The stream dropped; `attempt` counts the reconnects. */
  onReconnect?(attempt: number): void;
}

export type TurnEnd =
  { kind: 'complete'; completion: CompletionData } | { kind: 'error'; code: string; message: string };

const MAX_RECONNECTS = 5;

export async function runTurn(
  client: ApiClient,
  sessionId: string,
  body: { prompt: string; partial?: boolean },
  handlers: TurnHandlers,
): Promise<TurnEnd> {
  let lastId: string | null = null;
  let messageId: string | null = null;
  let attempt = 0;
  let source = client.stream('POST', `/sessions/${sessionId}/stream`, { body });
  for (;;) {
    try {
      for await (const event of source) {
        if (event.id !== null) lastId = event.id;
        messageId ??= turnIdOf(event.data);
        await handlers.onEvent(event);
        if (event.event === 'complete') return { kind: 'complete', completion: event.data as CompletionData };
        // An `error` with an id is the turn's end; without one, a notice about this connection.
        if (event.event === 'error' && event.id !== null) return errorEnd(event.data);
      }
    } catch (err) {
      if (err instanceof ApiFailure && err.status !== null)
        return { kind: 'error', code: err.code, message: err.message };
      if (messageId === null || attempt >= MAX_RECONNECTS) {
        return {
          kind: 'error',
          code: err instanceof ApiFailure ? err.code : 'STREAM_LOST',
          message: String((err as Error).message),
        };
      }
    }
    // The stream ended (or dropped) before the turn's terminal event: resume after the last one.
    if (messageId === null || attempt >= MAX_RECONNECTS) {
      return { kind: 'error', code: 'STREAM_LOST', message: 'the event stream ended before the turn did' };
    }
    attempt += 1;
    handlers.onReconnect?.(attempt);
    await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** attempt, 3000)));
    source = client.stream(
      'GET',
      `/sessions/${sessionId}/stream?messageId=${encodeURIComponent(messageId)}`,
      {
        lastEventId: lastId,
      },
    );
  }
}

function turnIdOf(data: unknown): string | null {
  const d = data as { messageId?: unknown; turnId?: unknown } | null;
  if (typeof d?.messageId === 'string') return d.messageId;
  if (typeof d?.turnId === 'string') return d.turnId;
  return null;
}

function errorEnd(data: unknown): TurnEnd {
  const e = data as { code?: string; message?: string };
  return { kind: 'error', code: e.code ?? 'ERROR', message: e.message ?? '' };
}
