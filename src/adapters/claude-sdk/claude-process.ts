/**
 * One live Claude Code process: a long-lived `query()` in streaming-input mode, so every turn
 * after the first reuses the warm process (about 50 ms of overhead instead of a 0.5 s start).
 *
 * A single reader loop consumes the SDK's message stream and hands each message of the client's
 * turn to it (turn-correlation.ts says which are). Its `result` ends the turn; the end of the
 * stream or a throw means the process is gone, and a running turn then ends as `crashed`.
 *
 * A turn Claude Code starts on its own while no prompt is waiting (a background command
 * finished) is interrupted at once: every model call must belong to a turn a client asked for,
 * under its timeout, budget, approvals and interrupt. The notification stays in the
 * conversation, so the model reads it with the next prompt.
 */
import { randomUUID } from 'node:crypto';
import {
  prewarm,
  query,
  type Options,
  type Query,
  type SDKUserMessage,
  type SessionStore as SdkSessionStore,
  type SpareProcess,
  type SpawnOptions,
} from '@anthropic-ai/claude-agent-sdk';
import type {
  AgentExit,
  AgentProcess,
  AgentSpec,
  AgentTurnOutcome,
  ClaudeMessage,
  Logger,
  TurnHandlers,
} from '../../domain/ports.js';
import { awaitGone, killGroup, spawnGroupLeader, type GroupChild, type SpawnPlan } from './group-spawn.js';
import { InputQueue } from './input-queue.js';
import { translate } from './message-translation.js';
import { toPermissionAsk, toPermissionResult, type CanUseToolOptions } from './permission-mapping.js';
import { CostMeter, toTurnResult } from './result-mapping.js';
import type { ProcessRegistry } from './process-registry.js';
import type { SandboxSettings } from './sandbox-settings.js';
import { TurnCorrelator } from './turn-correlation.js';

export interface ClaudeProcessOptions {
  /** Continue Claude Code's stored conversation of `spec.claudeSessionId` (it exists). */
  resume: boolean;
  env: Record<string, string>;
  sandbox: SandboxSettings | null;
  /** Refuse Claude Code's file tools reading or writing outside the working directory. */
  confineFileTools: boolean;
  /** Where Claude Code's transcript is mirrored (and resumed from); null: its local files only. */
  transcripts: SdkSessionStore | null;
  /** Records the process group while it lives (orphan cleanup after a crash). */
  registry: ProcessRegistry;
  /** What is started for Claude Code: itself, or the process sandbox around it. */
  plan: (o: SpawnOptions) => SpawnPlan;
  settingSources: Options['settingSources'];
  executable: string | null;
  logStderr: boolean;
  logger: Logger;
}

interface RunningTurn {
  handlers: TurnHandlers;
  resolve: (outcome: AgentTurnOutcome) => void;
}

/** How long `close()` waits for a graceful exit before it kills the child. */
const CLOSE_GRACE_MS = 5000;

export class ClaudeProcess implements AgentProcess {
  private readonly input = new InputQueue<SDKUserMessage>();
  /** Null only while the process is a parked spare (see `park`), before its claim. */
  private query: Query | null = null;
  private spare: SpareProcess | null = null;
  private readonly meter: CostMeter;
  private readonly logger: Logger;
  private group: GroupChild | null = null;
  private current: RunningTurn | null = null;
  private readonly correlator = new TurnCorrelator();
  /** The client interrupted its turn while Claude Code still held the prompt in its queue. */
  private interruptWhenStarted = false;
  private exitInfo: AgentExit | null = null;
  private readonly exitListeners: Array<(exit: AgentExit) => void> = [];
  private readonly stderrTail: string[] = [];

  /**
   * A process that starts now for `spec` (`start`), or the shell of a spare that `park` starts
   * and `claim` binds to its session.
   */
  constructor(
    private readonly spec: AgentSpec,
    private readonly options: ClaudeProcessOptions,
    mode: 'start' | 'spare' = 'start',
  ) {
    this.logger = options.logger;
    this.meter = new CostMeter(options.resume, spec.priorCostUsd);
    if (mode === 'start') this.begin(query({ prompt: this.input, options: this.sdkOptions(spec, options) }));
  }

  /**
   * Starts the process as a spare (the SDK's `prewarm()`): everything a cold start does (the same
   * environment, sandbox, settings, tools, permission routing and spawn), in the session's own
   * folder and with its Claude Code session id, but without the session's prompts. Resolves once
   * it is parked, waiting for `claim`. On failure the process is gone.
   */
  async park(): Promise<void> {
    try {
      this.spare = await prewarm({ options: this.sdkOptions(this.spec, this.options, 'spare') });
    } catch (err) {
      killGroup(this.group?.child.pid);
      this.markExited({ exitCode: null, signal: null });
      throw err;
    }
  }

  /**
   * Binds the parked spare to its session (what a claim can carry: the folder, the permission
   * mode, the session's prompts; everything else was fixed at `park`, and the pool only hands a
   * spare to a session whose other options are the spare's). True once Claude Code accepted the
   * claim with the session id the session records; false when it refused it: the process is
   * gone then, nothing of the session ran, and the caller starts it cold.
   */
  async claim(spec: AgentSpec): Promise<boolean> {
    const spare = this.spare;
    if (!spare || this.query || this.exitInfo) return false;
    const append = appendedPrompt(spec);
    try {
      this.begin(
        spare.claim({
          prompt: this.input,
          options: {
            cwd: spec.cwd,
            permissionMode: spec.permissionMode,
            ...(append ? { appendSystemPrompt: append } : {}),
          },
        }),
      );
      const claimed = await spare.claimed;
      if (claimed.sessionId === spec.claudeSessionId) return true;
      this.logger.warn({ claimed: claimed.sessionId }, 'the claimed process has another session id');
    } catch (err) {
      this.logger.warn({ err }, 'Claude Code refused the claim of a prewarmed process');
    }
    await this.close();
    return false;
  }

  private begin(q: Query): void {
    this.query = q;
    void this.readLoop(q);
  }

  get pid(): number | null {
    return this.group?.child.pid ?? null;
  }

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  onExit(listener: (exit: AgentExit) => void): void {
    if (this.exitInfo) listener(this.exitInfo);
    else this.exitListeners.push(listener);
  }

  runTurn(prompt: string, handlers: TurnHandlers): Promise<AgentTurnOutcome> {
    if (this.exitInfo) return Promise.resolve(this.crashOutcome('Claude Code is not running.'));
    if (this.current) throw new Error('ClaudeProcess.runTurn: a turn is already running');
    return new Promise<AgentTurnOutcome>((resolve) => {
      this.current = { handlers, resolve };
      this.interruptWhenStarted = false;
      // The uuid is how Claude Code's messages are told apart from those of a turn it started
      // on its own (turn-correlation.ts).
      const uuid = randomUUID();
      this.correlator.expect(uuid);
      this.input.push({
        type: 'user',
        message: { role: 'user', content: prompt },
        uuid,
        parent_tool_use_id: null,
      } as SDKUserMessage);
    });
  }

  async interrupt(): Promise<void> {
    if (this.exitInfo) return;
    // Not started yet: this interrupt stops whatever Claude Code works on first (a turn of its
    // own), and the client's turn is interrupted again once it starts.
    if (this.correlator.awaitingAnswer && !this.correlator.turnStarted) this.interruptWhenStarted = true;
    await this.sendInterrupt();
  }

  private async sendInterrupt(): Promise<void> {
    try {
      await this.query?.interrupt();
    } catch (err) {
      this.logger.warn({ err }, 'interrupt failed');
    }
  }

  /**
   * Ends the process and resolves once the child has really exited and its process group is
   * gone: not merely once the SDK's stream ended, which can come first on a loaded machine.
   */
  async close(): Promise<void> {
    if (!this.exitInfo) {
      this.input.end();
      if (this.query) this.query.close();
      else this.spare?.close();
    }
    if (this.group) await awaitGone(this.group, CLOSE_GRACE_MS);
  }

  /** What Claude Code is started with: the session's options, and this process's callbacks. */
  private sdkOptions(
    spec: AgentSpec,
    options: ClaudeProcessOptions,
    mode: 'start' | 'spare' = 'start',
  ): Options {
    return {
      ...sessionOptions(spec, options, mode),
      stderr: (data: string) => this.recordStderr(data, options.logStderr),
      // No tool runs before the workspace as the turn found it is recorded: the prompt goes at
      // once, and Claude Code prepares its request while the snapshot is taken. In every
      // permission mode (a hook runs before the permission check); a hook that fails blocks
      // the call rather than letting it run unrecorded.
      hooks: {
        PreToolUse: [
          {
            hooks: [
              async () => {
                await this.current?.handlers.toolsMayRun;
                return {};
              },
            ],
            onFailure: 'block' as const,
            // The first snapshot of a large workspace can take a while; the turn's own timeout
            // ends a turn that waits too long.
            timeout: HOOK_WAIT_SECONDS,
          },
        ],
      },
      // A tool call that Claude Code would ask about goes to the running turn, which asks the
      // client. Not in bypassPermissions, which approves every call and asks nobody: there the
      // questions the file-tool confinement raises stay refusals.
      ...(spec.permissionMode === 'bypassPermissions'
        ? {}
        : {
            canUseTool: async (toolName: string, input: Record<string, unknown>, opts: CanUseToolOptions) => {
              const turn = this.current;
              // Asked during a turn Claude Code started on its own: nobody asked for that work.
              if (!turn || !this.correlator.turnStarted)
                return { behavior: 'deny' as const, message: 'No turn is running.' };
              const answer = await turn.handlers.onPermission(toPermissionAsk(toolName, input, opts));
              return toPermissionResult(answer, input);
            },
          }),
      // Our own spawn (see group-spawn.ts): we know the child's pid (memory figures, orphan
      // checks), the child leads its own process group, close() can wait for its exit, and the
      // runner may wrap it in the process sandbox (process-sandbox.ts).
      spawnClaudeCodeProcess: (o) => {
        this.group = spawnGroupLeader(options.plan(o), {
          registry: options.registry,
          logger: this.logger,
          onExit: (exitCode, signal) => this.markExited({ exitCode, signal }),
        });
        return this.group.child;
      },
    };
  }

  private async readLoop(q: Query): Promise<void> {
    let reason = 'Claude Code ended the session.';
    try {
      for await (const message of q) this.dispatch(message as ClaudeMessage);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.logger.warn({ err, stderr: this.stderrTail.slice(-5) }, 'Claude Code stream ended with an error');
      reason = `Claude Code stopped: ${firstLine(message)}`;
    }
    // The stream ends when the child's stdout closes; give its exit event a moment so the
    // failed turn can report the exit code or signal.
    if (this.group && !this.exitInfo) await this.waitForExit(1000);
    if (!this.exitInfo) {
      // The stream ended but the child lives on: it is of no use any more, and must not linger
      // (writing to the config dir, holding its sandbox helpers) after the session moved on.
      killGroup(this.group?.child.pid);
      this.markExited({ exitCode: null, signal: null });
    }
    this.failCurrent(reason);
  }

  private waitForExit(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private dispatch(message: ClaudeMessage): void {
    const route = this.correlator.route(message);
    if (route.to === 'none') {
      if (this.interruptWhenStarted && this.correlator.turnStarted) {
        this.interruptWhenStarted = false;
        void this.sendInterrupt();
      }
      return;
    }
    const turn = this.current;
    if (route.to === 'unprompted' || !turn) {
      this.onUnprompted(message, route.to === 'unprompted' && route.startsTurn);
      return;
    }
    for (const event of translate(message)) turn.handlers.onEvent(event);
    if (route.to === 'turn-end') {
      this.current = null;
      turn.resolve({ kind: 'result', result: toTurnResult(message, this.meter) });
    }
  }

  /**
   * Claude Code working on its own. Its result is not fed to the cost meter, so what that work
   * cost is part of the next turn's cost (Claude Code reports a running total).
   */
  private onUnprompted(message: ClaudeMessage, startsTurn: boolean): void {
    this.logger.debug({ type: message.type, subtype: message.subtype }, 'Claude Code message outside a turn');
    // With a client's prompt waiting behind it, the turn is left to end by itself: an interrupt
    // sent now could reach Claude Code after that turn ended and stop the client's instead.
    if (!startsTurn || this.correlator.awaitingAnswer) return;
    this.logger.info(
      { pid: this.pid },
      'Claude Code started a turn on its own (a background task ended); interrupted',
    );
    void this.sendInterrupt();
  }

  private failCurrent(reason: string): void {
    const turn = this.current;
    this.current = null;
    turn?.resolve(this.crashOutcome(reason));
  }

  private crashOutcome(message: string): AgentTurnOutcome {
    return {
      kind: 'crashed',
      message,
      exitCode: this.exitInfo?.exitCode ?? this.group?.child.exitCode ?? null,
      signal: this.exitInfo?.signal ?? this.group?.child.signalCode ?? null,
    };
  }

  private markExited(exit: AgentExit): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    this.input.end();
    for (const listener of this.exitListeners.splice(0)) listener(exit);
  }

  private recordStderr(data: string, log: boolean): void {
    for (const line of data.split('\n')) {
      if (line.trim() === '') continue;
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
      if (log) this.logger.debug({ line }, 'claude stderr');
    }
  }
}

/** Where a session's options come from, besides its spec (see `sessionOptions`). */
export type SessionOptionSources = Pick<
  ClaudeProcessOptions,
  'resume' | 'env' | 'sandbox' | 'confineFileTools' | 'transcripts' | 'settingSources' | 'executable'
>;

/**
 * What Claude Code is told for a session, apart from the host's callbacks (hooks, permission
 * routing, spawn, stderr): the one list of them, which the benchmarks' floor starts Claude Code
 * with too. A spare gets the session's prompts with its claim.
 */
export function sessionOptions(
  spec: AgentSpec,
  options: SessionOptionSources,
  mode: 'start' | 'spare' = 'start',
): Options {
  const append = mode === 'spare' ? '' : appendedPrompt(spec);
  return {
    cwd: spec.cwd,
    env: options.env,
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    // Each transcript frame is stored as it comes: a crash loses at most the interrupted turn.
    ...(options.transcripts
      ? { sessionStore: options.transcripts, sessionStoreFlush: 'eager' as const }
      : {}),
    ...(options.confineFileTools ? { managedSettings: CONFINED_FILE_TOOLS_SETTINGS } : {}),
    settingSources: options.settingSources,
    // Claude Code's own prompt (tool-use rules, safety) stays; the session's prompts go after it.
    systemPrompt: { type: 'preset', preset: 'claude_code', ...(append ? { append } : {}) },
    ...(spec.model ? { model: spec.model } : {}),
    permissionMode: spec.permissionMode,
    ...(spec.permissionMode === 'bypassPermissions' ? { allowDangerouslySkipPermissions: true } : {}),
    ...(spec.maxTurns !== null ? { maxTurns: spec.maxTurns } : {}),
    ...(spec.allowedTools.length > 0 ? { allowedTools: spec.allowedTools } : {}),
    ...(spec.disallowedTools.length > 0 ? { disallowedTools: spec.disallowedTools } : {}),
    ...(options.resume ? { resume: spec.claudeSessionId } : { sessionId: spec.claudeSessionId }),
    ...(options.executable ? { pathToClaudeCodeExecutable: options.executable } : {}),
    // Text as it is written, for clients that ask for deltas (`partial`).
    includePartialMessages: true,
  };
}

/**
 * As managed (policy) settings, so nothing the session or its workspace says can lift them: file
 * tools stay inside the working directory in every permission mode, bypass included.
 */
const CONFINED_FILE_TOOLS_SETTINGS: NonNullable<Options['managedSettings']> = {
  permissions: {
    blockWritesOutsideWorkingDirectories: true,
    blockReadsOutsideWorkingDirectories: true,
  },
};

/** How long a tool may wait for the snapshot before the turn (the hook's own limit, seconds). */
const HOOK_WAIT_SECONDS = 3600;

/** The session's prompts, after Claude Code's own. */
function appendedPrompt(spec: AgentSpec): string {
  return [spec.systemPrompt, spec.appendSystemPrompt].filter((p): p is string => !!p).join('\n\n');
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.slice(0, 300) ?? '';
}
