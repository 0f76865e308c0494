/**
 * Several server instances, each its own OS process on its own port, sharing one PostgreSQL
 * schema, one Redis prefix and one data dir (the workspaces volume), with one fake model API:
 * the set-up of the multi-instance suites.
 */
import fs from 'node:fs';
import { startFakeAnthropic, type FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { freePort, startPostgres, startRedis } from './services.js';
import { serverEnv, spawnServer, tempDir, type SpawnedServer } from './test-server.js';

export interface Cluster {
  fake: FakeAnthropic;
  databaseUrl: string;
  dataDir: string;
  /** One more instance of the cluster (its own port and INSTANCE_URL), with `env` on top. */
  start(env?: Record<string, string>, dataDir?: string): Promise<SpawnedServer>;
  /** Stops every instance started, then the services, and removes the data dir. */
  close(): Promise<void>;
}

export async function startCluster(name: string): Promise<Cluster> {
  const [fake, postgres, redis] = await Promise.all([startFakeAnthropic(), startPostgres(), startRedis()]);
  const databaseUrl = await postgres.freshSchemaUrl();
  const redisPrefix = redis.freshPrefix();
  const dataDir = tempDir(name);
  const spawned: SpawnedServer[] = [];
  return {
    fake,
    databaseUrl,
    dataDir,
    async start(env = {}, dir = dataDir) {
      const port = await freePort();
      const server = await spawnServer(
        serverEnv(fake, dir, {
          PORT: String(port),
          DATABASE_URL: databaseUrl,
          REDIS_URL: redis.url,
          REDIS_KEY_PREFIX: redisPrefix,
          INSTANCE_URL: `http://127.0.0.1:${port}`,
          INSTANCE_LEASE_MS: '2000',
          ...env,
        }),
        30_000,
      );
      spawned.push(server);
      return server;
    },
    async close() {
      for (const server of spawned) await server.stop('SIGTERM').catch(() => undefined);
      await fake.close();
      await postgres.close();
      await redis.close();
      fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}
