import { describe, expect, it } from 'vitest';
import { bwrapArguments, type ConfinedProcess, type SandboxLayout } from './process-sandbox.js';

const LAYOUT: SandboxLayout = {
  readOnly: ['/usr', '/etc/resolv.conf', '/opt/claude'],
  symlinks: [{ target: 'usr/bin', at: '/bin' }],
  files: [{ source: '/tmp/ccr-x/etc/passwd', at: '/etc/passwd' }],
};

const TARGET: ConfinedProcess = {
  privateDirs: ['/tmp/ccr-x/s-1'],
  credentials: { source: '/data/claude/.credentials.json', at: '/tmp/ccr-x/s-1/config/.credentials.json' },
  workspace: { childFd: 3, path: '/data/workspaces/sess_1' },
  chdir: '/data/workspaces/sess_1',
  command: '/opt/claude/claude',
  args: ['--output-format', 'stream-json'],
};

/** The value after each occurrence of a flag with one argument, or the pairs of a two-argument one. */
function pairsOf(args: string[], flag: string): string[][] {
  const out: string[][] = [];
  args.forEach((a, i) => {
    if (a === flag) out.push(args.slice(i + 1, i + 3));
  });
  return out;
}

describe('bwrapArguments', () => {
  const args = bwrapArguments(LAYOUT, TARGET);

  it('runs Claude Code as a non-root user of a user namespace, in its own PID namespace, dying with the server', () => {
    expect(args.slice(0, 5)).toEqual(['--unshare-user', '--uid', '1000', '--gid', '1000']);
    expect(args).toEqual(expect.arrayContaining(['--unshare-pid', '--die-with-parent', '--unshare-ipc']));
    // The model API must stay reachable.
    expect(args).not.toContain('--unshare-net');
    expect(args).not.toContain('--unshare-all');
  });

  it('gives a fresh /proc, a minimal /dev and a private /tmp, and a read-only root', () => {
    expect(pairsOf(args, '--proc')).toEqual([['/proc', '--dev']]);
    expect(args[args.indexOf('--dev') + 1]).toBe('/dev');
    expect(args[args.indexOf('--tmpfs') + 1]).toBe('/tmp');
    expect(args[args.indexOf('--remount-ro') + 1]).toBe('/');
  });

  it('binds the allow-list read-only, the private dirs and the login read-write, the workspace by its fd', () => {
    expect(pairsOf(args, '--ro-bind-try')).toEqual([
      ['/usr', '/usr'],
      ['/etc/resolv.conf', '/etc/resolv.conf'],
      ['/opt/claude', '/opt/claude'],
    ]);
    expect(pairsOf(args, '--symlink')).toEqual([['usr/bin', '/bin']]);
    expect(pairsOf(args, '--ro-bind')).toEqual([['/tmp/ccr-x/etc/passwd', '/etc/passwd']]);
    expect(pairsOf(args, '--bind')).toEqual([
      ['/tmp/ccr-x/s-1', '/tmp/ccr-x/s-1'],
      ['/data/claude/.credentials.json', '/tmp/ccr-x/s-1/config/.credentials.json'],
    ]);
    expect(pairsOf(args, '--bind-fd')).toEqual([['3', '/data/workspaces/sess_1']]);
    // Never the host's root, nor the workspace by its name.
    expect(args.join(' ')).not.toMatch(/--(ro-)?bind(-try)? \/ \//);
    expect(pairsOf(args, '--bind').flat()).not.toContain('/data/workspaces/sess_1');
  });

  it('mounts the private /tmp before anything under it, and read-write binds after read-only ones', () => {
    const tmpfs = args.indexOf('--tmpfs');
    const firstBind = args.indexOf('--bind');
    expect(tmpfs).toBeLessThan(args.indexOf('--ro-bind-try'));
    expect(args.lastIndexOf('--ro-bind')).toBeLessThan(firstBind);
    expect(firstBind).toBeLessThan(args.indexOf('--bind-fd'));
  });

  it('ends with the working directory and the command after `--`', () => {
    const dashes = args.indexOf('--');
    expect(args.slice(dashes - 2, dashes)).toEqual(['--chdir', '/data/workspaces/sess_1']);
    expect(args.slice(dashes + 1)).toEqual(['/opt/claude/claude', '--output-format', 'stream-json']);
  });

  it('keeps a read-only folder read-only when the workspace lies around it', () => {
    const around = bwrapArguments(LAYOUT, {
      ...TARGET,
      workspace: { childFd: 3, path: '/opt' },
      chdir: '/opt',
    });
    const afterWorkspace = around.slice(around.indexOf('--bind-fd'));
    expect(pairsOf(afterWorkspace, '--ro-bind-try')).toEqual([['/opt/claude', '/opt/claude']]);
  });

  it('without a workspace or login (the model catalogue), binds neither', () => {
    const bare = bwrapArguments(LAYOUT, {
      ...TARGET,
      workspace: null,
      credentials: null,
      chdir: '/tmp/ccr-x/s-1',
    });
    expect(bare).not.toContain('--bind-fd');
    expect(pairsOf(bare, '--bind')).toEqual([['/tmp/ccr-x/s-1', '/tmp/ccr-x/s-1']]);
  });
});
