/**
 * Files uploaded through the Managed Agents API, one file per id under `<DATA_DIR>/files`
 * (mode 0600; the data dir is hidden from Claude Code's sandbox), and their copies mounted into
 * workspaces. A mount never leaves the workspace: `..` and absolute segments are refused before
 * anything is made, every folder on the way is checked to be a real folder inside it (no symlink
 * out), and the file is created exclusively (an existing file is not overwritten).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileContents } from '../../domain/ports.js';

const SAFE_ID = /^[A-Za-z0-9_-]{1,100}$/;

export class FsFileContents implements FileContents {
  constructor(private readonly dir: string) {}

  private pathOf(fileId: string): string {
    if (!SAFE_ID.test(fileId)) throw new Error(`not a file id: ${fileId}`);
    return path.join(this.dir, fileId);
  }

  async write(fileId: string, bytes: Uint8Array): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const target = this.pathOf(fileId);
    const temp = `${target}.part`;
    await fs.writeFile(temp, bytes, { mode: 0o600 });
    await fs.rename(temp, target);
  }

  async read(fileId: string): Promise<Uint8Array | null> {
    try {
      return await fs.readFile(this.pathOf(fileId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async remove(fileId: string): Promise<void> {
    await fs.rm(this.pathOf(fileId), { force: true });
  }

  async mount(
    fileId: string,
    workspace: string,
    relativePath: string,
  ): Promise<{ ok: true } | { ok: false; reason: 'outside' | 'exists' | 'missing' }> {
    const target = await insideWorkspace(workspace, relativePath, true);
    if (!target) return { ok: false, reason: 'outside' };
    const bytes = await this.read(fileId);
    if (!bytes) return { ok: false, reason: 'missing' };
    try {
      // `wx`: never through an existing file or a symlink planted at the last segment.
      await fs.writeFile(target, bytes, { flag: 'wx', mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { ok: false, reason: 'exists' };
      throw err;
    }
    return { ok: true };
  }

  async unmount(workspace: string, relativePath: string): Promise<void> {
    const target = await insideWorkspace(workspace, relativePath, false);
    if (target) await fs.rm(target, { force: true });
  }
}

/**
 * The absolute path of `relativePath` in the workspace, its folders real folders inside it
 * (made when `create`), or null when it would leave the workspace.
 */
async function insideWorkspace(
  workspace: string,
  relativePath: string,
  create: boolean,
): Promise<string | null> {
  const parts = relativePath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..' || p.includes('\0'))) return null;
  const root = await fs.realpath(workspace);
  let current = root;
  for (const part of parts.slice(0, -1)) {
    current = path.join(current, part);
    try {
      const stat = await fs.lstat(current);
      if (!stat.isDirectory()) return null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) return null;
      await fs.mkdir(current, { mode: 0o755 });
    }
  }
  return path.join(current, parts.at(-1) as string);
}
