import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mayReap, parseEntry, ProcessRegistry, readProcess, type RegistryEntry } from './process-registry.js';

const BWRAP = '/usr/bin/bwrap';
const CLAUDE = '/srv/ccr/node_modules/@anthropic-ai/claude-agent-sdk-linux-x64/claude';
const PROGRAMS = [BWRAP, CLAUDE];

const entry: RegistryEntry = {
  pid: 4242,
  startTime: '123456',
  cmdline: [BWRAP, '--unshare-user', '--', CLAUDE],
};
const same = { startTime: '123456', pgrp: 4242, cmdline: [...entry.cmdline] };

describe('mayReap', () => {
  it('kills the group when the same leader still runs it, and it is ours', () => {
    expect(mayReap(entry, same, PROGRAMS)).toBe(true);
    // A script of ours, started through its interpreter.
    const script = { ...entry, cmdline: ['/bin/sh', CLAUDE, '--verbose'] };
    expect(mayReap(script, { ...same, cmdline: script.cmdline }, PROGRAMS)).toBe(true);
  });

  it('leaves alone a pid reused by another process: another start time or command line', () => {
    expect(mayReap(entry, { ...same, startTime: '999999' }, PROGRAMS)).toBe(false);
    expect(mayReap(entry, { ...same, cmdline: ['/usr/sbin/sshd', '-D'] }, PROGRAMS)).toBe(false);
    expect(mayReap(entry, { ...same, cmdline: [...entry.cmdline, 'extra'] }, PROGRAMS)).toBe(false);
  });

  it('leaves alone a leader that is gone, or no longer leads its group', () => {
    expect(mayReap(entry, null, PROGRAMS)).toBe(false);
    expect(mayReap(entry, { ...same, pgrp: 1 }, PROGRAMS)).toBe(false);
  });

  it('never kills pid 1, nor a group whose program is not ours, even when the entry matches it', () => {
    const init = { pid: 1, startTime: '1', cmdline: ['/sbin/init'] };
    expect(
      mayReap(init, { startTime: '1', pgrp: 1, cmdline: ['/sbin/init'] }, [...PROGRAMS, '/sbin/init']),
    ).toBe(false);
    // A forged entry copying a live daemon's /proc exactly: still not one of our programs.
    const daemon = { pid: 777, startTime: '55', cmdline: ['/usr/sbin/cron', '-f'] };
    expect(mayReap(daemon, { startTime: '55', pgrp: 777, cmdline: daemon.cmdline }, PROGRAMS)).toBe(false);
    expect(mayReap({ ...entry, pid: -4242 }, same, PROGRAMS)).toBe(false);
    expect(mayReap({ ...entry, pid: 0 }, same, PROGRAMS)).toBe(false);
  });
});

describe('parseEntry', () => {
  it('reads what add() writes and nothing else', () => {
    expect(parseEntry(JSON.stringify(entry))).toEqual(entry);
    for (const bad of ['', '4242', '{"pid":"4242"}', '{"pid":1,"startTime":"1","cmdline":[1]}', 'null']) {
      expect(parseEntry(bad), bad).toBeNull();
    }
  });
});

describe('ProcessRegistry', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const registryDir = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-registry-'));
    dirs.push(dir);
    return dir;
  };

  it('kills a recorded group of its own program at start, and leaves a planted entry for another process', async () => {
    const dir = registryDir();
    const sleeper = spawn('/bin/sleep', ['300'], { detached: true, stdio: 'ignore' });
    const bystander = spawn('/bin/sleep', ['301'], { detached: true, stdio: 'ignore' });
    const exited = new Promise((resolve) => sleeper.on('exit', resolve));
    try {
      const first = new ProcessRegistry(dir, ['/bin/sleep']);
      first.add(sleeper.pid!);
      expect(parseEntry(fs.readFileSync(path.join(dir, String(sleeper.pid)), 'utf8'))).toEqual({
        pid: sleeper.pid,
        startTime: readProcess(sleeper.pid!)!.startTime,
        cmdline: ['/bin/sleep', '300'],
      });
      // Planted: the bystander's pid with a made-up start time; pid 1; garbage.
      fs.writeFileSync(
        path.join(dir, String(bystander.pid)),
        JSON.stringify({ pid: bystander.pid, startTime: '1', cmdline: ['/bin/sleep', '301'] }),
      );
      fs.writeFileSync(path.join(dir, '1'), JSON.stringify({ pid: 1, startTime: '1', cmdline: [] }));
      fs.writeFileSync(path.join(dir, 'junk'), 'not an entry');

      const next = new ProcessRegistry(dir, ['/bin/sleep']);
      expect(next.reapLeftovers()).toBe(1);
      await exited;
      expect(readProcess(bystander.pid!)).not.toBeNull();
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      sleeper.kill('SIGKILL');
      bystander.kill('SIGKILL');
    }
  });
});
