/** A turn's after-snapshot and its changes in one process (`snapshotSince`), against `changes`. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ShadowGitSnapshots } from './shadow-git.js';

describe('ShadowGitSnapshots.snapshotSince', () => {
  let dataDir: string;
  let cwd: string;
  let snapshots: ShadowGitSnapshots;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-shadow-'));
    const workspacesDir = path.join(dataDir, 'workspaces');
    cwd = path.join(workspacesDir, 'sess_a');
    fs.mkdirSync(cwd, { recursive: true });
    snapshots = new ShadowGitSnapshots(path.join(dataDir, 'snapshots'), { dataDir, workspacesDir });
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('gives the snapshot and exactly what `changes` gives between the two', async () => {
    fs.writeFileSync(path.join(cwd, 'kept.txt'), 'one\ntwo\n');
    fs.writeFileSync(path.join(cwd, 'moved.txt'), 'a file that is renamed\nwith some lines\n');
    fs.writeFileSync(path.join(cwd, 'gone.txt'), 'x\n');
    const before = await snapshots.snapshot('sess_a', cwd, 'turns/t1/before', 'before');

    fs.writeFileSync(path.join(cwd, 'kept.txt'), 'one\nTWO\nthree\n');
    fs.renameSync(path.join(cwd, 'moved.txt'), path.join(cwd, 'renamed.txt'));
    fs.rmSync(path.join(cwd, 'gone.txt'));
    fs.writeFileSync(path.join(cwd, 'blob.bin'), Buffer.from([0, 1, 2, 0, 255]));
    const after = await snapshots.snapshotSince('sess_a', cwd, 'turns/t1/after', 'after', before);

    expect(await snapshots.idOf('sess_a', 'turns/t1/after')).toBe(after.id);
    expect(after.changes).toEqual(await snapshots.changes('sess_a', before, after.id));
    expect(after.changes).toEqual(
      expect.arrayContaining([
        { path: 'kept.txt', status: 'modified', additions: 2, deletions: 1, binary: false },
        { path: 'gone.txt', status: 'deleted', additions: 0, deletions: 1, binary: false },
        { path: 'blob.bin', status: 'added', additions: 0, deletions: 0, binary: true },
        expect.objectContaining({ path: 'renamed.txt', status: 'renamed', previousPath: 'moved.txt' }),
      ]),
    );
    expect(after.changes).toHaveLength(4);
  });

  it('an unchanged workspace: the same snapshot again, and no changes', async () => {
    fs.writeFileSync(path.join(cwd, 'a.txt'), 'a\n');
    const before = await snapshots.snapshot('sess_a', cwd, 'turns/t1/before', 'before');
    const after = await snapshots.snapshotSince('sess_a', cwd, 'turns/t1/after', 'after', before);
    expect(after).toEqual({ id: before, changes: [] });
  });
});
