/** Process inspection for tests, from /proc (Linux). */
import fs from 'node:fs';

export interface ProcessInfo {
  pid: number;
  name: string;
  state: string;
}

/** A process as found at one moment: its start time tells it apart from a later one with its pid. */
export interface ProcessSnapshot {
  pid: number;
  name: string;
  startTime: string;
}

interface StatLine {
  pid: number;
  name: string;
  state: string;
  ppid: number;
  pgrp: number;
  startTime: string;
}

function readStat(pid: number | string): StatLine | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // exited while we looked
  }
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  // Fields after the name, from field 3 (state): ppid is field 4, starttime field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    pid: Number(pid),
    name,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    startTime: fields[19] ?? '',
  };
}

/** Every live (not zombie) process. */
function liveProcesses(): StatLine[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => readStat(entry))
    .filter((s): s is StatLine => s !== null && s.state !== 'Z');
}

/** Live (not zombie) processes of a process group. */
export function groupMembers(pgid: number): ProcessInfo[] {
  return liveProcesses()
    .filter((s) => s.pgrp === pgid)
    .map(({ pid, name, state }) => ({ pid, name, state }));
}

/** Every live descendant of a process (children, their children, …), from /proc. */
export function descendants(rootPid: number): ProcessSnapshot[] {
  const all = liveProcesses();
  const found: ProcessSnapshot[] = [];
  const parents = new Set([rootPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of all) {
      if (parents.has(s.ppid) && !parents.has(s.pid)) {
        parents.add(s.pid);
        found.push({ pid: s.pid, name: s.name, startTime: s.startTime });
        grew = true;
      }
    }
  }
  return found;
}

/**
 * The Claude Code processes below a server: descendants named `claude` whose parent is not one.
 * Claude Code runs helpers of its own as its own binary, for a moment (seen: `claude < claude <
 * bwrap`, several per turn), so a count of every `claude` below the server depends on the moment.
 */
export function claudeCodeProcesses(rootPid: number): ProcessSnapshot[] {
  const names = new Map(liveProcesses().map((s) => [s.pid, s]));
  return descendants(rootPid).filter(
    (p) => p.name === 'claude' && names.get(names.get(p.pid)?.ppid ?? -1)?.name !== 'claude',
  );
}

/** Whether the very process of a snapshot (not a later one that reused its pid) still runs. */
export function stillRunning(snapshot: ProcessSnapshot): boolean {
  const now = readStat(snapshot.pid);
  return now !== null && now.state !== 'Z' && now.startTime === snapshot.startTime;
}

/** Live processes whose environment mentions `text` (a data dir), as "pid cmdline". */
export function processesWithEnvMention(text: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/environ`, 'utf8').includes(text)) continue;
      found.push(
        `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 100)}`,
      );
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}
