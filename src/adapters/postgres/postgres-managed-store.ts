/** The Managed Agents records (ManagedObjectStore) on PostgreSQL: the table `managed_objects`. */
import type pg from 'pg';
import type { ManagedObjectKind, ManagedObjectRecord, ManagedObjectStore } from '../../domain/stores.js';
import type { Page } from '../../domain/types.js';

interface Row {
  kind: string;
  id: string;
  version: number;
  key_id: string;
  data: string;
  created_at: number | string;
  updated_at: number | string;
  archived_at: number | string | null;
}

function fromRow(row: Row): ManagedObjectRecord {
  return {
    kind: row.kind as ManagedObjectKind,
    id: row.id,
    version: Number(row.version),
    keyId: row.key_id,
    data: row.data,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    archivedAt: row.archived_at === null ? null : Number(row.archived_at),
  };
}

const LATEST = `NOT EXISTS (SELECT 1 FROM managed_objects n
  WHERE n.kind = o.kind AND n.id = o.id AND n.version > o.version)`;

export class PostgresManagedStore implements ManagedObjectStore {
  constructor(private readonly pool: pg.Pool) {}

  async putObject(r: ManagedObjectRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO managed_objects (kind, id, version, key_id, data, created_at, updated_at, archived_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (kind, id, version) DO UPDATE SET key_id = EXCLUDED.key_id, data = EXCLUDED.data,
         created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, archived_at = EXCLUDED.archived_at`,
      [r.kind, r.id, r.version, r.keyId, r.data, r.createdAt, r.updatedAt, r.archivedAt],
    );
  }

  async getObject(
    kind: ManagedObjectKind,
    id: string,
    version?: number,
  ): Promise<ManagedObjectRecord | null> {
    const { rows } =
      version === undefined
        ? await this.pool.query<Row>(
            'SELECT * FROM managed_objects WHERE kind = $1 AND id = $2 ORDER BY version DESC LIMIT 1',
            [kind, id],
          )
        : await this.pool.query<Row>(
            'SELECT * FROM managed_objects WHERE kind = $1 AND id = $2 AND version = $3',
            [kind, id, version],
          );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async listObjects(
    kind: ManagedObjectKind,
    keyId: string,
    page: { limit: number; offset: number; includeArchived: boolean },
  ): Promise<Page<ManagedObjectRecord>> {
    const where = `o.kind = $1 AND o.key_id = $2 AND ${LATEST}${page.includeArchived ? '' : ' AND o.archived_at IS NULL'}`;
    const count = await this.pool.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM managed_objects o WHERE ${where}`,
      [kind, keyId],
    );
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM managed_objects o WHERE ${where} ORDER BY o.created_at, o.id LIMIT $3 OFFSET $4`,
      [kind, keyId, page.limit, page.offset],
    );
    return { total: Number(count.rows[0]?.n ?? 0), items: rows.map(fromRow) };
  }

  async listVersions(kind: ManagedObjectKind, id: string): Promise<ManagedObjectRecord[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT * FROM managed_objects WHERE kind = $1 AND id = $2 ORDER BY version DESC',
      [kind, id],
    );
    return rows.map(fromRow);
  }

  async deleteObject(kind: ManagedObjectKind, id: string): Promise<void> {
    await this.pool.query('DELETE FROM managed_objects WHERE kind = $1 AND id = $2', [kind, id]);
  }
}
