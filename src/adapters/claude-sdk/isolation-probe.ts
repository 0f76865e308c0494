/**
 * What this machine offers to contain the agent's commands. Claude Code's sandbox and its
 * scrubbing of secrets from the environment of the agent's commands both run on bubblewrap
 * (`bwrap`, which must also be allowed to create namespaces here) and socat; without them
 * Claude Code refuses to run with either switched on, so the server asks once at start.
 */
import { execFileSync } from 'node:child_process';

export interface IsolationSupport {
  bubblewrap: boolean;
  socat: boolean;
  /** Why the sandbox cannot run here, or null when it can. */
  problem: string | null;
}

function works(command: string, args: string[]): string | null {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 5000 });
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? `${command} is not installed`
      : `${command} does not run here`;
  }
}

export function probeIsolation(): IsolationSupport {
  const bwrapProblem = works('bwrap', [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--unshare-net',
    'true',
  ]);
  const socatProblem = works('socat', ['-V']);
  const problems = [bwrapProblem, socatProblem].filter((p): p is string => p !== null);
  return {
    bubblewrap: bwrapProblem === null,
    socat: socatProblem === null,
    problem:
      problems.length > 0 ? `${problems.join('; ')} (install with scripts/ensure-system-packages.sh)` : null,
  };
}
