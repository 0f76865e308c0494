/**
 * The composition root: the one place that picks the adapters for the ports, from config.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { ClaudeSdkRunner } from './adapters/claude-sdk/claude-sdk-runner.js';
import { probeIsolation } from './adapters/claude-sdk/isolation-probe.js';
import { FsSharedVolume } from './adapters/fs/shared-volume.js';
import { FsFileContents } from './adapters/fs/fs-file-contents.js';
import { FsWorkspaces } from './adapters/fs/fs-workspaces.js';
import { FsWorkspaceFiles } from './adapters/fs/fs-workspace-files.js';
import { GitCloner } from './adapters/git/git-cloner.js';
import { ShadowGitSnapshots } from './adapters/git/shadow-git.js';
import { Checkpoints } from './domain/checkpoints.js';
import { FilesService } from './domain/files-service.js';
import { WorkspaceHistory } from './domain/workspace-history.js';
import { MemoryEventBus } from './adapters/memory/memory-event-bus.js';
import { MemoryRateLimiter } from './adapters/memory/memory-rate-limiter.js';
import { openRedis, type RedisServices } from './adapters/redis/index.js';
import { systemClock } from './adapters/system-clock.js';
import { Admission } from './domain/admission.js';
import { EventLog } from './domain/event-log.js';
import { Housekeeping } from './domain/housekeeping.js';
import { Idempotency } from './domain/idempotency.js';
import { KeyAdmin } from './domain/key-admin.js';
import { ManagedAgents } from './domain/managed-agents/agents.js';
import { ManagedEnvironments } from './domain/managed-agents/environments.js';
import { ManagedFiles } from './domain/managed-agents/files.js';
import { ManagedRecords } from './domain/managed-agents/records.js';
import { ManagedSessions } from './domain/managed-agents/sessions.js';
import { KeyService } from './domain/key-service.js';
import { Policies } from './domain/key-policy.js';
import { PermissionBroker } from './domain/permissions.js';
import type { AgentRunner, Clock, InstanceInfo, Ownership, WorkspaceSnapshots } from './domain/ports.js';
import type { Stores } from './domain/stores.js';
import { openDatabase, StartupError } from './composition-stores.js';
import { ClusterPlacement } from './domain/cluster-placement.js';
import { modelToRun } from './domain/session-policy.js';
import { SoloPlacement, type Placement } from './domain/placement.js';

export { openKeyAdmin, openStores, StartupError } from './composition-stores.js';
import { ProcessPool } from './domain/process-pool.js';
import type { SpareTemplate } from './domain/spare-template.js';
import { RateLimits } from './domain/rate-limits.js';
import { ServerStatus } from './domain/server-status.js';
import { SessionRegistry } from './domain/session-registry.js';
import { SessionService } from './domain/session-service.js';
import { StreamAttach } from './domain/stream-attach.js';
import { TurnService } from './domain/turn-service.js';
import { UsageReport } from './domain/usage-report.js';
import type { AppDeps, ManagedAgentsServices } from './http/app-deps.js';
import { StreamRegistry } from './http/stream-registry.js';
import { createLogger } from './logging.js';

export interface Overrides {
  /** Stores to run on instead of the configured ones (always a single instance). */
  stores?: Stores;
  runner?: AgentRunner;
  clock?: Clock;
  logger?: Logger;
  /** Workspace snapshots instead of the shadow git repositories. */
  snapshots?: WorkspaceSnapshots;
}

export interface Server {
  deps: AppDeps;
  /** For tests and tools that look beneath the API; routes go through the services in `deps`. */
  stores: Stores;
  pool: ProcessPool;
  housekeeping: Housekeeping;
  /** The workspaces' snapshots (what the checkpoints of every session are kept in). */
  snapshots: WorkspaceSnapshots;
  /** Where sessions are served: here only, or across the instances sharing the database. */
  placement: Placement;
  logger: Logger;
  /** Stops every Claude Code process, gives this instance's sessions up, and closes the store. */
  shutdown(): Promise<void>;
}

export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  try {
    return (require('../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Whether Claude Code and the agent's commands run sandboxed: SANDBOX_MODE, and what this machine
 * can do; null when they do not. Running without the sandbox is always said loudly, since Claude
 * Code's file tools then work as the server's user (only Claude Code's path checks confine them)
 * and the agent's commands can reach the network and read Claude Code's credentials.
 */
function sandboxDecision(config: Config, logger: Logger): { nestedProc: 'fresh' | 'bind' } | null {
  if (config.sandboxMode === 'off') {
    logger.warn(
      "SANDBOX_MODE=off: Claude Code and the agent's commands run UNSANDBOXED, as the server's user (network, whole file system, Claude Code's credentials)",
    );
    return null;
  }
  const support = probeIsolation();
  if (support.problem === null) {
    logger.info(
      { sandboxMode: config.sandboxMode, nestedProc: support.nestedProc },
      "Claude Code runs in a sandbox of its own, and the agent's commands in Claude Code's sandbox inside it",
    );
    return { nestedProc: support.nestedProc };
  }
  if (config.sandboxMode === 'required') {
    logger.error(
      { problem: support.problem },
      'SANDBOX_MODE=required but the sandbox cannot run here: every turn will fail',
    );
    return { nestedProc: support.nestedProc };
  }
  logger.warn(
    { problem: support.problem },
    "the sandbox is not available: Claude Code and the agent's commands run UNSANDBOXED (set SANDBOX_MODE=required to refuse instead)",
  );
  return null;
}

/**
 * What sandboxed commands may not read: the server's data dir (database, Claude Code's
 * transcripts, other sessions' workspaces; a session's own workspace stays readable) and the
 * server user's keys and cloud credentials.
 */
function sandboxDenyRead(config: Config): string[] {
  return [config.dataDir, '~/.ssh', '~/.aws', '~/.config/gcloud', '~/.docker', '~/.gnupg', '~/.netrc'];
}

/** Where the shadow repositories of the workspaces' snapshots are kept (hidden from the agent). */
function snapshotsDir(config: Config): string {
  return path.join(config.dataDir, 'snapshots');
}

/** Where the sessions' own workspaces are made. */
function workspacesDir(config: Config): string {
  return path.join(config.dataDir, 'workspaces');
}

/**
 * This instance's own files in the data dir: the registry of its Claude Code processes and the
 * marker of its temp dir, which its next start cleans up. Several instances share one data dir
 * (the workspaces must be shared), so each keeps them in a folder named after its INSTANCE_URL,
 * which stays the same across its restarts; a single instance keeps them where they always were.
 */
export function instanceStateDir(config: Pick<Config, 'dataDir' | 'instanceUrl'>): string {
  if (!config.instanceUrl) return config.dataDir;
  const name = createHash('sha256').update(config.instanceUrl).digest('hex').slice(0, 16);
  const dir = path.join(config.dataDir, 'instances', name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** What spares start with: the options a plain `POST /sessions {}` gets (spare-template.ts). */
function spareTemplate(config: Config): SpareTemplate {
  return {
    model: modelToRun(config.defaultModel, config.modelMap),
    permissionMode: config.defaultPermissionMode,
    maxTurns: config.policyDefaults.maxTurns ?? null,
    allowedTools: [],
    disallowedTools: [...new Set(config.disallowedTools)],
  };
}

/** The real runner. The sandbox is probed here: a test's own runner has no use for it. */
function claudeSdkRunner(config: Config, stores: Stores, logger: Logger): ClaudeSdkRunner {
  const ownDir = instanceStateDir(config);
  const sandbox = sandboxDecision(config, logger);
  return new ClaudeSdkRunner({
    claudeConfigDir: path.join(config.dataDir, 'claude'),
    places: { dataDir: config.dataDir, workspacesDir: workspacesDir(config) },
    envSource: config.agentEnvSource,
    settingSources: config.claudeSettingSources,
    executable: config.claudeCodeExecutable,
    logStderr: config.claudeCodeStderrLog,
    sandbox: sandbox
      ? {
          denyRead: sandboxDenyRead(config),
          allowedDomains: [],
          extraReadPaths: config.sandboxExtraReadPaths,
          nestedProc: sandbox.nestedProc,
          wholeProcess: config.sandboxWholeProcess,
        }
      : null,
    confineFileTools: config.fileToolsConfined,
    tmpMarkerFile: path.join(ownDir, 'agent-tmp-dir'),
    processRegistryDir: path.join(ownDir, 'processes'),
    transcripts: stores.transcripts,
    logger,
  });
}

export async function compose(config: Config, overrides: Overrides = {}): Promise<Server> {
  const logger = overrides.logger ?? createLogger(config);
  const clock = overrides.clock ?? systemClock;
  const { stores, ownership } = overrides.stores
    ? { stores: overrides.stores, ownership: null }
    : await openDatabase(config);
  const redis = config.redisUrl ? await openSharedServices(config, logger, stores) : null;
  const runner = overrides.runner ?? claudeSdkRunner(config, stores, logger);
  const events = new EventLog(stores.events, redis?.bus ?? new MemoryEventBus(), clock);
  const policies = new Policies(config.policyDefaults);
  const rateLimits = new RateLimits(redis?.limiter ?? new MemoryRateLimiter(clock), policies, clock);
  const keys = new KeyService(stores.keys, clock);
  const admission = new Admission();
  const registry = new SessionRegistry(config.maxLiveSessions);
  const workspaces = new FsWorkspaces(workspacesDir(config), config.dataDir);
  const pool = new ProcessPool({
    registry,
    runner,
    stores,
    admission,
    clock,
    logger,
    settings: {
      maxLiveProcesses: config.maxLiveProcesses,
      processWaitMaxMs: config.processWaitMaxMs,
      prewarmProcesses: config.prewarmProcesses,
    },
    workspaces,
    spareTemplate: spareTemplate(config),
  });
  const permissions = new PermissionBroker({
    events,
    clock,
    logger,
    settings: { timeoutMs: config.permissionTimeoutMs, defaultDecision: config.permissionDefaultDecision },
  });
  // The files API and the snapshots check each workspace as each start of Claude Code does.
  const places = { dataDir: config.dataDir, workspacesDir: workspacesDir(config) };
  const snapshots = overrides.snapshots ?? new ShadowGitSnapshots(snapshotsDir(config), places);
  const checkpoints = new Checkpoints(snapshots, logger, () => clock.now());
  const uploadLimits = {
    fileLimitBytes: config.fileUploadLimitBytes,
    workspaceMaxBytes: config.workspaceMaxBytes,
  };
  const files = new FilesService({
    registry,
    files: new FsWorkspaceFiles(places),
    checkpoints,
    logger,
    limits: uploadLimits,
  });
  const sessions = new SessionService({
    files,
    checkpoints,
    repositories: new GitCloner({ policies, timeoutMs: config.gitCloneTimeoutMs, logger }),
    stores,
    registry,
    pool,
    runner,
    workspaces,
    events,
    permissions,
    rateLimits,
    policies,
    admission,
    placement: { claimNew: (sessionId) => placement.claimNew(sessionId) },
    clock,
    logger,
    settings: {
      idleExpiryMs: config.sessionIdleExpiryMs,
      workspaceRetentionMs: config.workspaceRetentionMs,
      defaultModel: config.defaultModel,
      modelMap: config.modelMap,
      defaultPermissionMode: config.defaultPermissionMode,
      disallowedTools: config.disallowedTools,
      costsSimulated: config.costsSimulated,
      // Several instances share a database with an ownership table (and Redis); one alone writes
      // every log it serves.
      soleWriter: ownership === null && !config.redisUrl,
    },
  });
  const turns = new TurnService({
    stores,
    registry,
    pool,
    sessions,
    admission,
    events,
    rateLimits,
    policies,
    permissions,
    clock,
    logger,
    maxTimeoutMs: config.turnTimeoutMaxMs,
    maxQueuedTurns: config.queueMaxTurns,
    costsSimulated: config.costsSimulated,
    checkpoints,
  });
  const history = new WorkspaceHistory({
    stores,
    registry,
    sessions,
    events,
    checkpoints,
    runner,
    clock,
    logger,
  });
  const idempotency = new Idempotency(stores.idempotency, clock, config.idempotencyRetentionMs);
  const housekeeping = new Housekeeping({
    sessions,
    registry,
    pool,
    idempotency,
    stores,
    clock,
    logger,
    settings: {
      idleExpiryMs: config.sessionIdleExpiryMs,
      parkAfterMs: config.sessionParkAfterMs,
      eventRetentionMs: config.eventRetentionMs,
    },
  });

  const managed = managedAgentsServices(config, stores, clock, { sessions, registry, turns, permissions });

  const placement: Placement = ownership
    ? clusterPlacement(config, ownership, { registry, stores, events, turns, logger })
    : new SoloPlacement(registry, events);
  if (!placement.clustered) {
    // One instance: every session is this one's, and what a previous run left is recovered now.
    // With several, each session is taken over (and recovered) by one instance, when its owner
    // is gone (ClusterPlacement, once the server listens).
    const recovered = await turns.recoverInterrupted();
    if (recovered.interrupted > 0) {
      logger.warn(
        { turns: recovered.interrupted },
        'marked turns left running by a previous server as interrupted',
      );
    }
    await sessions.load();
    const requeued = await turns.requeue(recovered.queued);
    if (requeued > 0) logger.info({ turns: requeued }, 'queued turns of a previous server run again');
  }
  housekeeping.start();

  const deps: AppDeps = {
    settings: {
      bodyLimitBytes: config.bodyLimitBytes,
      turnTimeoutMaxMs: config.turnTimeoutMaxMs,
      ssePingIntervalMs: config.ssePingIntervalMs,
      sseRetryMs: config.sseRetryMs,
      sseMaxEventBytes: config.sseMaxEventBytes,
      sseStallTimeoutMs: config.sseStallTimeoutMs,
      trustProxy: config.trustProxy,
      modelMap: config.modelMap,
      defaultModel: config.defaultModel,
      instanceUrl: config.instanceUrl,
    },
    keys,
    keyAdmin: new KeyAdmin(stores.keys, clock, () => keys.forget()),
    sessions,
    registry,
    turns,
    files,
    history,
    events,
    streamAttach: new StreamAttach({ stores, events }),
    usage: new UsageReport({ stores, policies, clock, costsSimulated: config.costsSimulated }),
    status: new ServerStatus({
      stores,
      registry,
      admission,
      runner,
      services: redis ? { redis: () => redis.ping() } : {},
      leaseAlive: () => placement.healthy(),
      spares: () => pool.spares.counts,
    }),
    placement,
    admission,
    idempotency,
    streams: new StreamRegistry(),
    permissions,
    rateLimits,
    policies,
    runner,
    managed,
    clock,
    version: packageVersion(),
    startedAt: clock.now(),
  };
  return {
    deps,
    stores,
    pool,
    housekeeping,
    snapshots,
    placement,
    logger,
    async shutdown() {
      housekeeping.stop();
      await pool.stopAll();
      // Only once no process of ours runs: the other instances take the sessions over now.
      await placement.stop().catch((err: unknown) => logger.error({ err }, 'could not leave the instances'));
      await runner.close();
      await redis?.close();
      await stores.close();
    },
  };
}

/** Redis (REDIS_URL): the rate limits and live events the instances share. */
async function openSharedServices(config: Config, logger: Logger, stores: Stores): Promise<RedisServices> {
  try {
    return await openRedis(config.redisUrl ?? '', config.redisKeyPrefix, logger);
  } catch (err) {
    await stores.close();
    throw new StartupError((err as Error).message);
  }
}

/** Several instances share the database: this one, its lease, and the shared workspaces check. */
function clusterPlacement(
  config: Config,
  ownership: Ownership,
  deps: Pick<
    ConstructorParameters<typeof ClusterPlacement>[0],
    'registry' | 'stores' | 'events' | 'turns' | 'logger'
  >,
): ClusterPlacement {
  if (!config.redisUrl) {
    deps.logger.warn(
      {},
      'DATABASE_URL without REDIS_URL: with more than one instance, streams see only the events of ' +
        'turns on their own instance, and rate limits count per instance',
    );
  }
  const instance: InstanceInfo = {
    // New at every start: a restarted instance's old lease runs out, and its sessions are taken over.
    id: `inst_${randomBytes(8).toString('hex')}`,
    url: config.instanceUrl ?? '',
  };
  return new ClusterPlacement({
    ...deps,
    instance,
    leaseMs: config.instanceLeaseMs,
    ownership,
    volume: new FsSharedVolume(workspacesDir(config)),
  });
}

/** The Managed Agents API's services (/v1, docs/managed-agents.md), over the seed's own. */
function managedAgentsServices(
  config: Config,
  stores: Stores,
  clock: Clock,
  seed: {
    sessions: SessionService;
    registry: SessionRegistry;
    turns: TurnService;
    permissions: PermissionBroker;
  },
): ManagedAgentsServices {
  const records = new ManagedRecords(stores.managed, clock);
  const contents = new FsFileContents(path.join(config.dataDir, 'files'));
  const agents = new ManagedAgents(records);
  const environments = new ManagedEnvironments(records);
  const files = new ManagedFiles(records, contents, config.managedFileMaxBytes);
  const sessions = new ManagedSessions({
    records,
    stores,
    ...seed,
    agents,
    environments,
    files,
    contents,
    serverDisallowedTools: config.disallowedTools,
  });
  return { agents, environments, files, sessions };
}
