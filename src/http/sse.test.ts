/**
 * SseStream's back-pressure on real sockets: writes to a client that stopped reading wait for the
 * buffer to drain (together, not one listener each), and a client that reads nothing for the
 * stall timeout is cut off, so it cannot pin a turn's events in memory.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamNotice } from '../domain/events.js';
import { SseStream } from './sse.js';

/** A large event (the writer treats every event alike; a notice needs no log around it). */
const bigNotice = (details: Record<string, unknown>): StreamNotice => ({
  type: 'error',
  data: { code: 'INTERNAL_ERROR', message: BIG, details },
});

const BIG = 'x'.repeat(1 << 20);

describe('SseStream back-pressure', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A stream to a client that has paused reading; `client` resumes it. */
  async function pausedClient(stallTimeoutMs: number) {
    let res: http.ServerResponse | undefined;
    let stream: SseStream | undefined;
    server = http.createServer((_req, r) => {
      res = r;
      stream = new SseStream(r, {
        pingIntervalMs: 60_000,
        retryMs: 3000,
        maxEventBytes: 0,
        stallTimeoutMs,
        headers: {},
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const client = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`, (incoming) => {
        incoming.pause();
        resolve(incoming);
      }),
    );
    while (!stream) await new Promise((resolve) => setTimeout(resolve, 5));
    return { stream, res: res!, client };
  }

  it('a burst to a slow client waits on one drain, and every event arrives in order', async () => {
    const { stream, res, client } = await pausedClient(60_000);
    const sends = Array.from({ length: 40 }, (_, i) => stream.sendNotice(bigNotice({ i })));
    expect(res.writableNeedDrain).toBe(true);
    expect(res.listenerCount('drain')).toBe(1);

    let received = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (received += chunk));
    client.resume();
    await Promise.all(sends);
    stream.end();
    await new Promise((resolve) => client.on('end', resolve));

    const order = [...received.matchAll(/"i":(\d+)/g)].map((m) => Number(m[1]));
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(res.listenerCount('drain')).toBe(0);
  });

  it('cuts off a client that reads nothing for the stall timeout; pending sends settle', async () => {
    const { stream, res } = await pausedClient(300);
    const sends = Array.from({ length: 40 }, () => stream.sendNotice(bigNotice({})));
    expect(stream.closed).toBe(false);

    await Promise.all(sends);
    expect(stream.closed).toBe(true);
    expect(res.socket?.destroyed ?? true).toBe(true);
  });
});
