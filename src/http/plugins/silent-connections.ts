/**
 * Closing the server: Node's `server.close()` closes the idle keep-alive connections, but not a
 * connection that has not sent a byte yet (a browser's speculative pre-connect, an HTTP client's
 * spare). The server then waits until the client drops it: 4 s for Node's fetch, minutes for a
 * browser, and `connectionTimeout` is off (SSE). Such connections carry no request to answer,
 * so they are destroyed when the server closes.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function registerSilentConnectionsClose(app: FastifyInstance): void {
  const open = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  app.addHook('preClose', (done) => {
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    done();
  });
}
