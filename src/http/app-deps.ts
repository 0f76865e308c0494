/** What the HTTP layer needs from the rest of the server; built by the composition root. */
import type { EventLog } from '../domain/event-log.js';
import type { Idempotency } from '../domain/idempotency.js';
import type { KeyAdmin } from '../domain/key-admin.js';
import type { Policies } from '../domain/key-policy.js';
import type { PermissionBroker } from '../domain/permissions.js';
import type { KeyService } from '../domain/key-service.js';
import type { AgentRunner, Clock, SessionStore } from '../domain/ports.js';
import type { RateLimits } from '../domain/rate-limits.js';
import type { SessionService } from '../domain/session-service.js';
import type { TurnService } from '../domain/turn-service.js';
import type { StreamRegistry } from './stream-registry.js';

export interface HttpSettings {
  bodyLimitBytes: number;
  turnTimeoutMaxMs: number;
  ssePingIntervalMs: number;
  sseRetryMs: number;
  sseMaxEventBytes: number;
  sseStallTimeoutMs: number;
  trustProxy: boolean;
  modelMap: Record<string, string>;
  defaultModel: string | null;
  /** The model API is simulated (the offline demo): responses with costs say `costSimulated: true`. */
  costsSimulated: boolean;
}

export interface AppDeps {
  settings: HttpSettings;
  store: SessionStore;
  keys: KeyService;
  keyAdmin: KeyAdmin;
  sessions: SessionService;
  turns: TurnService;
  events: EventLog;
  idempotency: Idempotency;
  /** The open SSE streams (ended with a final event at shutdown). */
  streams: StreamRegistry;
  permissions: PermissionBroker;
  rateLimits: RateLimits;
  policies: Policies;
  runner: AgentRunner;
  clock: Clock;
  /** This server's own version (package.json) and start time, for /health. */
  version: string;
  startedAt: number;
}
