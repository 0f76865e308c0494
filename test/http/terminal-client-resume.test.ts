/**
 * The terminal client's turn (`chat`, `send`: src/cli/client/turn.ts) when the connection drops
 * in the middle of a turn: it reconnects to that turn's stream with Last-Event-ID and reads on,
 * so no event is shown twice or missed, and the turn's end arrives. The drop is real: a TCP proxy
 * between client and server cuts every connection.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/cli/client/connection.js';
import { runTurn } from '../../src/cli/client/turn.js';
import { reply } from '../helpers/fake-agent-runner.js';
import { createSession, KEY_A, startApp, type Harness } from './harness.js';

describe('the terminal client resumes a dropped stream', () => {
  let h: Harness;
  let proxy: net.Server;
  let proxyUrl: string;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    h = await startApp();
    const target = new URL(await h.app.listen({ port: 0, host: '127.0.0.1' }));
    proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      const pair = [client, upstream];
      for (const s of pair) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => pair.forEach((o) => o.destroy()));
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => proxy.close(resolve));
    await h.close();
  });

  it('reconnects with Last-Event-ID and sees every event once, to the end of the turn', async () => {
    const sessionId = await createSession(h);
    let release: () => void = () => undefined;
    h.runner.script({ ...reply('after the drop'), waitFor: new Promise<void>((r) => (release = r)) });
    const client = new ApiClient({ url: proxyUrl, key: KEY_A });
    const seen: Array<{ id: string | null; event: string }> = [];
    let reconnects = 0;
    let dropped = false;

    const end = await runTurn(
      client,
      sessionId,
      { prompt: 'hello' },
      {
        onReconnect: () => {
          reconnects++;
          // Back on a live connection: let the turn finish.
          setTimeout(release, 200);
        },
        onEvent: (e) => {
          seen.push({ id: e.id, event: e.event });
          const data = e.data as { source?: string };
          if (!dropped && e.event === 'message' && data.source === 'claude_code') {
            dropped = true;
            for (const s of sockets) s.destroy();
          }
        },
      },
    );

    expect(end.kind).toBe('complete');
    expect(reconnects).toBeGreaterThanOrEqual(1);
    const ids = seen.filter((e) => e.id !== null).map((e) => Number(e.id));
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    expect(seen.at(-1)?.event).toBe('complete');
    // What the client saw is the turn's log, every event of it.
    const history = await h.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${sessionId}/messages`,
      headers: { 'x-api-key': KEY_A },
    });
    const messageCount = (history.json() as { messages: unknown[] }).messages.length;
    expect(seen.filter((e) => e.event === 'message')).toHaveLength(messageCount);
  });
});
