/** The SQLite adapter: the durable SessionStore the server runs on. */
export { SqliteSessionStore } from './sqlite-session-store.js';
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
