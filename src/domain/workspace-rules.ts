/**
 * Which client-given `cwd` a new session may not have, beyond being inside a workspace root:
 *
 * - a root itself: a session there could rename and re-link every folder under the root, and so
 *   move any later session's folder under it;
 * - a folder inside or around another live session's `cwd` (any key's): one session's agent could
 *   otherwise write into, or replace, the other's folder.
 *
 * Pure: paths are compared as given (the caller passes real paths), `/`-separated and absolute.
 */
import { posix } from 'node:path';
import { cwdInUse, cwdIsRoot } from './error-situations.js';
import type { ApiError } from './errors.js';

export interface WorkspaceContext {
  /** The workspace roots of the key's policy. */
  roots: readonly string[];
  /** The working directories of the live sessions (and of creates under way). */
  inUse: readonly string[];
}

/** True when `a` is `b` or inside it. */
function within(a: string, b: string): boolean {
  const rel = posix.relative(b, a);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !posix.isAbsolute(rel));
}

/** The refusal of `cwd` for a new session, or null when the rules allow it. */
export function workspaceConflict(cwd: string, context: WorkspaceContext): ApiError | null {
  const normal = posix.resolve(cwd);
  if (context.roots.some((root) => posix.resolve(root) === normal)) return cwdIsRoot(cwd);
  if (context.inUse.some((used) => within(normal, used) || within(used, normal))) return cwdInUse(cwd);
  return null;
}
