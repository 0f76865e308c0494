/**
 * The connection pool, set up once: BIGINT columns (epoch milliseconds, sequence numbers, token
 * counts) come back as JavaScript numbers rather than strings (every value we store is far below
 * 2^53), and `inTransaction` runs a function on one connection between BEGIN and COMMIT.
 */
import pg from 'pg';

const INT8_OID = 20;

/** The pool's own parsers: the pg module's global ones are left alone. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types, connectionTimeoutMillis: 10_000 });
  // An idle connection that the server drops (a restart, a network blip) is an 'error' on the
  // pool; without a listener it would crash the process. The next query opens a new connection.
  pool.on('error', () => undefined);
  return pool;
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Runs `work` in one transaction; a throw rolls all of it back and is rethrown. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable DATABASE_URL)';
  }
}
