/**
 * Seeds a new workspace with a clone (`git` of POST /sessions). Only remotes under the key's
 * `gitRemotes` (server default GIT_REMOTES, empty: none) are cloned; git never prompts (no
 * terminal, no askpass, ssh in batch mode), runs under GIT_CLONE_TIMEOUT_MS, and only the
 * https, http, ssh and file transports are allowed (no `ext::`). Credentials in the URL are used
 * for the clone and taken out of everything said about it (errors, logs), and out of the clone's
 * own `.git/config`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gitCloneFailed, gitRemoteNotAllowed, gitUrlInvalid } from '../../domain/error-situations.js';
import type { Policies } from '../../domain/key-policy.js';
import type { Logger } from '../../domain/ports.js';
import type { RepositorySeeder } from '../../domain/session-service.js';
import type { ApiKeyRecord } from '../../domain/types.js';
import { git, runGit } from './run-git.js';

const SCHEMES = new Set(['https:', 'http:', 'ssh:', 'file:']);

const TRANSPORTS = [
  '-c',
  'protocol.allow=never',
  ...['https', 'http', 'ssh', 'file'].flatMap((p) => ['-c', `protocol.${p}.allow=always`]),
];

export interface GitClonerDeps {
  policies: Policies;
  timeoutMs: number;
  logger: Logger;
}

/** The URL without its user info, safe to show. */
export function withoutCredentials(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/** Is `url` (without credentials) under one of the allowed prefixes? */
export function remoteAllowed(safeUrl: string, allowed: readonly string[]): boolean {
  return allowed.some((prefix) => {
    if (safeUrl === prefix) return true;
    const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
    return safeUrl.startsWith(base) || safeUrl === `${prefix}.git`;
  });
}

export class GitCloner implements RepositorySeeder {
  constructor(private readonly deps: GitClonerDeps) {}

  async clone(key: ApiKeyRecord, seed: { url: string; ref?: string }, cwd: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(seed.url);
    } catch {
      throw gitUrlInvalid('(not a URL)', 'must be an absolute URL');
    }
    const safeUrl = withoutCredentials(url);
    if (!SCHEMES.has(url.protocol)) throw gitUrlInvalid(safeUrl, 'https, http, ssh or file only');
    const allowed = this.deps.policies.of(key).gitRemotes;
    if (!remoteAllowed(safeUrl, allowed)) throw gitRemoteNotAllowed(safeUrl, allowed);

    const secrets = [url.username, url.password]
      .filter((s) => s.length > 0)
      .flatMap((s) => [s, safeDecode(s)]);
    const redact = (text: string): string =>
      secrets.reduce((t, s) => t.split(s).join('***'), text.split(seed.url).join(safeUrl));
    const temp = path.join(path.dirname(cwd), `.clone-${randomUUID()}`);
    try {
      const args = [...TRANSPORTS, 'clone', '--quiet', '--no-recurse-submodules', '--depth', '1'];
      if (seed.ref) args.push('--branch', seed.ref);
      args.push('--', seed.url, temp);
      const run = await runGit(args, {
        timeoutMs: this.deps.timeoutMs,
        env: { GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new' },
      });
      if (run.code !== 0) {
        const gitSays = redact(run.stderr.trim()).slice(-500);
        this.deps.logger.warn(
          { url: safeUrl, code: run.code, git: gitSays },
          'a git seed could not be cloned',
        );
        throw gitCloneFailed(safeUrl, run.code === null ? 'timeout' : 'failed', gitSays);
      }
      // The clone's remote keeps no credentials.
      await git(['remote', 'set-url', 'origin', safeUrl], {
        cwd: temp,
        env: { GIT_DIR: path.join(temp, '.git') },
      });
      await moveInto(temp, cwd);
    } finally {
      await fs.rm(temp, { recursive: true, force: true });
    }
  }
}

/** Moves the clone's entries into the workspace; its `.git` replaces the empty project boundary. */
async function moveInto(from: string, to: string): Promise<void> {
  await fs.rm(path.join(to, '.git'), { recursive: true, force: true });
  for (const name of await fs.readdir(from)) {
    await fs.rename(path.join(from, name), path.join(to, name));
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
