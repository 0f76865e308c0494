/**
 * Runs Debian's `git` with an environment built on purpose: none of the server's GIT_* or other
 * variables, no system or user configuration, no prompt for credentials, no pager, no hooks.
 */
import { spawn } from 'node:child_process';

export interface GitRun {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

export interface GitOptions {
  cwd?: string;
  /** Extra variables (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE…). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Bytes written to git's stdin. */
  input?: Buffer;
}

const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/nonexistent',
  LANG: 'C',
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_ASKPASS: '/bin/false',
  SSH_ASKPASS: '/bin/false',
  GIT_PAGER: 'cat',
  GIT_AUTHOR_NAME: 'claude-code-rest',
  GIT_AUTHOR_EMAIL: 'snapshots@localhost',
  GIT_COMMITTER_NAME: 'claude-code-rest',
  GIT_COMMITTER_EMAIL: 'snapshots@localhost',
};

/** Configuration for every call: nothing of a repository's own can run a program. */
const SAFE_CONFIG = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.quotePath=false',
  '-c',
  'core.autocrlf=false',
  '-c',
  'core.safecrlf=false',
  '-c',
  'safe.directory=*',
  '-c',
  'advice.addEmbeddedRepo=false',
  '-c',
  'diff.external=',
];

export function runGit(args: readonly string[], options: GitOptions = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...SAFE_CONFIG, ...args], {
      cwd: options.cwd ?? '/',
      env: { ...BASE_ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

/** Runs git and returns its stdout as text; a non-zero exit throws with git's stderr. */
export async function git(args: readonly string[], options: GitOptions = {}): Promise<string> {
  const run = await runGit(args, options);
  if (run.code !== 0) {
    throw new Error(
      `git ${args[0] ?? ''} failed (${run.code ?? 'killed'}): ${run.stderr.trim().slice(0, 500)}`,
    );
  }
  return run.stdout.toString('utf8');
}
