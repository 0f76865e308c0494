/** The Managed Agents records (ManagedObjectStore) on SQLite: the table `managed_objects`. */
import type BetterSqlite3 from 'better-sqlite3';
import type { ManagedObjectKind, ManagedObjectRecord, ManagedObjectStore } from '../../domain/stores.js';
import type { Page } from '../../domain/types.js';

interface Row {
  kind: string;
  id: string;
  version: number;
  key_id: string;
  data: string;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}

function fromRow(row: Row): ManagedObjectRecord {
  return {
    kind: row.kind as ManagedObjectKind,
    id: row.id,
    version: row.version,
    keyId: row.key_id,
    data: row.data,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
  };
}

/** The latest version of each object: no row of the same object with a higher version. */
const LATEST = `NOT EXISTS (SELECT 1 FROM managed_objects n
  WHERE n.kind = o.kind AND n.id = o.id AND n.version > o.version)`;

export class SqliteManagedStore implements ManagedObjectStore {
  constructor(private readonly db: BetterSqlite3.Database) {}

  async putObject(r: ManagedObjectRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO managed_objects
         (kind, id, version, key_id, data, created_at, updated_at, archived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.kind, r.id, r.version, r.keyId, r.data, r.createdAt, r.updatedAt, r.archivedAt);
  }

  async getObject(
    kind: ManagedObjectKind,
    id: string,
    version?: number,
  ): Promise<ManagedObjectRecord | null> {
    const row =
      version === undefined
        ? this.db
            .prepare<[string, string], Row>(
              'SELECT * FROM managed_objects WHERE kind = ? AND id = ? ORDER BY version DESC LIMIT 1',
            )
            .get(kind, id)
        : this.db
            .prepare<[string, string, number], Row>(
              'SELECT * FROM managed_objects WHERE kind = ? AND id = ? AND version = ?',
            )
            .get(kind, id, version);
    return row ? fromRow(row) : null;
  }

  async listObjects(
    kind: ManagedObjectKind,
    keyId: string,
    page: { limit: number; offset: number; includeArchived: boolean },
  ): Promise<Page<ManagedObjectRecord>> {
    const where = `o.kind = ? AND o.key_id = ? AND ${LATEST}${page.includeArchived ? '' : ' AND o.archived_at IS NULL'}`;
    const total = this.db
      .prepare<[string, string], number>(`SELECT COUNT(*) FROM managed_objects o WHERE ${where}`)
      .pluck()
      .get(kind, keyId);
    const rows = this.db
      .prepare<[string, string, number, number], Row>(
        `SELECT * FROM managed_objects o WHERE ${where} ORDER BY o.created_at, o.id LIMIT ? OFFSET ?`,
      )
      .all(kind, keyId, page.limit, page.offset);
    return { total: total ?? 0, items: rows.map(fromRow) };
  }

  async listVersions(kind: ManagedObjectKind, id: string): Promise<ManagedObjectRecord[]> {
    return this.db
      .prepare<[string, string], Row>(
        'SELECT * FROM managed_objects WHERE kind = ? AND id = ? ORDER BY version DESC',
      )
      .all(kind, id)
      .map(fromRow);
  }

  async deleteObject(kind: ManagedObjectKind, id: string): Promise<void> {
    this.db.prepare('DELETE FROM managed_objects WHERE kind = ? AND id = ?').run(kind, id);
  }
}
