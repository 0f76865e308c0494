/**
 * An in-memory twin of the workspace snapshots (the real ones are git: src/adapters/git): each
 * session's "workspace" is a map of path → content that a test changes by hand (`files(cwd)`).
 */
import type { DiffFile, FileChange, WorkspaceSnapshots } from '../../src/domain/ports.js';

type Tree = Map<string, string>;

export class MemorySnapshots implements WorkspaceSnapshots {
  private readonly workspaces = new Map<string, Tree>();
  private readonly snapshots = new Map<string, Tree>();
  private readonly names = new Map<string, string>();
  private next = 0;

  /** The workspace at `cwd`, to change in a test. */
  files(cwd: string): Tree {
    let tree = this.workspaces.get(cwd);
    if (!tree) this.workspaces.set(cwd, (tree = new Map()));
    return tree;
  }

  async snapshot(sessionId: string, cwd: string, name: string): Promise<string> {
    const id = `snap_${++this.next}`;
    this.snapshots.set(id, new Map(this.files(cwd)));
    this.names.set(`${sessionId}/${name}`, id);
    return id;
  }

  async snapshotSince(sessionId: string, cwd: string, name: string, _message: string, since: string) {
    const id = await this.snapshot(sessionId, cwd, name);
    return { id, changes: await this.changes(sessionId, since, id) };
  }

  async idOf(sessionId: string, name: string): Promise<string | null> {
    return this.names.get(`${sessionId}/${name}`) ?? null;
  }

  async changes(_sessionId: string, from: string, to: string): Promise<FileChange[]> {
    const a = this.tree(from);
    const b = this.tree(to);
    const out: FileChange[] = [];
    for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
      const before = a.get(path);
      const after = b.get(path);
      if (before === after) continue;
      const status = before === undefined ? 'added' : after === undefined ? 'deleted' : 'modified';
      out.push({
        path,
        status,
        additions: after === undefined ? 0 : 1,
        deletions: before === undefined ? 0 : 1,
        binary: false,
      });
    }
    return out;
  }

  async diff(sessionId: string, from: string, to: string): Promise<string> {
    return (await this.changes(sessionId, from, to)).map((c) => `${c.status} ${c.path}\n`).join('');
  }

  async diffFiles(sessionId: string, from: string, to: string): Promise<DiffFile[]> {
    return (await this.changes(sessionId, from, to)).map((c) => ({ ...c, hunks: [] }));
  }

  async restore(_sessionId: string, cwd: string, id: string): Promise<void> {
    this.workspaces.set(cwd, new Map(this.tree(id)));
  }

  async copyInto(_sessionId: string, id: string, targetDir: string): Promise<void> {
    this.workspaces.set(targetDir, new Map(this.tree(id)));
  }

  async remove(): Promise<void> {}

  private tree(id: string): Tree {
    const tree = this.snapshots.get(id);
    if (!tree) throw new Error(`no snapshot ${id}`);
    return tree;
  }
}
