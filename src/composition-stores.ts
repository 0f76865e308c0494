/**
 * The composition root's store half: the one place that opens the stores the configuration
 * names (PostgreSQL with DATABASE_URL, else SQLite in the data dir). Apart from composition.ts so
 * that the key CLI, which needs only this, does not load the whole server (Fastify, the Claude
 * Agent SDK) at every call.
 */
import fs from 'node:fs';
import { databasePath, openSqliteStores, StoreOpenError } from './adapters/sqlite/index.js';
import { systemClock } from './adapters/system-clock.js';
import type { Config } from './config/config.js';
import { KeyAdmin } from './domain/key-admin.js';
import type { Ownership } from './domain/ports.js';
import type { Stores } from './domain/stores.js';

/** A start-up problem that is the operator's to fix (a store that cannot open): one line, exit 1. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** Where the store is: DATABASE_URL, else the data dir's SQLite database. */
export type StoreLocation = Pick<Config, 'dataDir' | 'databaseUrl'>;

export interface OpenedStores {
  stores: Stores;
  /** The instances' leases, with a store several instances share (PostgreSQL); null with SQLite. */
  ownership: Ownership | null;
}

/**
 * The stores the configuration names, and with PostgreSQL the leases of the instances sharing
 * it. The server and the key CLI both open them here, so only this file names a store adapter.
 */
export async function openDatabase(config: StoreLocation): Promise<OpenedStores> {
  if (config.databaseUrl) {
    try {
      // Loaded only when used: a single instance on SQLite (and the key CLI) never loads pg.
      const { openPostgres, PostgresOwnership } = await import('./adapters/postgres/index.js');
      const db = await openPostgres(config.databaseUrl);
      return { stores: db.stores, ownership: new PostgresOwnership(db.pool) };
    } catch (err) {
      throw new StartupError((err as Error).message);
    }
  }
  try {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    return { stores: openSqliteStores(config.dataDir), ownership: null };
  } catch (err) {
    if (err instanceof StoreOpenError) throw new StartupError(err.message);
    throw new StartupError(`Cannot use the data dir ${config.dataDir}: ${(err as Error).message}`);
  }
}

export async function openStores(config: StoreLocation): Promise<Stores> {
  return (await openDatabase(config)).stores;
}

/**
 * Key administration on the configured store, for the key CLI (which runs beside the server or
 * without it). Without `create`, a SQLite store that does not exist yet is an error: most likely
 * a wrong data dir, since the server makes its store at its first start.
 */
export async function openKeyAdmin(
  config: StoreLocation,
  options: { create: boolean },
): Promise<{ admin: KeyAdmin; created: boolean; close: () => Promise<void> }> {
  let created = false;
  if (!config.databaseUrl) {
    const file = databasePath(config.dataDir);
    created = !fs.existsSync(file);
    if (!options.create && created) {
      throw new StartupError(
        `No database at ${file}. Is the data dir right? Pass --data-dir or set DATA_DIR ` +
          "(the server makes the database at its first start; the offline demo's data dir is data/offline).",
      );
    }
  }
  const stores = await openStores(config);
  return { admin: new KeyAdmin(stores.keys, systemClock), created, close: () => stores.close() };
}
