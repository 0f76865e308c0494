/**
 * The store ports (src/domain/stores.ts) on SQLite (better-sqlite3), all but the transcripts
 * (sqlite-transcript-store.ts) in this one class over one connection. The driver is synchronous: each method does its work
 * before returning, so by the time the promise resolves the write is committed, and with
 * `synchronous = FULL` (open-database.ts) fsynced. The methods are `async` only to fit the port
 * (a PostgreSQL store would really wait) and to turn a thrown SqliteError into a rejection.
 *
 * One connection, one process: the event loop serializes the calls, so no two transactions of
 * this store ever interleave.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type {
  EventStore,
  IdempotencyStore,
  KeyPatch,
  KeyStore,
  SessionPatch,
  SessionStore,
  TurnFinish,
  TurnStore,
  UsageStore,
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
import type { TokenUsage } from '../../domain/events.js';
import { openDatabase, type OpenDatabaseOptions } from './open-database.js';
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
} from './rows.js';
import { prepareStatements, type Statements } from './statements.js';

/** 1 when the patch gives the field. `undefined` means "not given", as for an absent key. */
function given(value: unknown): 0 | 1 {
  return value === undefined ? 0 : 1;
}

export class SqliteStore
  implements KeyStore, SessionStore, TurnStore, EventStore, IdempotencyStore, UsageStore
{
  private readonly db: BetterSqlite3.Database;
  private readonly sql: Statements;
  private readonly insertEventBatch: (events: SessionEvent[]) => void;
  private readonly insertSessionTx: (session: SessionRecord, idempotency?: IdempotencyRecord) => void;
  private readonly beginTurnTx: (
    turn: TurnRecord,
    promptEvent: SessionEvent,
    idempotency?: IdempotencyRecord,
  ) => void;
  private readonly startTurnTx: (turnId: string, promptEvent: SessionEvent) => void;
  private readonly pruneTx: (sessionId: string, createdBefore: number) => number;
  private readonly purgeTx: (endedBefore: number) => number;
  private readonly finishTurnTx: (turnId: string, patch: TurnFinish, terminalEvent: SessionEvent) => void;
  private readonly pageOfSessions: (keyId: string, limit: number, offset: number) => Page<SessionRecord>;
  private readonly pageOfMessages: (sessionId: string, limit: number, offset: number) => Page<SessionEvent>;

  /** Opens `<dataDir>/server.db`; throws StoreOpenError if it cannot. */
  static open(dataDir: string, options?: OpenDatabaseOptions): SqliteStore {
    return new SqliteStore(openDatabase(dataDir, options));
  }

  /** Takes ownership of an open, migrated connection (see openDatabase). */
  constructor(db: BetterSqlite3.Database) {
    this.db = db;
    this.sql = prepareStatements(db);
    const sql = this.sql;

    // Transactions are built once too. A throw inside rolls the whole of it back.
    this.insertEventBatch = db.transaction((events: SessionEvent[]) => {
      // A duplicate (session_id, seq) fails the primary key: two writers of one log is a bug.
      for (const event of events) sql.insertEvent.run(eventToRow(event));
    });
    this.insertSessionTx = db.transaction((session: SessionRecord, idempotency?: IdempotencyRecord) => {
      sql.insertSession.run(sessionToRow(session));
      if (idempotency) sql.insertIdempotency.run(idempotencyToRow(idempotency));
    });
    this.beginTurnTx = db.transaction(
      (turn: TurnRecord, promptEvent: SessionEvent, idempotency?: IdempotencyRecord) => {
        sql.insertTurn.run(turnToRow(turn));
        sql.insertEvent.run(eventToRow(promptEvent));
        if (idempotency) sql.insertIdempotency.run(idempotencyToRow(idempotency));
      },
    );
    this.pruneTx = db.transaction((sessionId: string, createdBefore: number) => {
      const newest = sql.pruneEventsMaxSeq.get(sessionId, createdBefore);
      if (newest !== null && newest !== undefined) {
        sql.pruneEvents.run(sessionId, createdBefore);
        sql.raiseFloor.run(sessionId, newest);
      }
      return sql.logFloor.get(sessionId) ?? 0;
    });
    this.purgeTx = db.transaction((endedBefore: number) => {
      const ended = sql.endedBefore.all(endedBefore);
      for (const session of ended) {
        sql.deleteEventsOf.run(session.id);
        sql.deleteTranscriptsOf.run(session.claudeSessionId);
      }
      return ended.length;
    });
    this.startTurnTx = db.transaction((turnId: string, promptEvent: SessionEvent) => {
      if (sql.startQueuedTurn.run(turnId).changes !== 1)
        throw new Error(`startTurn: no queued turn ${turnId}`);
      sql.insertEvent.run(eventToRow(promptEvent));
    });
    this.finishTurnTx = db.transaction((turnId: string, patch: TurnFinish, terminalEvent: SessionEvent) => {
      // Without the turn the terminal event would be an orphan in the log: refuse both.
      if (
        sql.finishTurn.run({ ...turnFinishToRow(turnId, patch), last_seq: terminalEvent.seq }).changes !== 1
      ) {
        throw new Error(`finishTurn: no turn ${turnId}`);
      }
      sql.insertEvent.run(eventToRow(terminalEvent));
    });
    // The page and its total read in one transaction: one snapshot, even with another writer.
    this.pageOfSessions = db.transaction((keyId: string, limit: number, offset: number) => ({
      items: sql.listSessionsOfKey.all(keyId, limit, offset).map(sessionFromRow),
      total: sql.countSessionsOfKey.get(keyId) ?? 0,
    }));
    this.pageOfMessages = db.transaction((sessionId: string, limit: number, offset: number) => ({
      items: sql.listMessages.all(sessionId, limit, offset).map(eventFromRow),
      total: sql.countMessages.get(sessionId) ?? 0,
    }));
  }

  async ping(): Promise<void> {
    this.sql.ping.get();
  }

  /** Idempotent: the server may close on several shutdown paths. */
  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // --- keys -----------------------------------------------------------------------------------

  async insertKey(key: ApiKeyRecord): Promise<void> {
    this.sql.insertKey.run(keyToRow(key));
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const row = this.sql.keyByHash.get(hash);
    return row ? keyFromRow(row) : null;
  }

  async getKey(id: string): Promise<ApiKeyRecord | null> {
    const row = this.sql.keyById.get(id);
    return row ? keyFromRow(row) : null;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return this.sql.listKeys.all().map(keyFromRow);
  }

  async countKeys(): Promise<number> {
    return this.sql.countKeys.get() ?? 0;
  }

  async updateKey(id: string, patch: KeyPatch): Promise<void> {
    this.sql.updateKey.run({
      id,
      set_name: given(patch.name),
      name: patch.name ?? null,
      set_policy: given(patch.policy),
      policy_json: patch.policy === undefined ? null : JSON.stringify(patch.policy),
      set_last_used_at: given(patch.lastUsedAt),
      last_used_at: patch.lastUsedAt ?? null,
      set_revoked_at: given(patch.revokedAt),
      revoked_at: patch.revokedAt ?? null,
    });
  }

  // --- sessions -------------------------------------------------------------------------------

  async insertSession(session: SessionRecord, idempotency?: IdempotencyRecord): Promise<void> {
    this.insertSessionTx(session, idempotency);
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const row = this.sql.sessionById.get(id);
    return row ? sessionFromRow(row) : null;
  }

  async listSessions(keyId: string, page: { limit: number; offset: number }): Promise<Page<SessionRecord>> {
    return this.pageOfSessions(keyId, page.limit, page.offset);
  }

  async listActiveSessions(): Promise<SessionRecord[]> {
    return this.sql.listActiveSessions.all().map(sessionFromRow);
  }

  async updateSession(id: string, patch: SessionPatch): Promise<void> {
    this.sql.updateSession.run({
      id,
      set_status: given(patch.status),
      status: patch.status ?? null,
      set_last_activity_at: given(patch.lastActivityAt),
      last_activity_at: patch.lastActivityAt ?? null,
      set_ended_at: given(patch.endedAt),
      ended_at: patch.endedAt ?? null,
      set_end_reason: given(patch.endReason),
      end_reason: patch.endReason ?? null,
      set_claude_session_id: given(patch.claudeSessionId),
      claude_session_id: patch.claudeSessionId ?? null,
    });
  }

  // --- turns ----------------------------------------------------------------------------------

  async beginTurn(
    turn: TurnRecord,
    firstEvent: SessionEvent,
    idempotency?: IdempotencyRecord,
  ): Promise<void> {
    this.beginTurnTx(turn, firstEvent, idempotency);
  }

  async finishTurn(turnId: string, patch: TurnFinish, terminalEvent: SessionEvent): Promise<void> {
    this.finishTurnTx(turnId, patch, terminalEvent);
  }

  async getTurn(id: string): Promise<TurnRecord | null> {
    const row = this.sql.turnById.get(id);
    return row ? turnFromRow(row) : null;
  }

  async latestTurn(sessionId: string): Promise<TurnRecord | null> {
    const row = this.sql.latestTurn.get(sessionId);
    return row ? turnFromRow(row) : null;
  }

  async startTurn(turnId: string, promptEvent: SessionEvent): Promise<void> {
    this.startTurnTx(turnId, promptEvent);
  }

  async listUnfinishedTurns(sessionId?: string): Promise<TurnRecord[]> {
    const all = this.sql.unfinishedTurns.all().map(turnFromRow);
    return sessionId === undefined ? all : all.filter((turn) => turn.sessionId === sessionId);
  }

  async sessionUsage(sessionId: string): Promise<{ usage: TokenUsage; costUsd: number }> {
    // An aggregate without GROUP BY always yields one row; COALESCE makes it zeros when empty.
    const row = this.sql.sessionUsage.get(sessionId);
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
    return this.sql.keyUsage.all(keyId, since).map((row) => ({
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
    const row = this.sql.idempotencyByKey.get(keyId, key);
    return row ? idempotencyFromRow(row) : null;
  }

  async purgeIdempotency(createdBefore: number): Promise<number> {
    return this.sql.purgeIdempotency.run(createdBefore).changes;
  }

  // --- events ---------------------------------------------------------------------------------

  async appendEvents(events: SessionEvent[]): Promise<void> {
    if (events.length > 0) this.insertEventBatch(events);
  }

  async listEvents(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]> {
    return this.sql.eventsAfter.all(sessionId, afterSeq, limit).map(eventFromRow);
  }

  async lastEventSeq(sessionId: string): Promise<number> {
    return this.sql.lastEventSeq.get({ sessionId }) ?? 0;
  }

  async listMessages(
    sessionId: string,
    page: { limit: number; offset: number },
  ): Promise<Page<SessionEvent>> {
    return this.pageOfMessages(sessionId, page.limit, page.offset);
  }

  async pruneEvents(sessionId: string, createdBefore: number): Promise<number> {
    return this.pruneTx(sessionId, createdBefore);
  }

  async logFloor(sessionId: string): Promise<number> {
    return this.sql.logFloor.get(sessionId) ?? 0;
  }

  async purgeEndedSessions(endedBefore: number): Promise<number> {
    return this.purgeTx(endedBefore);
  }

  async countMessages(sessionId: string): Promise<number> {
    return this.sql.countMessages.get(sessionId) ?? 0;
  }
}
