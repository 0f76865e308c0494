/**
 * The open SSE streams of this server: so that a shutdown can end each one with a final event and
 * a `retry:` hint instead of a cut connection, and so that a key holds no more streams at once
 * than its policy's `maxOpenStreams`.
 */
import { streamsCap } from '../domain/error-situations.js';
import { STREAM_NOTICES } from '../domain/events.js';
import type { SseStream } from './sse.js';

/** How long a stream's final event may take to reach a client before the connection is cut. */
const FINAL_WRITE_MS = 1000;

/** A key's place for one stream, held from the request's checks until its stream closes. */
export interface StreamSlot {
  /** The stream now holds the place; it is freed when the stream closes. */
  bind(stream: SseStream): void;
  /** The request ended without a stream: the place is free again (nothing once bound). */
  release(): void;
}

export class StreamRegistry {
  private readonly streams = new Set<SseStream>();
  /** Streams open or about to open, per key. */
  private readonly perKey = new Map<string, number>();

  /**
   * Takes a place for a stream of `keyId`, or refuses (MAX_STREAMS_REACHED) when the key holds
   * `limit` already: checked and taken in one step, so parallel requests cannot pass the cap.
   */
  reserve(keyId: string, limit: number): StreamSlot {
    const held = this.perKey.get(keyId) ?? 0;
    if (held >= limit) throw streamsCap(limit);
    this.perKey.set(keyId, held + 1);
    let freed = false;
    let bound = false;
    const free = (): void => {
      if (freed) return;
      freed = true;
      const left = (this.perKey.get(keyId) ?? 1) - 1;
      if (left > 0) this.perKey.set(keyId, left);
      else this.perKey.delete(keyId);
    };
    return {
      bind: (stream) => {
        bound = true;
        this.add(stream);
        stream.onClose(free);
      },
      release: () => {
        if (!bound) free();
      },
    };
  }

  /** Streams a key holds now. */
  openOf(keyId: string): number {
    return this.perKey.get(keyId) ?? 0;
  }

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
