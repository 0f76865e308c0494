/**
 * The instances' leases and the sessions' owners in PostgreSQL (tables of migration 2). Times are
 * the database's own (`now()`), so instances whose clocks differ agree on whose lease is alive.
 * A claim is one statement: insert the owner row, or move it to this instance when its owner's
 * lease is gone; two instances claiming at once are ordered by the row's lock, and one wins.
 */
import type pg from 'pg';
import type { InstanceInfo, Ownership, SessionClaim } from '../../domain/ports.js';

export class PostgresOwnership implements Ownership {
  constructor(private readonly pool: pg.Pool) {}

  async register(instance: InstanceInfo, leaseMs: number, volumeMark: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO instances (id, url, expires_at, volume_mark)
       VALUES ($1, $2, now() + make_interval(secs => $3::float8 / 1000), $4)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, expires_at = excluded.expires_at,
         volume_mark = excluded.volume_mark`,
      [instance.id, instance.url, leaseMs, volumeMark],
    );
  }

  async renew(instanceId: string, leaseMs: number): Promise<boolean> {
    const renewed = await this.pool.query(
      `UPDATE instances SET expires_at = now() + make_interval(secs => $2::float8 / 1000)
       WHERE id = $1 AND expires_at > now()`,
      [instanceId, leaseMs],
    );
    return renewed.rowCount === 1;
  }

  async liveInstances(exceptId: string): Promise<Array<InstanceInfo & { volumeMark: string | null }>> {
    const { rows } = await this.pool.query<{ id: string; url: string; volume_mark: string | null }>(
      'SELECT id, url, volume_mark FROM instances WHERE id <> $1 AND expires_at > now() ORDER BY started_at',
      [exceptId],
    );
    return rows.map((r) => ({ id: r.id, url: r.url, volumeMark: r.volume_mark }));
  }

  async claim(sessionId: string, instanceId: string): Promise<SessionClaim> {
    // The owner row is inserted, or moved here if its instance's lease is gone; otherwise the
    // statement changes nothing and the current owner is read back.
    const { rows } = await this.pool.query<{ instance_id: string; taken: boolean }>(
      `WITH previous AS (
         SELECT instance_id FROM session_owners WHERE session_id = $1
       ), claimed AS (
         INSERT INTO session_owners (session_id, instance_id) VALUES ($1, $2)
         ON CONFLICT (session_id) DO UPDATE SET instance_id = excluded.instance_id
         WHERE session_owners.instance_id = excluded.instance_id
            OR NOT EXISTS (SELECT 1 FROM instances i
                           WHERE i.id = session_owners.instance_id AND i.expires_at > now())
         RETURNING instance_id
       )
       SELECT instance_id, NOT EXISTS (SELECT 1 FROM previous WHERE instance_id = $2) AS taken FROM claimed`,
      [sessionId, instanceId],
    );
    if (rows[0]) return { kind: 'mine', takenOver: rows[0].taken };
    const owner = await this.pool.query<{ id: string; url: string }>(
      `SELECT i.id, i.url FROM session_owners o JOIN instances i ON i.id = o.instance_id WHERE o.session_id = $1`,
      [sessionId],
    );
    const found = owner.rows[0];
    // The owner left between the two statements: claim again.
    if (!found) return this.claim(sessionId, instanceId);
    return { kind: 'elsewhere', owner: { id: found.id, url: found.url } };
  }

  async orphans(limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT s.id FROM sessions s
       LEFT JOIN session_owners o ON o.session_id = s.id
       LEFT JOIN instances i ON i.id = o.instance_id AND i.expires_at > now()
       WHERE s.status = 'active' AND i.id IS NULL
       ORDER BY s.created_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  async leave(instanceId: string): Promise<void> {
    await this.pool.query('DELETE FROM session_owners WHERE instance_id = $1', [instanceId]);
    await this.pool.query('DELETE FROM instances WHERE id = $1', [instanceId]);
  }
}
