/**
 * The open SSE streams of this server, so that a shutdown can end each one with a final event and
 * a `retry:` hint instead of a cut connection.
 */
import { STREAM_NOTICES } from '../domain/events.js';
import type { SseStream } from './sse.js';

/** How long a stream's final event may take to reach a client before the connection is cut. */
const FINAL_WRITE_MS = 1000;

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
   * resumes after the last logged event) and a `retry:` hint; returns how many there were. A
   * client that does not read them within FINAL_WRITE_MS is cut off: it cannot hold up a shutdown.
   */
  async endAll(retryMs: number): Promise<number> {
    const open = [...this.streams];
    await Promise.all(
      open.map(async (stream) => {
        const final = (async () => {
          await stream.sendNotice(STREAM_NOTICES.shuttingDown(retryMs));
          await stream.sendRetry(retryMs);
        })();
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>(
          (resolve) => (timer = setTimeout(() => resolve('late'), FINAL_WRITE_MS)),
        );
        const outcome = await Promise.race([final.then(() => 'sent' as const), late]);
        clearTimeout(timer);
        if (outcome === 'late') stream.destroy();
        else stream.end();
      }),
    );
    return open.length;
  }
}
