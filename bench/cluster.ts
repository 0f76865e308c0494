/**
 * Two instances sharing PostgreSQL and Redis against one instance on SQLite, side by side in the
 * same run: the warm turn (sent to the session's own instance, and to the other one, which
 * forwards it), an event's fan-out (the same turn streamed by the instance that runs it and by
 * the other, which gets it over Redis: the arrival gap per event), and the rate limit under a
 * parallel burst of session creates split over the instances.
 *
 * Every server is its own process on 127.0.0.1 with the real Claude Code and the project's fake
 * model API (it answers in about 1 ms, so the figures are the servers' own). PostgreSQL and Redis
 * are the local ones, or throwaway servers (test/helpers/services.ts). Prints figures, asserts
 * nothing, stops by itself. Run: `npm run bench:cluster [-- turns]`.
 */
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import { startFakeAnthropic, type FakeAnthropic } from '../src/fake-anthropic/index.js';
import { call, parseSse, sseRequest } from '../test/helpers/http.js';
import { freePort, startPostgres, startRedis } from '../test/helpers/services.js';
import {
  serverEnv,
  spawnServer,
  tempDir,
  TEST_KEYS,
  type SpawnedServer,
} from '../test/helpers/test-server.js';
import { arg, quantile, report, SMOKE, summarize } from './stats.js';

const TURNS = arg(0, SMOKE ? 2 : 15);
const KEY = TEST_KEYS[0];
const BURST_KEY = TEST_KEYS[1];
const BURST = 50;
const LIMIT = 10;

const pct = (values: number[], p: number): number => quantile(values, p / 100);
const fmt = (values: number[]): string =>
  `p50 ${pct(values, 50).toFixed(1)} ms, p95 ${pct(values, 95).toFixed(1)} ms (n=${values.length})`;

async function createSession(server: SpawnedServer): Promise<string> {
  const res = await call(server.base, 'POST', '/sessions', { key: KEY, body: {} });
  if (res.status !== 201) throw new Error(`create failed: ${JSON.stringify(res.body)}`);
  return res.body.sessionId as string;
}

async function turn(server: SpawnedServer, sessionId: string, prompt: string): Promise<number> {
  const t0 = performance.now();
  const res = await call(server.base, 'POST', `/sessions/${sessionId}/messages`, {
    key: KEY,
    body: { prompt },
  });
  if (res.status !== 200) throw new Error(`turn failed: ${JSON.stringify(res.body)}`);
  return performance.now() - t0;
}

/** Reads a stream, noting when each stored event (by id) arrived. */
async function arrivals(server: SpawnedServer, url: string): Promise<Map<string, number>> {
  const res = await sseRequest(server.base, 'GET', url, KEY);
  if (res.status !== 200 || !res.body) throw new Error(`stream failed: ${res.status}`);
  const seen = new Map<string, number>();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const now = performance.now();
    buffer += decoder.decode(value, { stream: true });
    const blocks = buffer.split('\n\n');
    buffer = blocks.pop() ?? '';
    for (const event of parseSse(blocks.join('\n\n'))) if (event.id !== null) seen.set(event.id, now);
  }
  return seen;
}

/** One slow turn streamed by `owner` and `other` at once: per event, how much later `other` had it. */
async function fanOut(owner: SpawnedServer, other: SpawnedServer, sessionId: string): Promise<number[]> {
  const sent = await call(owner.base, 'POST', `/sessions/${sessionId}/messages`, {
    key: KEY,
    body: { prompt: 'Stream it [[slow:20:20]]', stream: true },
  });
  if (sent.status !== 202) throw new Error(`turn failed: ${JSON.stringify(sent.body)}`);
  const url = `/sessions/${sessionId}/stream?messageId=${sent.body.messageId as string}`;
  const [here, there] = await Promise.all([arrivals(owner, url), arrivals(other, url)]);
  const gaps: number[] = [];
  // The first events were stored before the streams opened (both replay them): live ones only.
  const ids = [...here.keys()].slice(3);
  for (const id of ids) {
    const a = here.get(id);
    const b = there.get(id);
    if (a !== undefined && b !== undefined) gaps.push(b - a);
  }
  return gaps;
}

async function burst(servers: SpawnedServer[]): Promise<number> {
  const results = await Promise.all(
    Array.from({ length: BURST }, (_, i) =>
      call(servers[i % servers.length]!.base, 'POST', '/sessions', { key: BURST_KEY, body: {} }),
    ),
  );
  const created = results.filter((r) => r.status === 201);
  for (const r of created) {
    await call(servers[0]!.base, 'DELETE', `/sessions/${r.body.sessionId as string}`, { key: BURST_KEY });
  }
  return created.length;
}

async function main(): Promise<void> {
  const fake: FakeAnthropic = await startFakeAnthropic();
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const dirs = [tempDir('bench-solo'), tempDir('bench-cluster')];
  const servers: SpawnedServer[] = [];
  try {
    const common = { MAX_LIVE_PROCESSES: '4', RATE_LIMIT_SESSIONS_PER_HOUR: String(LIMIT) };
    const solo = await spawnServer(serverEnv(fake, dirs[0]!, common));
    servers.push(solo);
    const databaseUrl = await postgres.freshSchemaUrl();
    const prefix = redis.freshPrefix();
    const [a, b] = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        return spawnServer(
          serverEnv(fake, dirs[1]!, {
            ...common,
            PORT: String(port),
            INSTANCE_URL: `http://127.0.0.1:${port}`,
            DATABASE_URL: databaseUrl,
            REDIS_URL: redis.url,
            REDIS_KEY_PREFIX: prefix,
          }),
        );
      }),
    );
    servers.push(a!, b!);

    // Warm turns: one session per server, its first (cold) turn left out.
    const soloSession = await createSession(solo);
    const clusterSession = await createSession(a!);
    await turn(solo, soloSession, 'warm up');
    await turn(a!, clusterSession, 'warm up');
    const warm = { solo: [] as number[], owner: [] as number[], forwarded: [] as number[] };
    for (let i = 0; i < TURNS; i++) {
      // Interleaved, so that a slower moment of the machine hits all alike.
      warm.solo.push(await turn(solo, soloSession, `turn ${i}`));
      warm.owner.push(await turn(a!, clusterSession, `turn ${i}`));
      warm.forwarded.push(await turn(b!, clusterSession, `turn ${i}`));
    }

    // Fan-out: the same turn streamed by two readers; on one instance both are local.
    const gaps = { solo: [] as number[], cluster: [] as number[] };
    for (let i = 0; i < (SMOKE ? 1 : 5); i++) {
      gaps.solo.push(...(await fanOut(solo, solo, soloSession)));
      gaps.cluster.push(...(await fanOut(a!, b!, clusterSession)));
    }

    const exact = { solo: await burst([solo]), cluster: await burst([a!, b!]) };

    console.log(`\nwarm turn (POST …/messages, stream: false), ${TURNS} turns each`);
    console.log(`  one instance, SQLite (floor):            ${fmt(warm.solo)}`);
    console.log(`  two instances, sent to the owner:        ${fmt(warm.owner)}`);
    console.log(
      `  two instances, sent to the other one:    ${fmt(warm.forwarded)}  (forwarded to the owner)`,
    );
    console.log(`\nan event's arrival on a second stream, after the first (5 turns of 20 chunks)`);
    console.log(`  one instance, both streams local (floor): ${fmt(gaps.solo)}`);
    console.log(`  two instances, second stream over Redis:  ${fmt(gaps.cluster)}`);
    console.log(`\n${BURST} parallel POST /sessions, limit ${LIMIT} per hour`);
    console.log(`  one instance:                       ${exact.solo} created`);
    console.log(`  two instances, burst split evenly:  ${exact.cluster} created\n`);
    const soloFloor = { floorName: 'one instance, SQLite' };
    report('cluster', [
      {
        figure: 'warm turn sent to the owner instance',
        unit: 'ms',
        ...summarize(warm.owner),
        floor: pct(warm.solo, 50),
        ...soloFloor,
      },
      {
        figure: 'warm turn sent to the other instance (forwarded)',
        unit: 'ms',
        ...summarize(warm.forwarded),
        floor: pct(warm.solo, 50),
        ...soloFloor,
      },
      {
        figure: "an event's arrival on a second stream over Redis (p50)",
        unit: 'ms',
        value: pct(gaps.cluster, 50),
        floor: pct(gaps.solo, 50),
        floorName: 'both streams on one instance',
      },
    ]);
  } finally {
    for (const server of servers) await server.stop('SIGTERM');
    await fake.close();
    await postgres.close();
    await redis.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
