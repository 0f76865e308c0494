/**
 * Running one turn on the session's Claude Code process: what Claude Code emits becomes events
 * of the log (messages, text deltas, status changes, permission questions), and its result or
 * death becomes the turn's ending. Storing the terminal event is the TurnService's job.
 */
import { ApiError } from './errors.js';
import { WaitAborted } from './process-pool.js';
import type { EventLog } from './event-log.js';
import type { StatusDetails, StatusEvent, TurnStatusName } from './events.js';
import type { SessionRuntime } from './session-runtime.js';
import { assistantText, claudeMessageView } from './message-views.js';
import { ModelRequests, type ModelRequestRecord } from './model-requests.js';
import type { PermissionBroker } from './permissions.js';
import { ZERO_USAGE } from './types.js';
import type {
  AgentEvent,
  AgentTurnOutcome,
  AgentTurnResult,
  ClaudeMessage,
  Clock,
  Logger,
  PermissionAnswer,
  PermissionAsk,
} from './ports.js';
import type { ProcessPool } from './process-pool.js';
import { endTurn, type TurnEnding } from './turn-outcome.js';
import type { TurnRun } from './turn-run.js';

export interface TurnExecutionDeps {
  pool: ProcessPool;
  clock: Clock;
  events: EventLog;
  permissions: PermissionBroker;
  logger: Logger;
}

/** The result of a turn interrupted before its prompt reached Claude Code. */
const NOT_RUN: AgentTurnResult = {
  isError: true,
  subtype: 'error_during_execution',
  text: '',
  stopReason: null,
  terminalReason: 'aborted_before_start',
  numTurns: 0,
  durationMs: 0,
  apiErrorStatus: null,
  apiErrorType: null,
  errors: [],
  usage: ZERO_USAGE,
  costUsd: 0,
};

/** The data of a `status` event, stamped with the time the event log gives it. */
export function statusData<S extends TurnStatusName>(
  sessionId: string,
  turnId: string,
  status: S,
  details: StatusDetails<S>,
  meta: { createdAt: number },
): StatusEvent {
  // The generic `S` cannot narrow the union by itself; the parameters tie status and details.
  return {
    sessionId,
    messageId: turnId,
    status,
    ...details,
    at: new Date(meta.createdAt).toISOString(),
  } as Extract<StatusEvent, { status: S }>;
}

/** Appends a `status` event of the session. */
export function appendStatus<S extends TurnStatusName>(
  events: EventLog,
  sessionId: string,
  turnId: string,
  status: S,
  details: StatusDetails<S>,
): Promise<unknown> {
  return events.append(sessionId, turnId, 'status', (meta) =>
    statusData(sessionId, turnId, status, details, meta),
  );
}

export class TurnExecution {
  private readonly log: Logger;
  private readonly lastText = new AssistantTextTracker();
  private readonly modelRequests: ModelRequests;
  private status: TurnStatusName = 'running';
  private timedOutAfterMs: number | null = null;

  constructor(
    private readonly deps: TurnExecutionDeps,
    private readonly session: SessionRuntime,
    private readonly run: TurnRun,
  ) {
    this.log = deps.logger.child({ sessionId: session.id, messageId: run.id });
    this.modelRequests = new ModelRequests(
      () => deps.clock.now(),
      (record) => this.storeModelRequest(record),
    );
  }

  /** `toolsMayRun`: see TurnHandlers (the snapshot of the workspace before the turn). */
  async execute(toolsMayRun: Promise<unknown>): Promise<TurnEnding> {
    const { run, session } = this;
    let outcome: AgentTurnOutcome;
    // The turn's timeout counts from here: a wait for a process slot is part of the turn.
    const timer = setTimeout(() => {
      this.timedOutAfterMs = run.timeoutMs;
      void run.interrupt();
    }, run.timeoutMs);
    try {
      const process = await this.deps.pool.ensure(session, {
        signal: run.stopSignal,
        onQueued: (position) => this.setStatus('waiting_for_process', { position }),
      });
      if (this.status === 'waiting_for_process') this.setStatus('running', {});
      if (run.interrupted) {
        // Stopped before the prompt reached Claude Code: it never runs.
        outcome = { kind: 'result', result: { ...NOT_RUN } };
      } else {
        try {
          const turn = process.runTurn(run.prompt, {
            onEvent: (event) => this.onEvent(event),
            onPermission: (ask) => this.onPermission(ask),
            toolsMayRun,
          });
          // Attached once the prompt is on its way: an interrupt asked for meanwhile reaches
          // Claude Code after the prompt, so it stops this turn.
          run.attach(process);
          outcome = await turn;
        } finally {
          run.detach();
        }
      }
    } catch (err) {
      if ((run.interrupted && err instanceof WaitAborted) || session.ending) {
        // Stopped (interrupted, timed out, ended) while it waited for a process, or its session
        // ended (DELETE) before the prompt reached Claude Code: it never ran.
        outcome = { kind: 'result', result: { ...NOT_RUN } };
      } else if (err instanceof ApiError) {
        // A refusal to start Claude Code (its workspace was moved, no slot freed in time) is the
        // turn's error as it is.
        return { status: 'failed', completion: null, error: err.toBody(), usage: ZERO_USAGE, costUsd: 0 };
      } else {
        this.log.error({ err }, 'turn failed to run');
        outcome = {
          kind: 'crashed',
          message: err instanceof Error ? err.message : String(err),
          exitCode: null,
          signal: null,
        };
      }
    } finally {
      clearTimeout(timer);
      // A request still streaming when the turn ended (interrupted, failed) was cut short.
      this.modelRequests.endAll();
    }
    return endTurn(outcome, {
      sessionId: session.id,
      messageId: run.id,
      model: session.record.config.model,
      timedOutAfterMs: this.timedOutAfterMs,
      lastAssistantText: this.lastText.text,
    });
  }

  private onEvent(event: AgentEvent): void {
    if (event.kind === 'delta') {
      // The retried call is answering: the session runs again from its first streamed token.
      if (this.status === 'retrying') this.setStatus('running', {});
      this.publishDelta(event);
      return;
    }
    if (event.kind === 'model_request') {
      this.modelRequests.see(event);
      return;
    }
    // Everything else is stored. Deltas and stored events go through the log's one chain per
    // session, so they reach readers in the order Claude Code sent them.
    if (event.kind === 'retry') {
      this.log.warn(
        {
          attempt: event.attempt,
          maxRetries: event.maxRetries,
          delayMs: event.delayMs,
          upstreamStatus: event.errorStatus,
        },
        'model API call failed; Claude Code retries',
      );
      this.setStatus('retrying', {
        attempt: event.attempt,
        maxRetries: event.maxRetries,
        delayMs: event.delayMs,
        upstreamStatus: event.errorStatus,
      });
      return;
    }
    // Claude Code's api_retry message is stored like any other; after a retry, the next message
    // says the model answers again.
    const isRetryNotice = event.message.type === 'system' && event.message.subtype === 'api_retry';
    if (this.status === 'retrying' && !isRetryNotice) this.setStatus('running', {});
    this.lastText.see(event.message);
    this.storeMessage(event.message);
  }

  private async onPermission(ask: PermissionAsk): Promise<PermissionAnswer> {
    this.setStatus('waiting_for_permission', { toolName: ask.toolName });
    // Registered by the broker at once: a blocking client told "requires_action" finds it listed.
    const asked = this.deps.permissions.ask(this.session.id, this.run.id, ask);
    this.run.approvalAsked();
    try {
      const answer = await asked;
      if (!this.run.interrupted) this.setStatus('running', {});
      return answer;
    } finally {
      this.run.approvalAnswered();
    }
  }

  /**
   * Each delta goes out as it arrives: a reader that keeps up sees the text with no delay. A
   * reader whose socket lags gets the deltas that piled up meanwhile joined (`EventLog.read`).
   */
  private publishDelta(event: Extract<AgentEvent, { kind: 'delta' }>): void {
    const { session, run } = this;
    this.deps.events
      .publishEphemeral(session.id, run.id, 'delta', {
        sessionId: session.id,
        messageId: run.id,
        kind: event.delta,
        index: event.index,
        text: event.text,
        apiMessageId: event.apiMessageId,
      })
      .catch(() => undefined);
  }

  private storeMessage(message: ClaudeMessage): void {
    const { session, run } = this;
    this.deps.events
      .append(session.id, run.id, 'message', (meta) =>
        claudeMessageView(session.id, run.id, message, meta, session.toolNames),
      )
      .catch((err: unknown) => this.log.error({ err }, 'could not store a Claude Code message'));
  }

  private storeModelRequest(record: ModelRequestRecord): void {
    const { session, run } = this;
    this.deps.events
      .append(session.id, run.id, 'model_request', () => ({
        ...record,
        sessionId: session.id,
        messageId: run.id,
      }))
      .catch((err: unknown) => this.log.error({ err }, 'could not store a model request'));
  }

  private setStatus<S extends TurnStatusName>(status: S, details: StatusDetails<S>): void {
    this.status = status;
    appendStatus(this.deps.events, this.session.id, this.run.id, status, details).catch((err: unknown) =>
      this.log.error({ err }, 'could not store a status event'),
    );
  }
}

/** Remembers the last assistant text of a turn (blocks of one API message are joined). */
class AssistantTextTracker {
  private messageId: unknown = null;
  text = '';

  see(message: ClaudeMessage): void {
    const piece = assistantText(message);
    if (!piece) return;
    const id = (message.message as { id?: unknown } | undefined)?.id;
    this.text = id !== undefined && id === this.messageId ? this.text + piece : piece;
    this.messageId = id;
  }
}
