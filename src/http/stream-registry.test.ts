/**
 * StreamRegistry.endAll on real sockets: a reading client gets the final event and the retry
 * hint, then the end of the stream; a client that stopped reading is cut off, so it cannot hold
 * up a shutdown.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseStream } from './sse.js';
import { StreamRegistry } from './stream-registry.js';

const OPTIONS = {
  pingIntervalMs: 60_000,
  retryMs: 3000,
  maxEventBytes: 0,
  stallTimeoutMs: 60_000,
  headers: {},
};

describe('StreamRegistry', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A server whose every request becomes a registered SSE stream. */
  async function serve(registry: StreamRegistry): Promise<string> {
    server = http.createServer((_req, res) => registry.add(new SseStream(res, OPTIONS)));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('ends a stream that is read with an error event without id, then retry:, then the end', async () => {
    const registry = new StreamRegistry();
    const url = await serve(registry);
    const res = await fetch(url);
    const text = res.text();
    while (registry.size < 1) await new Promise((resolve) => setTimeout(resolve, 5));

    expect(await registry.endAll(2500)).toBe(1);
    const body = await text;
    expect(body).toMatch(
      /^retry: 3000\n: connected\n\nevent: error\ndata: \{"code":"SERVICE_UNAVAILABLE",[^\n]*"details":\{"retryMs":2500\}\}\n\nretry: 2500\n\n$/,
    );
    expect(registry.size).toBe(0);
  });

  it('cuts off a client that stopped reading instead of waiting for it', async () => {
    const registry = new StreamRegistry();
    let stream: SseStream | undefined;
    let socketClosed: Promise<void> | undefined;
    server = http.createServer((req, res) => {
      stream = new SseStream(res, OPTIONS);
      registry.add(stream);
      socketClosed = new Promise((resolve) => req.socket.on('close', () => resolve()));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    http.get(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, (res) => res.pause());
    while (!stream) await new Promise((resolve) => setTimeout(resolve, 5));
    // The client reads nothing: fill the socket's buffers until a write no longer drains.
    const big = 'x'.repeat(1 << 20);
    for (let i = 0; i < 64; i++)
      void stream.sendNotice({ type: 'error', data: { code: 'INTERNAL_ERROR', message: big, details: {} } });

    const started = Date.now();
    expect(await registry.endAll(2500)).toBe(1);
    await socketClosed;
    // Cut after FINAL_WRITE_MS (1 s), not after the 60 s stall timeout.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(stream.closed).toBe(true);
  });
});
