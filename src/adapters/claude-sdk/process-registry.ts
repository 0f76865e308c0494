/**
 * Remembers the process groups of live Claude Code processes on disk (one empty file per group,
 * named after its id), so that after a crash of the server (SIGKILL, power loss) the next start
 * ends whatever the previous run left: Claude Code exits by itself when its stdin closes, but
 * the helpers of its sandbox (socat bridges) do not.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Names of the programs a Claude Code process group may hold; anything else is not ours. */
const OURS = /^(claude|socat|bwrap|bash|sh|node|python3?)$/;

export class ProcessRegistry {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  add(pgid: number): void {
    fs.writeFileSync(path.join(this.dir, String(pgid)), '');
  }

  remove(pgid: number): void {
    fs.rmSync(path.join(this.dir, String(pgid)), { force: true });
  }

  /**
   * Kills every process still in a recorded group (a previous run's), then forgets the groups.
   * Only processes whose program looks like ours are killed: a group id may have been reused.
   * Returns how many processes were killed.
   */
  reapLeftovers(): number {
    let killed = 0;
    for (const name of fs.readdirSync(this.dir)) {
      const pgid = Number(name);
      if (Number.isInteger(pgid) && pgid > 1) {
        for (const pid of membersOf(pgid)) {
          try {
            process.kill(pid, 'SIGKILL');
            killed++;
          } catch {
            // Gone meanwhile.
          }
        }
      }
      fs.rmSync(path.join(this.dir, name), { force: true });
    }
    return killed;
  }
}

/** Live processes of a group whose program is one of ours, from /proc. */
function membersOf(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces, so split after its closing paren.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && OURS.test(comm)) pids.push(Number(entry));
  }
  return pids;
}
