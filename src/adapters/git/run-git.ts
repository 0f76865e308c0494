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
const SAFE_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.quotePath', 'false'],
  ['core.autocrlf', 'false'],
  ['core.safecrlf', 'false'],
  ['safe.directory', '*'],
  ['advice.addEmbeddedRepo', 'false'],
  ['diff.external', ''],
];
/** The settings as `-c` options of one git command. */
const SAFE_CONFIG = SAFE_SETTINGS.flatMap(([key, value]) => ['-c', `${key}=${value}`]);
/** The same settings for every git a script runs (git's GIT_CONFIG_COUNT, same weight as `-c`). */
const SAFE_CONFIG_ENV: Record<string, string> = Object.fromEntries([
  ['GIT_CONFIG_COUNT', String(SAFE_SETTINGS.length)],
  ...SAFE_SETTINGS.flatMap(([key, value], i) => [
    [`GIT_CONFIG_KEY_${i}`, key],
    [`GIT_CONFIG_VALUE_${i}`, value],
  ]),
]);

export function runGit(args: readonly string[], options: GitOptions = {}): Promise<GitRun> {
  return run('git', [...SAFE_CONFIG, ...args], {}, options);
}

/**
 * Runs several git commands as one `sh` script (its arguments are `$1`, `$2`…, never spliced
 * into the script). Starting a process from the server costs more the more memory the server
 * holds (about 15 ms at 100 MB, against 4 ms from sh), so a step of several git commands is
 * one process from here. Every git in it gets the same settings as `runGit`'s.
 */
export function runGitScript(
  script: string,
  args: readonly string[],
  options: GitOptions = {},
): Promise<GitRun> {
  return run('/bin/sh', ['-c', script, 'sh', ...args], SAFE_CONFIG_ENV, options);
}

function run(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  options: GitOptions,
): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? '/',
      env: { ...BASE_ENV, ...env, ...options.env },
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
