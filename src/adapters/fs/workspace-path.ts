/**
 * Where a client's path leads inside a workspace. The one resolver of the files API: every path
 * is judged on real paths (symlinks followed), so neither `..`, an absolute path, nor a symlink
 * (the agent can make them) leads a read, write or delete outside the workspace.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathOutsideWorkspace, workspacePathInvalid } from '../../domain/error-situations.js';

/** Longer client paths are refused (400): no real workspace needs them. */
export const MAX_WORKSPACE_PATH_CHARS = 4096;

export interface ResolvedPath {
  /** The workspace root's real path. */
  root: string;
  /** Real absolute path (its parts that exist are real; a tail that does not exist yet is appended). */
  absolute: string;
  /** Relative to the root, `/`-separated; `.` for the root itself. */
  relative: string;
  /** Whether the path exists now. */
  exists: boolean;
}

export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** The 400s: checked before the file system is asked anything. */
export function checkPathText(requested: string): void {
  if (requested.includes('\0')) throw workspacePathInvalid('nul_byte');
  if (requested.length > MAX_WORKSPACE_PATH_CHARS) throw workspacePathInvalid('too_long');
}

/**
 * Resolves `requested` (relative to the workspace; empty or `.` is the root) to a real path
 * inside `root`, or throws FORBIDDEN. Parts that do not exist yet are kept as written (a write
 * creates them), after the real path of the deepest part that does. A dangling symlink on the way
 * is refused: a write through it would create its target, wherever that is.
 */
export async function resolveInWorkspace(root: string, requested: string): Promise<ResolvedPath> {
  checkPathText(requested);
  const realRoot = await fs.realpath(root);
  const lexical = path.resolve(realRoot, requested === '' ? '.' : requested);
  if (!isInside(lexical, realRoot)) throw pathOutsideWorkspace(requested);
  const missing: string[] = [];
  let existing = lexical;
  let real: string;
  for (;;) {
    try {
      real = await fs.realpath(existing);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      // A link whose target is missing: lstat sees the link itself.
      if (
        await fs.lstat(existing).then(
          () => true,
          () => false,
        )
      )
        throw pathOutsideWorkspace(requested);
      missing.unshift(path.basename(existing));
      existing = path.dirname(existing);
    }
  }
  const absolute = path.join(real, ...missing);
  if (!isInside(absolute, realRoot)) throw pathOutsideWorkspace(requested);
  const relative = path.relative(realRoot, absolute).split(path.sep).join('/') || '.';
  return { root: realRoot, absolute, relative, exists: missing.length === 0 };
}
