/** The SQLite adapter: the durable stores the server runs on by default. */
import type { Stores } from '../../domain/stores.js';
import { SqliteManagedStore } from './sqlite-managed-store.js';
import { openDatabase, type OpenDatabaseOptions } from './open-database.js';
import { SqliteStore } from './sqlite-store.js';
import { SqliteTranscriptStore } from './sqlite-transcript-store.js';

export { SqliteStore } from './sqlite-store.js';
export { SqliteTranscriptStore } from './sqlite-transcript-store.js';
export {
  BUSY_TIMEOUT_MS,
  DATABASE_FILE_NAME,
  databasePath,
  openDatabase,
  StoreOpenError,
  type OpenDatabaseOptions,
} from './open-database.js';
export { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

/** Opens (and migrates) `<dataDir>/server.db`: every store port on one connection. */
export function openSqliteStores(dataDir: string, options?: OpenDatabaseOptions): Stores {
  const db = openDatabase(dataDir, options);
  const store = new SqliteStore(db);
  return {
    keys: store,
    sessions: store,
    turns: store,
    events: store,
    idempotency: store,
    usage: store,
    transcripts: new SqliteTranscriptStore(db),
    managed: new SqliteManagedStore(db),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
