import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cwdRefused } from '../../domain/error-situations.js';
import { FsWorkspaces } from './fs-workspaces.js';

describe('FsWorkspaces', () => {
  let tmp: string;
  let base: string;
  let root: string;
  let outside: string;
  let workspaces: FsWorkspaces;

  beforeEach(() => {
    // realpath: on some systems the temp dir itself is behind a symlink.
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-ws-')));
    base = path.join(tmp, 'data', 'workspaces');
    root = path.join(tmp, 'root');
    outside = path.join(tmp, 'outside');
    fs.mkdirSync(path.join(root, 'project', 'src'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'keep me');
    workspaces = new FsWorkspaces(base, path.join(tmp, 'data'));
  });

  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('create', () => {
    it('makes a fresh, private directory per session under the base, an empty repository of its own', async () => {
      const dir = await workspaces.create('sess_a');
      expect(dir).toBe(path.join(base, 'sess_a'));
      expect(fs.readdirSync(dir)).toEqual(['.git']);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect(await workspaces.create('sess_b')).not.toBe(dir);
    });

    it('the repository is one git accepts: the workspace, not a checkout around it, is the project', async () => {
      // The data dir inside a checkout, as with the default ./data of a clone.
      fs.mkdirSync(path.join(tmp, '.git'));
      const dir = await workspaces.create('sess_a');
      const git = (args: string[]) =>
        execFileSync('git', args, {
          cwd: dir,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '' },
        }).trim();
      expect(git(['rev-parse', '--show-toplevel'])).toBe(dir);
      expect(git(['status', '--porcelain', '--branch'])).toBe('## No commits yet on main');
    });
  });

  describe('resolveExternal', () => {
    const refused = async (cwd: string, roots: string[] = [root]) => {
      const r = await workspaces.resolveExternal(cwd, roots);
      if (r.ok) throw new Error(`accepted ${cwd} as ${r.path}`);
      // What the client is told (the domain's own mapping of the adapter's reason).
      return cwdRefused(r.reason, cwd).toBody();
    };

    it('accepts a real directory inside a root, as its real path', async () => {
      expect(await workspaces.resolveExternal(path.join(root, 'project', 'src'), [root])).toEqual({
        ok: true,
        path: path.join(root, 'project', 'src'),
      });
    });

    it('refuses a root itself, also when named through a symlink to it', async () => {
      // A session in the root could rename and re-link every folder of later sessions.
      const link = path.join(tmp, 'root-link');
      fs.symlinkSync(root, link);
      for (const cwd of [root, `${root}/project/..`, link]) {
        expect(await refused(cwd, [root]), cwd).toMatchObject({
          code: 'FORBIDDEN',
          details: { policy: 'workspace', reason: 'workspace_root' },
        });
      }
      expect(await refused(root, [link])).toMatchObject({ details: { reason: 'workspace_root' } });
    });

    it('accepts a symlink inside a root that points inside a root, resolved', async () => {
      fs.symlinkSync(path.join(root, 'project'), path.join(root, 'link'));
      expect(await workspaces.resolveExternal(path.join(root, 'link'), [root])).toEqual({
        ok: true,
        path: path.join(root, 'project'),
      });
    });

    it('accepts a `..` path that stays inside the root', async () => {
      const cwd = `${root}/project/src/../src`;
      expect(await workspaces.resolveExternal(cwd, [root])).toEqual({
        ok: true,
        path: path.join(root, 'project', 'src'),
      });
    });

    it('refuses a relative path', async () => {
      const error = await refused('project/src');
      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.details).toEqual({ issues: [{ field: 'cwd', message: 'must be an absolute path' }] });
    });

    it('refuses a `..` escape out of the root', async () => {
      const error = await refused(`${root}/project/../../outside`);
      expect(error).toMatchObject({ code: 'FORBIDDEN', details: { policy: 'WORKSPACE_ROOTS' } });
    });

    it('refuses a symlink inside the root that points outside', async () => {
      fs.symlinkSync(outside, path.join(root, 'escape'));
      expect((await refused(path.join(root, 'escape'))).code).toBe('FORBIDDEN');
      expect((await refused(path.join(root, 'escape', '.'))).code).toBe('FORBIDDEN');
    });

    it('refuses a sibling whose name merely starts like the root', async () => {
      fs.mkdirSync(`${root}-evil`);
      expect((await refused(`${root}-evil`)).code).toBe('FORBIDDEN');
    });

    it('refuses a file and a missing path', async () => {
      fs.writeFileSync(path.join(root, 'file.txt'), 'x');
      expect(await refused(path.join(root, 'file.txt'))).toMatchObject({
        code: 'INVALID_REQUEST',
        details: { issues: [{ field: 'cwd', message: 'not an existing directory' }] },
      });
      expect((await refused(path.join(root, 'missing'))).code).toBe('INVALID_REQUEST');
    });

    it('refuses every cwd when no root is configured', async () => {
      const error = await refused(root, []);
      expect(error).toMatchObject({ code: 'FORBIDDEN', details: { policy: 'WORKSPACE_ROOTS' } });
    });

    it('checks a root that is itself a symlink by its real path', async () => {
      const linkRoot = path.join(tmp, 'root-link');
      fs.symlinkSync(root, linkRoot);
      expect(await workspaces.resolveExternal(path.join(root, 'project'), [linkRoot])).toEqual({
        ok: true,
        path: path.join(root, 'project'),
      });
    });

    it('refuses a cwd inside or around the server data dir, even inside a root', async () => {
      const dataRoot = tmp; // a root that contains the data dir
      fs.mkdirSync(path.join(base, 'sess_other'), { recursive: true });
      for (const cwd of [path.join(base, 'sess_other'), path.join(tmp, 'data'), tmp]) {
        expect(await refused(cwd, [dataRoot])).toMatchObject({
          code: 'FORBIDDEN',
          details: { policy: 'DATA_DIR' },
        });
      }
    });

    // A directory named like `..cache` inside a root is inside it.
    it('accepts a directory inside the root whose name starts with two dots', async () => {
      fs.mkdirSync(path.join(root, '..cache'));
      expect(await workspaces.resolveExternal(path.join(root, '..cache'), [root])).toEqual({
        ok: true,
        path: path.join(root, '..cache'),
      });
    });
  });

  describe('remove', () => {
    it('removes a session workspace and everything in it', async () => {
      const dir = await workspaces.create('sess_a');
      fs.mkdirSync(path.join(dir, 'deep', 'er'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'deep', 'er', 'f'), 'x');
      await workspaces.remove(dir);
      expect(fs.existsSync(dir)).toBe(false);
      expect(fs.existsSync(base)).toBe(true);
    });

    it('never removes the base itself or anything outside it', async () => {
      await workspaces.create('sess_a');
      await workspaces.remove(base);
      await workspaces.remove(`${base}/`);
      await workspaces.remove(outside);
      await workspaces.remove(`${base}/../../outside`);
      await workspaces.remove(path.join(root, 'project'));
      await workspaces.remove('relative/path');
      expect(fs.existsSync(path.join(base, 'sess_a'))).toBe(true);
      expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('keep me');
      expect(fs.existsSync(path.join(root, 'project', 'src'))).toBe(true);
    });

    it('removes a symlink in the base, not what it points to', async () => {
      await workspaces.create('sess_a');
      const link = path.join(base, 'sess_link');
      fs.symlinkSync(outside, link);
      await workspaces.remove(link);
      expect(fs.existsSync(link)).toBe(false);
      expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('keep me');
    });

    // remove() judges containment on real paths: a symlink cannot lead it outside the base.
    it('never deletes outside the base through a symlinked directory', async () => {
      await workspaces.create('sess_a');
      fs.symlinkSync(outside, path.join(base, 'sess_link'));
      await workspaces.remove(path.join(base, 'sess_link', 'secret.txt'));
      expect(fs.existsSync(path.join(outside, 'secret.txt'))).toBe(true);
    });

    it('is quiet about a workspace that is already gone', async () => {
      await expect(workspaces.remove(path.join(base, 'sess_gone'))).resolves.toBeUndefined();
    });
  });
});
