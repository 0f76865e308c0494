/**
 * The private directories of each Claude Code process, under one base per server run.
 *
 * Claude Code keeps temp files (background command output, the sandbox's socket bridges) in
 * TMPDIR and CLAUDE_CODE_TMPDIR; its default, /tmp/claude-<uid>, is shared by every session of the
 * server user and kept forever. It also writes to its config dir (transcripts, settings, caches)
 * and to HOME (file history, caches). Shared, one tenant's agent could read another's. So each
 * process gets, removed when it exits:
 *   <base>/s-XXXX/tmp     TMPDIR: also readable and writable by the agent's commands
 *   <base>/s-XXXX/config  CLAUDE_CONFIG_DIR (when the whole process is sandboxed)
 *   <base>/s-XXXX/home    HOME (idem)
 *
 * The base is short and in the system temp dir, not in the data dir: the sandbox's Unix socket
 * paths live in TMPDIR and may not be longer than 108 bytes. Its path is kept in a marker file so
 * the next start removes a base left by a crash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../domain/ports.js';

export interface ProcessDirs {
  /** The process's own folder, holding the three below. */
  root: string;
  tmp: string;
  config: string;
  home: string;
}

export class AgentDirs {
  readonly base: string;

  constructor(private readonly markerFile: string) {
    try {
      const previous = fs.readFileSync(markerFile, 'utf8').trim();
      if (path.basename(previous).startsWith('ccr-')) fs.rmSync(previous, { recursive: true, force: true });
    } catch {
      // No marker: a first start.
    }
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-'));
    fs.writeFileSync(markerFile, `${this.base}\n`, { mode: 0o600 });
  }

  create(): ProcessDirs {
    const root = fs.mkdtempSync(path.join(this.base, 's-'));
    const dirs = {
      root,
      tmp: path.join(root, 'tmp'),
      config: path.join(root, 'config'),
      home: path.join(root, 'home'),
    };
    for (const dir of [dirs.tmp, dirs.config, dirs.home]) fs.mkdirSync(dir, { mode: 0o700 });
    return dirs;
  }

  /**
   * Why no process could get its folder now (the base was removed, say by a cleaner of /tmp), or
   * null. Every new Claude Code process would fail to start until the server restarts.
   */
  problem(): string | null {
    try {
      if (!fs.statSync(this.base).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
      fs.accessSync(this.base, fs.constants.W_OK | fs.constants.X_OK);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unusable';
      return `the agent's temp dir ${this.base} is not usable (${code}): new Claude Code processes cannot start until the server restarts`;
    }
  }

  /**
   * Removes one process's folder, never failing: asynchronous and retried, since a helper of the
   * process group may still be writing there as it dies (ENOTEMPTY). What is left is removed with
   * the whole base at the next start.
   */
  remove(dirs: ProcessDirs, logger: Logger): Promise<void> {
    return removeTree(dirs.root).catch((err: unknown) =>
      logger.warn({ err, dir: dirs.root }, 'could not remove a temp dir'),
    );
  }

  removeAll(): Promise<void> {
    return removeTree(this.base);
  }
}

function removeTree(dir: string): Promise<void> {
  return fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
