/**
 * What this machine offers to contain the agent. Both sandboxes run on bubblewrap (`bwrap`, which
 * must be allowed to create user namespaces here): the one around the whole Claude Code process
 * (process-sandbox.ts), and Claude Code's own around the agent's commands, inside the first, which
 * also needs socat. The server asks once at start.
 *
 * The nested one mounts a fresh /proc for the commands. Where the outer sandbox's /proc has parts
 * covered read-only (bubblewrap covers /proc/sys and a few others when the server runs as root),
 * the kernel refuses a nested fresh /proc; Claude Code's sandbox then binds the outer sandbox's
 * /proc instead (`enableWeakerNestedSandbox`), which shows the commands the processes of their
 * own sandbox only (its PID namespace), never the server's.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { bwrapArguments } from './process-sandbox.js';
import { systemLayout } from './sandbox-layout.js';

export interface IsolationSupport {
  bubblewrap: boolean;
  socat: boolean;
  /** How Claude Code's sandbox can mount /proc inside the process sandbox (see above). */
  nestedProc: 'fresh' | 'bind';
  /** Why the sandbox cannot run here, or null when it can. */
  problem: string | null;
}

function works(command: string, args: string[], extraFds: number[] = []): string | null {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'ignore', ...extraFds], timeout: 5000 });
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? `${command} is not installed`
      : `${command} does not run here`;
  }
}

/** `command` run inside the process sandbox, as Claude Code would be. */
function confined(command: string, args: string[]): string[] {
  const layout = systemLayout({ programDirs: [], extraReadPaths: [] });
  return bwrapArguments(layout, {
    privateDirs: [],
    credentials: null,
    workspace: null,
    chdir: '/',
    command,
    args,
  });
}

/** Claude Code's sandbox for a command, as it mounts it (the parts that can fail). */
const nested = (proc: string[]): string[] => [
  '--ro-bind',
  '/',
  '/',
  '--dev',
  '/dev',
  ...proc,
  '--unshare-user',
  '--unshare-pid',
  '--unshare-net',
  'true',
];

export function probeIsolation(): IsolationSupport {
  const socatProblem = works('socat', ['-V']);
  let nestedProc: IsolationSupport['nestedProc'] = 'fresh';
  const workspace = fs.openSync(os.tmpdir(), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  let bwrapProblem: string | null;
  try {
    bwrapProblem = works('bwrap', confined('bwrap', nested(['--proc', '/proc'])), [workspace]);
    if (bwrapProblem !== null && !bwrapProblem.endsWith('not installed')) {
      nestedProc = 'bind';
      bwrapProblem = works('bwrap', confined('bwrap', nested(['--bind', '/proc', '/proc'])), [workspace]);
    }
  } finally {
    fs.closeSync(workspace);
  }
  const problems = [bwrapProblem, socatProblem].filter((p): p is string => p !== null);
  return {
    bubblewrap: bwrapProblem === null,
    socat: socatProblem === null,
    nestedProc,
    problem:
      problems.length > 0 ? `${problems.join('; ')} (install with scripts/ensure-system-packages.sh)` : null,
  };
}
