/**
 * Remembers the live Claude Code process groups on disk, so that after a crash of the server
 * (SIGKILL, power loss) the next start ends whatever the previous run left. Without the sandbox,
 * Claude Code exits by itself once its stdin closes but may take a while, writing meanwhile;
 * with it, the whole sandbox dies with the server (`--die-with-parent`), and the registry only
 * catches what outlived that.
 *
 * A file per group, named after its id, records the leader's pid, its start time (field 22 of
 * `/proc/<pid>/stat`) and its command line. At start a group is killed only if its leader still
 * runs with that very start time and command line, leads its group, and is a program of ours
 * (Claude Code or the bubblewrap around it). A pid the system gave to another process since, and
 * an entry someone wrote to make the server kill an arbitrary group, are left alone. The registry
 * lives in the data dir, which no confined agent can see.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface RegistryEntry {
  pid: number;
  startTime: string;
  cmdline: string[];
}

/** A process as /proc shows it now. */
export interface ProcessState {
  startTime: string;
  /** Its process group id. */
  pgrp: number;
  cmdline: string[];
}

/**
 * Whether a recorded group may be killed: the same process still leads it, and it is ours.
 * `programs` are the absolute paths of the executables the server starts (bwrap, Claude Code).
 */
export function mayReap(
  entry: RegistryEntry,
  now: ProcessState | null,
  programs: readonly string[],
): boolean {
  if (!Number.isInteger(entry.pid) || entry.pid <= 1 || now === null) return false;
  if (now.startTime !== entry.startTime || now.pgrp !== entry.pid) return false;
  if (now.cmdline.length === 0 || now.cmdline.length !== entry.cmdline.length) return false;
  if (!now.cmdline.every((arg, i) => arg === entry.cmdline[i])) return false;
  // The program itself, or a script of ours run by its interpreter (argv[1]).
  return now.cmdline.slice(0, 2).some((arg) => programs.includes(arg));
}

/** Parses a registry file; null for anything that is not an entry. */
export function parseEntry(text: string): RegistryEntry | null {
  try {
    const value = JSON.parse(text) as Partial<RegistryEntry>;
    if (
      typeof value.pid === 'number' &&
      typeof value.startTime === 'string' &&
      Array.isArray(value.cmdline) &&
      value.cmdline.every((a) => typeof a === 'string')
    ) {
      return { pid: value.pid, startTime: value.startTime, cmdline: value.cmdline };
    }
  } catch {
    // Not JSON.
  }
  return null;
}

/** A process's start time, group and command line from /proc; null when it is gone or a zombie. */
export function readProcess(pid: number): ProcessState | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parens, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return null;
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline.at(-1) === '') cmdline.pop();
    // Field 22 (starttime) is the 20th after the comm; field 5 (pgrp) the 3rd.
    return { startTime: fields[19] ?? '', pgrp: Number(fields[2]), cmdline };
  } catch {
    return null;
  }
}

export class ProcessRegistry {
  constructor(
    private readonly dir: string,
    /** The executables whose groups may be killed at start (absolute paths). */
    private readonly programs: readonly string[],
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Records a group whose leader has just been spawned (and has exec'd its program). */
  add(pid: number): void {
    const now = readProcess(pid);
    if (!now) return;
    const entry: RegistryEntry = { pid, startTime: now.startTime, cmdline: now.cmdline };
    fs.writeFileSync(path.join(this.dir, String(pid)), JSON.stringify(entry), { mode: 0o600 });
  }

  remove(pid: number): void {
    fs.rmSync(path.join(this.dir, String(pid)), { force: true });
  }

  /**
   * Kills every recorded group whose leader still runs (a previous run's), then forgets them all.
   * Returns how many groups were killed.
   */
  reapLeftovers(): number {
    let killed = 0;
    for (const name of fs.readdirSync(this.dir)) {
      const file = path.join(this.dir, name);
      const entry = parseEntry(readText(file));
      if (entry && mayReap(entry, readProcess(entry.pid), this.programs)) {
        try {
          process.kill(-entry.pid, 'SIGKILL');
          killed++;
        } catch {
          // Gone meanwhile.
        }
      }
      fs.rmSync(file, { force: true });
    }
    return killed;
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
