/**
 * A Server-Sent Events response on the raw Node socket.
 *
 * Each event goes out in one `write` (id, event and data lines together), so a client that
 * splits each chunk on newlines, as the seed's JavaScript example does, sees whole events.
 * Keep-alives are SSE comments (`: ping`), never `data:` lines. Writes wait for `drain`, so a
 * slow reader slows the writer down instead of filling the server's memory.
 */
import type { ServerResponse } from 'node:http';
import type { StreamNotice } from '../domain/events.js';
import type { SessionEvent } from '../domain/types.js';

export interface SseOptions {
  pingIntervalMs: number;
  retryMs: number;
  /** `message` events whose data is larger are sent in short form (see `shortForm`); 0: no cap. */
  maxEventBytes: number;
  /**
   * A write that cannot drain for this long means the client stopped reading: the connection
   * is closed, so a stalled client cannot hold the stream (and its buffers) forever.
   */
  stallTimeoutMs: number;
  /** Extra response headers (request id, rate-limit headers). */
  headers: Record<string, string | number | string[]>;
  /**
   * The `data:` of a notice (an `error` event about the connection); by default the seed's error
   * object. The Managed Agents API writes Anthropic's error shape instead.
   */
  formatNotice?: (notice: StreamNotice) => string;
}

export class SseStream {
  private readonly ping: NodeJS.Timeout;
  private closedFlag = false;
  /** While the response buffer is full: resolves once it drains or the connection closes. */
  private drained: Promise<void> | null = null;
  private readonly closeListeners: Array<() => void> = [];

  private readonly maxEventBytes: number;
  private readonly stallTimeoutMs: number;
  private readonly formatNotice: (notice: StreamNotice) => string;

  constructor(
    private readonly res: ServerResponse,
    options: SseOptions,
  ) {
    this.maxEventBytes = options.maxEventBytes;
    this.stallTimeoutMs = options.stallTimeoutMs;
    this.formatNotice = options.formatNotice ?? ((notice) => JSON.stringify(notice.data));
    res.writeHead(200, {
      ...options.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Tells nginx-style proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${options.retryMs}\n: connected\n\n`);
    res.on('close', () => this.markClosed());
    this.ping = setInterval(() => this.write(': ping\n\n'), options.pingIntervalMs);
    this.ping.unref();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  onClose(listener: () => void): void {
    if (this.closedFlag) listener();
    else this.closeListeners.push(listener);
  }

  /** An event of the session's log: it carries its sequence number as `id:`. */
  send(event: SessionEvent): Promise<void> {
    const data =
      this.maxEventBytes > 0 && event.type === 'message' && Buffer.byteLength(event.data) > this.maxEventBytes
        ? shortForm(event.data)
        : event.data;
    // An ephemeral event (a text delta) is not in the log: no `id:`, so a reconnect resumes after
    // the last logged event.
    const id = event.ephemeral ? '' : `id: ${event.seq}\n`;
    return this.write(`${id}event: ${event.type}\ndata: ${data}\n\n`);
  }

  /**
   * An event under a name and id of the caller's choosing (the Managed Agents view of the log,
   * whose ids are positions inside one log event); `id` null: none, as for a notice.
   */
  sendNamed(id: string | null, name: string, data: string): Promise<void> {
    return this.write(`${id === null ? '' : `id: ${id}\n`}event: ${name}\ndata: ${data}\n\n`);
  }

  /**
   * A notice about this connection, not part of the log (STREAM_NOTICES: its own rate limit, its
   * cursor, its key, the server's shutdown). It has no `id:`, so a reconnecting client resumes
   * after the last logged event.
   */
  sendNotice(notice: StreamNotice): Promise<void> {
    return this.write(`event: ${notice.type}\ndata: ${this.formatNotice(notice)}\n\n`);
  }

  /** Tells an EventSource how long to wait before it reconnects. */
  sendRetry(ms: number): Promise<void> {
    return this.write(`retry: ${ms}\n\n`);
  }

  end(): void {
    if (this.closedFlag) return;
    this.res.end();
    this.markClosed();
  }

  /** Cuts the connection, whatever is still buffered (a client that stopped reading). */
  destroy(): void {
    this.res.destroy();
    this.markClosed();
  }

  private write(chunk: string): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    if (this.res.write(chunk)) return Promise.resolve();
    // Every write while the buffer is full waits for the same drain (or close), with one stall
    // timer: a burst of events to a slow client adds no listener per event.
    this.drained ??= new Promise((resolve) => {
      const stalled = setTimeout(() => this.res.destroy(), this.stallTimeoutMs);
      const done = (): void => {
        clearTimeout(stalled);
        this.res.off('drain', done);
        this.res.off('close', done);
        this.drained = null;
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
    return this.drained;
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearInterval(this.ping);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

/**
 * A `message` event too large to stream safely: the envelope without its Claude Code message.
 * Clients that read a stream by splitting each network chunk into lines (the seed's JavaScript
 * example does) break on events larger than one chunk (64 KiB with Node's fetch). The full
 * message stays in the history under the same `sequence`.
 */
export function shortForm(data: string): string {
  const view = JSON.parse(data) as Record<string, unknown>;
  return JSON.stringify({ ...view, content: null, truncated: { bytes: Buffer.byteLength(data) } });
}
