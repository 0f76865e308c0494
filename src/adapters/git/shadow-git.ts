/**
 * Workspace snapshots in a shadow git repository per session, `<DATA_DIR>/snapshots/<id>.git`:
 * outside the workspace (the sandbox hides the data dir from the agent, which can neither read
 * nor rewrite them), and with its own index, so the workspace's own `.git` is never touched.
 *
 * A snapshot is `git add -A -f` (everything but `.git` folders, the workspace's .gitignore
 * overruled: what the agent changes there counts too), `write-tree`, `commit-tree` on the last
 * snapshot. git's index remembers each file's size and times, so a snapshot reads again only the
 * files that changed (bench/snapshots.ts measures it). Diffs are git's own, parsed by parse-diff.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import parseDiff from 'parse-diff';
import type { DiffFile, FileChange, WorkspaceSnapshots } from '../../domain/ports.js';
import { verifiedWorkspacePath, type WorkspacePlaces } from '../claude-sdk/workspace-handle.js';
import { git, runGit } from './run-git.js';

const HEAD_REF = 'refs/ccr/head';
const EMPTY_TREE_MESSAGE = 'empty';

export class ShadowGitSnapshots implements WorkspaceSnapshots {
  /** git commands of one session run one after another (they share its index). */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly baseDir: string,
    /**
     * Where workspaces may be: each snapshot, restore and copy checks its workspace first (the
     * check of each start of Claude Code), so a folder swapped for a symlink to `/` or to the
     * data dir is never read into a snapshot nor written through.
     */
    private readonly places: WorkspacePlaces,
  ) {}

  snapshot(sessionId: string, cwd: string, name: string, message: string): Promise<string> {
    return this.serialize(sessionId, () => this.snapshotNow(sessionId, cwd, name, message));
  }

  async idOf(sessionId: string, name: string): Promise<string | null> {
    const gitDir = this.gitDir(sessionId);
    const run = await runGit(['rev-parse', '-q', '--verify', `${refOf(name)}^{commit}`], {
      env: { GIT_DIR: gitDir },
    });
    return run.code === 0 ? run.stdout.toString('utf8').trim() : null;
  }

  async changes(sessionId: string, from: string, to: string): Promise<FileChange[]> {
    const env = { GIT_DIR: this.gitDir(sessionId) };
    const [statusText, numstatText] = await Promise.all([
      git(['diff', '--no-ext-diff', '-M', '--name-status', '-z', from, to], { env }),
      git(['diff', '--no-ext-diff', '-M', '--numstat', '-z', from, to], { env }),
    ]);
    const counts = parseNumstat(numstatText);
    return parseNameStatus(statusText).map((change) => {
      const count = counts.get(change.path) ?? { additions: 0, deletions: 0, binary: false };
      return { ...change, ...count };
    });
  }

  diff(sessionId: string, from: string, to: string): Promise<string> {
    return git(['diff', '--no-ext-diff', '--no-color', '-M', from, to], {
      env: { GIT_DIR: this.gitDir(sessionId) },
    });
  }

  async diffFiles(sessionId: string, from: string, to: string): Promise<DiffFile[]> {
    const [changes, text] = await Promise.all([
      this.changes(sessionId, from, to),
      this.diff(sessionId, from, to),
    ]);
    const parsed = new Map(
      parseDiff(text).map((file) => [file.to && file.to !== '/dev/null' ? file.to : (file.from ?? ''), file]),
    );
    return changes.map((change) => ({
      ...change,
      hunks: (parsed.get(change.path)?.chunks ?? []).map((chunk) => ({
        header: chunk.content,
        oldStart: chunk.oldStart,
        oldLines: chunk.oldLines,
        newStart: chunk.newStart,
        newLines: chunk.newLines,
        lines: chunk.changes.map((line) => line.content),
      })),
    }));
  }

  restore(sessionId: string, cwd: string, id: string): Promise<void> {
    return this.serialize(sessionId, async () => {
      // The index is brought up to the workspace first, so what is not in the snapshot is removed.
      await this.snapshotNow(sessionId, cwd, `restores/${Date.now()}`, 'before a rewind');
      const tree = verifiedWorkspacePath(cwd, this.places);
      const env = { GIT_DIR: this.gitDir(sessionId), GIT_WORK_TREE: tree };
      await git(['read-tree', '-u', '--reset', id], { env, cwd: tree });
      await git(['update-ref', HEAD_REF, id], { env });
    });
  }

  copyInto(sessionId: string, id: string, targetDir: string): Promise<void> {
    return this.serialize(sessionId, async () => {
      const index = path.join(os.tmpdir(), `ccr-index-${randomUUID()}`);
      const tree = verifiedWorkspacePath(targetDir, this.places);
      const env = { GIT_DIR: this.gitDir(sessionId), GIT_WORK_TREE: tree, GIT_INDEX_FILE: index };
      try {
        await git(['read-tree', '-u', '--reset', id], { env, cwd: tree });
      } finally {
        await fs.rm(index, { force: true });
      }
    });
  }

  async remove(sessionId: string): Promise<void> {
    await fs.rm(this.gitDir(sessionId), { recursive: true, force: true });
  }

  private gitDir(sessionId: string): string {
    // Session ids are the server's own (sess_ + base62): never a path of a client's.
    return path.join(this.baseDir, `${sessionId}.git`);
  }

  private async snapshotNow(sessionId: string, cwd: string, name: string, message: string): Promise<string> {
    const gitDir = this.gitDir(sessionId);
    const workTree = verifiedWorkspacePath(cwd, this.places);
    await this.ensureRepository(gitDir);
    const env = { GIT_DIR: gitDir, GIT_WORK_TREE: workTree };
    // A file that cannot be read is left out (with a warning from git), not the whole snapshot.
    await runGit(['add', '-A', '-f', '--ignore-errors', '--', '.'], { env, cwd: workTree });
    const tree = (await git(['write-tree'], { env, cwd: workTree })).trim();
    const parent = await this.idOf(sessionId, 'head');
    let id: string;
    if (parent && (await git(['rev-parse', `${parent}^{tree}`], { env })).trim() === tree) {
      id = parent;
    } else {
      const args = ['commit-tree', tree, '-m', message || EMPTY_TREE_MESSAGE];
      if (parent) args.push('-p', parent);
      id = (await git(args, { env, cwd: workTree })).trim();
    }
    await git(['update-ref', refOf(name), id], { env });
    await git(['update-ref', HEAD_REF, id], { env });
    return id;
  }

  private async ensureRepository(gitDir: string): Promise<void> {
    if (
      await fs.stat(path.join(gitDir, 'HEAD')).then(
        () => true,
        () => false,
      )
    )
      return;
    await fs.mkdir(path.dirname(gitDir), { recursive: true, mode: 0o700 });
    await git(['init', '-q', '--bare', gitDir]);
    // A work tree is given with each command; the repository itself has none.
    await git(['config', 'core.bare', 'false'], { env: { GIT_DIR: gitDir } });
    await git(['config', 'gc.auto', '0'], { env: { GIT_DIR: gitDir } });
  }

  private serialize<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(sessionId) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(sessionId, settled);
    void settled.then(() => {
      if (this.chains.get(sessionId) === settled) this.chains.delete(sessionId);
    });
    return next;
  }
}

function refOf(name: string): string {
  return name === 'head' ? HEAD_REF : `refs/ccr/${name}`;
}

/** `--name-status -z`: `M\0path\0`, `R100\0old\0new\0`, … */
function parseNameStatus(text: string): Array<Pick<FileChange, 'path' | 'status' | 'previousPath'>> {
  const fields = text.split('\0');
  const out: Array<Pick<FileChange, 'path' | 'status' | 'previousPath'>> = [];
  for (let i = 0; i < fields.length - 1;) {
    const code = fields[i++] ?? '';
    if (code.startsWith('R') || code.startsWith('C')) {
      const previousPath = fields[i++] ?? '';
      const p = fields[i++] ?? '';
      out.push({ path: p, status: code.startsWith('R') ? 'renamed' : 'added', previousPath });
    } else {
      const p = fields[i++] ?? '';
      out.push({ path: p, status: code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified' });
    }
  }
  return out;
}

/** `--numstat -z`: `a\td\tpath\0`, or for a rename `a\td\t\0old\0new\0`; `-` counts: binary. */
function parseNumstat(text: string): Map<string, { additions: number; deletions: number; binary: boolean }> {
  const fields = text.split('\0');
  const out = new Map<string, { additions: number; deletions: number; binary: boolean }>();
  for (let i = 0; i < fields.length - 1;) {
    const [added = '', deleted = '', inline = ''] = (fields[i++] ?? '').split('\t');
    let p = inline;
    if (inline === '') {
      i++; // the old path
      p = fields[i++] ?? '';
    }
    const binary = added === '-';
    out.set(p, {
      additions: binary ? 0 : Number(added),
      deletions: binary ? 0 : Number(deleted),
      binary,
    });
  }
  return out;
}
