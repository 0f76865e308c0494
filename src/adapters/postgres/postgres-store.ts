/**
 * The store ports (src/domain/stores.ts) on PostgreSQL (node-postgres), all but the transcripts
 * (postgres-transcript-store.ts). Several server instances share it, so unlike the SQLite store
 * it cannot count on one writer per session log: every write that carries an event moves the
 * session's `event_log_heads` row up in the same transaction, and refuses (EventSeqTaken) an
 * event that is not above it. The row lock on the head orders concurrent writers of one log.
 */
import type pg from 'pg';
import { RETAINED_EVENT_TYPES, type TokenUsage } from '../../domain/events.js';
import {
  EventSeqTaken,
  type EventStore,
  type IdempotencyStore,
  type KeyPatch,
  type KeyStore,
  type SessionPatch,
  type SessionStore,
  type TurnFinish,
  type TurnStore,
  type UsageStore,
} from '../../domain/stores.js';
import type {
  ApiKeyRecord,
  IdempotencyRecord,
  Page,
  SessionEvent,
  SessionRecord,
  SessionUsage,
  TurnRecord,
} from '../../domain/types.js';
import {
  eventFromRow,
  eventToRow,
  idempotencyFromRow,
  idempotencyToRow,
  keyFromRow,
  keyToRow,
  sessionFromRow,
  sessionToRow,
  turnFinishToRow,
  turnFromRow,
  turnToRow,
  type EventRow,
  type IdempotencyRow,
  type KeyRow,
  type SessionRow,
  type TurnRow,
} from '../sqlite/rows.js';
import { inTransaction, type Queryable } from './pool.js';

const KEY_COLUMNS = 'id, name, prefix, hash, role, policy_json, created_at, last_used_at, revoked_at';
const SESSION_COLUMNS =
  'id, key_id, status, config_json, metadata_json, claude_session_id, created_at, last_activity_at, ended_at, end_reason';
const TURN_COLUMNS =
  'id, session_id, prompt_json, status, created_at, ended_at, first_seq, timeout_ms, last_seq, completion_json, ' +
  'error_json, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd';
const EVENT_COLUMNS = 'session_id, seq, turn_id, type, data, created_at';
const IDEMPOTENCY_COLUMNS = 'key_id, idempotency_key, fingerprint, session_id, message_id, created_at';
const RETAINED_TYPES = [...RETAINED_EVENT_TYPES];

const USAGE_SUMS = `COALESCE(SUM(input_tokens), 0)::bigint                AS "inputTokens",
                    COALESCE(SUM(output_tokens), 0)::bigint               AS "outputTokens",
                    COALESCE(SUM(cache_creation_input_tokens), 0)::bigint AS "cacheCreationInputTokens",
                    COALESCE(SUM(cache_read_input_tokens), 0)::bigint     AS "cacheReadInputTokens",
                    COALESCE(SUM(cost_usd), 0)::float8                    AS "costUsd"`;

/** `$1, $2, …, $n` */
function placeholders(n: number, from = 1): string {
  return Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');
}

type PgTurnRow = Omit<TurnRow, 'prompt'> & { prompt_json: string };

function turnFromPg(row: PgTurnRow): TurnRecord {
  return turnFromRow({ ...row, prompt: JSON.parse(row.prompt_json) as string });
}

function turnRowValues(turn: TurnRecord): unknown[] {
  const r = turnToRow(turn);
  return [
    r.id,
    r.session_id,
    JSON.stringify(r.prompt),
    r.status,
    r.created_at,
    r.ended_at,
    r.first_seq,
    r.timeout_ms,
    r.last_seq,
    r.completion_json,
    r.error_json,
    r.input_tokens,
    r.output_tokens,
    r.cache_creation_input_tokens,
    r.cache_read_input_tokens,
    r.cost_usd,
  ];
}

function eventRowValues(event: SessionEvent): unknown[] {
  const r = eventToRow(event);
  return [r.session_id, r.seq, r.turn_id, r.type, r.data, r.created_at];
}

function idempotencyValues(record: IdempotencyRecord): unknown[] {
  const r = idempotencyToRow(record);
  return [r.key_id, r.idempotency_key, r.fingerprint, r.session_id, r.message_id, r.created_at];
}

/** Each session's events of a batch, in batch order. */
function bySession(events: readonly SessionEvent[]): Map<string, SessionEvent[]> {
  const map = new Map<string, SessionEvent[]>();
  for (const event of events) {
    const list = map.get(event.sessionId) ?? [];
    list.push(event);
    map.set(event.sessionId, list);
  }
  return map;
}

export class PostgresStore
  implements KeyStore, SessionStore, TurnStore, EventStore, IdempotencyStore, UsageStore
{
  constructor(private readonly pool: pg.Pool) {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  private closed = false;

  /** Idempotent: the server may close on several shutdown paths. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  // --- keys -----------------------------------------------------------------------------------

  async insertKey(key: ApiKeyRecord): Promise<void> {
    const r = keyToRow(key);
    await this.pool.query(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (${placeholders(9)})`, [
      r.id,
      r.name,
      r.prefix,
      r.hash,
      r.role,
      r.policy_json,
      r.created_at,
      r.last_used_at,
      r.revoked_at,
    ]);
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.pool.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = $1`, [
      hash,
    ]);
    return rows[0] ? keyFromRow(rows[0]) : null;
  }

  async getKey(id: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.pool.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return rows[0] ? keyFromRow(rows[0]) : null;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.pool.query<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id COLLATE "C"`,
    );
    return rows.map(keyFromRow);
  }

  async countKeys(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM api_keys');
    return rows[0]?.n ?? 0;
  }

  async updateKey(id: string, patch: KeyPatch): Promise<void> {
    await this.pool.query(
      `UPDATE api_keys SET
         name         = CASE WHEN $2 THEN $3 ELSE name END,
         policy_json  = CASE WHEN $4 THEN $5 ELSE policy_json END,
         last_used_at = CASE WHEN $6 THEN $7::bigint ELSE last_used_at END,
         revoked_at   = CASE WHEN $8 THEN $9::bigint ELSE revoked_at END
       WHERE id = $1`,
      [
        id,
        patch.name !== undefined,
        patch.name ?? null,
        patch.policy !== undefined,
        patch.policy === undefined ? null : JSON.stringify(patch.policy),
        patch.lastUsedAt !== undefined,
        patch.lastUsedAt ?? null,
        patch.revokedAt !== undefined,
        patch.revokedAt ?? null,
      ],
    );
  }

  // --- sessions -------------------------------------------------------------------------------

  async insertSession(session: SessionRecord, idempotency?: IdempotencyRecord): Promise<void> {
    const r = sessionToRow(session);
    await inTransaction(this.pool, async (client) => {
      await client.query(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES (${placeholders(10)})`, [
        r.id,
        r.key_id,
        r.status,
        r.config_json,
        r.metadata_json,
        r.claude_session_id,
        r.created_at,
        r.last_activity_at,
        r.ended_at,
        r.end_reason,
      ]);
      await client.query('INSERT INTO event_log_heads (session_id, last_seq) VALUES ($1, 0)', [r.id]);
      if (idempotency) await this.insertIdempotency(client, idempotency);
    });
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`,
      [id],
    );
    return rows[0] ? sessionFromRow(rows[0]) : null;
  }

  async listSessions(keyId: string, page: { limit: number; offset: number }): Promise<Page<SessionRecord>> {
    // The page and its total in one statement: one snapshot, even with another writer.
    const { rows } = await this.pool.query<SessionRow & { total: number }>(
      `SELECT ${SESSION_COLUMNS}, COUNT(*) OVER () AS total FROM sessions
       WHERE key_id = $1 AND status = 'active'
       ORDER BY created_at DESC, id COLLATE "C" ASC LIMIT $2 OFFSET $3`,
      [keyId, page.limit, page.offset],
    );
    const total =
      rows[0]?.total ??
      (
        await this.pool.query<{ n: number }>(
          `SELECT COUNT(*) AS n FROM sessions WHERE key_id = $1 AND status = 'active'`,
          [keyId],
        )
      ).rows[0]?.n ??
      0;
    return { items: rows.map(sessionFromRow), total };
  }

  async listActiveSessions(): Promise<SessionRecord[]> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE status = 'active' ORDER BY created_at, id COLLATE "C"`,
    );
    return rows.map(sessionFromRow);
  }

  async updateSession(id: string, patch: SessionPatch): Promise<void> {
    await this.pool.query(
      `UPDATE sessions SET
         status           = CASE WHEN $2 THEN $3 ELSE status END,
         last_activity_at = CASE WHEN $4 THEN $5::bigint ELSE last_activity_at END,
         ended_at         = CASE WHEN $6 THEN $7::bigint ELSE ended_at END,
         end_reason       = CASE WHEN $8 THEN $9 ELSE end_reason END,
         claude_session_id = CASE WHEN $10 THEN $11 ELSE claude_session_id END
       WHERE id = $1`,
      [
        id,
        patch.status !== undefined,
        patch.status ?? null,
        patch.lastActivityAt !== undefined,
        patch.lastActivityAt ?? null,
        patch.endedAt !== undefined,
        patch.endedAt ?? null,
        patch.endReason !== undefined,
        patch.endReason ?? null,
        patch.claudeSessionId !== undefined,
        patch.claudeSessionId ?? null,
      ],
    );
  }

  // --- turns ----------------------------------------------------------------------------------

  async beginTurn(
    turn: TurnRecord,
    firstEvent: SessionEvent,
    idempotency?: IdempotencyRecord,
  ): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await this.insertEvents(client, [firstEvent]);
      await client.query(
        `INSERT INTO turns (${TURN_COLUMNS}) VALUES (${placeholders(16)})`,
        turnRowValues(turn),
      );
      if (idempotency) await this.insertIdempotency(client, idempotency);
    });
  }

  async startTurn(turnId: string, promptEvent: SessionEvent): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const started = await client.query(
        `UPDATE turns SET status = 'running' WHERE id = $1 AND status = 'queued'`,
        [turnId],
      );
      if (started.rowCount !== 1) throw new Error(`startTurn: no queued turn ${turnId}`);
      await this.insertEvents(client, [promptEvent]);
    });
  }

  async finishTurn(turnId: string, patch: TurnFinish, terminalEvent: SessionEvent): Promise<void> {
    const r = turnFinishToRow(turnId, patch);
    await inTransaction(this.pool, async (client) => {
      // Without the turn the terminal event would be an orphan in the log: refuse both. A turn
      // ends once: when an instance that was cut off finishes a turn that another instance has
      // recorded as interrupted meanwhile, its late ending is refused too.
      const finished = await client.query(
        `UPDATE turns SET
           status = $2, ended_at = $3, last_seq = $4, completion_json = $5, error_json = $6,
           input_tokens = $7, output_tokens = $8, cache_creation_input_tokens = $9,
           cache_read_input_tokens = $10, cost_usd = $11
         WHERE id = $1 AND status IN ('queued', 'running')`,
        [
          turnId,
          r.status,
          r.ended_at,
          terminalEvent.seq,
          r.completion_json,
          r.error_json,
          r.input_tokens,
          r.output_tokens,
          r.cache_creation_input_tokens,
          r.cache_read_input_tokens,
          r.cost_usd,
        ],
      );
      if (finished.rowCount !== 1) throw new Error(`finishTurn: no unfinished turn ${turnId}`);
      await this.insertEvents(client, [terminalEvent]);
    });
  }

  async getTurn(id: string): Promise<TurnRecord | null> {
    const { rows } = await this.pool.query<PgTurnRow>(`SELECT ${TURN_COLUMNS} FROM turns WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? turnFromPg(rows[0]) : null;
  }

  async latestTurn(sessionId: string): Promise<TurnRecord | null> {
    const { rows } = await this.pool.query<PgTurnRow>(
      `SELECT ${TURN_COLUMNS} FROM turns WHERE session_id = $1 ORDER BY first_seq DESC LIMIT 1`,
      [sessionId],
    );
    return rows[0] ? turnFromPg(rows[0]) : null;
  }

  async listUnfinishedTurns(sessionId?: string): Promise<TurnRecord[]> {
    const { rows } = await this.pool.query<PgTurnRow>(
      `SELECT ${TURN_COLUMNS} FROM turns
       WHERE status IN ('queued', 'running') AND ($1::text IS NULL OR session_id = $1)
       ORDER BY session_id COLLATE "C", first_seq`,
      [sessionId ?? null],
    );
    return rows.map(turnFromPg);
  }

  // --- usage ----------------------------------------------------------------------------------

  async sessionUsage(sessionId: string): Promise<{ usage: TokenUsage; costUsd: number }> {
    const { rows } = await this.pool.query<TokenUsage & { costUsd: number }>(
      `SELECT ${USAGE_SUMS} FROM turns WHERE session_id = $1`,
      [sessionId],
    );
    const row = rows[0];
    return {
      usage: {
        inputTokens: row?.inputTokens ?? 0,
        outputTokens: row?.outputTokens ?? 0,
        cacheCreationInputTokens: row?.cacheCreationInputTokens ?? 0,
        cacheReadInputTokens: row?.cacheReadInputTokens ?? 0,
      },
      costUsd: row?.costUsd ?? 0,
    };
  }

  async keyUsage(keyId: string, since: number): Promise<SessionUsage[]> {
    const { rows } = await this.pool.query<
      TokenUsage & { costUsd: number; sessionId: string; turns: number }
    >(
      `SELECT t.session_id AS "sessionId", COUNT(*) AS turns, ${USAGE_SUMS}
       FROM turns t JOIN sessions s ON s.id = t.session_id
       WHERE s.key_id = $1 AND t.created_at >= $2
       GROUP BY t.session_id ORDER BY t.session_id COLLATE "C"`,
      [keyId, since],
    );
    return rows.map((row) => ({
      sessionId: row.sessionId,
      turns: row.turns,
      usage: {
        inputTokens: row.inputTokens,
        outputTokens: row.outputTokens,
        cacheCreationInputTokens: row.cacheCreationInputTokens,
        cacheReadInputTokens: row.cacheReadInputTokens,
      },
      costUsd: row.costUsd,
    }));
  }

  // --- idempotency ----------------------------------------------------------------------------

  async findIdempotency(keyId: string, key: string): Promise<IdempotencyRecord | null> {
    const { rows } = await this.pool.query<IdempotencyRow>(
      `SELECT ${IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE key_id = $1 AND idempotency_key = $2`,
      [keyId, key],
    );
    return rows[0] ? idempotencyFromRow(rows[0]) : null;
  }

  async purgeIdempotency(createdBefore: number): Promise<number> {
    const result = await this.pool.query('DELETE FROM idempotency_keys WHERE created_at < $1', [
      createdBefore,
    ]);
    return result.rowCount ?? 0;
  }

  private async insertIdempotency(client: Queryable, record: IdempotencyRecord): Promise<void> {
    await client.query(
      `INSERT INTO idempotency_keys (${IDEMPOTENCY_COLUMNS}) VALUES (${placeholders(6)})`,
      idempotencyValues(record),
    );
  }

  // --- events ---------------------------------------------------------------------------------

  async appendEvents(events: SessionEvent[]): Promise<void> {
    if (events.length === 0) return;
    await inTransaction(this.pool, (client) => this.insertEvents(client, events));
  }

  /**
   * Moves each session's head up to its last event of the batch, then inserts the events. The
   * UPDATE takes the head's row lock, so a concurrent writer of the same log waits for this
   * transaction and then finds the head moved: its events are refused, nothing of its write is
   * stored, and it renumbers (EventLog).
   */
  private async insertEvents(client: Queryable, events: readonly SessionEvent[]): Promise<void> {
    for (const [sessionId, list] of bySession(events)) {
      const first = list[0] as SessionEvent;
      for (let i = 1; i < list.length; i++) {
        if ((list[i] as SessionEvent).seq <= (list[i - 1] as SessionEvent).seq)
          throw new EventSeqTaken(sessionId, (list[i] as SessionEvent).seq);
      }
      const moved = await client.query(
        'UPDATE event_log_heads SET last_seq = $2 WHERE session_id = $1 AND last_seq < $3',
        [sessionId, (list.at(-1) as SessionEvent).seq, first.seq],
      );
      if (moved.rowCount !== 1) {
        const head = await client.query('SELECT 1 FROM event_log_heads WHERE session_id = $1', [sessionId]);
        if (head.rowCount === 1) throw new EventSeqTaken(sessionId, first.seq);
        throw new Error(`appendEvents: no session ${sessionId}`);
      }
    }
    const values: unknown[] = [];
    const tuples = events.map((event, i) => {
      values.push(...eventRowValues(event));
      return `(${placeholders(6, i * 6 + 1)})`;
    });
    await client.query(`INSERT INTO events (${EVENT_COLUMNS}) VALUES ${tuples.join(', ')}`, values);
  }

  async listEvents(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [sessionId, afterSeq, limit],
    );
    return rows.map(eventFromRow);
  }

  async lastEventSeq(sessionId: string): Promise<number> {
    // The head never goes down, pruned events or not: ids are never reused.
    const { rows } = await this.pool.query<{ last_seq: number }>(
      'SELECT last_seq FROM event_log_heads WHERE session_id = $1',
      [sessionId],
    );
    return rows[0]?.last_seq ?? 0;
  }

  async listMessages(
    sessionId: string,
    page: { limit: number; offset: number },
  ): Promise<Page<SessionEvent>> {
    const { rows } = await this.pool.query<EventRow & { total: number }>(
      `SELECT ${EVENT_COLUMNS}, COUNT(*) OVER () AS total FROM events
       WHERE session_id = $1 AND type = 'message' ORDER BY seq LIMIT $2 OFFSET $3`,
      [sessionId, page.limit, page.offset],
    );
    const total = rows[0]?.total ?? (await this.countMessages(sessionId));
    return { items: rows.map(eventFromRow), total };
  }

  async countMessages(sessionId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM events WHERE session_id = $1 AND type = 'message'`,
      [sessionId],
    );
    return rows[0]?.n ?? 0;
  }

  async pruneEvents(sessionId: string, createdBefore: number): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const pruned = await client.query<{ newest: number | null }>(
        `WITH gone AS (
           DELETE FROM events WHERE session_id = $1 AND type <> ALL ($2) AND created_at < $3 RETURNING seq
         ) SELECT MAX(seq) AS newest FROM gone`,
        [sessionId, RETAINED_TYPES, createdBefore],
      );
      const newest = pruned.rows[0]?.newest ?? null;
      if (newest !== null) {
        await client.query(
          `INSERT INTO event_log_floors (session_id, floor) VALUES ($1, $2)
           ON CONFLICT (session_id) DO UPDATE SET floor = GREATEST(event_log_floors.floor, excluded.floor)`,
          [sessionId, newest],
        );
      }
      const { rows } = await client.query<{ floor: number }>(
        'SELECT floor FROM event_log_floors WHERE session_id = $1',
        [sessionId],
      );
      return rows[0]?.floor ?? 0;
    });
  }

  async logFloor(sessionId: string): Promise<number> {
    const { rows } = await this.pool.query<{ floor: number }>(
      'SELECT floor FROM event_log_floors WHERE session_id = $1',
      [sessionId],
    );
    return rows[0]?.floor ?? 0;
  }

  async purgeEndedSessions(endedBefore: number): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string; claude_session_id: string }>(
        `SELECT id, claude_session_id FROM sessions
         WHERE status = 'ended' AND ended_at < $1 AND EXISTS (SELECT 1 FROM events WHERE session_id = sessions.id)`,
        [endedBefore],
      );
      const ids = rows.map((r) => r.id);
      if (ids.length === 0) return 0;
      await client.query('DELETE FROM events WHERE session_id = ANY ($1)', [ids]);
      await client.query('DELETE FROM event_log_heads WHERE session_id = ANY ($1)', [ids]);
      await client.query('DELETE FROM transcripts WHERE session_id = ANY ($1)', [
        rows.map((r) => r.claude_session_id),
      ]);
      return ids.length;
    });
  }
}
