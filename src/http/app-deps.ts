/**
 * What the HTTP layer needs from the rest of the server; built by the composition root. Routes
 * call these services, never a store.
 */
import type { EventLog } from '../domain/event-log.js';
import type { FilesService } from '../domain/files-service.js';
import type { WorkspaceHistory } from '../domain/workspace-history.js';
import type { Idempotency } from '../domain/idempotency.js';
import type { KeyAdmin } from '../domain/key-admin.js';
import type { Policies } from '../domain/key-policy.js';
import type { PermissionBroker } from '../domain/permissions.js';
import type { Placement } from '../domain/placement.js';
import type { KeyService } from '../domain/key-service.js';
import type { Admission } from '../domain/admission.js';
import type { AgentRunner, Clock } from '../domain/ports.js';
import type { ServerStatus } from '../domain/server-status.js';
import type { SessionRegistry } from '../domain/session-registry.js';
import type { StreamAttach } from '../domain/stream-attach.js';
import type { UsageReport } from '../domain/usage-report.js';
import type { RateLimits } from '../domain/rate-limits.js';
import type { SessionService } from '../domain/session-service.js';
import type { TurnService } from '../domain/turn-service.js';
import type { ManagedAgents } from '../domain/managed-agents/agents.js';
import type { ManagedEnvironments } from '../domain/managed-agents/environments.js';
import type { ManagedFiles } from '../domain/managed-agents/files.js';
import type { ManagedSessions } from '../domain/managed-agents/sessions.js';
import type { StreamRegistry } from './stream-registry.js';

/** The Managed Agents API's services (`/v1`). */
export interface ManagedAgentsServices {
  agents: ManagedAgents;
  environments: ManagedEnvironments;
  files: ManagedFiles;
  sessions: ManagedSessions;
}

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
  /** This instance's INSTANCE_URL (several instances), named in the requests it forwards. */
  instanceUrl: string | null;
}

export interface AppDeps {
  settings: HttpSettings;
  keys: KeyService;
  keyAdmin: KeyAdmin;
  sessions: SessionService;
  /** The live sessions: lookups for a request (`find`), counts. */
  registry: SessionRegistry;
  turns: TurnService;
  /** The files of the sessions' workspaces. */
  files: FilesService;
  /** Diffs, rewinds and forks. */
  history: WorkspaceHistory;
  events: EventLog;
  /** Which part of the log a stream serves. */
  streamAttach: StreamAttach;
  usage: UsageReport;
  status: ServerStatus;
  /**
   * Where a session's requests are served: here, or (several instances) forwarded to the
   * instance that runs its Claude Code process.
   */
  placement: Placement;
  /** Whether the server takes new work (false once shutdown begins). */
  admission: Admission;
  idempotency: Idempotency;
  /** The open SSE streams (ended with a final event at shutdown). */
  streams: StreamRegistry;
  permissions: PermissionBroker;
  rateLimits: RateLimits;
  policies: Policies;
  runner: AgentRunner;
  /** The Managed Agents API (`/v1`), beside the seed's. */
  managed: ManagedAgentsServices;
  clock: Clock;
  /** This server's own version (package.json) and start time, for /health. */
  version: string;
  startedAt: number;
}
