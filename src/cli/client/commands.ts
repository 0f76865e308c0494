/**
 * `send` (one turn, for scripts and CI) and `sessions list|show|history|end`; what every client
 * command shares (`files` and `diff` are in workspace.ts). Exit codes: 0 done; 1 the API refused
 * or the turn failed (stderr: `error: CODE: message`; with --json, the error as JSON on stdout
 * too); 2 a usage error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../errors.js';
import { ApiClient, ApiFailure, connectionOf } from './connection.js';
import { completionLine, messageLines, toolCall, type MessageData } from './render.js';
import { Spinner, styleFor, type Output } from './terminal.js';
import { runTurn } from './turn.js';

export interface ClientIo {
  stdout: Output;
  stderr: Output;
  /** Where a download goes without `-o`: the standard output as a byte stream (backpressure kept). */
  bytes: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
} as const;

export const SESSION_OPTIONS = {
  model: { type: 'string' },
  'permission-mode': { type: 'string' },
} as const;

export function parse<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  command: string,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, command);
  }
}

/**
 * A refusal as every command reports it: `error: CODE: message` on stderr, and with --json the
 * error as JSON on stdout too. Exit code 1.
 */
export function reportFailure(
  io: ClientIo,
  failure: { code: string; message: string },
  json?: boolean,
): number {
  if (json)
    io.stdout.write(`${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n`);
  io.stderr.write(`${styleFor(io.stderr, io.env).red('error')}: ${failure.code}: ${failure.message}\n`);
  return EXIT_FAILURE;
}

/** Runs `body`, reporting an API refusal as every client command does (exit 1). */
export async function reported(
  io: ClientIo,
  json: boolean | undefined,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof ApiFailure) return reportFailure(io, err, json);
    throw err;
  }
}

export async function createSession(
  client: ApiClient,
  values: { model?: string; 'permission-mode'?: string },
): Promise<string> {
  const body: Record<string, unknown> = {};
  if (values.model) body.model = values.model;
  if (values['permission-mode']) body.permissionMode = values['permission-mode'];
  const { body: created } = await client.call<{ sessionId: string }>('POST', '/sessions', body);
  return created.sessionId;
}

export async function runSend(args: string[], io: ClientIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...CONNECTION_OPTIONS, ...SESSION_OPTIONS, session: { type: 'string' }, json: { type: 'boolean' } },
    'send',
  );
  const prompt = positionals.join(' ');
  if (prompt.trim() === '') throw new UsageError('send needs a prompt: send "your prompt"', 'send');
  const client = new ApiClient(connectionOf(values, io.env));
  const style = styleFor(io.stderr, io.env);
  const spinner = new Spinner(io.stderr);
  const fail = (code: string, message: string): number => {
    spinner.stop();
    return reportFailure(io, { code, message }, values.json);
  };
  try {
    const sessionId = values.session ?? (await createSession(client, values));
    if (!values.session && !values.json) io.stderr.write(style.dim(`session ${sessionId}\n`));
    spinner.start('working…');
    const end = await runTurn(
      client,
      sessionId,
      { prompt },
      {
        onEvent: (e) => {
          if (e.event === 'message') {
            const tool = (e.data as MessageData).summary.find((p) => p.type === 'tool_use');
            if (tool) spinner.update(`working… ${toolCall(tool.name ?? '?', tool.input)}`);
          }
          if (e.event === 'permission_request') {
            const r = e.data as { toolName: string };
            spinner.stop();
            io.stderr.write(
              style.yellow(
                `waiting for an approval of ${r.toolName} (answer it in chat, or the server's timeout decides)\n`,
              ),
            );
          }
        },
      },
    );
    spinner.stop();
    if (end.kind === 'error') return fail(end.code, end.message);
    if (values.json) io.stdout.write(`${JSON.stringify({ ...end.completion, sessionId })}\n`);
    else {
      io.stdout.write(`${end.completion.response}\n`);
      io.stderr.write(`${completionLine(end.completion, style)}\n`);
    }
    return EXIT_OK;
  } catch (err) {
    if (err instanceof ApiFailure) return fail(err.code, err.message);
    throw err;
  }
}

interface SessionRow {
  sessionId: string;
  status: string;
  model: string;
  lastActivity: string;
  createdAt: string;
}

export async function runSessions(args: string[], io: ClientIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(
    rest,
    { ...CONNECTION_OPTIONS, json: { type: 'boolean' } },
    `sessions ${sub ?? ''}`.trim(),
  );
  const client = new ApiClient(connectionOf(values, io.env));
  const style = styleFor(io.stdout, io.env);
  const out = (text: string) => io.stdout.write(text);
  const id = (): string => {
    const given = positionals[0];
    if (!given) throw new UsageError(`sessions ${sub} needs a session id`, `sessions ${sub}`);
    return encodeURIComponent(given);
  };
  return reported(io, values.json, async () => {
    switch (sub) {
      case 'list': {
        const { body } = await client.call<{ sessions: SessionRow[]; total: number }>(
          'GET',
          '/sessions?limit=100',
        );
        if (values.json) return (out(`${JSON.stringify(body)}\n`), EXIT_OK);
        if (body.sessions.length === 0) out('no sessions\n');
        for (const s of body.sessions) {
          out(
            `${s.sessionId}  ${s.status === 'running' ? style.green(s.status) : s.status.padEnd(7)}  ${s.model}  ${style.dim(s.lastActivity)}\n`,
          );
        }
        return EXIT_OK;
      }
      case 'show': {
        const { body } = await client.call<unknown>('GET', `/sessions/${id()}`);
        out(`${JSON.stringify(body, null, values.json ? undefined : 2)}\n`);
        return EXIT_OK;
      }
      case 'history': {
        const { body } = await client.call<{ messages: Array<MessageData & { sequence: number }> }>(
          'GET',
          `/sessions/${id()}/messages?limit=1000`,
        );
        if (values.json) return (out(`${JSON.stringify(body)}\n`), EXIT_OK);
        for (const m of body.messages) {
          if (m.source === 'client') {
            const text = m.summary.map((p) => p.text ?? '').join('');
            out(`${style.bold('›')} ${text}\n`);
            continue;
          }
          for (const line of messageLines(m, style, false)) out(`${line}\n`);
        }
        return EXIT_OK;
      }
      case 'end': {
        const sessionId = id();
        await client.call('DELETE', `/sessions/${sessionId}`);
        out(`ended ${decodeURIComponent(sessionId)}\n`);
        return EXIT_OK;
      }
      default:
        throw new UsageError(
          sub ? `Unknown sessions command "${sub}".` : 'sessions needs a command.',
          'sessions',
        );
    }
  });
}
