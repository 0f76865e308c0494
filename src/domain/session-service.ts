/**
 * Sessions: create, read, list, end. The live sessions are the registry's
 * (session-registry.ts), their processes the pool's (process-pool.ts), and the periodic work
 * (parking, expiry, retention) the housekeeping's; this is what a client asks of sessions.
 */
import type { Admission } from './admission.js';
import type { Checkpoints } from './checkpoints.js';
import type { FilesService } from './files-service.js';
import { cwdRefused, seedNeedsOwnWorkspace, sessionNotFound } from './error-situations.js';
import type { EventLog } from './event-log.js';
import { newClaudeSessionId, newSessionId } from './ids.js';
import type { IdempotencyClaim } from './idempotency.js';
import type { Policies } from './key-policy.js';
import type { PermissionBroker } from './permissions.js';
import type { Placement } from './placement.js';
import type { AgentRunner, Clock, Logger, Workspaces } from './ports.js';
import type { ProcessPool } from './process-pool.js';
import type { BucketDecision, RateLimits } from './rate-limits.js';
import type { SessionRegistry } from './session-registry.js';
import { grantSession, modelToRun, type SessionGrant } from './session-policy.js';
import { snapshotOfRecord, type SessionRuntime, type SessionSnapshot } from './session-runtime.js';
import { SessionTotals } from './session-totals.js';
import type { Stores } from './stores.js';
import { workspaceConflict } from './workspace-rules.js';
import type {
  ApiKeyRecord,
  Page,
  PermissionMode,
  SessionConfig,
  SessionEndReason,
  SessionRecord,
} from './types.js';
import type { TokenUsage } from './events.js';

export interface SessionSettings {
  idleExpiryMs: number;
  /** How long the own workspace of an ended session is kept before it is removed. */
  workspaceRetentionMs: number;
  defaultModel: string | null;
  /** Requested model id → what Claude Code is told (retired ids to current aliases). */
  modelMap: Record<string, string>;
  defaultPermissionMode: PermissionMode;
  /** Tools no session may use (DISALLOWED_TOOLS). */
  disallowedTools: readonly string[];
  /** The model API is simulated (COSTS_SIMULATED, the offline demo): usage figures say so. */
  costsSimulated?: boolean;
  /**
   * This instance alone writes the sessions' logs (no other instance shares the database): a
   * session's totals are kept between reads (SessionTotals).
   */
  soleWriter?: boolean;
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
  /** Files to write into the new workspace. */
  files?: Array<{ path: string; content: string; encoding: 'utf8' | 'base64' }>;
  /** A repository to clone into the new workspace. */
  git?: { url: string; ref?: string };
}

/**
 * How a new session's workspace and conversation begin, besides empty: a seed of files or a
 * clone, or a fork's copy. A failure removes the workspace and creates nothing.
 */
export interface SessionSeed {
  populate(cwd: string): Promise<void>;
  /** The Claude Code conversation to continue (a fork's copy); absent: a new one. */
  conversation?(cwd: string): Promise<string>;
  forkedFrom?: { sessionId: string; messageId: string };
}

/** Fills a new workspace from a repository (src/adapters/git/git-cloner.ts). */
export interface RepositorySeeder {
  /** Throws the situation's error (remote not allowed, clone failed) and leaves `cwd` as it was. */
  clone(key: ApiKeyRecord, git: { url: string; ref?: string }, cwd: string): Promise<void>;
}

export interface SessionServiceDeps {
  stores: Pick<Stores, 'sessions' | 'events' | 'usage'>;
  registry: SessionRegistry;
  pool: ProcessPool;
  runner: AgentRunner;
  workspaces: Workspaces;
  events: EventLog;
  permissions: PermissionBroker;
  rateLimits: RateLimits;
  policies: Policies;
  admission: Admission;
  /** With several instances, a new session is claimed for this one before it is stored. */
  placement?: Pick<Placement, 'claimNew'>;
  clock: Clock;
  logger: Logger;
  settings: SessionSettings;
  /** Writes `files` seeds (absent: a seed is refused). */
  files?: Pick<FilesService, 'seed'>;
  /** Clones `git` seeds (absent: a seed is refused). */
  repositories?: RepositorySeeder;
  /** Their snapshots go with the workspaces. */
  checkpoints?: Pick<Checkpoints, 'remove'>;
}

/** What GET /sessions/:id shows. */
export interface SessionDetails {
  session: SessionSnapshot;
  expiresAt: number;
  messageCount: number;
  usage: TokenUsage;
  costUsd: number;
  costSimulated: boolean;
}

/** How long ending a session waits for its running turn to stop after the interrupt. */
const END_INTERRUPT_WAIT_MS = 10_000;

export class SessionService {
  private readonly totals: SessionTotals;

  constructor(private readonly deps: SessionServiceDeps) {
    this.totals = new SessionTotals({
      stores: deps.stores,
      events: deps.events,
      soleWriter: deps.settings.soleWriter === true,
    });
  }

  /** Loads the active sessions of the store into the registry (at start). */
  async load(): Promise<void> {
    this.deps.registry.load(await this.deps.stores.sessions.listActiveSessions());
  }

  async create(
    key: ApiKeyRecord,
    input: CreateSessionInput,
    idempotency?: IdempotencyClaim,
    origin?: SessionSeed,
  ): Promise<{ session: SessionRuntime; rateLimit: BucketDecision }> {
    this.deps.admission.assertAccepting();
    const { settings, stores, workspaces, rateLimits, runner, registry } = this.deps;
    const policy = this.deps.policies.of(key);
    const grant = grantSession(input, policy, {
      defaultPermissionMode: settings.defaultPermissionMode,
      disallowedTools: settings.disallowedTools,
      bypass: runner.bypassPermissions(),
    });
    let external: string | null = null;
    const seed = origin ?? this.seedOf(key, input);
    if (input.cwd !== undefined) {
      if (seed) throw seedNeedsOwnWorkspace();
      const resolved = await workspaces.resolveExternal(input.cwd, policy.workspaceRoots);
      if (!resolved.ok) throw cwdRefused(resolved.reason, input.cwd);
      external = resolved.path;
    }
    // The place is held in the same synchronous step as the cap and workspace checks, before
    // anything is spent or awaited: parallel creates can neither exceed a cap, nor claim
    // overlapping folders, nor spend quota on a refusal.
    if (external) {
      const conflict = workspaceConflict(external, {
        roots: policy.workspaceRoots,
        inUse: registry.cwdsInUse(),
      });
      if (conflict) throw conflict;
    }
    const release = registry.reserve(key, policy.maxConcurrentSessions, external);
    let record: SessionRecord;
    let rateLimit: BucketDecision;
    try {
      rateLimit = await rateLimits.take(key, 'sessions');
      record = await this.newRecord(key, input, grant, external, seed);
      try {
        if (seed) record = await this.seeded(record, seed);
        await this.deps.placement?.claimNew(record.id);
        await stores.sessions.insertSession(record, idempotency?.record(record.id, null));
      } catch (err) {
        await this.deps.pool.spares.drop(record.id);
        throw err;
      }
    } finally {
      release();
    }
    if (grant.permissionMode === 'bypassPermissions') {
      this.deps.logger.warn({ sessionId: record.id, keyId: key.id }, 'session runs with bypassPermissions');
    }
    const session = registry.add(record);
    idempotency?.release();
    this.deps.pool.warmUp(session);
    return { session, rateLimit };
  }

  private seedOf(key: ApiKeyRecord, input: CreateSessionInput): SessionSeed | null {
    const { files, git } = input;
    if (!files?.length && !git) return null;
    const { files: writer, repositories } = this.deps;
    return {
      populate: async (cwd) => {
        // The clone first: git wants an empty folder (its project boundary aside), then the files.
        if (git) {
          if (!repositories) throw new Error('git seeds are not configured');
          await repositories.clone(key, git, cwd);
        }
        if (files?.length) {
          if (!writer) throw new Error('file seeds are not configured');
          await writer.seed(
            cwd,
            files.map((f) => ({ path: f.path, content: Buffer.from(f.content, f.encoding) })),
          );
        }
      },
    };
  }

  /** Fills the new record's workspace; on failure the workspace goes and nothing is created. */
  private async seeded(record: SessionRecord, seed: SessionSeed): Promise<SessionRecord> {
    const { cwd } = record.config;
    try {
      await seed.populate(cwd);
      const claudeSessionId = seed.conversation ? await seed.conversation(cwd) : record.claudeSessionId;
      const config = seed.forkedFrom ? { ...record.config, forkedFrom: seed.forkedFrom } : record.config;
      return { ...record, claudeSessionId, config };
    } catch (err) {
      await this.removeWorkspace(record.id, cwd);
      throw err;
    }
  }

  /** The session's conversation goes on from another Claude Code session (a rewind's copy). */
  async switchConversation(session: SessionRuntime, claudeSessionId: string): Promise<void> {
    await this.deps.stores.sessions.updateSession(session.id, { claudeSessionId });
    session.switchConversation(claudeSessionId);
  }

  private async newRecord(
    key: ApiKeyRecord,
    input: CreateSessionInput,
    grant: SessionGrant,
    externalCwd: string | null,
    seed: SessionSeed | null,
  ): Promise<SessionRecord> {
    const { settings, workspaces, clock } = this.deps;
    const now = clock.now();
    const requestedModel = input.model ?? settings.defaultModel;
    const model = modelToRun(requestedModel, settings.modelMap);
    const systemPrompt = input.systemPrompt ?? null;
    const appendSystemPrompt = input.appendSystemPrompt ?? null;
    // A prewarmed process, started in the workspace made for this session (spare-pool.ts). Not
    // for a fork: it continues a copied conversation, which Claude Code resumes and no spare can.
    const spareAllowed = externalCwd === null && !seed?.conversation;
    const spare = spareAllowed
      ? await this.deps.pool.spares.take({
          model,
          ...grant,
          systemPrompt,
          appendSystemPrompt,
          seeded: seed !== null,
        })
      : null;
    const id = spare?.sessionId ?? newSessionId();
    const config: SessionConfig = {
      requestedModel,
      model,
      permissionMode: grant.permissionMode,
      maxTurns: grant.maxTurns,
      cwd: externalCwd ?? spare?.cwd ?? (await workspaces.create(id)),
      workspace: externalCwd ? 'external' : 'owned',
      systemPrompt,
      appendSystemPrompt,
      allowedTools: grant.allowedTools,
      disallowedTools: grant.disallowedTools,
    };
    return {
      id,
      keyId: key.id,
      status: 'active',
      config,
      metadata: input.metadata ?? {},
      claudeSessionId: spare?.claudeSessionId ?? newClaudeSessionId(),
      createdAt: now,
      lastActivityAt: now,
      endedAt: null,
      endReason: null,
    };
  }

  /**
   * A session as it is now, live or ended, for a retried create (same Idempotency-Key) that must
   * answer with the session the first one made.
   */
  async current(sessionId: string): Promise<SessionSnapshot> {
    const live = this.deps.registry.peek(sessionId);
    if (live) return live.snapshot();
    const stored = await this.deps.stores.sessions.getSession(sessionId);
    if (!stored) throw sessionNotFound(sessionId);
    return snapshotOfRecord(stored);
  }

  async list(key: ApiKeyRecord, page: { limit: number; offset: number }): Promise<Page<SessionSnapshot>> {
    const result = await this.deps.stores.sessions.listSessions(key.id, page);
    return {
      total: result.total,
      items: result.items.map(
        (record) => this.deps.registry.peek(record.id)?.snapshot() ?? snapshotOfRecord(record),
      ),
    };
  }

  async details(key: ApiKeyRecord, sessionId: string): Promise<SessionDetails> {
    const session = this.deps.registry.find(key, sessionId);
    const { messageCount, usage, costUsd } = await this.totals.of(sessionId);
    return {
      session: session.snapshot(),
      expiresAt: this.expiresAt(session.record),
      messageCount,
      usage,
      costUsd,
      costSimulated: this.deps.settings.costsSimulated === true,
    };
  }

  /** Ends a session: withdraws its questions, stops its turns and process, removes its own workspace. */
  async end(key: ApiKeyRecord, sessionId: string): Promise<void> {
    await this.endSession(this.deps.registry.find(key, sessionId), 'deleted');
  }

  async touch(session: SessionRuntime): Promise<void> {
    session.touch(this.deps.clock.now());
    await this.deps.stores.sessions.updateSession(session.id, {
      lastActivityAt: session.record.lastActivityAt,
    });
  }

  expiresAt(record: SessionRecord): number {
    return record.lastActivityAt + this.deps.settings.idleExpiryMs;
  }

  /** Ends every session idle for longer than SESSION_IDLE_EXPIRY_SECONDS (the housekeeping sweep). */
  async expireIdle(): Promise<void> {
    const now = this.deps.clock.now();
    for (const session of this.deps.registry.all()) {
      if (session.busy || session.ending || this.expiresAt(session.record) > now) continue;
      await this.endSession(session, 'expired').catch((err: unknown) => {
        this.deps.logger.error({ err, sessionId: session.id }, 'could not expire a session');
      });
    }
  }

  private async endSession(session: SessionRuntime, reason: SessionEndReason): Promise<void> {
    const now = this.deps.clock.now();
    if (!session.markEnded(now, reason)) return;
    await this.deps.stores.sessions.updateSession(session.id, {
      status: 'ended',
      endedAt: now,
      endReason: reason,
    });
    // Open questions are answered first, as the session's end (not as an interrupt).
    await this.deps.permissions.withdrawAll(session.id);
    const { queued, running } = session.turnsToStop();
    // Queued turns are cancelled first, so none starts when the running one ends.
    for (const turn of queued) await turn.interrupt();
    if (running) {
      await running.interrupt();
      await Promise.race([running.done, delay(END_INTERRUPT_WAIT_MS)]);
    }
    await session.closeProcess();
    await this.deps.pool.spares.release(session.id);
    this.deps.registry.remove(session.id);
    await this.deps.events.forget(session.id);
    this.totals.forget(session.id);
    // Kept for WORKSPACE_RETENTION_SECONDS (removeEndedWorkspaces), unless that is zero.
    if (session.record.config.workspace === 'owned' && this.deps.settings.workspaceRetentionMs === 0) {
      await this.removeWorkspace(session.id, session.record.config.cwd);
    } else if (session.record.config.workspace === 'external') {
      // The folder is the client's and stays; the server's snapshots of it go.
      await this.deps.checkpoints?.remove(session.id).catch(() => undefined);
    }
    this.deps.logger.info({ sessionId: session.id, reason }, 'session ended');
  }

  /**
   * Removes the workspaces of sessions that ended longer ago than the retention time, and any
   * workspace without a session (left by a crash between the two writes).
   */
  async removeEndedWorkspaces(): Promise<number> {
    const now = this.deps.clock.now();
    let removed = 0;
    for (const { sessionId, path } of await this.deps.workspaces.list()) {
      if (this.deps.registry.has(sessionId) || this.deps.pool.spares.holdsWorkspace(sessionId)) continue;
      const record = await this.deps.stores.sessions.getSession(sessionId);
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
    await this.deps.checkpoints?.remove(sessionId).catch((err: unknown) => {
      this.deps.logger.warn({ err, sessionId }, 'could not remove the workspace snapshots');
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
