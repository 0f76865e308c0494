import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from './logging.js';

/** A stream that keeps what it is sent. */
function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('LOG_FORMAT', () => {
  it('auto is pretty at a terminal and JSON otherwise; pretty and json are what they say', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('json: one JSON object a line, with API keys redacted, and pino-pretty never loaded', () => {
    const out = sink();
    const logger = createLogger(
      { logLevel: 'info', logFormat: 'auto' },
      { isTTY: false, stream: out.stream },
    );
    logger.info({ headers: { 'x-api-key': 'ccr_secret' } }, 'listening');
    const line = JSON.parse(out.text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, msg: 'listening', headers: { 'x-api-key': '[redacted]' } });
    // (This test runs before the pretty one, which loads it.)
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.filter((file) => file.includes('/pino-pretty/'))).toEqual([]);
  });

  it('pretty (auto at a terminal): readable lines, keys still redacted', async () => {
    const out = sink();
    const logger = createLogger(
      { logLevel: 'info', logFormat: 'pretty' },
      { isTTY: false, stream: out.stream },
    );
    logger.info({ headers: { 'x-api-key': 'ccr_secret' } }, 'listening');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    expect(out.text()).toMatch(/INFO.*: listening/);
    expect(out.text()).toContain('[redacted]');
    expect(out.text()).not.toContain('ccr_secret');
    expect(() => JSON.parse(out.text())).toThrow();
  });
});
