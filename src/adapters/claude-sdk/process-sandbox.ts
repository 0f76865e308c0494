/**
 * The bubblewrap command line that runs a whole Claude Code process confined: not only the
 * agent's commands (Claude Code's own sandbox, sandbox-settings.ts) but Claude Code itself, whose
 * file tools (Read, Write, Edit, Glob, Grep, NotebookEdit) run in its own process.
 *
 * What the process sees is an allow-list, built on bubblewrap's empty root:
 * - system folders and toolchains read-only (`readOnly`, `symlinks`: see sandbox-layout.ts);
 * - its own private directories read-write (temp dir, config dir, home), and the config dir the
 *   SDK made for a resume;
 * - the session's workspace read-write, bound from an open file descriptor: the directory that
 *   was checked, whatever its name points at by the time bubblewrap mounts it (workspace-handle.ts);
 * - a fresh /proc of its own PID namespace, a minimal /dev, a private /tmp.
 * It runs as a non-zero uid in a user namespace of its own, so it holds no capability, even when
 * the server runs as root; it cannot see or signal the server's processes (PID namespace), and
 * it dies with the server (`--die-with-parent`). The network is shared: Claude Code must reach the
 * model API, while its own sandbox still cuts the agent's commands off the network.
 *
 * No `--new-session`: the server spawns the process detached (a session of its own already, with
 * no controlling terminal to steal), and the process group the server kills must hold everything
 * the sandbox runs.
 */
import { posix } from 'node:path';

/** The uid and gid of the Claude Code process inside its user namespace: never root. */
export const SANDBOX_UID = 1000;

export interface SandboxLayout {
  /** Host paths bound read-only at the same path (folders or files). Missing ones are skipped. */
  readOnly: string[];
  /** Symlinks made in the sandbox's root, such as a merged /usr's `/bin -> usr/bin`. */
  symlinks: Array<{ target: string; at: string }>;
  /** Files bound read-only at another path: the sandbox's own /etc/passwd and /etc/group. */
  files: Array<{ source: string; at: string }>;
}

export interface ConfinedProcess {
  /** Directories of this process only, bound read-write at the same path. */
  privateDirs: string[];
  /** A single file bound read-write at another path (the operator's Claude Code login). */
  credentials: { source: string; at: string } | null;
  /** The session's workspace: an open directory fd in the child, and the path it is bound at. */
  workspace: { childFd: number; path: string } | null;
  /** The working directory inside the sandbox. */
  chdir: string;
  command: string;
  args: string[];
}

function isStrictlyInside(child: string, parent: string): boolean {
  const rel = posix.relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith('../') && !posix.isAbsolute(rel);
}

/** The arguments of `bwrap` for one confined Claude Code process (its command included). */
export function bwrapArguments(layout: SandboxLayout, target: ConfinedProcess): string[] {
  const args = [
    '--unshare-user',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--unshare-pid',
    '--unshare-ipc',
    '--die-with-parent',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
  ];
  for (const path of layout.readOnly) args.push('--ro-bind-try', path, path);
  for (const { target: to, at } of layout.symlinks) args.push('--symlink', to, at);
  for (const { source, at } of layout.files) args.push('--ro-bind', source, at);
  // Read-write binds come after the read-only ones, so a private dir under a read-only folder
  // (a temp dir under an extra read path) stays writable.
  for (const dir of target.privateDirs) args.push('--bind', dir, dir);
  if (target.credentials) args.push('--bind', target.credentials.source, target.credentials.at);
  if (target.workspace) {
    const { childFd, path } = target.workspace;
    args.push('--bind-fd', String(childFd), path);
    // A read-only folder inside the workspace (the Claude Code binary's, were the workspace
    // around it) stays read-only.
    for (const inner of layout.readOnly.filter((p) => isStrictlyInside(p, path))) {
      args.push('--ro-bind-try', inner, inner);
    }
  }
  // The root itself (bubblewrap's tmpfs, with the mount points) cannot be written to.
  args.push('--remount-ro', '/', '--chdir', target.chdir, '--', target.command, ...target.args);
  return args;
}
