/**
 * The domain services wired the way `compose()` wires them, on in-memory adapters and a fake
 * agent runner: the setup of the session and turn services' unit tests.
 */
import pino from 'pino';
import { MemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { MemoryRateLimiter } from '../../src/adapters/memory/memory-rate-limiter.js';
import { MemoryStore, memoryStores } from '../../src/adapters/memory/memory-store.js';
import { Admission } from '../../src/domain/admission.js';
import { EventLog } from '../../src/domain/event-log.js';
import { Housekeeping } from '../../src/domain/housekeeping.js';
import { Idempotency } from '../../src/domain/idempotency.js';
import type { PolicyDefaults } from '../../src/domain/policy-fields.js';
import { PermissionBroker } from '../../src/domain/permissions.js';
import type { Clock, Logger, Workspaces, WorkspaceSnapshots } from '../../src/domain/ports.js';
import { Checkpoints } from '../../src/domain/checkpoints.js';
import { WorkspaceHistory } from '../../src/domain/workspace-history.js';
import { ProcessPool } from '../../src/domain/process-pool.js';
import { RateLimits } from '../../src/domain/rate-limits.js';
import { SessionRegistry } from '../../src/domain/session-registry.js';
import {
  SessionService,
  type SessionServiceDeps,
  type SessionSettings,
} from '../../src/domain/session-service.js';
import { TurnService } from '../../src/domain/turn-service.js';
import type { RateLimitBucket } from '../../src/domain/rate-limit-buckets.js';
import { FakeAgentRunner } from './fake-agent-runner.js';
import { testPolicies } from './policies.js';

/** How long a permission question waits for an answer. */
export const PERMISSION_TIMEOUT_MS = 60_000;
/** The timeout of a turn that asks for none, and the most one may ask for. */
export const MAX_TURN_TIMEOUT_MS = 600_000;
/** How long an idle session lives. */
export const IDLE_EXPIRY_MS = 60 * 60_000;

// Vitest's fake timers move Date.now() too: this clock and the services' timers share one time.
const clock: Clock = { now: () => Date.now() };

/** Workspaces that exist in name only; a client's own cwd is refused. */
const nameOnlyWorkspaces: Workspaces = {
  create: async (id) => `/data/workspaces/${id}`,
  resolveExternal: async () => ({ ok: false, reason: 'no_roots' }),
  remove: async () => undefined,
  list: async () => [],
};

/** Every setting of the session services, as the server's configuration gives them. */
export interface DomainSettings extends SessionSettings {
  maxLiveSessions: number;
  maxLiveProcesses: number;
  processWaitMaxMs: number;
  parkAfterMs: number;
  eventRetentionMs: number;
}

export interface DomainOptions {
  settings?: Partial<DomainSettings>;
  limits?: Record<RateLimitBucket, number>;
  policyDefaults?: Partial<PolicyDefaults>;
  runner?: FakeAgentRunner;
  workspaces?: Workspaces;
  logger?: Logger;
  /** Prewarmed processes to keep (PREWARM_PROCESSES); absent: none. */
  spares?: number;
  /** Snapshots of the workspaces (absent: no checkpoints, no `files_changed`). */
  snapshots?: WorkspaceSnapshots;
}

export function wireDomain(options: DomainOptions = {}) {
  const store = new MemoryStore();
  const stores = memoryStores(store);
  const runner = options.runner ?? new FakeAgentRunner();
  const logger = options.logger ?? pino({ level: 'silent' });
  const events = new EventLog(stores.events, new MemoryEventBus(), clock);
  const policies = testPolicies(options.limits, options.policyDefaults);
  const rateLimits = new RateLimits(new MemoryRateLimiter(clock), policies, clock);
  const settings: DomainSettings = {
    maxLiveSessions: 10,
    maxLiveProcesses: 100,
    processWaitMaxMs: 60_000,
    idleExpiryMs: IDLE_EXPIRY_MS,
    parkAfterMs: 0,
    workspaceRetentionMs: 0,
    eventRetentionMs: 0,
    defaultModel: null,
    modelMap: {},
    defaultPermissionMode: 'default',
    disallowedTools: [],
    ...options.settings,
  };
  const admission = new Admission();
  const registry = new SessionRegistry(settings.maxLiveSessions);
  const pool = new ProcessPool({
    registry,
    runner,
    stores,
    admission,
    clock,
    logger,
    settings: {
      maxLiveProcesses: settings.maxLiveProcesses,
      processWaitMaxMs: settings.processWaitMaxMs,
      prewarmProcesses: options.spares ?? 0,
    },
    workspaces: options.workspaces ?? nameOnlyWorkspaces,
    spareTemplate: {
      model: settings.defaultModel,
      permissionMode: settings.defaultPermissionMode,
      maxTurns: null,
      allowedTools: [],
      disallowedTools: [...settings.disallowedTools],
    },
  });
  const permissions = new PermissionBroker({
    events,
    clock,
    logger,
    settings: { timeoutMs: PERMISSION_TIMEOUT_MS, defaultDecision: 'deny' },
  });
  const checkpoints = options.snapshots
    ? new Checkpoints(options.snapshots, logger, () => clock.now())
    : undefined;
  const deps: SessionServiceDeps = {
    ...(checkpoints ? { checkpoints } : {}),
    stores,
    registry,
    pool,
    runner,
    workspaces: options.workspaces ?? nameOnlyWorkspaces,
    events,
    permissions,
    rateLimits,
    policies,
    admission,
    clock,
    logger,
    settings,
  };
  const sessions = new SessionService(deps);
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
    maxQueuedTurns: 3,
    maxTimeoutMs: MAX_TURN_TIMEOUT_MS,
    ...(checkpoints ? { checkpoints } : {}),
  });
  const history = checkpoints
    ? new WorkspaceHistory({ stores, registry, sessions, events, checkpoints, runner, clock, logger })
    : null;
  const housekeeping = new Housekeeping({
    sessions,
    registry,
    pool,
    idempotency: new Idempotency(stores.idempotency, clock, 24 * 3600_000),
    stores,
    clock,
    logger,
    settings,
  });
  return {
    deps,
    store,
    stores,
    runner,
    events,
    sessions,
    registry,
    pool,
    admission,
    housekeeping,
    turns,
    history,
    rateLimits,
    permissions,
    /** What the server does at start: load the active sessions, start the sweeps. */
    async start(): Promise<void> {
      await sessions.load();
      housekeeping.start();
    },
    /** What the server does at shutdown: stop the sweeps and every Claude Code process. */
    async stop(): Promise<void> {
      housekeeping.stop();
      await pool.stopAll();
    },
  };
}
