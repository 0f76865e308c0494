/**
 * Requests too broken for Fastify's router, sent on a raw socket: each gets the contract's
 * envelope (Fastify's default was `{"error":"Bad Request","message":"Client Error",…}`).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type Harness } from './harness.js';

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startApp();
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  port = (h.app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await h?.close();
});

/** Writes `raw` and reads the answer until the server closes the connection. */
function rawExchange(
  raw: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ port, host: '127.0.0.1' });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.write(raw);
  });
}

describe('malformed HTTP', () => {
  it.each([
    ['an unknown method', 'BREW /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n'],
    [
      'a Content-Length that is not a number',
      'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
    ],
    [
      'a broken chunked body',
      'POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    ],
    ['a request line that is not HTTP', 'hello there\r\n\r\n'],
    [
      'headers larger than the server accepts',
      `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ],
  ])('%s → 400 INVALID_REQUEST in the envelope', async (_name, raw) => {
    const res = await rawExchange(raw);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/json');
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'requestId', 'timestamp']);
    expect(body.error).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.any(String),
      details: { reason: expect.stringMatching(/^HPE_/) },
    });
    expect(body.requestId).toMatch(/^req_/);
    expect(res.headers['x-request-id']).toBe(body.requestId);
    expect(res.body).not.toContain('Client Error');
  });

  it('the server still answers well-formed requests', async () => {
    const res = await rawExchange('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
  });
});
