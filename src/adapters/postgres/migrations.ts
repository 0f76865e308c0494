/**
 * The PostgreSQL schema, as an ordered list of migrations, run at start. `schema_migrations`
 * records which versions a database has had. Several instances may start at once on an empty
 * database: each takes a session-level advisory lock first, so one migrates while the others
 * wait, then find the work done and do nothing.
 *
 * Rules for whoever adds one: append, never edit or reorder a published migration; one
 * migration is one step of the schema, written as plain SQL, applied in one transaction.
 *
 * The tables mirror the SQLite ones (src/adapters/sqlite/migrations.ts), so the row mappers are
 * shared: times are BIGINT epoch milliseconds, JSON columns TEXT as JSON.stringify wrote them
 * (events.data is the SSE payload byte for byte). Two differences:
 * - `turns.prompt_json` holds the prompt as a JSON string: PostgreSQL text cannot hold a NUL
 *   character, which a client's prompt may contain.
 * - `event_log_heads` holds the highest sequence number each session's log has given out. Every
 *   write that carries an event moves it up in the same transaction, and only up (a row lock
 *   orders concurrent writers): an event numbered from a stale head is refused (EventSeqTaken),
 *   even where retention has pruned the events below.
 */
import type pg from 'pg';

const V1_INITIAL = `
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL,
  policy_json  TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at   BIGINT
);

CREATE TABLE sessions (
  id                TEXT PRIMARY KEY,
  key_id            TEXT NOT NULL REFERENCES api_keys (id),
  status            TEXT NOT NULL,
  config_json       TEXT NOT NULL,
  metadata_json     TEXT NOT NULL,
  claude_session_id TEXT NOT NULL,
  created_at        BIGINT NOT NULL,
  last_activity_at  BIGINT NOT NULL,
  ended_at          BIGINT,
  end_reason        TEXT
);
CREATE INDEX sessions_key_status_created ON sessions (key_id, status, created_at);
CREATE INDEX sessions_active_created ON sessions (created_at) WHERE status = 'active';
CREATE INDEX sessions_ended ON sessions (ended_at) WHERE status = 'ended';

CREATE TABLE turns (
  id                          TEXT PRIMARY KEY,
  session_id                  TEXT NOT NULL REFERENCES sessions (id),
  prompt_json                 TEXT NOT NULL,
  status                      TEXT NOT NULL,
  created_at                  BIGINT NOT NULL,
  ended_at                    BIGINT,
  first_seq                   BIGINT NOT NULL,
  timeout_ms                  BIGINT,
  last_seq                    BIGINT,
  completion_json             TEXT,
  error_json                  TEXT,
  input_tokens                BIGINT NOT NULL DEFAULT 0,
  output_tokens               BIGINT NOT NULL DEFAULT 0,
  cache_creation_input_tokens BIGINT NOT NULL DEFAULT 0,
  cache_read_input_tokens     BIGINT NOT NULL DEFAULT 0,
  cost_usd                    DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX turns_session_first_seq ON turns (session_id, first_seq);
CREATE INDEX turns_unfinished ON turns (session_id, first_seq) WHERE status IN ('queued', 'running');

CREATE TABLE events (
  session_id TEXT NOT NULL REFERENCES sessions (id),
  seq        BIGINT NOT NULL,
  turn_id    TEXT,
  type       TEXT NOT NULL,
  data       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (session_id, seq)
);
CREATE INDEX events_session_type_seq ON events (session_id, type, seq);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE event_log_heads (
  session_id TEXT PRIMARY KEY REFERENCES sessions (id),
  last_seq   BIGINT NOT NULL
);

CREATE TABLE event_log_floors (
  session_id TEXT PRIMARY KEY REFERENCES sessions (id),
  floor      BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
  key_id          TEXT NOT NULL REFERENCES api_keys (id),
  idempotency_key TEXT NOT NULL,
  fingerprint     TEXT NOT NULL,
  session_id      TEXT NOT NULL REFERENCES sessions (id),
  message_id      TEXT,
  created_at      BIGINT NOT NULL,
  PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_session ON idempotency_keys (session_id);

CREATE TABLE transcripts (
  id          BIGSERIAL PRIMARY KEY,
  project_key TEXT NOT NULL,
  session_id  TEXT NOT NULL,
  subpath     TEXT NOT NULL DEFAULT '',
  uuid        TEXT,
  entry       TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);
CREATE INDEX transcripts_session ON transcripts (session_id, project_key, subpath, id);
CREATE UNIQUE INDEX transcripts_uuid ON transcripts (project_key, session_id, subpath, uuid) WHERE uuid IS NOT NULL;
`;

/**
 * Several instances: each running server is a row with a lease (`expires_at`, renewed by its
 * heartbeat), and each session's Claude Code process belongs to one instance (`session_owners`).
 * Ownership is valid while its instance's lease is; a session whose owner's lease expired is
 * taken over by the instance that needs it (src/adapters/postgres/postgres-ownership.ts).
 * `shared_volume_markers` holds the name of a file each instance writes in the workspaces
 * folder, so another instance can tell whether it sees the same folder.
 */
const V2_INSTANCES = `
CREATE TABLE instances (
  id           TEXT PRIMARY KEY,
  url          TEXT NOT NULL,
  started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at   TIMESTAMPTZ NOT NULL,
  volume_mark  TEXT
);

-- No foreign key to sessions: a session is claimed before it is stored, so that no other
-- instance can take it for an orphan in between.
CREATE TABLE session_owners (
  session_id  TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL
);
CREATE INDEX session_owners_instance ON session_owners (instance_id);
`;

/**
 * The Managed Agents API's records (/v1): agents (a row per version), environments, files'
 * metadata and the /v1 view of sessions, each as its JSON.
 */
const V3_MANAGED_OBJECTS = `
CREATE TABLE managed_objects (
  kind        TEXT NOT NULL,
  id          TEXT NOT NULL,
  version     INTEGER NOT NULL,
  key_id      TEXT NOT NULL,
  data        TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  archived_at BIGINT,
  PRIMARY KEY (kind, id, version)
);
CREATE INDEX managed_objects_owner ON managed_objects (kind, key_id, created_at, id);
`;

export const MIGRATIONS: readonly string[] = [V1_INITIAL, V2_INSTANCES, V3_MANAGED_OBJECTS];

/** Any constant will do, as long as it is this application's: "ccr-migr". */
const MIGRATION_LOCK = 0x6363722d6d696772n;

/**
 * Brings the database to the last version, under the advisory lock. A database newer than this
 * code is refused: guessing at a schema we do not know would corrupt it.
 */
export async function migrate(pool: pg.Pool, migrations: readonly string[] = MIGRATIONS): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version    INTEGER PRIMARY KEY,
           applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )`,
      );
      const { rows } = await client.query<{ version: number | null }>(
        'SELECT MAX(version) AS version FROM schema_migrations',
      );
      const current = rows[0]?.version ?? 0;
      if (current > migrations.length) {
        throw new Error(
          `schema version ${current} is newer than this server supports (${migrations.length}); ` +
            'upgrade the server or use another database',
        );
      }
      for (let version = current + 1; version <= migrations.length; version++) {
        await client.query('BEGIN');
        try {
          await client.query(migrations[version - 1] ?? '');
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(`migration to schema version ${version} failed: ${reason}`, { cause: error });
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    }
  } finally {
    client.release();
  }
}
