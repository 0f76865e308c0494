/**
 * How every Claude Code process is spawned: as the leader of its own process group, recorded in
 * the ProcessRegistry while it lives. Claude Code starts helpers for its sandbox (socat bridges)
 * that outlive it, reparented to init; killing the group when Claude Code exits ends them.
 *
 * The SDK's `query.close()` returns at once and its stream may end before the child exits (on a
 * loaded machine Claude Code has taken over a second to exit after SIGTERM, writing to the config
 * dir meanwhile). So whoever closes a query waits for `gone`, not for the stream.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { SpawnOptions } from '@anthropic-ai/claude-agent-sdk';
import type { Logger } from '../../domain/ports.js';
import type { ProcessRegistry } from './process-registry.js';

export interface GroupChild {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Resolves once the child has exited and its group was killed; at once if the spawn failed. */
  readonly gone: Promise<void>;
}

/** What is really started for the SDK's spawn request: Claude Code itself, or a sandbox around it. */
export interface SpawnPlan {
  command: string;
  args: string[];
  cwd: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Open descriptors the child gets as fds 3, 4, … (a sandbox's workspace directory). */
  extraFds: number[];
}

/** Claude Code as the SDK asked for it. */
export function plainPlan(o: SpawnOptions): SpawnPlan {
  return { command: o.command, args: o.args, cwd: o.cwd, env: o.env, extraFds: [] };
}

export function spawnGroupLeader(
  plan: SpawnPlan,
  deps: {
    registry: ProcessRegistry;
    logger: Logger;
    onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  },
): GroupChild {
  const child = spawn(plan.command, plan.args, {
    cwd: plan.cwd,
    env: plan.env,
    stdio: ['pipe', 'pipe', 'pipe', ...plan.extraFds],
    detached: true,
  }) as ChildProcessByStdio<Writable, Readable, Readable>;
  const gone = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      killGroup(child.pid);
      if (child.pid !== undefined) deps.registry.remove(child.pid);
      deps.onExit?.(code, signal);
      resolve();
    });
    child.on('error', (err) => {
      deps.logger.error({ err }, 'Claude Code process error');
      // A spawn that failed has no process to wait for.
      if (child.pid === undefined) resolve();
    });
  });
  if (child.pid !== undefined) deps.registry.add(child.pid);
  return { child, gone };
}

/** Waits for `gone`; past `graceMs` the group is killed (and `gone` follows at once). */
export async function awaitGone(group: GroupChild, graceMs: number): Promise<void> {
  const timer = setTimeout(() => killGroup(group.child.pid), graceMs);
  await group.gone;
  clearTimeout(timer);
}

/** SIGKILL to a whole process group (a detached child's pid is its group id); gone is fine. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group has no process left.
  }
}
