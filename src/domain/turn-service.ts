/**
 * Turns: one prompt and everything Claude Code does for it, up to its result.
 *
 * A turn is recorded (with its prompt event) before the server answers, runs in the background
 * whatever happens to the HTTP request that started it, and always ends with exactly one
 * terminal event: `complete` or `error`.
 */
import { ApiError, internalError, sessionNotFound } from './errors.js';
import type { EventLog } from './event-log.js';
import { newMessageId } from './ids.js';
import type { IdempotencyClaim } from './idempotency.js';
import type { Policies } from './key-policy.js';
import { DAY_MS, utcDayStart } from './time.js';
import type { LiveSession, RunningTurn } from './live-session.js';
import { assistantText, claudeMessageView, promptView } from './message-views.js';
import type { AgentEvent, AgentProcess, AgentTurnOutcome, Clock, Logger, SessionStore } from './ports.js';
import type { BucketDecision, RateLimits } from './rate-limits.js';
import type { SessionService } from './session-service.js';
import { endTurn, type TurnEnding } from './turn-outcome.js';
import { ZERO_USAGE, type ApiKeyRecord, type TurnRecord } from './types.js';

export interface TurnServiceDeps {
  store: SessionStore;
  sessions: SessionService;
  events: EventLog;
  rateLimits: RateLimits;
  policies: Policies;
  clock: Clock;
  logger: Logger;
  /** The timeout of a turn that asks for none, and the most one may ask for. */
  maxTimeoutMs: number;
}

export interface StartTurnInput {
  prompt: string;
  timeoutMs?: number;
  /** Stored with the turn, when the request carried an Idempotency-Key. */
  idempotency?: IdempotencyClaim;
}

/** Retry-After of MAX_RUNNING_TURNS_REACHED: a hint, turns end when they end. */
const RUNNING_TURNS_RETRY_AFTER_SECONDS = 5;

/** After an interrupt, how long Claude Code gets to end the turn before its process is stopped. */
const INTERRUPT_GRACE_MS = 10_000;

export class TurnService {
  constructor(private readonly deps: TurnServiceDeps) {}

  /**
   * Marks turns that were running when the server last stopped as failed, with their terminal
   * event, so no turn is ever left "running" and every stream of it can end.
   */
  async recoverInterrupted(): Promise<number> {
    const stale = await this.deps.store.listRunningTurns();
    for (const turn of stale) {
      const error = {
        code: 'AGENT_ERROR' as const,
        message:
          'The server stopped while this turn was running. The session stays usable: send the next message.',
        details: { messageId: turn.id, reason: 'server_restart' },
      };
      await this.deps.events.appendWith(
        turn.sessionId,
        turn.id,
        'error',
        () => error,
        (event) =>
          this.deps.store.finishTurn(
            turn.id,
            {
              status: 'interrupted',
              endedAt: this.deps.clock.now(),
              completion: null,
              error,
              usage: ZERO_USAGE,
              costUsd: 0,
            },
            event,
          ),
      );
    }
    return stale.length;
  }

  async start(
    key: ApiKeyRecord,
    sessionId: string,
    input: StartTurnInput,
  ): Promise<{ turn: RunningTurn; session: LiveSession; rateLimit: BucketDecision }> {
    const session = this.deps.sessions.find(key, sessionId);
    if (session.busy) {
      throw new ApiError(
        'SESSION_BUSY',
        'A turn is already running in this session. Wait for it to complete.',
        {
          sessionId,
          runningMessageId: session.turn?.id ?? null,
        },
      );
    }
    const policy = this.deps.policies.of(key);
    const maxRunning = policy.maxRunningTurns;
    if (maxRunning !== null && this.deps.sessions.runningTurnsOf(key.id) >= maxRunning) {
      throw new ApiError(
        'MAX_RUNNING_TURNS_REACHED',
        `This key may run at most ${maxRunning} turns at once. Wait for one to complete.`,
        { policy: 'maxRunningTurns', limit: maxRunning },
        RUNNING_TURNS_RETRY_AFTER_SECONDS,
      );
    }
    // Reserved in the same synchronous step as the checks above and below.
    session.busy = true;
    try {
      await this.checkBudget(key, policy.dailyBudgetUsd);
      const rateLimit = await this.deps.rateLimits.take(key, 'messages');
      // The session may have been ended (DELETE, expiry) while we waited.
      if (session.ending) throw sessionNotFound(sessionId);
      const turn = await this.begin(session, input);
      return { turn, session, rateLimit };
    } catch (err) {
      session.busy = false;
      session.turn = null;
      throw err;
    }
  }

  /**
   * A turn that would start with the key's spending for the day at or over its cap is refused.
   * The day is the UTC day; spending is Claude Code's own cost figures of finished turns.
   */
  private async checkBudget(key: ApiKeyRecord, dailyBudgetUsd: number | null): Promise<void> {
    if (dailyBudgetUsd === null) return;
    const now = this.deps.clock.now();
    const dayStart = utcDayStart(now);
    const spent = (await this.deps.store.keyUsage(key.id, dayStart)).reduce((sum, s) => sum + s.costUsd, 0);
    if (spent < dailyBudgetUsd) return;
    const resetsAt = dayStart + DAY_MS;
    throw new ApiError(
      'BUDGET_EXCEEDED',
      `This key spent $${spent.toFixed(4)} today, its daily budget is $${dailyBudgetUsd}. It resets at ${new Date(resetsAt).toISOString()}.`,
      {
        policy: 'dailyBudgetUsd',
        dailyBudgetUsd,
        spentUsd: spent,
        resetsAt: new Date(resetsAt).toISOString(),
      },
      Math.max(1, Math.ceil((resetsAt - now) / 1000)),
    );
  }

  /**
   * How a turn ended, waiting for it if it still runs here: for a retried request (same
   * Idempotency-Key) that must answer what the first one answered.
   */
  async outcome(
    session: LiveSession | null,
    messageId: string,
  ): Promise<Pick<TurnEnding, 'completion' | 'error'>> {
    if (session?.turn?.id === messageId) return session.turn.done;
    const turn = await this.deps.store.getTurn(messageId);
    if (!turn) throw new ApiError('NOT_FOUND', `Message ${messageId} does not exist.`, { messageId });
    if (turn.status === 'running') {
      // Left running by a server that stopped; recoverInterrupted() ends it at the next start.
      return {
        completion: null,
        error: { code: 'AGENT_ERROR', message: 'The turn did not finish.', details: { messageId } },
      };
    }
    return { completion: turn.completion, error: turn.error };
  }

  private async begin(session: LiveSession, input: StartTurnInput): Promise<RunningTurn> {
    const { store, events, clock } = this.deps;
    const id = newMessageId();
    const promptEvent = await events.appendWith(
      session.id,
      id,
      'message',
      (meta) => promptView(session.id, id, input.prompt, meta),
      (event) =>
        store.beginTurn(
          this.turnRecord(session.id, id, input.prompt, event.seq, clock.now()),
          event,
          input.idempotency?.record(session.id, id),
        ),
    );
    input.idempotency?.release();
    const timeoutMs = Math.min(input.timeoutMs ?? this.deps.maxTimeoutMs, this.deps.maxTimeoutMs);
    const control = new TurnControl();
    // `execute` reaches its first await before it could touch `session.turn`, so the turn is
    // registered before anything can end it.
    const done = this.execute(session, id, input.prompt, timeoutMs, control);
    const turn: RunningTurn = { id, firstSeq: promptEvent.seq, done, interrupt: () => control.interrupt() };
    session.turn = turn;
    void this.deps.sessions.touch(session).catch(() => undefined);
    return turn;
  }

  private turnRecord(
    sessionId: string,
    id: string,
    prompt: string,
    firstSeq: number,
    now: number,
  ): TurnRecord {
    return {
      id,
      sessionId,
      prompt,
      status: 'running',
      createdAt: now,
      endedAt: null,
      firstSeq,
      completion: null,
      error: null,
      usage: ZERO_USAGE,
      costUsd: 0,
    };
  }

  private async execute(
    session: LiveSession,
    turnId: string,
    prompt: string,
    timeoutMs: number,
    control: TurnControl,
  ): Promise<TurnEnding> {
    const log = this.deps.logger.child({ sessionId: session.id, messageId: turnId });
    const tracker = new AssistantTextTracker();
    let timedOutAfterMs: number | null = null;
    let outcome: AgentTurnOutcome;
    try {
      const process = await this.deps.sessions.ensureProcess(session);
      control.attach(process);
      const timer = setTimeout(() => {
        timedOutAfterMs = timeoutMs;
        void control.interrupt();
      }, timeoutMs);
      try {
        outcome = await process.runTurn(prompt, (event) =>
          this.onAgentEvent(session.id, turnId, event, tracker, log),
        );
      } finally {
        clearTimeout(timer);
        control.detach();
      }
    } catch (err) {
      log.error({ err }, 'turn failed to run');
      outcome = {
        kind: 'crashed',
        message: err instanceof Error ? err.message : String(err),
        exitCode: null,
        signal: null,
      };
    }
    const ending = endTurn(outcome, {
      sessionId: session.id,
      messageId: turnId,
      model: session.record.config.model,
      timedOutAfterMs,
      lastAssistantText: tracker.text,
    });
    return this.finish(session, turnId, ending, log);
  }

  private onAgentEvent(
    sessionId: string,
    turnId: string,
    event: AgentEvent,
    tracker: AssistantTextTracker,
    log: Logger,
  ): void {
    if (event.kind === 'retry') {
      log.warn(
        {
          attempt: event.attempt,
          maxRetries: event.maxRetries,
          delayMs: event.delayMs,
          upstreamStatus: event.errorStatus,
        },
        'model API call failed; Claude Code retries',
      );
      return;
    }
    tracker.see(event.message);
    this.deps.events
      .append(sessionId, turnId, 'message', (meta) =>
        claudeMessageView(sessionId, turnId, event.message, meta),
      )
      .catch((err: unknown) => log.error({ err }, 'could not store a Claude Code message'));
  }

  private async finish(
    session: LiveSession,
    turnId: string,
    ending: TurnEnding,
    log: Logger,
  ): Promise<TurnEnding> {
    const { store, events, clock } = this.deps;
    let final = ending;
    try {
      await events.appendWith(
        session.id,
        turnId,
        ending.completion ? 'complete' : 'error',
        () => ending.completion ?? ending.error,
        (event) =>
          store.finishTurn(
            turnId,
            {
              status: ending.status,
              endedAt: clock.now(),
              completion: ending.completion,
              error: ending.error,
              usage: ending.usage,
              costUsd: ending.costUsd,
            },
            event,
          ),
      );
    } catch (err) {
      log.error({ err }, 'could not record the end of a turn');
      final = { ...ending, status: 'failed', completion: null, error: internalError().toBody() };
    }
    if (session.turn?.id === turnId) session.turn = null;
    session.busy = false;
    await this.deps.sessions.touch(session).catch(() => undefined);
    log.info({ status: final.status, costUsd: final.costUsd, code: final.error?.code }, 'turn ended');
    return final;
  }
}

/**
 * Interrupting a turn: Esc for Claude Code, and if Claude Code does not end the turn within the
 * grace period, its process is stopped, so no turn can hang forever.
 */
class TurnControl {
  private process: AgentProcess | null = null;
  private requested = false;
  private killTimer: NodeJS.Timeout | null = null;

  attach(process: AgentProcess): void {
    this.process = process;
    if (this.requested) void this.interrupt();
  }

  detach(): void {
    this.process = null;
    if (this.killTimer) clearTimeout(this.killTimer);
  }

  async interrupt(): Promise<void> {
    this.requested = true;
    const process = this.process;
    if (!process) return;
    this.killTimer ??= setTimeout(() => void process.close(), INTERRUPT_GRACE_MS);
    await process.interrupt();
  }
}

/** Remembers the last assistant text of a turn (blocks of one API message are joined). */
class AssistantTextTracker {
  private messageId: unknown = null;
  text = '';

  see(message: Record<string, unknown> & { type: string }): void {
    const piece = assistantText(message);
    if (!piece) return;
    const id = (message.message as { id?: unknown } | undefined)?.id;
    this.text = id !== undefined && id === this.messageId ? this.text + piece : piece;
    this.messageId = id;
  }
}
