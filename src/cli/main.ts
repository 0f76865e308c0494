#!/usr/bin/env node
/**
 * The command-line tool (package bin `claude-code-rest`): `keys …` manages API keys in the
 * server's database; `chat`, `send`, `sessions`, `files` and `diff` talk to a server over HTTP.
 * Exit codes: 0 done, 1 failed, 2 usage error. Messages go to stderr, one line or a few, never a
 * stack trace.
 */
import { CliFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { helpHint, runKeys, type Io } from './keys.js';
import { runChat } from './client/chat.js';
import { runSend, runSessions } from './client/commands.js';
import { runDiff, runFiles } from './client/workspace.js';
import { CLIENT_HELP, MAIN_HELP } from './help.js';

const CLIENT_COMMANDS = new Set(['send', 'sessions', 'chat', 'files', 'diff']);

/** The terminal client writes to the real streams: it needs to know whether they are terminals. */
function clientIo(io: Io) {
  return {
    stdout: { write: (t: string) => void io.out(t), isTTY: process.stdout.isTTY === true },
    stderr: { write: (t: string) => void io.err(t), isTTY: process.stderr.isTTY === true },
    bytes: process.stdout,
    env: io.env,
  };
}

async function runCli(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.err(MAIN_HELP);
        return EXIT_USAGE;
      case '--help':
      case '-h':
      case 'help':
        io.out(rest[0] === 'client' ? CLIENT_HELP : MAIN_HELP);
        return EXIT_OK;
      case 'keys':
        return await runKeys(rest, io);
      case 'send':
        return await runSend(rest, clientIo(io));
      case 'sessions':
        return await runSessions(rest, clientIo(io));
      case 'files':
        return await runFiles(rest, clientIo(io));
      case 'diff':
        return await runDiff(rest, clientIo(io));
      case 'chat': {
        const code = await runChat(rest, { input: process.stdin, stdout: process.stdout, env: io.env });
        // Leaving in the middle of a turn (a second Ctrl-C): its open stream must not hold the process.
        return process.exit(code);
      }
      default:
        throw new UsageError(`Unknown command "${command}".`, null);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      const help =
        command === 'keys'
          ? helpHint(err.command)
          : command && CLIENT_COMMANDS.has(command)
            ? CLIENT_HELP
            : MAIN_HELP;
      io.err(`error: ${err.message}\n${help}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof CliFailure) {
      io.err(`error: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  }
}

// `claude-code-rest keys list | head` closes the pipe early: not an error worth a trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
