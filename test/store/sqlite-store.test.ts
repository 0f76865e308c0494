/**
 * The SQLite store: the shared contract on a real file, then what only a database has to get
 * right — durability across connections, the connection's pragmas, and refusing (with a clear
 * StoreOpenError) a location or a file it cannot safely use.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  databasePath,
  MIGRATIONS,
  openDatabase,
  SCHEMA_VERSION,
  openSqliteStores,
  SqliteStore,
  StoreOpenError,
} from '../../src/adapters/sqlite/index.js';
import { makeEvent, makeKey, makeSession, makeTurn, seedSession, T0 } from './fixtures.js';
import { describeStoreContract } from './store-contract.js';

const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'session-store-'));

describeStoreContract('sqlite', async () => {
  const dir = await tempDir();
  const stores = openSqliteStores(dir);
  return {
    stores,
    cleanup: async () => {
      await stores.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore on disk', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await tempDir();
  });

  afterEach(async () => {
    await chmod(dir, 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  /** Expects a StoreOpenError naming the database path, on one line. */
  function expectOpenError(
    dataDir: string,
    pattern: RegExp,
    options?: Parameters<typeof openDatabase>[1],
  ): void {
    let caught: unknown;
    try {
      openDatabase(dataDir, options).close();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreOpenError);
    const error = caught as StoreOpenError;
    expect(error.path).toBe(databasePath(dataDir));
    expect(error.message).toContain(databasePath(dataDir));
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain('\n');
  }

  it('creates the data directory and a migrated server.db', async () => {
    const nested = join(dir, 'a', 'b');
    const db = openDatabase(nested);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual([
      'api_keys',
      'event_log_floors',
      'events',
      'idempotency_keys',
      'managed_objects',
      'sessions',
      'transcripts',
      'turns',
    ]);
    db.close();
    expect(databasePath(nested)).toBe(join(nested, 'server.db'));
  });

  it('sets WAL, synchronous FULL, foreign keys and the busy timeout on its connection', () => {
    const db = openDatabase(dir);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.close();
  });

  it('an acknowledged write is visible to a new connection, and survives close and reopen', async () => {
    const store = SqliteStore.open(dir);
    await seedSession({ keys: store, sessions: store });
    const turn = makeTurn('ses_1');
    const prompt = makeEvent('ses_1', 1, { turnId: turn.id, data: '{ "kept" :  "as is" }' });
    await store.beginTurn(turn, prompt);

    // Another connection, while the first is still open: the commit is in the file (WAL), not in memory.
    const other = new Database(databasePath(dir), { readonly: true });
    expect(other.prepare('SELECT data FROM events WHERE session_id = ?').pluck().get('ses_1')).toBe(
      prompt.data,
    );
    other.close();
    await store.close();

    const reopened = SqliteStore.open(dir);
    expect(await reopened.getKey('key_1')).toEqual(makeKey());
    expect(await reopened.getSession('ses_1')).toEqual(makeSession('key_1'));
    expect(await reopened.getTurn(turn.id)).toEqual(turn);
    expect(await reopened.listEvents('ses_1', 0, 10)).toEqual([prompt]);
    await reopened.close();
  });

  it('reopening an up-to-date database migrates nothing', async () => {
    const store = SqliteStore.open(dir);
    await store.insertKey(makeKey({ createdAt: T0 }));
    await store.close();
    const db = openDatabase(dir);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare('SELECT COUNT(*) FROM api_keys').pluck().get()).toBe(1);
    db.close();
  });

  it('applies only the pending migrations, keeping the data', () => {
    openDatabase(dir, { migrations: MIGRATIONS }).close();
    const next = [...MIGRATIONS, 'CREATE TABLE later (x INTEGER) STRICT;'];
    const db = openDatabase(dir, { migrations: next });
    expect(db.pragma('user_version', { simple: true })).toBe(next.length);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'later'").pluck().get()).toBe(1);
    db.close();
  });

  it('V4 fills in the terminal event id of the turns that ended before it', () => {
    const v3 = openDatabase(dir, { migrations: MIGRATIONS.slice(0, 3) });
    v3.exec(`
      INSERT INTO api_keys (id, name, prefix, hash, role, policy_json, created_at)
        VALUES ('key_1', 'k', 'ccr_x', 'h', 'user', '{}', 0);
      INSERT INTO sessions (id, key_id, status, config_json, metadata_json, claude_session_id, created_at,
        last_activity_at) VALUES ('ses_1', 'key_1', 'active', '{}', '{}', 'c', 0, 0);
      INSERT INTO turns (id, session_id, prompt, status, created_at, first_seq) VALUES
        ('t_done', 'ses_1', 'a', 'completed', 0, 1), ('t_open', 'ses_1', 'b', 'queued', 0, 3);
      INSERT INTO events (session_id, seq, turn_id, type, data, created_at) VALUES
        ('ses_1', 1, 't_done', 'message', '{}', 0), ('ses_1', 2, 't_done', 'complete', '{}', 0),
        ('ses_1', 3, 't_open', 'status', '{}', 0);
    `);
    v3.close();
    const db = openDatabase(dir);
    const rows = db.prepare('SELECT id, last_seq, timeout_ms FROM turns ORDER BY id').all();
    expect(rows).toEqual([
      { id: 't_done', last_seq: 2, timeout_ms: null },
      { id: 't_open', last_seq: null, timeout_ms: null },
    ]);
    db.close();
  });

  it('a failing migration leaves the database at its previous version, untouched', () => {
    expectOpenError(
      dir,
      new RegExp(`migration to schema version ${MIGRATIONS.length + 1} failed: incomplete input`),
      {
        migrations: [...MIGRATIONS, 'CREATE TABLE broken ('],
      },
    );
    const db = new Database(databasePath(dir));
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'").pluck().get()).toBe(0);
    db.close();
  });

  it('refuses a database whose schema is newer than the code, without touching it', () => {
    const db = new Database(databasePath(dir));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expectOpenError(dir, new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer`));
    const check = new Database(databasePath(dir), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('refuses a corrupt file (not a database), leaving its bytes alone', async () => {
    const garbage = Buffer.from('this is not a database, just garbage bytes '.repeat(100));
    await writeFile(databasePath(dir), garbage);
    expectOpenError(dir, /not a database/);
    expect(await readFile(databasePath(dir))).toEqual(garbage);
  });

  it('refuses a location where the directory cannot be created', async () => {
    // A regular file where a directory should be: fails even for root, unlike permissions.
    await writeFile(join(dir, 'file'), 'x');
    expectOpenError(join(dir, 'file', 'data'), /ENOTDIR|not a directory/);
  });

  it.skipIf(process.getuid?.() === 0)('refuses a directory it cannot write to', async () => {
    await chmod(dir, 0o500);
    expectOpenError(dir, /unable to open|readonly|CANTOPEN/i);
  });

  it.skipIf(process.getuid?.() === 0)(
    'refuses a write-protected database file at open, not later',
    async () => {
      openDatabase(dir).close();
      await chmod(databasePath(dir), 0o400);
      expectOpenError(dir, /readonly/i);
    },
  );
});
