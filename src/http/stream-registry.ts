/**
 * The open SSE streams of this server, so that a shutdown can end each one with a final event and
 * a `retry:` hint instead of a cut connection.
 */
import type { SseStream } from './sse.js';

export class StreamRegistry {
  private readonly streams = new Set<SseStream>();

  add(stream: SseStream): void {
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
  }

  get size(): number {
    return this.streams.size;
  }

  /**
   * Ends every open stream with an `error` event (SERVICE_UNAVAILABLE, no `id:`, so a reconnect
   * resumes after the last logged event) and a `retry:` hint; returns how many there were.
   */
  async endAll(retryMs: number): Promise<number> {
    const open = [...this.streams];
    await Promise.all(
      open.map(async (stream) => {
        await stream.sendUnlogged('error', {
          code: 'SERVICE_UNAVAILABLE',
          message: 'The server is shutting down. Reconnect with Last-Event-ID to resume where you left off.',
          details: { retryMs },
        });
        await stream.sendRetry(retryMs);
        stream.end();
      }),
    );
    return open.length;
  }
}
