/**
 * Row shapes of the tables and their mapping to and from the domain records. Kept apart from
 * the queries so each side stays readable; the column names are those of migrations.ts.
 *
 * JSON columns are written with JSON.stringify and read back with JSON.parse; the records hold
 * only JSON values. events.data is the exception: it is already the JSON text and passes through.
 */
import type { ErrorBody } from '../../domain/errors.js';
import type { TurnFinish } from '../../domain/stores.js';
import type {
  ApiKeyRecord,
  IdempotencyRecord,
  KeyRole,
  SessionConfig,
  SessionEndReason,
  SessionEvent,
  SessionRecord,
  SessionStatus,
  TurnRecord,
  TurnStatus,
} from '../../domain/types.js';
import type { KeyPolicy } from '../../domain/policy-fields.js';
import type { SessionEventType, TokenUsage, TurnCompletion } from '../../domain/events.js';

export interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  role: string;
  policy_json: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface SessionRow {
  id: string;
  key_id: string;
  status: string;
  config_json: string;
  metadata_json: string;
  claude_session_id: string;
  created_at: number;
  last_activity_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

export interface TurnRow {
  id: string;
  session_id: string;
  prompt: string;
  status: string;
  created_at: number;
  ended_at: number | null;
  first_seq: number;
  timeout_ms: number | null;
  last_seq: number | null;
  completion_json: string | null;
  error_json: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cost_usd: number;
}

export interface EventRow {
  session_id: string;
  seq: number;
  turn_id: string | null;
  type: string;
  data: string;
  created_at: number;
}

/** The aliases of the sessionUsage query. */
export interface UsageRow extends TokenUsage {
  costUsd: number;
}

// The parsers trust the column: only this adapter writes it, from typed records.
function parseJson<T>(text: string): T {
  const value: unknown = JSON.parse(text);
  return value as T;
}

function parseNullableJson<T>(text: string | null): T | null {
  return text === null ? null : parseJson<T>(text);
}

export function keyFromRow(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    hash: row.hash,
    role: row.role as KeyRole,
    policy: parseJson<KeyPolicy>(row.policy_json),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export function keyToRow(key: ApiKeyRecord): KeyRow {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    hash: key.hash,
    role: key.role,
    policy_json: JSON.stringify(key.policy),
    created_at: key.createdAt,
    last_used_at: key.lastUsedAt,
    revoked_at: key.revokedAt,
  };
}

export function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    keyId: row.key_id,
    status: row.status as SessionStatus,
    config: parseJson<SessionConfig>(row.config_json),
    metadata: parseJson<Record<string, unknown>>(row.metadata_json),
    claudeSessionId: row.claude_session_id,
    createdAt: row.created_at,
    lastActivityAt: row.last_activity_at,
    endedAt: row.ended_at,
    endReason: row.end_reason as SessionEndReason | null,
  };
}

export function sessionToRow(session: SessionRecord): SessionRow {
  return {
    id: session.id,
    key_id: session.keyId,
    status: session.status,
    config_json: JSON.stringify(session.config),
    metadata_json: JSON.stringify(session.metadata),
    claude_session_id: session.claudeSessionId,
    created_at: session.createdAt,
    last_activity_at: session.lastActivityAt,
    ended_at: session.endedAt,
    end_reason: session.endReason,
  };
}

export function turnFromRow(row: TurnRow): TurnRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    prompt: row.prompt,
    status: row.status as TurnStatus,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    firstSeq: row.first_seq,
    timeoutMs: row.timeout_ms,
    lastSeq: row.last_seq,
    completion: parseNullableJson<TurnCompletion>(row.completion_json),
    error: parseNullableJson<ErrorBody>(row.error_json),
    usage: {
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      cacheCreationInputTokens: row.cache_creation_input_tokens,
      cacheReadInputTokens: row.cache_read_input_tokens,
    },
    costUsd: row.cost_usd,
  };
}

/** The columns finishTurn writes; the others never change after beginTurn. */
export type TurnFinishRow = Omit<
  TurnRow,
  'session_id' | 'prompt' | 'created_at' | 'first_seq' | 'timeout_ms' | 'last_seq'
>;

export function turnFinishToRow(id: string, finish: TurnFinish): TurnFinishRow {
  return {
    id,
    status: finish.status,
    ended_at: finish.endedAt,
    completion_json: finish.completion === null ? null : JSON.stringify(finish.completion),
    error_json: finish.error === null ? null : JSON.stringify(finish.error),
    input_tokens: finish.usage.inputTokens,
    output_tokens: finish.usage.outputTokens,
    cache_creation_input_tokens: finish.usage.cacheCreationInputTokens,
    cache_read_input_tokens: finish.usage.cacheReadInputTokens,
    cost_usd: finish.costUsd,
  };
}

export function turnToRow(turn: TurnRecord): TurnRow {
  return {
    ...turnFinishToRow(turn.id, turn),
    session_id: turn.sessionId,
    prompt: turn.prompt,
    created_at: turn.createdAt,
    first_seq: turn.firstSeq,
    timeout_ms: turn.timeoutMs,
    last_seq: turn.lastSeq,
  };
}

export function eventFromRow(row: EventRow): SessionEvent {
  return {
    sessionId: row.session_id,
    seq: row.seq,
    turnId: row.turn_id,
    type: row.type as SessionEventType,
    data: row.data,
    createdAt: row.created_at,
  };
}

export function eventToRow(event: SessionEvent): EventRow {
  return {
    session_id: event.sessionId,
    seq: event.seq,
    turn_id: event.turnId,
    type: event.type,
    data: event.data,
    created_at: event.createdAt,
  };
}

export interface IdempotencyRow {
  key_id: string;
  idempotency_key: string;
  fingerprint: string;
  session_id: string;
  message_id: string | null;
  created_at: number;
}

export function idempotencyToRow(r: IdempotencyRecord): IdempotencyRow {
  return {
    key_id: r.keyId,
    idempotency_key: r.key,
    fingerprint: r.fingerprint,
    session_id: r.sessionId,
    message_id: r.messageId,
    created_at: r.createdAt,
  };
}

export function idempotencyFromRow(row: IdempotencyRow): IdempotencyRecord {
  return {
    keyId: row.key_id,
    key: row.idempotency_key,
    fingerprint: row.fingerprint,
    sessionId: row.session_id,
    messageId: row.message_id,
    createdAt: row.created_at,
  };
}
