#!/usr/bin/env node
/**
 * The command-line tool (package bin `claude-code-rest`): `keys …` manages API keys in the
 * server's database. Exit codes: 0 done, 1 failed, 2 usage error. Messages go to stderr, one
 * line or a few, never a stack trace.
 */
import { CliFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { MAIN_HELP } from './help.js';
import { helpHint, runKeys, type Io } from './keys.js';

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
        io.out(MAIN_HELP);
        return EXIT_OK;
      case 'keys':
        return await runKeys(rest, io);
      default:
        throw new UsageError(`Unknown command "${command}".`, null);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n${command === 'keys' ? helpHint(err.command) : MAIN_HELP}\n`);
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
