/**
 * The composition root: the one place that picks the adapters for the ports, from config.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { ClaudeSdkRunner } from './adapters/claude-sdk/claude-sdk-runner.js';
import { probeIsolation } from './adapters/claude-sdk/isolation-probe.js';
import { FsWorkspaces } from './adapters/fs/fs-workspaces.js';
import { MemoryEventBus } from './adapters/memory/memory-event-bus.js';
import { MemoryRateLimiter } from './adapters/memory/memory-rate-limiter.js';
import { SqliteSessionStore } from './adapters/sqlite/index.js';
import { systemClock } from './adapters/system-clock.js';
import { EventLog } from './domain/event-log.js';
import { Idempotency } from './domain/idempotency.js';
import { KeyAdmin } from './domain/key-admin.js';
import { KeyService } from './domain/key-service.js';
import { Policies } from './domain/key-policy.js';
import { PermissionBroker } from './domain/permissions.js';
import type { AgentRunner, Clock, SessionStore } from './domain/ports.js';
import { RateLimits } from './domain/rate-limits.js';
import { SessionService } from './domain/session-service.js';
import { TurnService } from './domain/turn-service.js';
import type { AppDeps } from './http/app-deps.js';
import { StreamRegistry } from './http/stream-registry.js';
import { createLogger } from './logging.js';

export interface Overrides {
  store?: SessionStore;
  runner?: AgentRunner;
  clock?: Clock;
  logger?: Logger;
}

export interface Server {
  deps: AppDeps;
  logger: Logger;
  /** Stops every Claude Code process and closes the store. */
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
 * Whether the agent's commands run sandboxed: SANDBOX_MODE, and what this machine can do.
 * Running without the sandbox is always said loudly, since the agent's commands can then reach
 * the network and read Claude Code's credentials.
 */
function sandboxDecision(config: Config, logger: Logger): boolean {
  if (config.sandboxMode === 'off') {
    logger.warn(
      "SANDBOX_MODE=off: the agent's commands run UNSANDBOXED (network, whole file system, Claude Code's credentials)",
    );
    return false;
  }
  const support = probeIsolation();
  if (support.problem === null) {
    logger.info({ sandboxMode: config.sandboxMode }, "the agent's commands run in Claude Code's sandbox");
    return true;
  }
  if (config.sandboxMode === 'required') {
    logger.error(
      { problem: support.problem },
      'SANDBOX_MODE=required but the sandbox cannot run here: every turn will fail',
    );
    return true;
  }
  logger.warn(
    { problem: support.problem },
    "the sandbox is not available: the agent's commands run UNSANDBOXED (set SANDBOX_MODE=required to refuse instead)",
  );
  return false;
}

/**
 * What sandboxed commands may not read: the server's data dir (database, Claude Code's
 * transcripts, other sessions' workspaces; a session's own workspace stays readable) and the
 * server user's keys and cloud credentials.
 */
function sandboxDenyRead(config: Config): string[] {
  return [config.dataDir, '~/.ssh', '~/.aws', '~/.config/gcloud', '~/.docker', '~/.gnupg', '~/.netrc'];
}

/** The real runner. The sandbox is probed here: a test's own runner has no use for it. */
function claudeSdkRunner(config: Config, store: SessionStore, logger: Logger): ClaudeSdkRunner {
  const sandbox = sandboxDecision(config, logger);
  return new ClaudeSdkRunner({
    claudeConfigDir: path.join(config.dataDir, 'claude'),
    envSource: config.agentEnvSource,
    settingSources: config.claudeSettingSources,
    executable: config.claudeCodeExecutable,
    logStderr: config.claudeCodeStderrLog,
    sandbox: sandbox ? { denyRead: sandboxDenyRead(config), allowedDomains: [] } : null,
    confineFileTools: config.fileToolsConfined,
    tmpMarkerFile: path.join(config.dataDir, 'agent-tmp-dir'),
    processRegistryDir: path.join(config.dataDir, 'processes'),
    transcripts: store instanceof SqliteSessionStore ? store.transcripts() : null,
    logger,
  });
}

export async function compose(config: Config, overrides: Overrides = {}): Promise<Server> {
  const logger = overrides.logger ?? createLogger(config);
  const clock = overrides.clock ?? systemClock;
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = overrides.store ?? SqliteSessionStore.open(config.dataDir);
  const runner = overrides.runner ?? claudeSdkRunner(config, store, logger);
  const events = new EventLog(store, new MemoryEventBus(), clock);
  const policies = new Policies({
    rateLimits: config.rateLimits,
    ...config.keyDefaults,
    permissionModes: config.allowedPermissionModes,
    workspaceRoots: config.workspaceRoots,
  });
  const rateLimits = new RateLimits(new MemoryRateLimiter(clock), policies, clock);
  const keys = new KeyService(store, clock);
  const sessions = new SessionService({
    store,
    runner,
    workspaces: new FsWorkspaces(path.join(config.dataDir, 'workspaces'), config.dataDir),
    events,
    rateLimits,
    policies,
    clock,
    logger,
    settings: {
      maxLiveSessions: config.maxLiveSessions,
      maxLiveProcesses: config.maxLiveProcesses,
      idleExpiryMs: config.sessionIdleExpiryMs,
      parkAfterMs: config.sessionParkAfterMs,
      workspaceRetentionMs: config.workspaceRetentionMs,
      eventRetentionMs: config.eventRetentionMs,
      defaultModel: config.defaultModel,
      modelMap: config.modelMap,
      defaultPermissionMode: config.defaultPermissionMode,
      disallowedTools: config.disallowedTools,
    },
  });
  const permissions = new PermissionBroker({
    events,
    clock,
    logger,
    settings: { timeoutMs: config.permissionTimeoutMs, defaultDecision: config.permissionDefaultDecision },
  });
  const turns = new TurnService({
    store,
    sessions,
    events,
    rateLimits,
    policies,
    permissions,
    clock,
    logger,
    maxTimeoutMs: config.turnTimeoutMaxMs,
    maxQueuedTurns: config.queueMaxTurns,
    costsSimulated: config.costsSimulated,
  });

  const idempotency = new Idempotency(store, clock, config.idempotencyRetentionMs);

  const recovered = await turns.recoverInterrupted();
  if (recovered.interrupted > 0) {
    logger.warn(
      { turns: recovered.interrupted },
      'marked turns left running by a previous server as interrupted',
    );
  }
  await sessions.start();
  const requeued = await turns.requeue(recovered.queued);
  if (requeued > 0) logger.info({ turns: requeued }, 'queued turns of a previous server run again');
  idempotency.start();

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
      costsSimulated: config.costsSimulated,
    },
    store,
    keys,
    keyAdmin: new KeyAdmin(store, clock),
    sessions,
    turns,
    events,
    idempotency,
    streams: new StreamRegistry(),
    permissions,
    rateLimits,
    policies,
    runner,
    clock,
    version: packageVersion(),
    startedAt: clock.now(),
  };
  return {
    deps,
    logger,
    async shutdown() {
      idempotency.stop();
      await sessions.stop();
      await runner.close();
      await store.close();
    },
  };
}
