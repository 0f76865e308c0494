/**
 * The memory of a session's Claude Code process. The process a session records is the leader of
 * its group, which under the process sandbox is bubblewrap: the `claude` process is found among
 * its descendants.
 */
import fs from 'node:fs';
import { claudeCodeProcesses } from '../test/helpers/processes.js';

/** A process's resident memory, MB (`self`: this one). */
export function rssMbOf(pid: number | 'self'): number {
  const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(rss ?? 0) / 1024;
}

export function claudeMemoryOf(leader: number): { rssMb: number; pssMb: number } {
  const name = fs.readFileSync(`/proc/${leader}/comm`, 'utf8').trim();
  const pid = name === 'claude' ? leader : (claudeCodeProcesses(leader)[0]?.pid ?? leader);
  const pss = /^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
  return { rssMb: rssMbOf(pid), pssMb: Number(pss) / 1024 };
}
