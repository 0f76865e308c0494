/**
 * An `AgentRunner` without the Claude Code binary, for unit and HTTP tests.
 *
 * Each `runTurn` takes the next scripted turn (`runner.script(...)`), or echoes the prompt when
 * none is queued. A turn emits its Claude-shaped messages, optionally waits on a promise the test
 * controls, then ends: a result, a crash (the process exits), or a hang that only `interrupt()`
 * (an aborted result, as Claude Code reports Esc) or `close()` ends. Nothing sleeps: tests wait
 * on `runner.until(...)`, which re-checks after every start, prompt and turn end.
 */
import { randomUUID } from 'node:crypto';
import type {
  AgentExit,
  AgentHealth,
  AgentProcess,
  AgentRunner,
  AgentSpec,
  AgentTurnOutcome,
  AgentTurnResult,
  ClaudeMessage,
  ModelInfo,
  PermissionAnswer,
  PermissionAsk,
  TurnHandlers,
} from '../../src/domain/ports.js';

/** Captured at load: vitest's fake timers replace the global one, and must not hold this back. */
const realSetImmediate: (fn: () => void) => void = globalThis.setImmediate.bind(globalThis);

export type TurnEnd =
  | { result: AgentTurnResult }
  | { crash: string; exitCode?: number | null; signal?: string | null }
  /** Never ends by itself: `interrupt()` (unless `ignoreInterrupt`) or `close()` ends it. */
  | 'hang';

export interface TurnScript {
  messages?: ClaudeMessage[];
  /** After the messages, ask this permission question (as Claude Code's canUseTool would). */
  ask?: Omit<PermissionAsk, 'signal'>;
  /** After the messages, wait for this before ending; an interrupt ends the turn meanwhile. */
  waitFor?: Promise<unknown>;
  /** A stuck Claude Code: interrupt() is recorded but does not end the turn. */
  ignoreInterrupt?: boolean;
  end: TurnEnd;
}

// --- Claude Code messages, shaped as Claude Code writes them ------------------------------------

export const msg = {
  init: (model = 'claude-sonnet-5-5'): ClaudeMessage => ({
    type: 'system',
    subtype: 'init',
    model,
    session_id: 'fake-claude-session',
    tools: ['Bash', 'Read', 'Write'],
  }),
  assistant: (text: string, apiMessageId = 'msg_api_1'): ClaudeMessage => ({
    type: 'assistant',
    message: { id: apiMessageId, role: 'assistant', content: [{ type: 'text', text }] },
    parent_tool_use_id: null,
  }),
  toolUse: (id: string, name: string, input: unknown, apiMessageId = 'msg_api_1'): ClaudeMessage => ({
    type: 'assistant',
    message: { id: apiMessageId, role: 'assistant', content: [{ type: 'tool_use', id, name, input }] },
    parent_tool_use_id: null,
  }),
  toolResult: (toolUseId: string, content: string, isError = false): ClaudeMessage => ({
    type: 'user',
    message: {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: toolUseId, content, is_error: isError }],
    },
  }),
  apiRetry: (attempt: number, errorStatus: number | null, maxRetries = 2): ClaudeMessage => ({
    type: 'system',
    subtype: 'api_retry',
    attempt,
    max_retries: maxRetries,
    retry_delay_ms: 500,
    error_status: errorStatus,
    error: errorStatus === null ? 'connection_error' : `http_${errorStatus}`,
  }),
};

// --- Results ------------------------------------------------------------------------------------

export function result(overrides: Partial<AgentTurnResult> = {}): AgentTurnResult {
  return {
    isError: false,
    subtype: 'success',
    text: 'ok',
    stopReason: 'end_turn',
    terminalReason: 'completed',
    numTurns: 1,
    durationMs: 12,
    apiErrorStatus: null,
    apiErrorType: null,
    errors: [],
    usage: { inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
    costUsd: 0.001,
    ...overrides,
  };
}

export const results = {
  apiError: (status: number | null, text = `API Error: ${status ?? 'connection'}`): AgentTurnResult =>
    result({
      isError: true,
      text,
      stopReason: null,
      terminalReason: 'api_error',
      apiErrorStatus: status,
      apiErrorType: status === null ? null : 'api_error',
      costUsd: 0,
    }),
  maxTurns: (n = 1): AgentTurnResult =>
    result({
      isError: true,
      subtype: 'error_max_turns',
      text: '',
      stopReason: null,
      terminalReason: 'max_turns',
      numTurns: n + 1,
      errors: [`Reached maximum number of turns (${n})`],
    }),
  aborted: (): AgentTurnResult =>
    result({
      isError: true,
      subtype: 'error_during_execution',
      text: '',
      stopReason: null,
      terminalReason: 'aborted_streaming',
      errors: ['[ede_diagnostic] result_type=user last_content_type=n/a stop_reason=null'],
    }),
};

/** The usual turn: init, one assistant text, a successful result with that text. */
export function reply(text: string, extra: Partial<AgentTurnResult> = {}): TurnScript {
  return { messages: [msg.init(), msg.assistant(text)], end: { result: result({ text, ...extra }) } };
}

// --- The runner and its processes ---------------------------------------------------------------

export class FakeAgentRunner implements AgentRunner {
  readonly starts: AgentSpec[] = [];
  readonly processes: FakeAgentProcess[] = [];
  /** Every prompt sent to any process, in order. */
  readonly prompts: string[] = [];
  models: ModelInfo[] = [
    { id: 'default', name: 'Default', description: 'The default model', resolvedModel: 'claude-sonnet-5-5' },
    { id: 'opus', name: 'Opus', description: 'Most capable', resolvedModel: 'claude-opus-5-5' },
    { id: 'sonnet', name: 'Sonnet', description: 'Balanced', resolvedModel: 'claude-sonnet-5-5' },
  ];
  claudeCodeVersion = '2.1.999 (fake)';
  /** Why bypassPermissions is impossible here, or null when it is possible. */
  bypassRefusal: string | null = null;
  /** What health() reports; tests change it. */
  agentHealth: AgentHealth = { credentials: 'configured', problems: [] };

  private readonly queue: TurnScript[] = [];
  private readonly waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  /** Queues turns; each `runTurn` of any process takes the next one. */
  script(...turns: TurnScript[]): this {
    this.queue.push(...turns);
    return this;
  }

  async start(spec: AgentSpec): Promise<FakeAgentProcess> {
    this.starts.push(structuredClone(spec));
    const process = new FakeAgentProcess(this, 1000 + this.processes.length);
    this.processes.push(process);
    this.maxLive = Math.max(this.maxLive, this.processes.filter((p) => !p.exited).length);
    // After the caller has stored the process (conditions often look at where it is kept): once
    // every microtask has run. The real setImmediate, kept before any test fakes the timers.
    realSetImmediate(() => this.changed());
    return process;
  }

  /**
   * Spares started (`prewarm`), their processes, and the claims of them, in order. A claimed
   * spare joins `processes` (those serving sessions).
   */
  readonly prewarms: AgentSpec[] = [];
  readonly spareProcesses: FakeAgentProcess[] = [];
  readonly claims: AgentSpec[] = [];
  /** Claude Code refuses every claim (as it refuses a folder whose settings act at start-up). */
  refuseClaims = false;

  async prewarm(spec: AgentSpec): Promise<FakeAgentProcess> {
    this.prewarms.push(structuredClone(spec));
    const process = new FakeAgentProcess(this, 5000 + this.spareProcesses.length);
    this.spareProcesses.push(process);
    realSetImmediate(() => this.changed());
    return process;
  }

  async claim(spare: AgentProcess, spec: AgentSpec): Promise<AgentProcess | null> {
    this.claims.push(structuredClone(spec));
    realSetImmediate(() => this.changed());
    if (!this.refuseClaims) {
      this.processes.push(spare as FakeAgentProcess);
      return spare;
    }
    // A refused claim: the spare's process goes away.
    await spare.close();
    return null;
  }

  version(): string {
    return this.claudeCodeVersion;
  }

  health(): AgentHealth {
    return structuredClone(this.agentHealth);
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  bypassPermissions(): { allowed: true } | { allowed: false; reason: string } {
    return this.bypassRefusal === null ? { allowed: true } : { allowed: false, reason: this.bypassRefusal };
  }

  /** The most processes that were alive (started, not exited) at once. */
  maxLive = 0;

  /** Conversations the domain copied (rewind, fork), in order. */
  readonly forks: Array<{ claudeSessionId: string; upToUuid: string | null; targetCwd: string }> = [];

  async forkConversation(request: {
    claudeSessionId: string;
    cwd: string;
    upToUuid: string | null;
    targetCwd: string;
  }): Promise<string> {
    this.forks.push(request);
    return randomUUID();
  }

  async listModels(): Promise<ModelInfo[]> {
    return structuredClone(this.models);
  }

  /** Resolves once `check()` holds (at once if it already does). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  /** The last process started (throws when none was). */
  get lastProcess(): FakeAgentProcess {
    const last = this.processes.at(-1);
    if (!last) throw new Error('FakeAgentRunner: no process was started');
    return last;
  }

  /** @internal used by FakeAgentProcess */
  nextTurn(prompt: string): TurnScript {
    this.prompts.push(prompt);
    return this.queue.shift() ?? reply(`echo: ${prompt}`);
  }

  /** @internal re-checks every `until` */
  changed(): void {
    for (const waiter of [...this.waiters]) {
      if (!waiter.check()) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

interface CurrentTurn {
  script: TurnScript;
  handlers: TurnHandlers;
  resolve: (outcome: AgentTurnOutcome) => void;
  /** Aborted by interrupt(): withdraws a pending permission question, as Claude Code does. */
  abort: AbortController;
}

export class FakeAgentProcess implements AgentProcess {
  readonly prompts: string[] = [];
  /** The answers the permission questions of this process got, in order. */
  readonly answers: PermissionAnswer[] = [];
  interrupts = 0;
  closed = false;
  /** A permission question of the running turn waits for its answer. */
  asking = false;
  private current: CurrentTurn | null = null;
  private exit: AgentExit | null = null;
  private readonly exitListeners: Array<(exit: AgentExit) => void> = [];

  constructor(
    private readonly runner: FakeAgentRunner,
    readonly pid: number,
  ) {}

  get exited(): boolean {
    return this.exit !== null;
  }

  get running(): boolean {
    return this.current !== null;
  }

  onExit(listener: (exit: AgentExit) => void): void {
    if (this.exit) listener(this.exit);
    else this.exitListeners.push(listener);
  }

  runTurn(prompt: string, handlers: TurnHandlers): Promise<AgentTurnOutcome> {
    if (this.exit) return Promise.resolve(this.crashOutcome('Claude Code is not running.'));
    if (this.current) throw new Error('FakeAgentProcess.runTurn: a turn is already running');
    this.prompts.push(prompt);
    const script = this.runner.nextTurn(prompt);
    const outcome = new Promise<AgentTurnOutcome>((resolve) => {
      this.current = { script, handlers, resolve, abort: new AbortController() };
    });
    void this.play(script);
    this.runner.changed();
    return outcome;
  }

  /** Sends a message to the running turn, as Claude Code would (for hand-driven turns). */
  emit(message: ClaudeMessage): void {
    const turn = this.current;
    if (!turn) throw new Error('FakeAgentProcess.emit: no turn is running');
    turn.handlers.onEvent({ kind: 'message', message });
    if (message.type === 'system' && message.subtype === 'api_retry') {
      turn.handlers.onEvent({
        kind: 'retry',
        attempt: Number(message.attempt),
        maxRetries: Number(message.max_retries),
        delayMs: Number(message.retry_delay_ms),
        errorStatus: typeof message.error_status === 'number' ? message.error_status : null,
        error: String(message.error),
      });
    }
  }

  /** Ends the running turn now, however it was scripted. */
  finish(end: Exclude<TurnEnd, 'hang'>): void {
    if ('crash' in end) {
      this.markExited({ exitCode: end.exitCode ?? 1, signal: end.signal ?? null });
      this.settle(this.crashOutcome(end.crash));
    } else {
      this.settle({ kind: 'result', result: end.result });
    }
  }

  /** Sends a text delta to the running turn (Claude Code's partial messages). */
  delta(text: string, index = 0): void {
    this.current?.handlers.onEvent({ kind: 'delta', delta: 'text', text, index, apiMessageId: 'msg_api_1' });
  }

  /** Reports one model request streaming to the running turn (its start, usage and stop). */
  modelRequest(apiMessageId: string, usage: { input: number; output: number }, stop = true): void {
    const emit = (phase: 'start' | 'usage' | 'stop', u: Record<string, number>) =>
      this.current?.handlers.onEvent({
        kind: 'model_request',
        phase,
        apiMessageId,
        parentToolUseId: null,
        usage: u,
      });
    emit('start', { inputTokens: usage.input, outputTokens: 1 });
    emit('usage', { outputTokens: usage.output });
    if (stop) emit('stop', {});
  }

  async interrupt(): Promise<void> {
    this.interrupts++;
    this.current?.abort.abort();
    this.runner.changed();
    if (this.current && !this.current.script.ignoreInterrupt) {
      this.settle({ kind: 'result', result: results.aborted() });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.exit) return;
    this.markExited({ exitCode: null, signal: 'SIGTERM' });
    this.settle(this.crashOutcome('Claude Code was closed.'));
  }

  private async play(script: TurnScript): Promise<void> {
    await Promise.resolve(); // Claude Code answers after runTurn returns, never inside it
    for (const message of script.messages ?? []) {
      if (this.current?.script !== script) return;
      this.emit(message);
    }
    const turn = this.current;
    // Tools (a permission question, the agent's work) wait for the snapshot before the turn, as
    // Claude Code's PreToolUse hook makes them wait (ClaudeProcess).
    if (script.ask || script.waitFor) await turn?.handlers.toolsMayRun;
    if (script.ask && turn?.script === script) {
      const answer = turn.handlers.onPermission({ ...script.ask, signal: turn.abort.signal });
      this.asking = true;
      this.runner.changed();
      this.answers.push(await answer);
      this.asking = false;
      this.runner.changed();
    }
    if (script.waitFor) await script.waitFor;
    if (this.current?.script !== script || script.end === 'hang') return;
    this.finish(script.end);
  }

  private settle(outcome: AgentTurnOutcome): void {
    const turn = this.current;
    this.current = null;
    turn?.resolve(outcome);
    this.runner.changed();
  }

  private crashOutcome(message: string): AgentTurnOutcome {
    return {
      kind: 'crashed',
      message,
      exitCode: this.exit?.exitCode ?? null,
      signal: this.exit?.signal ?? null,
    };
  }

  private markExited(exit: AgentExit): void {
    if (this.exit) return;
    this.exit = exit;
    for (const listener of this.exitListeners.splice(0)) listener(exit);
  }
}
