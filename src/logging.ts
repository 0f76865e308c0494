/**
 * The server's logger. JSON lines (pino's own, fast path) unless a person reads them: at a
 * terminal the lines are pretty-printed (pino-pretty). `LOG_FORMAT` chooses: `auto` (pretty when
 * stdout is a TTY), `pretty` or `json`. pino-pretty runs in this thread as the logger's stream, not
 * as a transport (no worker thread), and is loaded only when it is used: a server whose output
 * goes to a file or a collector pays nothing for it.
 *
 * JSON lines go to stdout asynchronously (pino's SonicBoom with `sync: false`): a request does
 * not wait for a write to the terminal or pipe; lines written while one write is in flight go
 * out together in the next, and pino flushes what is left when the process exits.
 */
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import type { Config } from './config/config.js';

export type LogFormat = 'auto' | 'pretty' | 'json';

/** Where the lines go and whether a person is reading (a TTY); the process's stdout by default. */
export interface LogOutput {
  isTTY?: boolean;
  /** A stream other than the process's stdout (tests). */
  stream?: DestinationStream;
}

export function resolveLogFormat(format: LogFormat, isTty: boolean): 'pretty' | 'json' {
  return format === 'auto' ? (isTty ? 'pretty' : 'json') : format;
}

const OPTIONS_REDACTING_KEYS: Pick<LoggerOptions, 'redact'> = {
  // Keys must never reach a log line, whatever a future log call includes.
  redact: {
    paths: [
      'req.headers["x-api-key"]',
      'req.headers.authorization',
      'headers["x-api-key"]',
      'headers.authorization',
    ],
    censor: '[redacted]',
  },
};

export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  output: LogOutput = { isTTY: process.stdout.isTTY === true },
): Logger {
  const options: LoggerOptions = { level: config.logLevel, ...OPTIONS_REDACTING_KEYS };
  if (resolveLogFormat(config.logFormat, output.isTTY === true) === 'json') {
    return pino(options, output.stream ?? pino.destination({ dest: 1, sync: false }));
  }
  const pretty = createRequire(import.meta.url)('pino-pretty') as (o: PrettyOptions) => DestinationStream;
  return pino(
    options,
    pretty({
      colorize: output.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(output.stream ? { destination: output.stream } : {}),
    }),
  );
}
