/**
 * The session's workspace, checked again at every start of its Claude Code process and held open.
 *
 * A session's `cwd` was checked when the session was made, but a folder can be moved under it
 * later: a parent renamed and replaced by a symlink to `/`, to the data dir or to another
 * tenant's workspace. So each start resolves the recorded path again and refuses unless it is
 * still the same real directory, reached through no symlink, outside the data dir (or, for a
 * workspace of the server's own, directly in its workspaces folder). The directory is then opened
 * (O_DIRECTORY | O_NOFOLLOW) and checked by what it is (device and inode, and the kernel's own
 * path of the open descriptor); the sandbox binds that descriptor, not the name, so a swap after
 * this check changes nothing the process sees.
 */
import fs from 'node:fs';
import path from 'node:path';
import { workspaceGone, type WorkspaceGoneReason } from '../../domain/error-situations.js';

export interface WorkspaceHandle {
  readonly path: string;
  /** An open descriptor of the directory (close-on-exec; handed to the sandbox by `spawn`). */
  readonly fd: number;
  close(): void;
}

export interface WorkspacePlaces {
  /** The server's data dir: no external workspace may be in it or around it. */
  dataDir: string;
  /** `<DATA_DIR>/workspaces`, where the server makes the sessions' own workspaces. */
  workspacesDir: string;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function realOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

/** The real path the recorded one must still have, or the reason it cannot. */
function expectedRealPath(recorded: string, places: WorkspacePlaces): string | WorkspaceGoneReason {
  const data = realOrNull(places.dataDir) ?? path.resolve(places.dataDir);
  if (path.dirname(recorded) === path.resolve(places.workspacesDir)) {
    // The server's own: its name must still be a real entry of the (real) workspaces folder.
    const base = realOrNull(places.workspacesDir);
    return base ? path.join(base, path.basename(recorded)) : 'missing';
  }
  // An external cwd was recorded as its real path (FsWorkspaces.resolveExternal).
  if (isInside(recorded, data) || isInside(data, recorded)) return 'data_dir';
  return recorded;
}

/** Opens the recorded workspace, or throws FORBIDDEN (`details.policy: "workspace"`). */
export function openWorkspace(recorded: string, places: WorkspacePlaces): WorkspaceHandle {
  const expected = expectedRealPath(recorded, places);
  if (expected === 'missing' || expected === 'data_dir') throw workspaceGone(recorded, expected);
  const real = realOrNull(recorded);
  if (real === null) throw workspaceGone(recorded, 'missing');
  if (real !== expected) throw workspaceGone(recorded, 'moved');
  const stat = fs.lstatSync(recorded, { throwIfNoEntry: false });
  if (!stat) throw workspaceGone(recorded, 'missing');
  if (!stat.isDirectory()) throw workspaceGone(recorded, stat.isSymbolicLink() ? 'moved' : 'not_a_directory');
  let fd: number;
  try {
    const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
    fd = fs.openSync(recorded, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch {
    // Swapped for a link (ELOOP) or removed between the checks above and the open.
    throw workspaceGone(recorded, 'moved');
  }
  const opened = fs.fstatSync(fd);
  // What was opened is what was checked: same inode, and the kernel's path of the descriptor is
  // the expected real path (no component of the way was swapped in between).
  if (opened.dev !== stat.dev || opened.ino !== stat.ino || fdPath(fd) !== expected) {
    fs.closeSync(fd);
    throw workspaceGone(recorded, 'moved');
  }
  let closed = false;
  return {
    path: recorded,
    fd,
    close() {
      if (closed) return;
      closed = true;
      fs.closeSync(fd);
    },
  };
}

function fdPath(fd: number): string | null {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/**
 * The recorded workspace's real path, checked as `openWorkspace` checks it (still the same real
 * directory, reached through no symlink), or FORBIDDEN. For the server's own work on a workspace
 * (the files API, its snapshots), which must never follow a folder swapped for a link to `/`.
 */
export function verifiedWorkspacePath(recorded: string, places: WorkspacePlaces): string {
  const handle = openWorkspace(recorded, places);
  handle.close();
  return fs.realpathSync(recorded);
}
