/**
 * `chat`: an interactive conversation with a session. The agent's text streams as it is written
 * (`partial`), tool calls and results show in a line each, a permission question is asked at
 * the prompt (y: allow, n: deny, a: allow and remember for the session), Ctrl-C interrupts the
 * running turn and a second Ctrl-C (or one at the prompt) exits, a dropped stream is resumed
 * with Last-Event-ID, and each turn ends with its tokens and cost.
 */
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../errors.js';
import { ApiClient, ApiFailure, connectionOf } from './connection.js';
import { CONNECTION_OPTIONS, SESSION_OPTIONS, createSession } from './commands.js';
import { completionLine, messageLines, toolCall, type MessageData } from './render.js';
import { Spinner, styleFor, type Output } from './terminal.js';
import { runTurn } from './turn.js';

export interface ChatIo {
  input: NodeJS.ReadableStream;
  stdout: Output & NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

interface PermissionAsk {
  requestId: string;
  toolName: string;
  input: Record<string, unknown>;
}

export async function runChat(args: string[], io: ChatIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...CONNECTION_OPTIONS, ...SESSION_OPTIONS, session: { type: 'string' } },
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message, 'chat');
  }
  const { values } = parsed;
  const client = new ApiClient(connectionOf(values, io.env));
  const style = styleFor(io.stdout, io.env);
  const out = (text: string) => io.stdout.write(text);
  const spinner = new Spinner(io.stdout);

  let sessionId: string;
  try {
    sessionId = values.session ?? (await createSession(client, values));
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    out(`${style.red('error')}: ${err.code}: ${err.message}\n`);
    return EXIT_FAILURE;
  }
  out(style.dim(`session ${sessionId} · Ctrl-C interrupts a turn, twice exits · /exit quits\n`));

  const rl = readline.createInterface({
    input: io.input,
    output: io.stdout,
    terminal: io.stdout.isTTY,
    prompt: '› ',
  });
  let running = false;
  let interrupting = false;
  /** Text of the current line written by deltas: a tool line starts on a line of its own. */
  let midLine = false;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const newline = () => {
    if (midLine) out('\n');
    midLine = false;
  };
  const ask = (question: string): Promise<string> => new Promise((resolve) => rl.question(question, resolve));

  const answerPermission = async (r: PermissionAsk): Promise<void> => {
    spinner.stop();
    newline();
    for (;;) {
      const answer = (
        await ask(style.yellow(`? Allow ${toolCall(r.toolName, r.input)}? [y]es / [n]o / [a]lways: `))
      )
        .trim()
        .toLowerCase();
      const decision =
        answer === 'y' || answer === 'yes'
          ? { decision: 'allow', remember: false }
          : answer === 'a' || answer === 'always'
            ? { decision: 'allow', remember: true }
            : answer === 'n' || answer === 'no'
              ? { decision: 'deny', message: 'The user said no at the terminal.' }
              : null;
      if (!decision) continue;
      try {
        await client.call('POST', `/sessions/${sessionId}/permissions/${r.requestId}`, decision);
        out(
          style.dim(
            decision.decision === 'allow'
              ? `  allowed${decision.remember ? ' (remembered)' : ''}\n`
              : '  denied\n',
          ),
        );
      } catch (err) {
        // Already decided (the timeout, an interrupt): the stream says how.
        if (!(err instanceof ApiFailure)) throw err;
        out(style.dim(`  ${err.code}: ${err.message}\n`));
      }
      return;
    }
  };

  const turn = async (prompt: string): Promise<void> => {
    running = true;
    interrupting = false;
    spinner.start('thinking…');
    let streamedText = false;
    const end = await runTurn(
      client,
      sessionId,
      { prompt, partial: true },
      {
        onReconnect: (attempt) => {
          newline();
          out(style.dim(`(connection lost: resuming, attempt ${attempt})\n`));
        },
        onEvent: async (e) => {
          if (e.event === 'delta') {
            const d = e.data as { kind: string; text: string };
            if (d.kind !== 'text') return;
            spinner.stop();
            out(d.text);
            midLine = !d.text.endsWith('\n');
            streamedText = true;
          } else if (e.event === 'message') {
            const m = e.data as MessageData;
            const lines = messageLines(m, style, streamedText);
            if (lines.length === 0) return;
            spinner.stop();
            newline();
            for (const line of lines) out(`${line}\n`);
            if (m.role === 'user' && m.source !== 'client') streamedText = false;
          } else if (e.event === 'permission_request') {
            await answerPermission(e.data as PermissionAsk);
          }
        },
      },
    );
    spinner.stop();
    newline();
    if (end.kind === 'complete') out(`${completionLine(end.completion, style)}\n`);
    else out(`${style.red('error')}: ${end.code}: ${end.message}\n`);
    running = false;
  };

  const onInterrupt = () => {
    if (!running || interrupting) {
      newline();
      out(style.dim(`bye · resume with: chat --session ${sessionId}\n`));
      // Before close(), whose listener would say 0.
      finish(running ? 130 : EXIT_OK);
      rl.close();
      return;
    }
    interrupting = true;
    spinner.stop();
    newline();
    out(style.yellow('^C interrupting… (Ctrl-C again to exit)\n'));
    void client.call('POST', `/sessions/${sessionId}/interrupt`).catch(() => undefined);
  };
  rl.on('SIGINT', onInterrupt);
  rl.on('close', () => finish(EXIT_OK));

  rl.on('line', (line) => {
    if (running) return;
    const prompt = line.trim();
    if (prompt === '') return rl.prompt();
    if (prompt === '/exit' || prompt === '/quit') {
      rl.close();
      return;
    }
    void turn(prompt).then(
      () => rl.prompt(),
      (err: unknown) => {
        running = false;
        out(`${style.red('error')}: ${(err as Error).message}\n`);
        rl.prompt();
      },
    );
  });
  rl.prompt();
  return finished;
}
