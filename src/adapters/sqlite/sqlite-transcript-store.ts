/**
 * Claude Code's transcripts in the server's database, through the SDK's `sessionStore` interface
 * (append and load). Claude Code still writes its local file first; this is the copy a session
 * resumes from, which survives a parked process, a wiped config dir and a restart, and which a
 * later multi-instance deployment can share.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type {
  TranscriptEntry as SessionStoreEntry,
  TranscriptKey as SessionKey,
  TranscriptStore,
} from '../../domain/stores.js';

export class SqliteTranscriptStore implements TranscriptStore {
  private readonly insert: BetterSqlite3.Statement<[string, string, string, string | null, string, number]>;
  private readonly select: BetterSqlite3.Statement<[string, string, string], { entry: string }>;
  private readonly any: BetterSqlite3.Statement<[string], number>;
  private readonly sessionsOf: BetterSqlite3.Statement<[string], { sessionId: string; mtime: number }>;
  private readonly subkeys: BetterSqlite3.Statement<[string, string], string>;
  private readonly remove: BetterSqlite3.Statement<[string, string, string]>;
  private readonly appendTx: (key: SessionKey, entries: SessionStoreEntry[]) => void;

  constructor(db: BetterSqlite3.Database) {
    this.insert = db.prepare(
      // An entry with a uuid already stored is a retry of the same batch: ignored.
      `INSERT OR IGNORE INTO transcripts (project_key, session_id, subpath, uuid, entry, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.select = db.prepare(
      'SELECT entry FROM transcripts WHERE session_id = ? AND project_key = ? AND subpath = ? ORDER BY id',
    );
    this.any = db
      .prepare<[string], number>('SELECT EXISTS (SELECT 1 FROM transcripts WHERE session_id = ?)')
      .pluck();
    this.sessionsOf = db.prepare(
      `SELECT session_id AS sessionId, MAX(created_at) AS mtime FROM transcripts
       WHERE project_key = ? AND subpath = '' GROUP BY session_id`,
    );
    this.subkeys = db
      .prepare<[string, string], string>(
        `SELECT DISTINCT subpath FROM transcripts WHERE session_id = ? AND project_key = ? AND subpath != ''`,
      )
      .pluck();
    this.remove = db.prepare(
      'DELETE FROM transcripts WHERE session_id = ? AND project_key = ? AND subpath = ?',
    );
    this.appendTx = db.transaction((key: SessionKey, entries: SessionStoreEntry[]) => {
      const now = Date.now();
      for (const entry of entries) {
        const uuid = typeof entry.uuid === 'string' ? entry.uuid : null;
        this.insert.run(key.projectKey, key.sessionId, key.subpath ?? '', uuid, JSON.stringify(entry), now);
      }
    });
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    this.appendTx(key, entries);
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const rows = this.select.all(key.sessionId, key.projectKey, key.subpath ?? '');
    return rows.length === 0 ? null : rows.map((r) => JSON.parse(r.entry) as SessionStoreEntry);
  }

  async listSessions(projectKey: string): Promise<Array<{ sessionId: string; mtime: number }>> {
    return this.sessionsOf.all(projectKey);
  }

  async listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]> {
    return this.subkeys.all(key.sessionId, key.projectKey);
  }

  async delete(key: SessionKey): Promise<void> {
    this.remove.run(key.sessionId, key.projectKey, key.subpath ?? '');
  }

  /** Has Claude Code stored anything of this session (so a new process should resume it)? */
  async has(claudeSessionId: string): Promise<boolean> {
    return (this.any.get(claudeSessionId) ?? 0) > 0;
  }
}
