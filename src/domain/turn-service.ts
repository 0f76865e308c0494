/**
 * Turns: one prompt and everything Claude Code does for it, up to its result.
 *
 * A turn is recorded (with its first event) before the server answers, runs in the background
 * whatever happens to the HTTP request that started it, and always ends with exactly one
 * terminal event: `complete` or `error`. One turn runs per session at a time; a request that
 * asks for it (`queue: true`) waits in the session's queue and runs next, in order.
 */
import {
  budgetExceeded,
  internalError,
  messageNotInSession,
  runningTurnsCap,
  sessionNotFound,
  turnCutByRestart,
  turnUnfinished,
} from './error-situations.js';
import type { EventLog } from './event-log.js';
import { newMessageId } from './ids.js';
import type { IdempotencyClaim } from './idempotency.js';
import type { Policies } from './key-policy.js';
import type { Admission } from './admission.js';
import type { Checkpoints } from './checkpoints.js';
import { promptView } from './message-views.js';
import type { PermissionBroker } from './permissions.js';
import type { Clock, Logger } from './ports.js';
import type { ProcessPool } from './process-pool.js';
import type { BucketDecision, RateLimits } from './rate-limits.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionRuntime } from './session-runtime.js';
import type { SessionService } from './session-service.js';
import type { Stores } from './stores.js';
import { spentSince } from './spending.js';
import { DAY_MS, utcDayStart } from './time.js';
import { appendStatus, statusData, TurnExecution } from './turn-execution.js';
import type { TurnEnding } from './turn-outcome.js';
import { TurnRun, type RunningTurn } from './turn-run.js';
import type { ErrorBody } from './errors.js';
import type { PermissionRequestView, TurnCompletion } from './events.js';
import {
  ZERO_USAGE,
  type ApiKeyRecord,
  type SessionEvent,
  type TurnRecord,
  type TurnStatus,
} from './types.js';

export interface TurnServiceDeps {
  stores: Pick<Stores, 'sessions' | 'turns' | 'usage'>;
  registry: SessionRegistry;
  pool: ProcessPool;
  /** For `touch`: a turn is activity of its session. */
  sessions: SessionService;
  admission: Admission;
  events: EventLog;
  rateLimits: RateLimits;
  policies: Policies;
  permissions: PermissionBroker;
  clock: Clock;
  logger: Logger;
  /** The timeout of a turn that asks for none, and the most one may ask for. */
  maxTimeoutMs: number;
  /** How many turns may wait in one session's queue. */
  maxQueuedTurns: number;
  /** The model API is simulated (the offline demo): completions say their cost is not real. */
  costsSimulated?: boolean;
  /** Snapshots of the workspace around each turn (absent: no `files_changed`, no `changes`). */
  checkpoints?: Checkpoints;
}

export interface StartTurnInput {
  prompt: string;
  timeoutMs?: number;
  /** Stored with the turn, when the request carried an Idempotency-Key. */
  idempotency?: IdempotencyClaim;
  /** Wait behind a running turn instead of failing with SESSION_BUSY. */
  queue?: boolean;
}

/** A turn as a client may ask for it (`GET …/messages/:messageId`, a blocking call's answer). */
export interface TurnState {
  messageId: string;
  sessionId: string;
  /** `requires_action`: it waits for an answer to `pendingPermissions`. */
  status: 'queued' | 'running' | 'requires_action' | Exclude<TurnStatus, 'queued' | 'running'>;
  completion: TurnCompletion | null;
  error: ErrorBody | null;
  pendingPermissions: PermissionRequestView[];
}

function endedState(
  ended: Pick<TurnEnding, 'status' | 'completion' | 'error'>,
): Omit<TurnState, 'messageId' | 'sessionId'> {
  return { status: ended.status, completion: ended.completion, error: ended.error, pendingPermissions: [] };
}

export interface StartedTurn {
  turn: RunningTurn;
  session: SessionRuntime;
  rateLimit: BucketDecision;
  /** 0 when it runs now, else its place in the queue (1 = next). */
  position: number;
}

export class TurnService {
  constructor(private readonly deps: TurnServiceDeps) {}

  /**
   * After a restart: turns that were running when the server stopped are recorded as interrupted,
   * with their terminal event, so no turn is left "running" and every stream of it can end.
   * Turns that were queued are returned, for `requeue` once the sessions are loaded.
   */
  async recoverInterrupted(): Promise<{ interrupted: number; queued: TurnRecord[] }> {
    const unfinished = await this.deps.stores.turns.listUnfinishedTurns();
    const stale: TurnRecord[] = [];
    const queued: TurnRecord[] = [];
    for (const turn of unfinished) {
      const sessionOpen = (await this.deps.stores.sessions.getSession(turn.sessionId))?.status === 'active';
      if (turn.status === 'queued' && sessionOpen) queued.push(turn);
      else stale.push(turn);
    }
    await this.recordInterrupted(stale);
    return { interrupted: stale.length, queued };
  }

  /**
   * Records turns that were running when their server stopped (or their instance died) as
   * interrupted, each with its terminal `error` event, so no turn is left "running" and every
   * stream of it can end. Returns how many.
   */
  async recordInterrupted(turns: readonly TurnRecord[]): Promise<number> {
    for (const turn of turns) {
      const error = turnCutByRestart(turn.id).toBody();
      await this.deps.events.appendWith(
        turn.sessionId,
        turn.id,
        'error',
        () => error,
        (event) =>
          this.deps.stores.turns.finishTurn(
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
    return turns.length;
  }

  async start(key: ApiKeyRecord, sessionId: string, input: StartTurnInput): Promise<StartedTurn> {
    this.deps.admission.assertAccepting();
    const session = this.deps.registry.find(key, sessionId);
    const policy = this.deps.policies.of(key);
    // Admitted in one synchronous step with its checks: two racing requests cannot both run
    // now, nor overfill the queue.
    const admission = session.admit({
      queue: input.queue === true,
      maxQueuedTurns: this.deps.maxQueuedTurns,
      checkRun: () => this.checkRunningTurns(key, policy.maxRunningTurns),
    });
    try {
      await this.checkBudget(key, policy.dailyBudgetUsd);
      const rateLimit = await this.deps.rateLimits.take(key, 'messages');
      // The session may have been ended (DELETE, expiry) while we waited.
      if (session.ending) throw sessionNotFound(sessionId);
      const timeoutMs = Math.min(input.timeoutMs ?? this.deps.maxTimeoutMs, this.deps.maxTimeoutMs);
      const run = new TurnRun(newMessageId(), input.prompt, timeoutMs, (r) => this.cancel(session, r));
      if (admission === 'run') {
        await this.beginRunning(session, run, input.idempotency);
        return { turn: run, session, rateLimit, position: 0 };
      }
      const position = await this.beginQueued(session, run, input.idempotency);
      this.pump(session);
      return { turn: run, session, rateLimit, position };
    } catch (err) {
      session.withdraw(admission);
      throw err;
    } finally {
      session.settled(admission);
    }
  }

  /**
   * Esc: stops the running turn (queued ones stay queued). Idle: a no-op that says so. Either way
   * the client's request is an `interrupt` event of the log, stored before the turn is stopped (so
   * it comes before the turn's end), which is returned (`/v1` names it by its sequence number).
   */
  async interrupt(
    key: ApiKeyRecord,
    sessionId: string,
  ): Promise<{ interrupted: boolean; messageId: string | null; event: { seq: number; createdAt: number } }> {
    const turn = this.deps.registry.find(key, sessionId).turn;
    const event = await this.deps.events.append(sessionId, turn?.id ?? null, 'interrupt', (meta) => ({
      sessionId,
      messageId: turn?.id ?? null,
      interrupted: turn !== null,
      at: new Date(meta.createdAt).toISOString(),
    }));
    if (!turn) return { interrupted: false, messageId: null, event };
    await turn.interrupt();
    return { interrupted: true, messageId: turn.id, event };
  }

  /** A turn of the caller's session as it is now: `GET …/messages/:messageId`. */
  async state(key: ApiKeyRecord, sessionId: string, messageId: string): Promise<TurnState> {
    this.deps.registry.find(key, sessionId);
    return this.stateOf(sessionId, messageId);
  }

  /**
   * Waits, at most `waitMs`, until a turn has ended or waits for a client's approval, and then
   * says how it is: what a blocking client (`stream: false`, `?wait=true`) is answered with.
   * Without `key`, for a request already authorised for the turn (a retry with its
   * Idempotency-Key), which must answer what the first one answered even after the session ended.
   */
  async settle(sessionId: string, messageId: string, waitMs: number, key?: ApiKeyRecord): Promise<TurnState> {
    if (key) this.deps.registry.find(key, sessionId);
    const live = this.deps.registry.peek(sessionId)?.findTurn(messageId);
    if (live) {
      const timeout = AbortSignal.timeout(waitMs);
      await live.untilEndedOrBlocked(timeout);
    }
    return this.stateOf(sessionId, messageId);
  }

  private async stateOf(sessionId: string, messageId: string): Promise<TurnState> {
    const base = { messageId, sessionId };
    const live = this.deps.registry.peek(sessionId)?.findTurn(messageId);
    if (live && live.state !== 'ended') {
      const pendingPermissions = this.deps.permissions
        .list(sessionId)
        .filter((p) => p.messageId === messageId);
      const status =
        live.state === 'queued' ? 'queued' : live.awaitingApproval ? 'requires_action' : 'running';
      return { ...base, status, completion: null, error: null, pendingPermissions };
    }
    if (live?.ending) return { ...base, ...endedState(live.ending) };
    const turn = await this.deps.stores.turns.getTurn(messageId);
    if (!turn || turn.sessionId !== sessionId) throw messageNotInSession(messageId, sessionId);
    if (turn.status === 'running' || turn.status === 'queued') {
      // Left by a server that stopped; recoverInterrupted() ends it at the next start.
      return {
        ...base,
        ...endedState({ status: 'failed', completion: null, error: turnUnfinished(messageId).toBody() }),
      };
    }
    return {
      ...base,
      ...endedState({ status: turn.status, completion: turn.completion, error: turn.error }),
    };
  }

  private checkRunningTurns(key: ApiKeyRecord, maxRunning: number | null): void {
    if (maxRunning === null || this.deps.registry.runningTurnsOf(key.id) < maxRunning) return;
    throw runningTurnsCap(maxRunning);
  }

  /**
   * A turn that would start with the key's spending for the day at or over its cap is refused.
   * The day is the UTC day; spending is Claude Code's own cost figures of finished turns.
   */
  private async checkBudget(key: ApiKeyRecord, dailyBudgetUsd: number | null): Promise<void> {
    if (dailyBudgetUsd === null) return;
    const now = this.deps.clock.now();
    const dayStart = utcDayStart(now);
    const spent = await spentSince(this.deps.stores.usage, key.id, dayStart);
    if (spent < dailyBudgetUsd) return;
    const resetsAt = dayStart + DAY_MS;
    throw budgetExceeded(dailyBudgetUsd, spent, resetsAt, now);
  }

  /** Records a turn that runs now (with its prompt) and starts it. */
  private async beginRunning(
    session: SessionRuntime,
    run: TurnRun,
    idempotency?: IdempotencyClaim,
  ): Promise<void> {
    const promptEvent = await this.deps.events.appendWith(
      session.id,
      run.id,
      'message',
      (meta) => promptView(session.id, run.id, run.prompt, meta),
      (event) =>
        this.deps.stores.turns.beginTurn(
          this.record(session.id, run, 'running', event.seq),
          event,
          idempotency?.record(session.id, run.id),
        ),
    );
    idempotency?.release();
    run.firstSeq = promptEvent.seq;
    session.beginRunning(run);
    this.launch(session, run);
  }

  /** Records a queued turn (its first event says so); returns its place in the queue. */
  private async beginQueued(
    session: SessionRuntime,
    run: TurnRun,
    idempotency?: IdempotencyClaim,
  ): Promise<number> {
    // The place is taken inside the session's serialized append, and the run joins the queue as
    // soon as its record is stored: requests queued together each get their own position.
    let position = 0;
    await this.deps.events.appendWith(
      session.id,
      run.id,
      'status',
      (meta) => {
        position = session.nextQueuePosition();
        return statusData(session.id, run.id, 'queued', { position }, meta);
      },
      async (event) => {
        await this.deps.stores.turns.beginTurn(
          this.record(session.id, run, 'queued', event.seq),
          event,
          idempotency?.record(session.id, run.id),
        );
        run.firstSeq = event.seq;
        session.enqueue(run);
      },
    );
    idempotency?.release();
    return position;
  }

  /**
   * Shutdown: lets running turns finish for up to `waitMs`, then interrupts the rest (each is
   * recorded as interrupted). Queued turns stay queued, in the store: they run after the restart.
   */
  async drain(waitMs: number): Promise<{ finished: number; interrupted: number }> {
    const runningNow = (): TurnRun[] =>
      this.deps.registry
        .all()
        .map((s) => s.turn)
        .filter((t): t is TurnRun => t !== null && t.state !== 'ended');
    const running = runningNow();
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([Promise.all(running.map((t) => t.done)), waited]);
    clearTimeout(timer);
    // Looked up again: a start that was past its checks when draining began may have begun since.
    const left = runningNow();
    await Promise.all(left.map((t) => t.interrupt()));
    await Promise.all(left.map((t) => t.done));
    return { finished: running.filter((t) => !left.includes(t)).length, interrupted: left.length };
  }

  /**
   * After a restart: turns that were queued (acknowledged, never started) go back into their
   * sessions' queues, in order, and run. Call after SessionService.load().
   */
  async requeue(turns: TurnRecord[]): Promise<number> {
    let requeued = 0;
    for (const turn of turns) {
      const session = this.deps.registry.peek(turn.sessionId);
      if (!session) continue;
      const timeoutMs = Math.min(turn.timeoutMs ?? this.deps.maxTimeoutMs, this.deps.maxTimeoutMs);
      const run = new TurnRun(turn.id, turn.prompt, timeoutMs, (r) => this.cancel(session, r));
      run.firstSeq = turn.firstSeq;
      session.enqueue(run);
      requeued++;
    }
    for (const session of this.deps.registry.all()) this.pump(session);
    return requeued;
  }

  /** Starts the next queued turn if the session is free. */
  private pump(session: SessionRuntime): void {
    if (this.deps.admission.draining) return;
    const run = session.startNextQueued();
    if (!run) return;
    void (async () => {
      try {
        await this.deps.events.appendWith(
          session.id,
          run.id,
          'message',
          (meta) => promptView(session.id, run.id, run.prompt, meta),
          (event) => this.deps.stores.turns.startTurn(run.id, event),
        );
        this.launch(session, run);
      } catch (err) {
        this.deps.logger.error(
          { err, sessionId: session.id, messageId: run.id },
          'could not start a queued turn',
        );
        await this.finish(session, run, failedEnding());
      }
    })();
  }

  /** Runs a started turn in the background, to its terminal event. */
  private launch(session: SessionRuntime, run: TurnRun): void {
    void this.deps.sessions.touch(session).catch(() => undefined);
    void (async () => {
      // The snapshot before the turn is taken while Claude Code starts (a parked session) and
      // prepares its first request; its tools wait for it (TurnHandlers.toolsMayRun), and nothing
      // else of Claude Code's writes in the workspace. A failed snapshot is logged: no diff then.
      const before = this.deps.checkpoints?.beforeTurn(session.record, run.id) ?? Promise.resolve();
      await appendStatus(this.deps.events, session.id, run.id, 'running', {}).catch(() => undefined);
      const execution = new TurnExecution(this.deps, session, run);
      const ending = await execution.execute(before);
      // A turn without tools can end before the snapshot does; its changes are counted from it.
      await before;
      await this.finish(session, run, await this.withChanges(session, run, ending));
    })();
  }

  /**
   * What the turn changed in the workspace: stored as a `files_changed` event (before the
   * terminal event) when it changed anything, and carried by the completion as `changes`.
   */
  private async withChanges(session: SessionRuntime, run: TurnRun, ending: TurnEnding): Promise<TurnEnding> {
    const changes = await this.deps.checkpoints?.afterTurn(session.record, run.id);
    if (!changes) return ending;
    if (changes.files.length > 0) {
      await this.deps.events
        .append(session.id, run.id, 'files_changed', () => ({
          sessionId: session.id,
          messageId: run.id,
          checkpoint: changes.checkpoint,
          files: changes.files,
        }))
        .catch((err: unknown) =>
          this.deps.logger.error(
            { err, sessionId: session.id, messageId: run.id },
            'could not store files_changed',
          ),
        );
    }
    return ending.completion
      ? { ...ending, completion: { ...ending.completion, changes: changes.files } }
      : ending;
  }

  /** A queued turn taken out before it started: it ends as interrupted, having cost nothing. */
  private async cancel(session: SessionRuntime, run: TurnRun): Promise<void> {
    session.removeQueued(run);
    await this.finish(session, run, {
      status: 'interrupted',
      completion: {
        messageId: run.id,
        sessionId: session.id,
        response: '',
        usage: ZERO_USAGE,
        costUsd: 0,
        durationMs: 0,
        numTurns: 0,
        stopReason: 'cancelled',
        status: 'interrupted',
      },
      error: null,
      usage: ZERO_USAGE,
      costUsd: 0,
    });
  }

  private async finish(session: SessionRuntime, run: TurnRun, ending: TurnEnding): Promise<void> {
    const { stores, events, clock, logger } = this.deps;
    const log = logger.child({ sessionId: session.id, messageId: run.id });
    // The one place a completion leaves the domain: the stored event, the response and replays.
    if (ending.completion && this.deps.costsSimulated) {
      ending = { ...ending, completion: { ...ending.completion, costSimulated: true } };
    }
    let final = ending;
    // `idle` before the terminal event: a turn's terminal event is the last of its log, so a
    // client that reconnects after it gets 204 (nothing more) at once.
    if (session.idlesAfter(run)) {
      await appendStatus(events, session.id, run.id, 'idle', {}).catch(() => undefined);
    }
    try {
      const persist = (event: SessionEvent): Promise<void> =>
        stores.turns.finishTurn(
          run.id,
          {
            status: ending.status,
            endedAt: clock.now(),
            completion: ending.completion,
            error: ending.error,
            usage: ending.usage,
            costUsd: ending.costUsd,
          },
          event,
        );
      const { completion, error } = ending;
      if (completion) await events.appendWith(session.id, run.id, 'complete', () => completion, persist);
      else
        await events.appendWith(
          session.id,
          run.id,
          'error',
          () => error ?? internalError().toBody(),
          persist,
        );
    } catch (err) {
      log.error({ err }, 'could not record the end of a turn');
      final = { ...ending, status: 'failed', completion: null, error: internalError().toBody() };
    }
    session.turnEnded(run);
    await this.deps.sessions.touch(session).catch(() => undefined);
    run.end(final);
    log.info({ status: final.status, costUsd: final.costUsd, code: final.error?.code }, 'turn ended');
    this.pump(session);
    await this.deps.pool.sessionIdle(session);
  }

  private record(sessionId: string, run: TurnRun, status: TurnStatus, firstSeq: number): TurnRecord {
    return {
      id: run.id,
      sessionId,
      prompt: run.prompt,
      status,
      createdAt: this.deps.clock.now(),
      endedAt: null,
      firstSeq,
      timeoutMs: run.timeoutMs,
      lastSeq: null,
      completion: null,
      error: null,
      usage: ZERO_USAGE,
      costUsd: 0,
    };
  }
}

function failedEnding(): TurnEnding {
  return {
    status: 'failed',
    completion: null,
    error: internalError().toBody(),
    usage: ZERO_USAGE,
    costUsd: 0,
  };
}
