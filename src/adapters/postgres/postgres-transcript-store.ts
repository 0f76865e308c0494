/**
 * Claude Code's transcripts on PostgreSQL, through the SDK's `sessionStore` interface. Any
 * instance can resume a session from here: this is what lets a session whose instance died go
 * on elsewhere, with its whole conversation.
 */
import type pg from 'pg';
import type { TranscriptEntry, TranscriptKey, TranscriptStore } from '../../domain/stores.js';

export class PostgresTranscriptStore implements TranscriptStore {
  constructor(private readonly pool: pg.Pool) {}

  async append(key: TranscriptKey, entries: TranscriptEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const now = Date.now();
    const values: unknown[] = [];
    const tuples = entries.map((entry, i) => {
      const uuid = typeof entry.uuid === 'string' ? entry.uuid : null;
      values.push(key.projectKey, key.sessionId, key.subpath ?? '', uuid, JSON.stringify(entry), now);
      const at = i * 6;
      return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, $${at + 6})`;
    });
    // One statement: the batch is stored whole or not at all, in its order (BIGSERIAL ids).
    // An entry with a uuid already stored is a retry of the same batch: ignored.
    await this.pool.query(
      `INSERT INTO transcripts (project_key, session_id, subpath, uuid, entry, created_at)
       VALUES ${tuples.join(', ')}
       ON CONFLICT (project_key, session_id, subpath, uuid) WHERE uuid IS NOT NULL DO NOTHING`,
      values,
    );
  }

  async load(key: TranscriptKey): Promise<TranscriptEntry[] | null> {
    const { rows } = await this.pool.query<{ entry: string }>(
      'SELECT entry FROM transcripts WHERE session_id = $1 AND project_key = $2 AND subpath = $3 ORDER BY id',
      [key.sessionId, key.projectKey, key.subpath ?? ''],
    );
    return rows.length === 0 ? null : rows.map((r) => JSON.parse(r.entry) as TranscriptEntry);
  }

  async listSessions(projectKey: string): Promise<Array<{ sessionId: string; mtime: number }>> {
    const { rows } = await this.pool.query<{ sessionId: string; mtime: number }>(
      `SELECT session_id AS "sessionId", MAX(created_at) AS mtime FROM transcripts
       WHERE project_key = $1 AND subpath = '' GROUP BY session_id`,
      [projectKey],
    );
    return rows;
  }

  async listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]> {
    const { rows } = await this.pool.query<{ subpath: string }>(
      `SELECT DISTINCT subpath FROM transcripts WHERE session_id = $1 AND project_key = $2 AND subpath <> ''`,
      [key.sessionId, key.projectKey],
    );
    return rows.map((r) => r.subpath);
  }

  async delete(key: TranscriptKey): Promise<void> {
    await this.pool.query(
      'DELETE FROM transcripts WHERE session_id = $1 AND project_key = $2 AND subpath = $3',
      [key.sessionId, key.projectKey, key.subpath ?? ''],
    );
  }

  async has(claudeSessionId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ found: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM transcripts WHERE session_id = $1) AS found',
      [claudeSessionId],
    );
    return rows[0]?.found === true;
  }
}
