/**
 * One server per data dir. Two servers on one data dir would share one database, one process
 * registry and one temp-dir marker: the second's start-up clean-up (leftover process groups, the
 * previous temp dir) would destroy what the first is using. So the server holds an exclusive lock
 * on the data dir for its whole life, and a second one refuses to start before it touches
 * anything.
 *
 * The lock is a small SQLite file (`server.lock`) opened in `locking_mode = EXCLUSIVE` with a write
 * done, so the connection holds SQLite's exclusive file lock until it closes. SQLite takes it with
 * an OS advisory lock (fcntl), which the kernel drops when the process dies: a crashed server's
 * lock is never stale, with no pid files or timestamps to judge. better-sqlite3 is already a
 * dependency, and SQLite also keeps a second connection in the same process out (it tracks locks
 * per file, not per descriptor). Only the server takes it: the key CLI writes keys through the
 * database itself while the server runs, which SQLite's own locking already makes safe.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE_NAME = 'server.lock';

export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `another claude-code-rest server is using the data dir ${dataDir} (it holds ${path.join(dataDir, LOCK_FILE_NAME)}). ` +
        'Stop that server, or set DATA_DIR to another directory.',
    );
  }
}

export interface DataDirLock {
  /** Gives the lock up (on shutdown); the process ending does the same. */
  release(): void;
}

/** Takes the data dir's lock, creating the dir if needed; throws DataDirLockedError when held. */
export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // timeout 0: a held lock is an answer, not something to wait for.
  const db = new Database(path.join(dataDir, LOCK_FILE_NAME), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The write takes the exclusive lock, which EXCLUSIVE mode keeps after the commit. The row
    // says who held it last, for whoever opens the file once it is free.
    db.exec(
      'CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, since TEXT)',
    );
    db.prepare('INSERT OR REPLACE INTO holder (id, pid, since) VALUES (1, ?, ?)').run(
      process.pid,
      new Date().toISOString(),
    );
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw new DataDirLockedError(dataDir);
    throw err;
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}
