/**
 * Every statement of the store, prepared once per connection: preparing is parsing and planning,
 * which would otherwise happen on each call of the hot paths (appendEvents, touching a key).
 *
 * Partial updates use one statement with a `set_x` flag per column (0 keeps the column) rather
 * than SQL built per patch, so they are prepared once too.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { RETAINED_EVENT_TYPES } from '../../domain/events.js';
import type {
  EventRow,
  IdempotencyRow,
  KeyRow,
  SessionRow,
  TurnFinishRow,
  TurnRow,
  UsageRow,
} from './rows.js';

type Flag = 0 | 1;

export interface KeyPatchParams {
  id: string;
  set_name: Flag;
  name: string | null;
  set_policy: Flag;
  policy_json: string | null;
  set_last_used_at: Flag;
  last_used_at: number | null;
  set_revoked_at: Flag;
  revoked_at: number | null;
}

export interface SessionPatchParams {
  id: string;
  set_status: Flag;
  status: string | null;
  set_last_activity_at: Flag;
  last_activity_at: number | null;
  set_ended_at: Flag;
  ended_at: number | null;
  set_end_reason: Flag;
  end_reason: string | null;
  set_claude_session_id: Flag;
  claude_session_id: string | null;
}

const KEY_COLUMNS = 'id, name, prefix, hash, role, policy_json, created_at, last_used_at, revoked_at';
const SESSION_COLUMNS =
  'id, key_id, status, config_json, metadata_json, claude_session_id, created_at, last_activity_at, ended_at, end_reason';
const TURN_COLUMNS =
  'id, session_id, prompt, status, created_at, ended_at, first_seq, timeout_ms, last_seq, completion_json, error_json, ' +
  'input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd';
const EVENT_COLUMNS = 'session_id, seq, turn_id, type, data, created_at';
/** `'message', 'complete', 'error'`: the types retention keeps (constants, not user input). */
const RETAINED_TYPES_SQL = [...RETAINED_EVENT_TYPES].map((t) => `'${t}'`).join(', ');
const IDEMPOTENCY_COLUMNS = 'key_id, idempotency_key, fingerprint, session_id, message_id, created_at';

/** `@a, @b, …` for an INSERT of the given columns. */
function params(columns: string): string {
  return columns
    .split(',')
    .map((column) => `@${column.trim()}`)
    .join(', ');
}

export function prepareStatements(db: BetterSqlite3.Database) {
  return {
    ping: db.prepare<[], number>('SELECT 1').pluck(),

    insertKey: db.prepare<KeyRow>(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (${params(KEY_COLUMNS)})`),
    keyByHash: db.prepare<[string], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = ?`),
    keyById: db.prepare<[string], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`),
    listKeys: db.prepare<[], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`),
    countKeys: db.prepare<[], number>('SELECT COUNT(*) FROM api_keys').pluck(),
    updateKey: db.prepare<KeyPatchParams>(
      `UPDATE api_keys SET
         name         = CASE WHEN @set_name         THEN @name         ELSE name         END,
         policy_json  = CASE WHEN @set_policy       THEN @policy_json  ELSE policy_json  END,
         last_used_at = CASE WHEN @set_last_used_at THEN @last_used_at ELSE last_used_at END,
         revoked_at   = CASE WHEN @set_revoked_at   THEN @revoked_at   ELSE revoked_at   END
       WHERE id = @id`,
    ),

    insertSession: db.prepare<SessionRow>(
      `INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${params(SESSION_COLUMNS)})`,
    ),
    sessionById: db.prepare<[string], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`),
    listSessionsOfKey: db.prepare<[string, number, number], SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE key_id = ? AND status = 'active'
       ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
    ),
    countSessionsOfKey: db
      .prepare<[string], number>(`SELECT COUNT(*) FROM sessions WHERE key_id = ? AND status = 'active'`)
      .pluck(),
    listActiveSessions: db.prepare<[], SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE status = 'active' ORDER BY created_at, id`,
    ),
    updateSession: db.prepare<SessionPatchParams>(
      `UPDATE sessions SET
         status           = CASE WHEN @set_status           THEN @status           ELSE status           END,
         last_activity_at = CASE WHEN @set_last_activity_at THEN @last_activity_at ELSE last_activity_at END,
         ended_at         = CASE WHEN @set_ended_at         THEN @ended_at         ELSE ended_at         END,
         end_reason       = CASE WHEN @set_end_reason       THEN @end_reason       ELSE end_reason       END,
         claude_session_id = CASE WHEN @set_claude_session_id THEN @claude_session_id ELSE claude_session_id END
       WHERE id = @id`,
    ),

    insertTurn: db.prepare<TurnRow>(`INSERT INTO turns (${TURN_COLUMNS}) VALUES (${params(TURN_COLUMNS)})`),
    finishTurn: db.prepare<TurnFinishRow & { last_seq: number }>(
      `UPDATE turns SET
         status = @status, ended_at = @ended_at, last_seq = @last_seq,
         completion_json = @completion_json, error_json = @error_json,
         input_tokens = @input_tokens, output_tokens = @output_tokens,
         cache_creation_input_tokens = @cache_creation_input_tokens,
         cache_read_input_tokens = @cache_read_input_tokens, cost_usd = @cost_usd
       WHERE id = @id`,
    ),
    turnById: db.prepare<[string], TurnRow>(`SELECT ${TURN_COLUMNS} FROM turns WHERE id = ?`),
    latestTurn: db.prepare<[string], TurnRow>(
      `SELECT ${TURN_COLUMNS} FROM turns WHERE session_id = ? ORDER BY first_seq DESC LIMIT 1`,
    ),
    unfinishedTurns: db.prepare<[], TurnRow>(
      `SELECT ${TURN_COLUMNS} FROM turns WHERE status IN ('queued', 'running') ORDER BY session_id, first_seq`,
    ),
    startQueuedTurn: db.prepare<[string]>(
      `UPDATE turns SET status = 'running' WHERE id = ? AND status = 'queued'`,
    ),
    sessionUsage: db.prepare<[string], UsageRow>(
      `SELECT COALESCE(SUM(input_tokens), 0)                AS inputTokens,
              COALESCE(SUM(output_tokens), 0)               AS outputTokens,
              COALESCE(SUM(cache_creation_input_tokens), 0) AS cacheCreationInputTokens,
              COALESCE(SUM(cache_read_input_tokens), 0)     AS cacheReadInputTokens,
              COALESCE(SUM(cost_usd), 0)                    AS costUsd
       FROM turns WHERE session_id = ?`,
    ),

    insertIdempotency: db.prepare<IdempotencyRow>(
      `INSERT INTO idempotency_keys (${IDEMPOTENCY_COLUMNS}) VALUES (${params(IDEMPOTENCY_COLUMNS)})`,
    ),
    idempotencyByKey: db.prepare<[string, string], IdempotencyRow>(
      `SELECT ${IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE key_id = ? AND idempotency_key = ?`,
    ),
    purgeIdempotency: db.prepare<[number]>('DELETE FROM idempotency_keys WHERE created_at < ?'),

    keyUsage: db.prepare<[string, number], UsageRow & { sessionId: string; turns: number }>(
      `SELECT t.session_id                                   AS sessionId,
              COUNT(*)                                       AS turns,
              COALESCE(SUM(t.input_tokens), 0)                AS inputTokens,
              COALESCE(SUM(t.output_tokens), 0)               AS outputTokens,
              COALESCE(SUM(t.cache_creation_input_tokens), 0) AS cacheCreationInputTokens,
              COALESCE(SUM(t.cache_read_input_tokens), 0)     AS cacheReadInputTokens,
              COALESCE(SUM(t.cost_usd), 0)                    AS costUsd
       FROM turns t JOIN sessions s ON s.id = t.session_id
       WHERE s.key_id = ? AND t.created_at >= ?
       GROUP BY t.session_id ORDER BY t.session_id`,
    ),

    pruneEventsMaxSeq: db
      .prepare<[string, number], number | null>(
        `SELECT MAX(seq) FROM events WHERE session_id = ? AND type NOT IN (${RETAINED_TYPES_SQL}) AND created_at < ?`,
      )
      .pluck(),
    pruneEvents: db.prepare<[string, number]>(
      `DELETE FROM events WHERE session_id = ? AND type NOT IN (${RETAINED_TYPES_SQL}) AND created_at < ?`,
    ),
    raiseFloor: db.prepare<[string, number]>(
      `INSERT INTO event_log_floors (session_id, floor) VALUES (?, ?)
       ON CONFLICT (session_id) DO UPDATE SET floor = MAX(floor, excluded.floor)`,
    ),
    logFloor: db.prepare<[string], number>('SELECT floor FROM event_log_floors WHERE session_id = ?').pluck(),
    endedBefore: db.prepare<[number], { id: string; claudeSessionId: string }>(
      `SELECT id, claude_session_id AS claudeSessionId FROM sessions
       WHERE status = 'ended' AND ended_at < ? AND EXISTS (SELECT 1 FROM events WHERE session_id = sessions.id)`,
    ),
    deleteEventsOf: db.prepare<[string]>('DELETE FROM events WHERE session_id = ?'),
    deleteTranscriptsOf: db.prepare<[string]>('DELETE FROM transcripts WHERE session_id = ?'),

    insertEvent: db.prepare<EventRow>(
      `INSERT INTO events (${EVENT_COLUMNS}) VALUES (${params(EVENT_COLUMNS)})`,
    ),
    eventsAfter: db.prepare<[string, number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    // Never below the floor: after the log's tail was pruned, the next event still gets a new id.
    lastEventSeq: db
      .prepare<{ sessionId: string }, number>(
        `SELECT MAX(
           COALESCE((SELECT MAX(seq) FROM events WHERE session_id = @sessionId), 0),
           COALESCE((SELECT floor FROM event_log_floors WHERE session_id = @sessionId), 0))`,
      )
      .pluck(),
    listMessages: db.prepare<[string, number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = ? AND type = 'message'
       ORDER BY seq LIMIT ? OFFSET ?`,
    ),
    countMessages: db
      .prepare<[string], number>(`SELECT COUNT(*) FROM events WHERE session_id = ? AND type = 'message'`)
      .pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
