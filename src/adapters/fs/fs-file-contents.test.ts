import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsFileContents } from './fs-file-contents.js';

describe('FsFileContents', () => {
  let dir: string;
  let workspace: string;
  let outside: string;
  let files: FsFileContents;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-files-'));
    workspace = path.join(dir, 'ws');
    outside = path.join(dir, 'outside');
    fs.mkdirSync(workspace);
    fs.mkdirSync(outside);
    files = new FsFileContents(path.join(dir, 'store'));
    await files.write('file_1', Buffer.from('hello'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores, reads and removes bytes by id (0600), and refuses an id that is a path', async () => {
    expect(Buffer.from((await files.read('file_1')) ?? []).toString()).toBe('hello');
    expect(fs.statSync(path.join(dir, 'store', 'file_1')).mode & 0o777).toBe(0o600);
    await files.remove('file_1');
    expect(await files.read('file_1')).toBeNull();
    await expect(files.write('../escape', Buffer.from('x'))).rejects.toThrow('not a file id');
  });

  it('mounts into the workspace, making folders; a leading / is the workspace root', async () => {
    expect(await files.mount('file_1', workspace, '/docs/a/notes.txt')).toEqual({ ok: true });
    expect(fs.readFileSync(path.join(workspace, 'docs/a/notes.txt'), 'utf8')).toBe('hello');
    await files.unmount(workspace, 'docs/a/notes.txt');
    expect(fs.existsSync(path.join(workspace, 'docs/a/notes.txt'))).toBe(false);
  });

  it('never leaves the workspace: .., a symlinked folder, a symlink at the name, an existing file', async () => {
    expect(await files.mount('file_1', workspace, '../x.txt')).toEqual({ ok: false, reason: 'outside' });
    fs.symlinkSync(outside, path.join(workspace, 'link'));
    expect(await files.mount('file_1', workspace, 'link/x.txt')).toEqual({ ok: false, reason: 'outside' });
    fs.symlinkSync(path.join(outside, 'planted.txt'), path.join(workspace, 'planted.txt'));
    expect(await files.mount('file_1', workspace, 'planted.txt')).toEqual({ ok: false, reason: 'exists' });
    expect(fs.readdirSync(outside)).toEqual([]);
    fs.writeFileSync(path.join(workspace, 'taken.txt'), 'mine');
    expect(await files.mount('file_1', workspace, 'taken.txt')).toEqual({ ok: false, reason: 'exists' });
    expect(fs.readFileSync(path.join(workspace, 'taken.txt'), 'utf8')).toBe('mine');
    expect(await files.mount('file_none', workspace, 'n.txt')).toEqual({ ok: false, reason: 'missing' });
  });
});
