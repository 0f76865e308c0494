/**
 * The command-line tool's two kinds of failure, and the exit code of each: a command that was
 * given wrongly (2, with a pointer to its help) and one that could not be done (1).
 */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong: an unknown flag, a missing argument, a value that is not valid. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose `--help` to point at, e.g. `keys create`. */
    readonly command: string | null = null,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command was understood but could not be done: an unknown key, a missing database. */
export class CliFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliFailure';
  }
}
