/** Process inspection for tests, from /proc (Linux). */
import fs from 'node:fs';

export interface ProcessInfo {
  pid: number;
  name: string;
  state: string;
}

/** Live (not zombie) processes of a process group. */
export function groupMembers(pgid: number): ProcessInfo[] {
  const members: ProcessInfo[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces, so split after its closing paren.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0] ?? '?';
    if (Number(fields[2]) === pgid && state !== 'Z') members.push({ pid: Number(entry), name, state });
  }
  return members;
}
