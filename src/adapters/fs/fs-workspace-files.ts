/**
 * The files API on the local file system. Every path goes through `resolveInWorkspace`
 * (workspace-path.ts). Uploads are streamed to a temporary file beside the target and renamed
 * over it, so a reader never sees half a file and a refused upload leaves nothing behind.
 * The archive is made by `tar` (npm, isaacs/node-tar: the tar writer npm itself uses) and streamed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create as createTar } from 'tar';
import {
  uploadTooLarge,
  workspaceFileNotFound,
  workspaceQuotaExceeded,
  workspaceWrongType,
} from '../../domain/error-situations.js';
import type {
  UploadLimits,
  WorkspaceEntry,
  WorkspaceFiles,
  WorkspaceListing,
  WrittenFile,
} from '../../domain/ports.js';
import { verifiedWorkspacePath, type WorkspacePlaces } from '../claude-sdk/workspace-handle.js';
import { resolveInWorkspace, type ResolvedPath } from './workspace-path.js';

export class FsWorkspaceFiles implements WorkspaceFiles {
  /**
   * `places`: where workspaces may be. Each call checks the workspace itself first (the same
   * check as each start of Claude Code): a folder swapped for a symlink (to `/`, to the data dir)
   * is FORBIDDEN, never followed.
   */
  constructor(private readonly places: WorkspacePlaces) {}

  async list(
    root: string,
    relPath: string,
    options: { recursive: boolean; cap: number },
  ): Promise<WorkspaceListing> {
    const dir = await this.existing(root, relPath);
    if (!(await fs.stat(dir.absolute)).isDirectory()) throw workspaceWrongType(relPath, 'dir');
    const entries: WorkspaceEntry[] = [];
    let truncated = false;
    // Breadth first, symlinked folders never entered (they may lead anywhere).
    const folders = [dir.absolute];
    while (folders.length > 0 && !truncated) {
      const folder = folders.shift() as string;
      const names = (await fs.readdir(folder).catch(() => [] as string[])).sort();
      for (const name of names) {
        if (entries.length >= options.cap) {
          truncated = true;
          break;
        }
        const absolute = path.join(folder, name);
        const stat = await fs.lstat(absolute).catch(() => null);
        if (!stat) continue; // removed meanwhile
        const type = stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'dir' : 'file';
        entries.push({
          name,
          path: relativeOf(dir.root, absolute),
          type,
          size: stat.size,
          modifiedAt: stat.mtimeMs,
        });
        if (options.recursive && type === 'dir') folders.push(absolute);
      }
    }
    if (options.recursive) entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { path: dir.relative, entries, truncated };
  }

  async locateFile(root: string, relPath: string): Promise<{ absolutePath: string; path: string }> {
    const file = await this.existing(root, relPath);
    if (!(await fs.stat(file.absolute)).isFile()) throw workspaceWrongType(relPath, 'file');
    return { absolutePath: file.absolute, path: file.relative };
  }

  async write(
    root: string,
    relPath: string,
    body: AsyncIterable<Uint8Array>,
    limits: UploadLimits,
  ): Promise<WrittenFile> {
    const target = await resolveInWorkspace(this.root(root), relPath);
    if (target.relative === '.') throw workspaceWrongType(relPath, 'file');
    const before = target.exists ? await fs.stat(target.absolute) : null;
    if (before?.isDirectory()) throw workspaceWrongType(relPath, 'file');
    // What the workspace holds besides the file this replaces.
    const used = (await diskUsage(target.root)) - (before?.size ?? 0);
    const dir = path.dirname(target.absolute);
    await fs.mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST' || err.code === 'ENOTDIR')
        throw workspaceWrongType(path.dirname(relPath), 'dir');
      throw err;
    });
    const temp = path.join(dir, `.ccr-upload-${randomUUID()}`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > limits.fileLimitBytes) return done(uploadTooLarge(limits.fileLimitBytes));
        if (used + size > limits.workspaceMaxBytes) {
          return done(workspaceQuotaExceeded(limits.workspaceMaxBytes, used, size));
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
      await fs.rename(temp, target.absolute);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    return { path: target.relative, size, sha256: hash.digest('hex'), created: before === null };
  }

  async remove(root: string, relPath: string): Promise<{ path: string }> {
    // The link itself is removed, not what it points to: resolve the parent, keep the last name.
    const parent = await this.existing(root, path.dirname(relPath));
    const name = path.basename(relPath);
    const absolute = path.join(parent.absolute, name);
    const stat = await fs.lstat(absolute).catch(() => null);
    if (!stat || name === '' || name === '.' || name === '..') throw workspaceFileNotFound(relPath);
    if (stat.isDirectory()) throw workspaceWrongType(relPath, 'file');
    await fs.unlink(absolute);
    return { path: relativeOf(parent.root, absolute) };
  }

  async archive(root: string, relPath: string): Promise<{ path: string; stream: AsyncIterable<Uint8Array> }> {
    const dir = await this.existing(root, relPath);
    if (!(await fs.stat(dir.absolute)).isDirectory()) throw workspaceWrongType(relPath, 'dir');
    const stream = createTar({ gzip: true, cwd: dir.absolute, portable: true, follow: false }, ['.']);
    return { path: dir.relative, stream: stream as unknown as AsyncIterable<Uint8Array> };
  }

  private root(recorded: string): string {
    return verifiedWorkspacePath(recorded, this.places);
  }

  private async existing(root: string, relPath: string): Promise<ResolvedPath> {
    const resolved = await resolveInWorkspace(this.root(root), relPath);
    if (!resolved.exists) throw workspaceFileNotFound(relPath);
    return resolved;
  }
}

function relativeOf(root: string, absolute: string): string {
  return path.relative(root, absolute).split(path.sep).join('/') || '.';
}

/** Bytes of the regular files under `dir` (symlinks not followed). */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const folders = [dir];
  while (folders.length > 0) {
    const folder = folders.pop() as string;
    const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const absolute = path.join(folder, entry.name);
      if (entry.isDirectory()) folders.push(absolute);
      else if (entry.isFile()) total += (await fs.lstat(absolute).catch(() => ({ size: 0 }))).size;
    }
  }
  return total;
}
