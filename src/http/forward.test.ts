import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardRequest } from './forward.js';

/** How long the owner may take to accept the connection, in this test. */
const CONNECT_TIMEOUT_MS = 100;
/** How long the owner takes to answer: longer than that (as a `stream: false` turn does). */
const ANSWER_MS = 3 * CONNECT_TIMEOUT_MS;

describe('forwardRequest', () => {
  let owner: http.Server;
  let front: ReturnType<typeof Fastify>;
  let frontUrl: string;
  const ownerSockets = new Set<unknown>();

  beforeAll(async () => {
    owner = http.createServer((req, res) => {
      ownerSockets.add(req.socket);
      setTimeout(() => res.end(JSON.stringify({ answered: req.url })), ANSWER_MS);
    });
    await new Promise<void>((resolve) => owner.listen(0, '127.0.0.1', resolve));
    const ownerUrl = `http://127.0.0.1:${(owner.address() as AddressInfo).port}`;
    front = Fastify();
    front.get('/slow/:n', (request: FastifyRequest, reply: FastifyReply) =>
      forwardRequest(request, reply, ownerUrl, 'http://front', CONNECT_TIMEOUT_MS),
    );
    frontUrl = await front.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await front.close();
    owner.closeAllConnections();
    await new Promise((resolve) => owner.close(resolve));
  });

  it('waits for a slow answer on a fresh and on a kept-alive connection alike', async () => {
    for (const n of [1, 2, 3]) {
      const res = await fetch(`${frontUrl}/slow/${n}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ answered: `/slow/${n}` });
    }
    // The later requests did reuse the first one's connection: the case that had failed.
    expect(ownerSockets.size).toBe(1);
  });
});
