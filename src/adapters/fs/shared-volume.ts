/**
 * The check that every instance sees the same workspaces folder: each instance leaves a file
 * with a random mark in it (`.instance-<id>`) and records the mark in the database; an instance
 * that starts and cannot find another live instance's file there is not on the same volume, and
 * says so at start instead of failing later on a session whose folder it cannot see.
 * Files, not folders: the workspace sweep lists folders only.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SharedVolume } from '../../domain/cluster-placement.js';

export class FsSharedVolume implements SharedVolume {
  constructor(readonly path: string) {}

  private file(instanceId: string): string {
    return path.join(this.path, `.instance-${instanceId.replace(/[^A-Za-z0-9_-]/g, '_')}`);
  }

  async mark(instanceId: string): Promise<string> {
    const mark = randomBytes(16).toString('hex');
    await fs.mkdir(this.path, { recursive: true, mode: 0o700 });
    await fs.writeFile(this.file(instanceId), `${mark}\n`, { mode: 0o600 });
    return mark;
  }

  async sees(instanceId: string, mark: string): Promise<boolean> {
    const text = await fs.readFile(this.file(instanceId), 'utf8').catch(() => null);
    return text?.trim() === mark;
  }

  async unmark(instanceId: string): Promise<void> {
    await fs.rm(this.file(instanceId), { force: true });
  }
}
