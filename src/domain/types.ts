/**
 * The domain's records. Times are Unix epoch milliseconds; the HTTP layer formats them.
 * Nothing here knows about Fastify, SQL or the Claude Agent SDK.
 */
import type { ErrorBody } from './errors.js';
import type { SessionEventType, TokenUsage, TurnCompletion } from './events.js';
import type { KeyPolicy } from './policy-fields.js';

export const PERMISSION_MODES = ['default', 'acceptEdits', 'plan', 'bypassPermissions'] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

export type KeyRole = 'user' | 'admin';

/**
 * What a key may do. `read`: GET the caller's sessions, history, streams, usage and models;
 * `write`: create and end sessions, send messages. Admin routes need an admin key instead.
 */
export const KEY_SCOPES = ['read', 'write'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

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
  /** Set on a fork: the session and turn it was made from. */
  forkedFrom?: { sessionId: string; messageId: string };
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
