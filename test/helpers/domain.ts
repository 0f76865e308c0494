/**
 * The domain services wired the way `compose()` wires them, on in-memory adapters and a fake
 * agent runner: the setup of the session and turn services' unit tests.
 */
import pino from 'pino';
import { MemoryEventBus } from '../../src/adapters/memory/memory-event-bus.js';
import { MemoryRateLimiter } from '../../src/adapters/memory/memory-rate-limiter.js';
import { MemoryStore, memoryStores } from '../../src/adapters/memory/memory-store.js';
import { EventLog } from '../../src/domain/event-log.js';
import type { PolicyDefaults } from '../../src/domain/key-policy.js';
import { PermissionBroker } from '../../src/domain/permissions.js';
import type { Clock, Logger, Workspaces } from '../../src/domain/ports.js';
import { RateLimits } from '../../src/domain/rate-limits.js';
import {
  SessionService,
  type SessionServiceDeps,
  type SessionSettings,
} from '../../src/domain/session-service.js';
import { TurnService } from '../../src/domain/turn-service.js';
import type { RateLimitBucket } from '../../src/domain/types.js';
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
  resolveExternal: async () => ({ ok: false, error: { code: 'FORBIDDEN', message: 'no', details: {} } }),
  remove: async () => undefined,
  list: async () => [],
};

export interface DomainOptions {
  settings?: Partial<SessionSettings>;
  limits?: Record<RateLimitBucket, number>;
  policyDefaults?: Partial<PolicyDefaults>;
  runner?: FakeAgentRunner;
  workspaces?: Workspaces;
  logger?: Logger;
}

export function wireDomain(options: DomainOptions = {}) {
  const store = new MemoryStore();
  const stores = memoryStores(store);
  const runner = options.runner ?? new FakeAgentRunner();
  const logger = options.logger ?? pino({ level: 'silent' });
  const events = new EventLog(store, new MemoryEventBus(), clock);
  const policies = testPolicies(options.limits, options.policyDefaults);
  const rateLimits = new RateLimits(new MemoryRateLimiter(clock), policies, clock);
  const deps: SessionServiceDeps = {
    stores,
    runner,
    workspaces: options.workspaces ?? nameOnlyWorkspaces,
    events,
    rateLimits,
    policies,
    clock,
    logger,
    settings: {
      maxLiveSessions: 10,
      maxLiveProcesses: 100,
      idleExpiryMs: IDLE_EXPIRY_MS,
      parkAfterMs: 0,
      workspaceRetentionMs: 0,
      eventRetentionMs: 0,
      defaultModel: null,
      modelMap: {},
      defaultPermissionMode: 'default',
      disallowedTools: [],
      ...options.settings,
    },
  };
  const sessions = new SessionService(deps);
  const permissions = new PermissionBroker({
    events,
    clock,
    logger,
    settings: { timeoutMs: PERMISSION_TIMEOUT_MS, defaultDecision: 'deny' },
  });
  const turns = new TurnService({
    stores,
    sessions,
    events,
    rateLimits,
    policies,
    permissions,
    clock,
    logger,
    maxQueuedTurns: 3,
    maxTimeoutMs: MAX_TURN_TIMEOUT_MS,
  });
  return { deps, store, runner, events, sessions, turns, rateLimits, permissions };
}
