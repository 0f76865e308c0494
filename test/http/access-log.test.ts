/** The access log: one line per request, when its answer has gone out, and never a key. */
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { KEY_A, startApp } from './harness.js';

it('writes one line per request: method, URL, status, time and request id; no key', async () => {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ logLevel: 'info', logFormat: 'json' }, { isTTY: false, stream });
  const h = await startApp({}, { logger });
  try {
    text = ''; // what the start logged
    const health = await h.app.inject({ method: 'GET', url: '/api/v1/health' });
    const missing = await h.app.inject({
      method: 'GET',
      url: '/api/v1/sessions/sess_unknown',
      headers: { 'x-api-key': KEY_A },
    });
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'request completed');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      reqId: health.headers['x-request-id'],
      method: 'GET',
      url: '/api/v1/health',
      statusCode: 200,
      ms: expect.any(Number),
    });
    expect(lines[1]).toMatchObject({
      reqId: missing.headers['x-request-id'],
      url: '/api/v1/sessions/sess_unknown',
      statusCode: 404,
    });
    expect(text).not.toContain('incoming request');
    expect(text).not.toContain(KEY_A);
  } finally {
    await h.close();
  }
});
