/**
 * Working directories of the agent. By default each session gets a fresh empty directory under
 * the data dir. A client may instead name a `cwd` inside one of the configured roots; it is
 * resolved to its real path (symlinks followed) and must stay inside a root, so `..` and
 * symlinks cannot lead the agent elsewhere.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CwdResolution, Workspaces } from '../../domain/ports.js';

export class FsWorkspaces implements Workspaces {
  constructor(
    /** Where per-session workspaces are made (`<DATA_DIR>/workspaces`). */
    private readonly baseDir: string,
    /**
     * The server's data dir: no `cwd` may be in it or around it, whatever the roots say, or one
     * session could work in another's workspace, the database or the transcripts.
     */
    private readonly dataDir: string,
  ) {}

  async create(sessionId: string): Promise<string> {
    const dir = path.join(this.baseDir, sessionId);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await makeProjectBoundary(dir);
    return dir;
  }

  async resolveExternal(cwd: string, roots: readonly string[]): Promise<CwdResolution> {
    if (roots.length === 0) {
      return { ok: false, reason: 'no_roots' };
    }
    if (!path.isAbsolute(cwd)) {
      return { ok: false, reason: 'not_absolute' };
    }
    let real: string;
    try {
      real = await fs.realpath(cwd);
      if (!(await fs.stat(real)).isDirectory()) throw new Error('not a directory');
    } catch {
      return { ok: false, reason: 'not_a_directory' };
    }
    const data = await fs.realpath(this.dataDir).catch(() => path.resolve(this.dataDir));
    if (isInside(real, data) || isInside(data, real)) {
      return { ok: false, reason: 'data_dir' };
    }
    for (const root of roots) {
      const realRoot = await fs.realpath(root).catch(() => null);
      // A root itself is refused (workspace-rules.ts); judged here on real paths too, for a root
      // reached through a symlink.
      if (realRoot && real === realRoot) {
        return { ok: false, reason: 'workspace_root' };
      }
      if (realRoot && isInside(real, realRoot)) return { ok: true, path: real };
    }
    return { ok: false, reason: 'outside_roots' };
  }

  async list(): Promise<Array<{ sessionId: string; path: string }>> {
    const entries = await fs.readdir(this.baseDir, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => ({ sessionId: e.name, path: path.join(this.baseDir, e.name) }));
  }

  async remove(dir: string): Promise<void> {
    // Only ever removes a directory strictly inside the base, judged on real paths: a symlink
    // on the way cannot lead the removal elsewhere. (A symlink as the last part is removed as
    // a link, never followed.)
    const base = await fs.realpath(this.baseDir).catch(() => null);
    const parent = await fs.realpath(path.dirname(path.resolve(dir))).catch(() => null);
    if (!base || !parent) return;
    const target = path.join(parent, path.basename(dir));
    if (target === base || !isInside(target, base)) return;
    await fs.rm(target, { recursive: true, force: true });
  }
}

/**
 * Makes a fresh workspace a git repository of its own (empty, no commits), as `git init` would,
 * without needing git on the machine. Claude Code takes the nearest directory with a `.git` above
 * its cwd for the session's project: it does not honour GIT_CEILING_DIRECTORIES (measured with
 * 2.1.330). A workspace under a data dir inside a checkout (the default `./data` of a clone) made
 * the checkout the project, and Claude Code wrote `.claude/.cc-writes/` into it and its sandbox's
 * placeholder files into the checkout's `.git`. With its own `.git`, the workspace is the project,
 * and the agent's git commands find this repository, not the server's.
 */
async function makeProjectBoundary(dir: string): Promise<void> {
  const git = path.join(dir, '.git');
  try {
    await fs.mkdir(git, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return; // made before (a retried create)
    throw err;
  }
  for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags'])
    await fs.mkdir(path.join(git, sub), { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(git, 'HEAD'), 'ref: refs/heads/main\n');
  await fs.writeFile(
    path.join(git, 'config'),
    '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n',
  );
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
