/**
 * Opens (creating if needed) `<dataDir>/server.db`, sets the connection up and migrates it.
 * Any failure becomes one StoreOpenError naming the file and the cause, which the server reports
 * as a clean start-up failure: retrying a corrupt, foreign or newer database cannot succeed, so a
 * crash loop would only hide the message.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { assertKnownVersion, migrate, MIGRATIONS } from './migrations.js';

export const DATABASE_FILE_NAME = 'server.db';

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** The database could not be opened or migrated; `message` is one line with the path and cause. */
export class StoreOpenError extends Error {
  readonly path: string;

  constructor(path: string, cause: unknown) {
    super(`Cannot open the database ${path}: ${describeCause(cause)}`, { cause });
    this.name = 'StoreOpenError';
    this.path = path;
  }
}

export interface OpenDatabaseOptions {
  /** The migrations to apply; tests pass a shorter or longer list. Default: the real schema. */
  migrations?: readonly string[];
}

export function databasePath(dataDir: string): string {
  return join(resolve(dataDir), DATABASE_FILE_NAME);
}

export function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): BetterSqlite3.Database {
  const path = databasePath(dataDir);
  const migrations = options.migrations ?? MIGRATIONS;
  let db: BetterSqlite3.Database | undefined;
  try {
    mkdirSync(resolve(dataDir), { recursive: true });
    db = new Database(path);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // First read of the file: fails on garbage, and refuses a newer schema before we touch it.
    assertKnownVersion(db, migrations.length);
    configure(db, path);
    migrate(db, migrations);
    assertWritable(db);
    return db;
  } catch (error) {
    if (db?.open) db.close();
    throw error instanceof StoreOpenError ? error : new StoreOpenError(path, error);
  }
}

function configure(db: BetterSqlite3.Database, path: string): void {
  // WAL: readers never block the writer, and a commit is one sequential append.
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    // e.g. a file system without shared memory; DELETE mode would work but is not what we test.
    throw new StoreOpenError(path, `journal_mode is '${String(mode)}', expected 'wal'`);
  }
  // FULL: every commit is fsynced before it returns, so an acknowledged write survives power loss
  // (NORMAL in WAL mode may lose the last commits). The server answers only after the write.
  db.pragma('synchronous = FULL');
  // Off by default in SQLite, per connection.
  db.pragma('foreign_keys = ON');
}

/**
 * SQLite silently opens a write-protected file read-only; an up-to-date database would then open
 * fine and fail at the first write, long after start-up. Rewriting user_version (same value) is a
 * tiny write that fails now instead.
 */
function assertWritable(db: BetterSqlite3.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  db.pragma(`user_version = ${version}`);
}

/** One line: the error's code and message (SqliteError and Node's fs errors both carry a code). */
function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const text =
      typeof code === 'string' && !cause.message.includes(code)
        ? `${cause.message} (${code})`
        : cause.message;
    return oneLine(text);
  }
  return oneLine(String(cause));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
