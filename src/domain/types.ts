/**
 * The domain's records. Times are Unix epoch milliseconds; the HTTP layer formats them.
 * Nothing here knows about Fastify, SQL or the Claude Agent SDK.
 */
import type { ErrorBody } from './errors.js';

export const PERMISSION_MODES = ['default', 'acceptEdits', 'plan', 'bypassPermissions'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

export type KeyRole = 'user' | 'admin';

/**
 * What a key may do. `read`: GET the caller's sessions, history, streams, usage and models;
 * `write`: create and end sessions, send messages. Admin routes need an admin key instead.
 */
export const KEY_SCOPES = ['read', 'write'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

/**
 * A key's own rules. Every field is optional: an absent one takes the server's default
 * (src/domain/key-policy.ts, effectivePolicy).
 */
export interface KeyPolicy {
  /** Per-key overrides of the server's hourly rate limits. */
  rateLimits?: Partial<Record<RateLimitBucket, number>>;
  /** Scopes of the key (default: read and write). */
  scopes?: KeyScope[];
  /** Open sessions of this key at once. */
  maxConcurrentSessions?: number;
  /** Turns of this key running at once. */
  maxRunningTurns?: number;
  /** The highest `maxTurns` a session may ask for; also the value of a session that asks none. */
  maxTurns?: number;
  /** Spending cap per UTC day, from Claude Code's own cost figures. */
  dailyBudgetUsd?: number;
  /** Permission modes a session may ask for (replaces the server's ALLOWED_PERMISSION_MODES). */
  permissionModes?: PermissionMode[];
  /**
   * Rules a session may put in `allowedTools`: an entry is permitted when it is listed here, or
   * when its bare tool name is (`Bash` permits `Bash(npm test:*)`). Absent: any rule.
   */
  allowedTools?: string[];
  /** Roots inside which a session may name its own `cwd` (replaces the server's WORKSPACE_ROOTS). */
  workspaceRoots?: string[];
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The first characters of the key, safe to show and to search for in logs. */
  prefix: string;
  /** SHA-256 of the key, hex. The key itself is never stored. */
  hash: string;
  role: KeyRole;
  policy: KeyPolicy;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface SessionConfig {
  /** The model id the client asked for (null: the server's default). */
  requestedModel: string | null;
  /** What Claude Code is told to use after the operator's model map (null: Claude Code's default). */
  model: string | null;
  permissionMode: PermissionMode;
  maxTurns: number | null;
  /** Absolute working directory of the agent. */
  cwd: string;
  /** `owned`: a fresh workspace the server made (and removes); `external`: inside a configured root. */
  workspace: 'owned' | 'external';
  systemPrompt: string | null;
  appendSystemPrompt: string | null;
  allowedTools: string[];
  disallowedTools: string[];
}

export type SessionStatus = 'active' | 'ended';
export type SessionEndReason = 'deleted' | 'expired';

export interface SessionRecord {
  id: string;
  keyId: string;
  status: SessionStatus;
  config: SessionConfig;
  metadata: Record<string, unknown>;
  /** Claude Code's own session id: set by us at the first start, kept across resumes. */
  claudeSessionId: string;
  createdAt: number;
  lastActivityAt: number;
  endedAt: number | null;
  endReason: SessionEndReason | null;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

export const ZERO_USAGE: TokenUsage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0,
});

/** Adds `usage` into `into` (token counts only). */
export function addUsage(into: TokenUsage, usage: TokenUsage): void {
  into.inputTokens += usage.inputTokens;
  into.outputTokens += usage.outputTokens;
  into.cacheCreationInputTokens += usage.cacheCreationInputTokens;
  into.cacheReadInputTokens += usage.cacheReadInputTokens;
}

/** What one session of a key used in a period (see SessionStore.keyUsage). */
export interface SessionUsage {
  sessionId: string;
  turns: number;
  usage: TokenUsage;
  costUsd: number;
}

/** `queued`: waiting behind the session's running turn (`queue: true`). */
export type TurnStatus = 'queued' | 'running' | 'completed' | 'failed' | 'interrupted' | 'timed_out';

/** The `complete` event and the non-streaming response carry exactly this. */
export interface TurnCompletion {
  messageId: string;
  sessionId: string;
  /** The final assistant text of the turn. */
  response: string;
  usage: TokenUsage;
  costUsd: number;
  durationMs: number;
  numTurns: number;
  stopReason: string | null;
  /** `completed`, or `interrupted` when the turn was stopped (issue 4 adds the interrupt call). */
  status: 'completed' | 'interrupted';
  /** Present (true) only on a server whose model API is simulated (COSTS_SIMULATED): the cost is not real. */
  costSimulated?: true;
}

export interface TurnRecord {
  /** Also the id of the user's prompt message in the history (the `messageId` of the API). */
  id: string;
  sessionId: string;
  prompt: string;
  status: TurnStatus;
  createdAt: number;
  endedAt: number | null;
  /** Sequence number of the turn's first event (the prompt message). */
  firstSeq: number;
  /** The turn's own timeout (ms), so a queued turn keeps it across a restart; null before V4. */
  timeoutMs: number | null;
  /** Sequence number of the turn's terminal event; null until it ends. */
  lastSeq: number | null;
  completion: TurnCompletion | null;
  error: ErrorBody | null;
  usage: TokenUsage;
  costUsd: number;
}

/**
 * One entry of a session's event log. `seq` grows by one per session and is the SSE `id:`.
 * `data` is what the SSE `data:` line carries, stored as JSON text so replay writes it as is.
 *
 * An `ephemeral` event (a text `delta`) is published but never stored: it has no sequence number
 * of its own (`seq` is the last stored event's, so readers place it after that one), no SSE `id:`,
 * and a reconnecting client gets the complete message instead.
 */
export interface SessionEvent {
  sessionId: string;
  seq: number;
  turnId: string | null;
  type: SessionEventType;
  data: string;
  createdAt: number;
  ephemeral?: true;
}

export type SessionEventType =
  'message' | 'status' | 'permission_request' | 'permission_resolved' | 'delta' | 'complete' | 'error';

export const TERMINAL_EVENT_TYPES: ReadonlySet<SessionEventType> = new Set(['complete', 'error']);

/**
 * Event types that retention never prunes: the history, and each turn's outcome (a replay of any
 * turn still ends with it).
 */
export const RETAINED_EVENT_TYPES: ReadonlySet<SessionEventType> = new Set([
  'message',
  ...TERMINAL_EVENT_TYPES,
]);

export type RateLimitBucket = 'sessions' | 'messages' | 'events';

/**
 * An `Idempotency-Key` that was used: stored in the same transaction as what its request made
 * (the session, or the turn), so a retry finds either both or neither.
 */
export interface IdempotencyRecord {
  keyId: string;
  /** The client's `Idempotency-Key` header value. */
  key: string;
  /** SHA-256 of the endpoint and the request body: a reuse with another request is refused. */
  fingerprint: string;
  sessionId: string;
  /** The turn (prompt) the request started; null for a session create. */
  messageId: string | null;
  createdAt: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}
