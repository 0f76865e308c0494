/**
 * The PostgreSQL adapter (DATABASE_URL): the stores several server instances share. Opening it
 * connects, runs the migrations under their advisory lock, and hands back every store port on
 * one pool, plus the pool itself for the instances' leases (postgres-ownership.ts).
 */
import type pg from 'pg';
import type { Stores } from '../../domain/stores.js';
import { PostgresManagedStore } from './postgres-managed-store.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { createPool, redactUrl } from './pool.js';
import { PostgresStore } from './postgres-store.js';
import { PostgresTranscriptStore } from './postgres-transcript-store.js';

export { MIGRATIONS } from './migrations.js';
export { PostgresStore } from './postgres-store.js';
export { PostgresOwnership } from './postgres-ownership.js';
export { redactUrl } from './pool.js';

/** The database could not be reached or migrated; `message` is one line, without the password. */
export class PostgresOpenError extends Error {
  override name = 'PostgresOpenError';
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`Cannot use the database ${redactUrl(url)}: ${reason.replace(/\s*\n\s*/g, ' ')}`, { cause });
  }
}

export interface PostgresDatabase {
  stores: Stores;
  /** Also for the leases of the instances; closed with the stores. */
  pool: pg.Pool;
  store: PostgresStore;
}

export async function openPostgres(
  url: string,
  options: { migrations?: readonly string[]; poolSize?: number } = {},
): Promise<PostgresDatabase> {
  const pool = createPool(url, options.poolSize);
  try {
    await migrate(pool, options.migrations ?? MIGRATIONS);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new PostgresOpenError(url, error);
  }
  const store = new PostgresStore(pool);
  const stores: Stores = {
    keys: store,
    sessions: store,
    turns: store,
    events: store,
    idempotency: store,
    usage: store,
    transcripts: new PostgresTranscriptStore(pool),
    managed: new PostgresManagedStore(pool),
    ping: () => store.ping(),
    close: () => store.close(),
  };
  return { stores, pool, store };
}
