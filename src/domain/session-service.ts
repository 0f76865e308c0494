/**
 * Sessions: create, read, list, end; and the registry of live sessions with their Claude Code
 * processes. A new session starts its process at once, so the first message finds it warm.
 */
import { ApiError, sessionNotFound } from './errors.js';
import type { EventLog } from './event-log.js';
import { newClaudeSessionId, newSessionId } from './ids.js';
import type { IdempotencyClaim } from './idempotency.js';
import type { Policies } from './key-policy.js';
import { LiveSession } from './live-session.js';
import type { AgentProcess, AgentRunner, Clock, Logger, SessionStore, Workspaces } from './ports.js';
import type { BucketDecision, RateLimits } from './rate-limits.js';
import { grantSession, type SessionGrant } from './session-policy.js';
import { workspaceConflict } from './workspace-rules.js';
import type {
  ApiKeyRecord,
  Page,
  PermissionMode,
  SessionConfig,
  SessionEndReason,
  SessionRecord,
} from './types.js';

export interface SessionSettings {
  maxLiveSessions: number;
  /** Claude Code processes at once; starting one more parks the longest-idle session first. */
  maxLiveProcesses: number;
  idleExpiryMs: number;
  /** Idle this long, a session's Claude Code process is stopped (parked); 0: never. */
  parkAfterMs: number;
  /** How long the own workspace of an ended session is kept before it is removed. */
  workspaceRetentionMs: number;
  /** How long events other than messages and final events are kept, and an ended session's log (0: forever). */
  eventRetentionMs: number;
  defaultModel: string | null;
  /** Requested model id → what Claude Code is told (retired ids to current aliases). */
  modelMap: Record<string, string>;
  defaultPermissionMode: PermissionMode;
  /** Tools no session may use (DISALLOWED_TOOLS). */
  disallowedTools: readonly string[];
}

export interface CreateSessionInput {
  model?: string;
  permissionMode?: PermissionMode;
  maxTurns?: number;
  cwd?: string;
  systemPrompt?: string;
  appendSystemPrompt?: string;
  allowedTools?: string[];
  disallowedTools?: string[];
  metadata?: Record<string, unknown>;
}

export interface SessionServiceDeps {
  store: SessionStore;
  runner: AgentRunner;
  workspaces: Workspaces;
  events: EventLog;
  rateLimits: RateLimits;
  policies: Policies;
  clock: Clock;
  logger: Logger;
  settings: SessionSettings;
}

/** How often the event log retention runs. */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** The Retry-After of SERVICE_UNAVAILABLE while the server shuts down. */
const DRAINING_RETRY_AFTER_SECONDS = 5;

/** The Retry-After of MAX_SESSIONS_REACHED. */
const CAP_RETRY_AFTER_SECONDS = 30;

/** How long ending a session waits for its running turn to stop after the interrupt. */
const END_INTERRUPT_WAIT_MS = 10_000;

export class SessionService {
  private readonly live = new Map<string, LiveSession>();
  /** Creates past the cap checks that are not in `live` yet. */
  private readonly reserved = new Reservations();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: SessionServiceDeps) {}

  /** Loads the active sessions and starts the idle-expiry sweep. */
  async start(): Promise<void> {
    for (const record of await this.deps.store.listActiveSessions()) {
      this.live.set(record.id, new LiveSession(record));
    }
    const { idleExpiryMs, parkAfterMs } = this.deps.settings;
    const shortest = Math.min(idleExpiryMs, parkAfterMs > 0 ? parkAfterMs : idleExpiryMs);
    const every = Math.min(60_000, Math.max(1000, Math.floor(shortest / 4)));
    this.sweepTimer = setInterval(() => void this.sweep(), every);
    this.sweepTimer.unref();
  }

  /** Stops every Claude Code process (the sessions stay active in the store). */
  async stop(): Promise<void> {
    this.draining = true;
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    // A start in flight finishes first, so its process is closed too rather than left running.
    await Promise.all(
      [...this.live.values()].map(async (s) => {
        await s.starting?.catch(() => undefined);
        await s.process?.close();
      }),
    );
  }

  /** Set by stop(): no Claude Code process starts any more. */
  private stopped = false;

  /**
   * Set when the server is shutting down: no new session or turn is accepted (503), and queued
   * turns stay queued (they run after the restart).
   */
  draining = false;

  /** Refuses work once the server is shutting down. */
  assertAccepting(): void {
    if (!this.draining) return;
    throw new ApiError(
      'SERVICE_UNAVAILABLE',
      'The server is shutting down. Retry in a few seconds: sessions and their history are kept.',
      {},
      DRAINING_RETRY_AFTER_SECONDS,
    );
  }

  /** Every active session (for shutdown and recovery). */
  all(): LiveSession[] {
    return [...this.live.values()];
  }

  get activeCount(): number {
    return this.live.size;
  }

  get maxLive(): number {
    return this.deps.settings.maxLiveSessions;
  }

  get atCapacity(): boolean {
    return this.live.size >= this.deps.settings.maxLiveSessions;
  }

  get runningCount(): number {
    let n = 0;
    for (const s of this.live.values()) if (s.busy) n++;
    return n;
  }

  get processCount(): number {
    let n = 0;
    for (const s of this.live.values()) if (s.process && !s.process.exited) n++;
    return n;
  }

  private capReached(): ApiError {
    const max = this.deps.settings.maxLiveSessions;
    return new ApiError(
      'MAX_SESSIONS_REACHED',
      `The server runs at most ${max} sessions at once. End a session (DELETE) or try again later.`,
      { maxLiveSessions: max },
      // A hint only: a slot frees when any session ends, which cannot be predicted.
      CAP_RETRY_AFTER_SECONDS,
    );
  }

  /** The pid of a session's Claude Code process, if it has a live one. */
  pidOf(sessionId: string): number | null {
    const process = this.live.get(sessionId)?.process;
    return process && !process.exited ? process.pid : null;
  }

  async create(
    key: ApiKeyRecord,
    input: CreateSessionInput,
    idempotency?: IdempotencyClaim,
  ): Promise<{ session: LiveSession; rateLimit: BucketDecision }> {
    this.assertAccepting();
    const { settings, store, workspaces, rateLimits, runner } = this.deps;
    const policy = this.deps.policies.of(key);
    const grant = grantSession(input, policy, {
      defaultPermissionMode: settings.defaultPermissionMode,
      disallowedTools: settings.disallowedTools,
      bypass: runner.bypassPermissions(),
    });
    let external: string | null = null;
    if (input.cwd !== undefined) {
      const resolved = await workspaces.resolveExternal(input.cwd, policy.workspaceRoots);
      if (!resolved.ok) throw ApiError.fromBody(resolved.error);
      external = resolved.path;
    }
    const conflict =
      external && workspaceConflict(external, { roots: policy.workspaceRoots, inUse: this.cwdsInUse() });
    if (conflict) throw ApiError.fromBody(conflict);
    // The slots are reserved in the same synchronous step as the checks, before anything is
    // spent or awaited: parallel creates can neither exceed a cap nor spend quota on a refusal.
    if (this.live.size + this.reserved.total >= settings.maxLiveSessions) throw this.capReached();
    const keyMax = policy.maxConcurrentSessions;
    if (keyMax !== null && this.openSessionsOf(key.id) >= keyMax) {
      throw new ApiError(
        'MAX_SESSIONS_REACHED',
        `This key may have at most ${keyMax} sessions open at once.`,
        {
          scope: 'key',
          policy: 'maxConcurrentSessions',
          limit: keyMax,
        },
        CAP_RETRY_AFTER_SECONDS,
      );
    }
    this.reserved.add(key.id, external);
    let record: SessionRecord;
    let rateLimit: BucketDecision;
    try {
      rateLimit = await rateLimits.take(key, 'sessions');
      record = await this.newRecord(key, input, grant, external);
      await store.insertSession(record, idempotency?.record(record.id, null));
    } finally {
      this.reserved.remove(key.id, external);
    }
    if (grant.permissionMode === 'bypassPermissions') {
      this.deps.logger.warn({ sessionId: record.id, keyId: key.id }, 'session runs with bypassPermissions');
    }
    const session = new LiveSession(record);
    this.live.set(record.id, session);
    idempotency?.release();
    // Start Claude Code now, if there is room: the client's first message then finds it warm.
    if (this.processCount < this.deps.settings.maxLiveProcesses)
      this.ensureProcess(session).catch((err: unknown) =>
        this.deps.logger.warn(
          { err, sessionId: record.id },
          'Claude Code did not start; the next message retries',
        ),
      );
    return { session, rateLimit };
  }

  private async newRecord(
    key: ApiKeyRecord,
    input: CreateSessionInput,
    grant: SessionGrant,
    externalCwd: string | null,
  ): Promise<SessionRecord> {
    const { settings, workspaces, clock } = this.deps;
    const id = newSessionId();
    const now = clock.now();
    const requestedModel = input.model ?? settings.defaultModel;
    const config: SessionConfig = {
      requestedModel,
      model: requestedModel ? (settings.modelMap[requestedModel] ?? requestedModel) : null,
      permissionMode: grant.permissionMode,
      maxTurns: grant.maxTurns,
      cwd: externalCwd ?? (await workspaces.create(id)),
      workspace: externalCwd ? 'external' : 'owned',
      systemPrompt: input.systemPrompt ?? null,
      appendSystemPrompt: input.appendSystemPrompt ?? null,
      allowedTools: grant.allowedTools,
      disallowedTools: grant.disallowedTools,
    };
    return {
      id,
      keyId: key.id,
      status: 'active',
      config,
      metadata: input.metadata ?? {},
      claudeSessionId: newClaudeSessionId(),
      createdAt: now,
      lastActivityAt: now,
      endedAt: null,
      endReason: null,
    };
  }

  /** The working directories of the live sessions and of the creates under way. */
  private cwdsInUse(): string[] {
    return [...[...this.live.values()].map((s) => s.record.config.cwd), ...this.reserved.cwds];
  }

  /** Open sessions of a key, counting creates under way. */
  openSessionsOf(keyId: string): number {
    let n = this.reserved.of(keyId);
    for (const s of this.live.values()) if (s.record.keyId === keyId && !s.ending) n++;
    return n;
  }

  /** Turns of a key running now. */
  runningTurnsOf(keyId: string): number {
    let n = 0;
    for (const s of this.live.values()) if (s.record.keyId === keyId && s.busy) n++;
    return n;
  }

  /** An active session by id, whoever owns it (for internal lookups, never for a request). */
  peek(sessionId: string): LiveSession | undefined {
    return this.live.get(sessionId);
  }

  /** The caller's active session, or SESSION_NOT_FOUND (also for another key's session). */
  find(key: ApiKeyRecord, sessionId: string): LiveSession {
    const session = this.live.get(sessionId);
    if (!session || session.ending || session.record.keyId !== key.id) throw sessionNotFound(sessionId);
    return session;
  }

  async list(key: ApiKeyRecord, page: { limit: number; offset: number }): Promise<Page<LiveSession>> {
    const result = await this.deps.store.listSessions(key.id, page);
    return {
      total: result.total,
      items: result.items.map((record) => this.live.get(record.id) ?? new LiveSession(record)),
    };
  }

  /** Ends a session: stops its turn and process, removes its own workspace. */
  async end(key: ApiKeyRecord, sessionId: string): Promise<void> {
    await this.endSession(this.find(key, sessionId), 'deleted');
  }

  /** Starts the session's Claude Code process if it has none (or its last one died). */
  async ensureProcess(session: LiveSession): Promise<AgentProcess> {
    // An ended session never gets a new process: nothing would ever close it. Nor does any
    // session once the server has stopped its processes.
    if (session.ending) throw sessionNotFound(session.id);
    if (this.stopped) this.assertAccepting();
    // A process being parked cannot take the turn: wait for it to be gone, then resume anew.
    if (session.parking) await session.parking;
    if (session.process && !session.process.exited) return session.process;
    session.starting ??= this.startProcess(session).finally(() => {
      session.starting = null;
    });
    return session.starting;
  }

  async touch(session: LiveSession): Promise<void> {
    session.record.lastActivityAt = this.deps.clock.now();
    await this.deps.store.updateSession(session.id, { lastActivityAt: session.record.lastActivityAt });
  }

  expiresAt(session: LiveSession): number {
    return session.record.lastActivityAt + this.deps.settings.idleExpiryMs;
  }

  private async startProcess(session: LiveSession): Promise<AgentProcess> {
    await this.makeRoomForProcess(session);
    const { config } = session.record;
    const { costUsd } = await this.deps.store.sessionUsage(session.id);
    const process = this.deps.runner.start({
      sessionId: session.id,
      claudeSessionId: session.record.claudeSessionId,
      model: config.model,
      permissionMode: config.permissionMode,
      maxTurns: config.maxTurns,
      cwd: config.cwd,
      systemPrompt: config.systemPrompt,
      appendSystemPrompt: config.appendSystemPrompt,
      allowedTools: config.allowedTools,
      disallowedTools: config.disallowedTools,
      priorCostUsd: costUsd,
    });
    session.process = process;
    process.onExit((exit) => {
      if (session.process === process) session.process = null;
      if (!session.ending)
        this.deps.logger.info({ sessionId: session.id, ...exit }, 'Claude Code process exited');
    });
    return process;
  }

  private async endSession(session: LiveSession, reason: SessionEndReason): Promise<void> {
    if (session.ending) return;
    session.ending = true;
    const now = this.deps.clock.now();
    await this.deps.store.updateSession(session.id, { status: 'ended', endedAt: now, endReason: reason });
    session.record = { ...session.record, status: 'ended', endedAt: now, endReason: reason };
    // Queued turns are cancelled first, so none starts when the running one ends.
    for (const queued of [...session.queue]) await queued.interrupt();
    const turn = session.turn;
    if (turn) {
      await turn.interrupt();
      await Promise.race([turn.done, delay(END_INTERRUPT_WAIT_MS)]);
    }
    await session.starting?.catch(() => undefined);
    await session.process?.close();
    this.live.delete(session.id);
    this.deps.events.forget(session.id);
    // Kept for WORKSPACE_RETENTION_SECONDS (removeEndedWorkspaces), unless that is zero.
    if (session.record.config.workspace === 'owned' && this.deps.settings.workspaceRetentionMs === 0) {
      await this.removeWorkspace(session.id, session.record.config.cwd);
    }
    this.deps.logger.info({ sessionId: session.id, reason }, 'session ended');
  }

  /**
   * Removes the workspaces of sessions that ended longer ago than the retention time, and
   * any workspace without a session (left by a crash between the two writes).
   */
  async removeEndedWorkspaces(): Promise<number> {
    const now = this.deps.clock.now();
    let removed = 0;
    for (const { sessionId, path } of await this.deps.workspaces.list()) {
      if (this.live.has(sessionId)) continue;
      const record = await this.deps.store.getSession(sessionId);
      const endedAt = record?.endedAt ?? (record ? null : 0);
      if (endedAt === null || now - endedAt < this.deps.settings.workspaceRetentionMs) continue;
      await this.removeWorkspace(sessionId, path);
      removed++;
    }
    return removed;
  }

  private async removeWorkspace(sessionId: string, path: string): Promise<void> {
    await this.deps.workspaces.remove(path).catch((err: unknown) => {
      this.deps.logger.warn({ err, sessionId }, 'could not remove the workspace');
    });
  }

  /**
   * Stops the Claude Code process of a session that has nothing to do; the session stays, and its
   * next message resumes the conversation in a new process (from the stored transcript).
   * Returns false when there was nothing to park (no process, or a turn running or queued).
   */
  async park(session: LiveSession): Promise<boolean> {
    const process = session.process;
    if (!process || process.exited || session.busy || session.queue.length > 0 || session.ending)
      return false;
    const started = this.deps.clock.now();
    session.parking = process.close().finally(() => {
      session.parking = null;
    });
    await session.parking;
    this.deps.logger.info(
      { sessionId: session.id, idleMs: started - session.record.lastActivityAt },
      'session parked: its Claude Code process stopped until the next message',
    );
    return true;
  }

  /**
   * At MAX_LIVE_PROCESSES, parks the session idle the longest (its next message resumes it).
   * When every process is busy, the new one starts anyway: a running turn is never stopped to
   * make room, and the cap is exceeded only by turns that run at once.
   */
  private async makeRoomForProcess(starting: LiveSession): Promise<void> {
    while (this.processCount >= this.deps.settings.maxLiveProcesses) {
      const idle = [...this.live.values()]
        .filter((s) => s !== starting && s.process && !s.process.exited && !s.busy && s.queue.length === 0)
        .sort((a, b) => a.record.lastActivityAt - b.record.lastActivityAt)[0];
      if (!idle || !(await this.park(idle))) return;
    }
  }

  private async parkIdle(): Promise<void> {
    const { parkAfterMs } = this.deps.settings;
    if (parkAfterMs <= 0) return;
    const now = this.deps.clock.now();
    for (const session of [...this.live.values()]) {
      if (now - session.record.lastActivityAt < parkAfterMs) continue;
      await this.park(session).catch((err: unknown) =>
        this.deps.logger.error({ err, sessionId: session.id }, 'could not park a session'),
      );
    }
  }

  /**
   * Retention of the event log: open sessions lose their events older than the retention time,
   * except messages (the history stays whole) and each turn's final event; ended sessions lose
   * their whole log and transcript. Runs hourly.
   */
  private async pruneEventLogs(): Promise<void> {
    const retention = this.deps.settings.eventRetentionMs;
    if (retention <= 0) return;
    const before = this.deps.clock.now() - retention;
    for (const session of this.live.values()) await this.deps.store.pruneEvents(session.id, before);
    await this.deps.store.purgeEndedSessions(before);
  }

  private lastPrune = 0;

  private async sweep(): Promise<void> {
    await this.parkIdle();
    if (this.deps.clock.now() - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = this.deps.clock.now();
      await this.pruneEventLogs().catch((err: unknown) =>
        this.deps.logger.error({ err }, 'event log retention failed'),
      );
    }
    await this.expireIdle();
    await this.removeEndedWorkspaces().catch((err: unknown) =>
      this.deps.logger.error({ err }, 'workspace retention sweep failed'),
    );
  }

  private async expireIdle(): Promise<void> {
    const now = this.deps.clock.now();
    for (const session of [...this.live.values()]) {
      if (session.busy || session.ending || this.expiresAt(session) > now) continue;
      await this.endSession(session, 'expired').catch((err: unknown) => {
        this.deps.logger.error({ err, sessionId: session.id }, 'could not expire a session');
      });
    }
  }
}

/** Session creates past the cap checks, per key and in total, and the cwds they will work in. */
class Reservations {
  total = 0;
  private readonly byKey = new Map<string, number>();
  readonly cwds = new Set<string>();

  add(keyId: string, cwd: string | null): void {
    this.total++;
    this.byKey.set(keyId, this.of(keyId) + 1);
    if (cwd) this.cwds.add(cwd);
  }

  remove(keyId: string, cwd: string | null): void {
    if (cwd) this.cwds.delete(cwd);
    this.total--;
    const left = this.of(keyId) - 1;
    if (left > 0) this.byKey.set(keyId, left);
    else this.byKey.delete(keyId);
  }

  of(keyId: string): number {
    return this.byKey.get(keyId) ?? 0;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
