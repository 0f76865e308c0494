/**
 * The schema, as an ordered list of migrations. `PRAGMA user_version` holds how many of them a
 * database has had: migration i (0-based) takes it from version i to version i + 1.
 *
 * Rules for whoever adds one: append, never edit or reorder a published migration (databases in
 * the field already ran it); one migration is one step of the schema, written as plain SQL.
 */
import type BetterSqlite3 from 'better-sqlite3';

/*
 * Notes on the first schema:
 * - STRICT tables make SQLite refuse a value of the wrong type (a fractional token count, a
 *   string time) instead of storing it silently.
 * - Times are INTEGER epoch milliseconds; JSON columns are TEXT written by JSON.stringify, except
 *   events.data, which is the SSE payload exactly as the caller gave it (replay must not
 *   re-serialize it).
 * - No CHECK constraints on status/role/type columns: the TypeScript unions guard them, and a
 *   CHECK could only be widened later by rebuilding the table.
 * - Every foreign key's child column leads an index, so the checks are index lookups.
 */
const V1_INITIAL = `
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY NOT NULL,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL,
  policy_json  TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at   INTEGER
) STRICT;

CREATE TABLE sessions (
  id                TEXT PRIMARY KEY NOT NULL,
  key_id            TEXT NOT NULL REFERENCES api_keys (id),
  status            TEXT NOT NULL,
  config_json       TEXT NOT NULL,
  metadata_json     TEXT NOT NULL,
  claude_session_id TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  last_activity_at  INTEGER NOT NULL,
  ended_at          INTEGER,
  end_reason        TEXT
) STRICT;
-- listSessions: one key's active sessions, newest first.
CREATE INDEX sessions_key_status_created ON sessions (key_id, status, created_at);
-- listActiveSessions / countActiveSessions: ended sessions pile up, the active ones stay few.
CREATE INDEX sessions_active_created ON sessions (created_at) WHERE status = 'active';

CREATE TABLE turns (
  id                          TEXT PRIMARY KEY NOT NULL,
  session_id                  TEXT NOT NULL REFERENCES sessions (id),
  prompt                      TEXT NOT NULL,
  status                      TEXT NOT NULL,
  created_at                  INTEGER NOT NULL,
  ended_at                    INTEGER,
  first_seq                   INTEGER NOT NULL,
  completion_json             TEXT,
  error_json                  TEXT,
  input_tokens                INTEGER NOT NULL DEFAULT 0,
  output_tokens               INTEGER NOT NULL DEFAULT 0,
  cache_creation_input_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_input_tokens     INTEGER NOT NULL DEFAULT 0,
  cost_usd                    REAL NOT NULL DEFAULT 0
) STRICT;
-- latestTurn and sessionUsage.
CREATE INDEX turns_session_first_seq ON turns (session_id, first_seq);
-- listUnfinishedTurns at start-up.
CREATE INDEX turns_status ON turns (status);

-- The log. The primary key is the SSE replay order, so WITHOUT ROWID stores rows in that order.
CREATE TABLE events (
  session_id TEXT NOT NULL REFERENCES sessions (id),
  seq        INTEGER NOT NULL,
  turn_id    TEXT,
  type       TEXT NOT NULL,
  data       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, seq)
) STRICT, WITHOUT ROWID;
-- listMessages / countMessages: the history is the 'message' events only.
CREATE INDEX events_session_type_seq ON events (session_id, type, seq);
`;

/** Idempotency-Key records, scoped to the API key; purged after their retention time. */
const V2_IDEMPOTENCY = `
CREATE TABLE idempotency_keys (
  key_id          TEXT NOT NULL REFERENCES api_keys (id),
  idempotency_key TEXT NOT NULL,
  fingerprint     TEXT NOT NULL,
  session_id      TEXT NOT NULL REFERENCES sessions (id),
  message_id      TEXT,
  created_at      INTEGER NOT NULL,
  PRIMARY KEY (key_id, idempotency_key)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_session ON idempotency_keys (session_id);
`;

/**
 * Claude Code's own transcripts (the SDK's sessionStore): a session resumes from here, so a
 * parked or restarted session does not depend on files under Claude Code's config dir.
 * `uuid` makes appends idempotent (the SDK may retry a batch).
 */
const V3_TRANSCRIPTS = `
CREATE TABLE transcripts (
  id          INTEGER PRIMARY KEY,
  project_key TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  subpath     TEXT NOT NULL DEFAULT '',
  uuid        TEXT,
  entry       TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX transcripts_session ON transcripts (session_id, project_key, subpath, id);
CREATE UNIQUE INDEX transcripts_uuid ON transcripts (project_key, session_id, subpath, uuid) WHERE uuid IS NOT NULL;
`;

/**
 * Retention of the event log: a session's floor is the highest sequence number of an event that
 * was pruned. Above it the log is complete; a stream that asks for events below it is told.
 * And each turn's own timeout, so a queued turn that runs after a restart keeps it, and the id
 * of its terminal event, so a stream of a turn can tell at once that nothing of it is left.
 */
const V4_LOG_FLOORS = `
ALTER TABLE turns ADD COLUMN timeout_ms INTEGER;
ALTER TABLE turns ADD COLUMN last_seq INTEGER;
UPDATE turns SET last_seq = (
  SELECT MAX(seq) FROM events
  WHERE events.session_id = turns.session_id AND events.turn_id = turns.id AND events.type IN ('complete', 'error')
) WHERE status NOT IN ('queued', 'running');
CREATE TABLE event_log_floors (
  session_id TEXT PRIMARY KEY NOT NULL REFERENCES sessions (id),
  floor      INTEGER NOT NULL
) STRICT;
CREATE INDEX events_created ON events (created_at);
CREATE INDEX sessions_ended ON sessions (ended_at) WHERE status = 'ended';
`;

/**
 * The Managed Agents API's records (/v1): agents (a row per version), environments, files'
 * metadata and the /v1 view of sessions, each as its JSON.
 */
const V5_MANAGED_OBJECTS = `
CREATE TABLE managed_objects (
  kind        TEXT NOT NULL,
  id          TEXT NOT NULL,
  version     INTEGER NOT NULL,
  key_id      TEXT NOT NULL,
  data        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  archived_at INTEGER,
  PRIMARY KEY (kind, id, version)
) STRICT;
CREATE INDEX managed_objects_owner ON managed_objects (kind, key_id, created_at, id);
`;

/** Applied in order; the array index + 1 is the resulting `user_version`. */
export const MIGRATIONS: readonly string[] = [
  V1_INITIAL,
  V2_IDEMPOTENCY,
  V3_TRANSCRIPTS,
  V4_LOG_FLOORS,
  V5_MANAGED_OBJECTS,
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export function readSchemaVersion(db: BetterSqlite3.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Refuses a database newer than this code (written by a later server, then downgraded):
 * guessing at a schema we do not know would corrupt it. Reading the header also proves the file
 * is a database at all (garbage fails here with SQLITE_NOTADB).
 */
export function assertKnownVersion(db: BetterSqlite3.Database, known: number = SCHEMA_VERSION): number {
  const current = readSchemaVersion(db);
  if (current > known) {
    throw new Error(
      `schema version ${current} is newer than this server supports (${known}); ` +
        'upgrade the server or use another data directory',
    );
  }
  return current;
}

/**
 * Brings the database to the last version. All pending migrations and the version bump run in one
 * IMMEDIATE transaction: a crash mid-way leaves the previous version intact, and a second process
 * opening the same file at the same moment waits, then sees the work done and does nothing.
 */
export function migrate(db: BetterSqlite3.Database, migrations: readonly string[] = MIGRATIONS): void {
  const run = db.transaction(() => {
    // Read again inside the write lock: another process may have migrated meanwhile.
    const current = assertKnownVersion(db, migrations.length);
    if (current === migrations.length) return;
    for (let version = current + 1; version <= migrations.length; version += 1) {
      try {
        db.exec(migrations[version - 1] ?? '');
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`migration to schema version ${version} failed: ${reason}`, { cause: error });
      }
    }
    // user_version lives in the file header and is part of the transaction.
    db.pragma(`user_version = ${migrations.length}`);
  });
  run.immediate();
}
