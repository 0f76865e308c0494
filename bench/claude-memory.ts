/**
 * The memory of a session's Claude Code process. The process a session records is the leader of
 * its group, which under the process sandbox is bubblewrap: the `claude` process is found among
 * its descendants.
 */
import fs from 'node:fs';
import { descendants } from '../test/helpers/processes.js';

export function claudeMemoryOf(leader: number): { rssMb: number; pssMb: number } {
  const name = fs.readFileSync(`/proc/${leader}/comm`, 'utf8').trim();
  const claude = [{ pid: leader, name }, ...descendants(leader)].find((p) => p.name === 'claude');
  const pid = claude?.pid ?? leader;
  const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  const pss = /^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
  return { rssMb: Number(rss) / 1024, pssMb: Number(pss) / 1024 };
}
