import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../domain/errors.js';
import { openWorkspace, type WorkspacePlaces } from './workspace-handle.js';

describe('openWorkspace', () => {
  let tmp: string;
  let places: WorkspacePlaces;
  let root: string;

  beforeEach(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-handle-')));
    places = { dataDir: path.join(tmp, 'data'), workspacesDir: path.join(tmp, 'data', 'workspaces') };
    root = path.join(tmp, 'root');
    fs.mkdirSync(places.workspacesDir, { recursive: true });
    fs.mkdirSync(path.join(root, 'box'), { recursive: true });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The refusal's reason, failing the test if the workspace was accepted. */
  function refusal(cwd: string): string {
    try {
      openWorkspace(cwd, places).close();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      const e = err as ApiError;
      expect(e.code).toBe('FORBIDDEN');
      expect(e.details).toMatchObject({ policy: 'workspace', cwd });
      return e.details.reason as string;
    }
    throw new Error(`accepted ${cwd}`);
  }

  it('opens an unchanged external folder and the server’s own workspace, by what they are', () => {
    const own = path.join(places.workspacesDir, 'sess_1');
    fs.mkdirSync(own);
    for (const cwd of [path.join(root, 'box'), own]) {
      const handle = openWorkspace(cwd, places);
      try {
        expect(handle.path).toBe(cwd);
        expect(fs.fstatSync(handle.fd).ino).toBe(fs.statSync(cwd).ino);
      } finally {
        handle.close();
      }
    }
  });

  it('refuses a folder replaced by a symlink: to /, to the data dir, to another folder', () => {
    const box = path.join(root, 'box');
    fs.renameSync(box, `${box}.old`);
    for (const target of ['/', places.dataDir, `${box}.old`]) {
      fs.symlinkSync(target, box);
      expect(refusal(box), target).toBe('moved');
      fs.unlinkSync(box);
    }
  });

  it('refuses a folder reached through a parent that was replaced by a symlink', () => {
    fs.mkdirSync(path.join(tmp, 'elsewhere', 'box'), { recursive: true });
    fs.renameSync(root, `${root}.old`);
    fs.symlinkSync(path.join(tmp, 'elsewhere'), root);
    expect(refusal(path.join(root, 'box'))).toBe('moved');
  });

  it('refuses a server workspace replaced by a link, a folder that is gone, and a file', () => {
    const own = path.join(places.workspacesDir, 'sess_2');
    fs.symlinkSync(root, own);
    expect(refusal(own)).toBe('moved');
    expect(refusal(path.join(root, 'gone'))).toBe('missing');
    fs.writeFileSync(path.join(root, 'file'), '');
    expect(refusal(path.join(root, 'file'))).toBe('not_a_directory');
  });

  it('refuses an external folder in or around the data dir', () => {
    expect(refusal(tmp)).toBe('data_dir');
    fs.mkdirSync(path.join(places.dataDir, 'claude'));
    expect(refusal(path.join(places.dataDir, 'claude'))).toBe('data_dir');
  });

  it('keeps the opened folder whatever happens to its name afterwards', () => {
    const box = path.join(root, 'box');
    fs.writeFileSync(path.join(box, 'mine.txt'), 'mine');
    const handle = openWorkspace(box, places);
    try {
      fs.renameSync(box, `${box}.old`);
      fs.symlinkSync('/', box);
      // The descriptor still names the original folder, which is what the sandbox binds.
      expect(fs.readdirSync(`/proc/self/fd/${handle.fd}`)).toEqual(['mine.txt']);
    } finally {
      handle.close();
    }
  });
});
