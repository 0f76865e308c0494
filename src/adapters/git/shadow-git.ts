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
import { git, runGit, runGitScript } from './run-git.js';

const HEAD_REF = 'refs/ccr/head';
/** Each changed file's status (`--raw`) and line counts (`--numstat`), from one git process. */
const CHANGES_ARGS = ['--no-ext-diff', '-M', '--raw', '--numstat', '-z'];
/** The head snapshot's id and tree (the snapshot script's own note, in the repository). */
const HEAD_TREE_FILE = 'ccr-head-tree';
/**
 * One snapshot, as one process (runGitScript): `$1` the ref to name it, `$2` its message, `$3`
 * (may be empty) a snapshot to compare it with. A file that cannot be read is left out (with a
 * warning from git), not the whole snapshot; a workspace unchanged since the last snapshot gets
 * that snapshot's id again. Prints the snapshot's id on a line, then what changed since `$3`
 * (`git diff --raw --numstat -z`, nothing when the two are the same).
 * The head's tree is remembered beside it (HEAD_TREE_FILE, "<commit> <tree>"), so telling an
 * unchanged workspace costs no git process; a head moved by a rewind no longer matches it.
 */
const SNAPSHOT_SCRIPT = `set -e
git add -A -f --ignore-errors -- . || true
tree=$(git write-tree)
parent=$(cat "$GIT_DIR/${HEAD_REF}" 2>/dev/null || true)
parent_tree=
if [ -n "$parent" ]; then
  { read -r known known_tree < "$GIT_DIR/${HEAD_TREE_FILE}"; } 2>/dev/null || true
  if [ "$known" = "$parent" ]; then parent_tree=$known_tree; else parent_tree=$(git rev-parse "$parent^{tree}"); fi
fi
if [ -n "$parent" ] && [ "$parent_tree" = "$tree" ]; then
  id=$parent
elif [ -n "$parent" ]; then
  id=$(git commit-tree "$tree" -p "$parent" -m "$2")
else
  id=$(git commit-tree "$tree" -m "$2")
fi
printf 'update %s %s\\nupdate ${HEAD_REF} %s\\n' "$1" "$id" "$id" | git update-ref --stdin
printf '%s %s\\n' "$id" "$tree" > "$GIT_DIR/${HEAD_TREE_FILE}"
echo "$id"
if [ -n "$3" ] && [ "$3" != "$id" ]; then git diff ${CHANGES_ARGS.join(' ')} "$3" "$id"; fi`;
/** A SHA-1 or SHA-256 object id, as a loose ref file holds it. */
const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
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

  async snapshot(sessionId: string, cwd: string, name: string, message: string): Promise<string> {
    return (await this.serialize(sessionId, () => this.snapshotNow(sessionId, cwd, name, message))).id;
  }

  async snapshotSince(sessionId: string, cwd: string, name: string, message: string, since: string) {
    const { id, diff } = await this.serialize(sessionId, () =>
      this.snapshotNow(sessionId, cwd, name, message, since),
    );
    return { id, changes: parseChanges(diff) };
  }

  async idOf(sessionId: string, name: string): Promise<string | null> {
    const gitDir = this.gitDir(sessionId);
    // The ref's own file first: every ref here is written loose by update-ref and never packed
    // (gc.auto=0), and a read costs far less than a git process. git answers when it is absent.
    const loose = await fs.readFile(path.join(gitDir, refOf(name)), 'utf8').catch(() => '');
    if (OBJECT_ID.test(loose.trim())) return loose.trim();
    const run = await runGit(['rev-parse', '-q', '--verify', `${refOf(name)}^{commit}`], {
      env: { GIT_DIR: gitDir },
    });
    return run.code === 0 ? run.stdout.toString('utf8').trim() : null;
  }

  async changes(sessionId: string, from: string, to: string): Promise<FileChange[]> {
    const env = { GIT_DIR: this.gitDir(sessionId) };
    return parseChanges(await git(['diff', ...CHANGES_ARGS, from, to], { env }));
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

  private async snapshotNow(
    sessionId: string,
    cwd: string,
    name: string,
    message: string,
    since = '',
  ): Promise<{ id: string; diff: string }> {
    const gitDir = this.gitDir(sessionId);
    const workTree = verifiedWorkspacePath(cwd, this.places);
    await this.ensureRepository(gitDir);
    const run = await runGitScript(SNAPSHOT_SCRIPT, [refOf(name), message || EMPTY_TREE_MESSAGE, since], {
      env: { GIT_DIR: gitDir, GIT_WORK_TREE: workTree },
      cwd: workTree,
    });
    const out = run.stdout.toString('utf8');
    const lineEnd = out.indexOf('\n');
    const id = lineEnd < 0 ? out.trim() : out.slice(0, lineEnd);
    if (run.code !== 0 || !OBJECT_ID.test(id)) {
      throw new Error(`snapshot failed (${run.code ?? 'killed'}): ${run.stderr.trim().slice(0, 500)}`);
    }
    return { id, diff: lineEnd < 0 ? '' : out.slice(lineEnd + 1) };
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
    // A work tree is given with each command; the repository itself has none. Appended to the
    // config file rather than set by two more git processes (in git's config the last value of
    // a key wins).
    await fs.appendFile(path.join(gitDir, 'config'), '[core]\n\tbare = false\n[gc]\n\tauto = 0\n');
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

/** The changes a `git diff --raw --numstat -z` printed. */
function parseChanges(text: string): FileChange[] {
  const { statuses, rest } = parseRaw(text);
  const counts = parseNumstat(rest);
  return statuses.map((change) => {
    const count = counts.get(change.path) ?? { additions: 0, deletions: 0, binary: false };
    return { ...change, ...count };
  });
}

/**
 * `--raw -z` records, which come first: `:100644 100644 <sha> <sha> M\0path\0`, or for a rename
 * `…R100\0old\0new\0`. Returns them, and the text after them (the `--numstat` records).
 */
function parseRaw(text: string): {
  statuses: Array<Pick<FileChange, 'path' | 'status' | 'previousPath'>>;
  rest: string;
} {
  const fields = text.split('\0');
  const statuses: Array<Pick<FileChange, 'path' | 'status' | 'previousPath'>> = [];
  let i = 0;
  while (i < fields.length - 1 && fields[i]?.startsWith(':')) {
    const code = fields[i++]?.split(' ')[4] ?? '';
    if (code.startsWith('R') || code.startsWith('C')) {
      const previousPath = fields[i++] ?? '';
      const p = fields[i++] ?? '';
      statuses.push({ path: p, status: code.startsWith('R') ? 'renamed' : 'added', previousPath });
    } else {
      const p = fields[i++] ?? '';
      statuses.push({ path: p, status: code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified' });
    }
  }
  return { statuses, rest: fields.slice(i).join('\0') };
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
