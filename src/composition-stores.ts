/**
 * The composition root's store half: the one place that opens the stores the configuration
 * names. Apart from composition.ts so that the key CLI, which needs only this, does not load the
 * whole server (Fastify, the Claude Agent SDK) at every call.
 */
import fs from 'node:fs';
import { databasePath, openSqliteStores, StoreOpenError } from './adapters/sqlite/index.js';
import { systemClock } from './adapters/system-clock.js';
import type { Config } from './config/config.js';
import { KeyAdmin } from './domain/key-admin.js';
import type { Stores } from './domain/stores.js';

/** A start-up problem that is the operator's to fix (a store that cannot open): one line, exit 1. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * The stores the configuration names. The server and the key CLI both open them here, so only
 * this file names a store adapter.
 */
export function openStores(config: Pick<Config, 'dataDir'>): Stores {
  try {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    return openSqliteStores(config.dataDir);
  } catch (err) {
    if (err instanceof StoreOpenError) throw new StartupError(err.message);
    throw new StartupError(`Cannot use the data dir ${config.dataDir}: ${(err as Error).message}`);
  }
}

/**
 * Key administration on the configured store, for the key CLI (which runs beside the server or
 * without it). Without `create`, a store that does not exist yet is an error: most likely a wrong
 * data dir, since the server makes its store at its first start.
 */
export function openKeyAdmin(
  config: Pick<Config, 'dataDir'>,
  options: { create: boolean },
): { admin: KeyAdmin; created: boolean; close: () => Promise<void> } {
  const file = databasePath(config.dataDir);
  const created = !fs.existsSync(file);
  if (!options.create && created) {
    throw new StartupError(
      `No database at ${file}. Is the data dir right? Pass --data-dir or set DATA_DIR ` +
        "(the server makes the database at its first start; the offline demo's data dir is data/offline).",
    );
  }
  const stores = openStores(config);
  return { admin: new KeyAdmin(stores.keys, systemClock), created, close: () => stores.close() };
}
