/**
 * Closing the server with a client connected that has sent nothing yet (a browser's pre-connect):
 * the close does not wait for that client to give up.
 */
import net from 'node:net';
import { expect, it } from 'vitest';
import { startApp } from './harness.js';

it('closes a connection that never sent a request instead of waiting for it', async () => {
  const h = await startApp();
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = h.app.server.address() as net.AddressInfo;
  const silent = net.createConnection({ port, host: '127.0.0.1' });
  await new Promise((resolve) => silent.once('connect', resolve));
  const closedByServer = new Promise((resolve) => silent.once('close', resolve));
  // Without the fix, this waits until the client drops the connection: never, for this one.
  await h.close();
  await closedByServer;
  expect(silent.bytesRead).toBe(0);
});
