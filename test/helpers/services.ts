/**
 * Real PostgreSQL and Redis for the tests. Where they already run on their standard local ports
 * (or where TEST_POSTGRES_URL / TEST_REDIS_URL say), they are used; otherwise a throwaway server
 * is started from Debian's binaries (installed by `scripts/ensure-system-packages.sh test`, which
 * `npm test` runs first) on a free port in a temp dir, and stopped afterwards.
 *
 * Isolation: each test file gets a database of its own (random name, dropped at the end), each
 * store a schema of its own in it (`freshSchemaUrl`), and each Redis user a key prefix of its own,
 * so parallel test files and other runs on the same servers never see each other's data.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';

const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
const START_TIMEOUT_MS = 30_000;

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A URL with another database name. */
function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The newest PostgreSQL server binaries of the machine (Debian's layout). */
function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) {
    throw new Error(
      'No PostgreSQL on 127.0.0.1:5432 and no server binaries in /usr/lib/postgresql: ' +
        'run `bash scripts/ensure-system-packages.sh test` (as root) to install them',
    );
  }
  return path.join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, the throwaway server runs as Debian's `postgres` user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

interface Throwaway {
  url: string;
  stop(): Promise<void>;
}

async function startThrowawayPostgres(): Promise<Throwaway> {
  const bin = postgresBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-pg-'));
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) spawnSync('chown', ['postgres:postgres', dir]);
  const run = (command: string, args: string[]): void => {
    const [cmd, argv] = asServerUser(path.join(bin, command), args);
    const result = spawnSync(cmd, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitFor(() => postgresAnswers(url), 'the throwaway PostgreSQL');
  return {
    url,
    async stop() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startThrowawayRedis(): Promise<Throwaway> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  child.on('error', () => undefined);
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error('redis-server exited: run `bash scripts/ensure-system-packages.sh test` to install it');
    return redisAnswers(url);
  }, 'the throwaway Redis');
  return {
    url,
    async stop() {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestPostgres {
  /** The URL of this file's own database. */
  url: string;
  /** A URL whose connections work in a new, empty schema of that database. */
  freshSchemaUrl(): Promise<string>;
  close(): Promise<void>;
}

/** A database of its own for one test file, on the local PostgreSQL or a throwaway one. */
export async function startPostgres(): Promise<TestPostgres> {
  const configured = process.env.TEST_POSTGRES_URL ?? DEFAULT_POSTGRES;
  const server: Throwaway = (await postgresAnswers(configured))
    ? { url: configured, stop: async () => undefined }
    : await startThrowawayPostgres();
  const database = randomName('ccr_test');
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = withDatabase(server.url, database);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    url,
    async freshSchemaUrl() {
      const schema = randomName('s');
      await pool.query(`CREATE SCHEMA ${schema}`);
      const u = new URL(url);
      u.searchParams.set('options', `-c search_path=${schema}`);
      return u.toString();
    },
    async close() {
      await pool.end();
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.end();
      await server.stop();
    },
  };
}

export interface TestRedis {
  url: string;
  /** A key prefix of its own (REDIS_KEY_PREFIX), so runs sharing the server stay apart. */
  freshPrefix(): string;
  close(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const configured = process.env.TEST_REDIS_URL ?? DEFAULT_REDIS;
  const server: Throwaway = (await redisAnswers(configured))
    ? { url: configured, stop: async () => undefined }
    : await startThrowawayRedis();
  return {
    url: server.url,
    freshPrefix: () => `${randomName('ccrtest')}:`,
    close: () => server.stop(),
  };
}

/**
 * The server's secret settings for a test of what must never leak (to the agent, to a client):
 * a real PostgreSQL and Redis, reached with URLs that carry a password (local servers that trust
 * the loopback ignore it), and the INSTANCE_URL a server on PORT 0 needs with them. `close`
 * drops the database and stops what was started.
 */
export async function secretServerSettings(
  password: () => string,
): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const database = new URL(await postgres.freshSchemaUrl());
  database.password = password();
  const cache = new URL(redis.url);
  cache.password = password();
  return {
    env: {
      DATABASE_URL: database.toString(),
      REDIS_URL: cache.toString(),
      REDIS_KEY_PREFIX: redis.freshPrefix(),
      INSTANCE_URL: 'http://127.0.0.1:9',
    },
    async close() {
      await postgres.close();
      await redis.close();
    },
  };
}
