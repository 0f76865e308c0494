/**
 * HTTP overhead: an authenticated `GET /api/v1/sessions/:id` of the real server beside its floor
 * from the same run, a bare Fastify route in the same process answering a similar object. Load
 * by autocannon (50 connections) from a process of its own; where the machine has two cores or
 * more, the servers are pinned to the first and the load to the second (taskset), so the load
 * does not take the server's CPU. Rounds alternate between the two targets.
 *
 * Real server (in this process, its default logging), a real Claude Code process behind the
 * session, the fake model API on 127.0.0.1. Prints figures; asserts nothing.
 * Run: `npm run bench:http [-- rounds] [-- seconds]` (`BENCH_LOG_LEVEL=warn` to leave out the
 * per-request log lines).
 */
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { call } from '../test/helpers/http.js';
import { startStack, TEST_KEYS } from '../test/helpers/test-server.js';
import { arg, median, report, SMOKE, span, summarize } from './stats.js';

const rounds = arg(0, SMOKE ? 1 : 3);
const seconds = arg(1, SMOKE ? 1 : 5);
const KEY = TEST_KEYS[0];
const pinned = os.availableParallelism() >= 2;
if (pinned) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

interface Load {
  requests: number;
  p50: number;
  p99: number;
  errors: number;
  /** This process's CPU time (user + system) per answered request, µs: steadier than req/s on a shared machine. */
  cpuUs: number;
}

/** autocannon in a process of its own (pinned to the second core), its JSON summary. */
function load(url: string, headers: Record<string, string>): Promise<Load> {
  const bin = path.join(import.meta.dirname, '../node_modules/autocannon/autocannon.js');
  const args = [
    '-c',
    '50',
    '-d',
    String(seconds),
    '-j',
    ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]),
    url,
  ];
  const child = pinned
    ? spawn('taskset', ['-c', '1', process.execPath, bin, ...args])
    : spawn(process.execPath, [bin, ...args]);
  let out = '';
  const cpu = process.cpuUsage();
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      const r = JSON.parse(out) as {
        requests: { average: number; total: number };
        latency: { p50: number; p99: number };
        errors: number;
        non2xx: number;
      };
      const used = process.cpuUsage(cpu);
      resolve({
        requests: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors + r.non2xx,
        cpuUs: (used.user + used.system) / Math.max(1, r.requests.total),
      });
    });
  });
}

const stack = await startStack({ env: { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' } });
const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
const sessionId = created.body.sessionId as string;
const shown = (await call(stack.base, 'GET', `/sessions/${sessionId}`, { key: KEY })).body;

const bare = Fastify();
bare.get('/api/v1/sessions/:id', async () => shown);
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

const figures = { bare: [] as Load[], server: [] as Load[] };
try {
  for (let r = 0; r < rounds; r++) {
    figures.bare.push(await load(`${bareUrl}/api/v1/sessions/${sessionId}`, {}));
    figures.server.push(await load(`${stack.base}/sessions/${sessionId}`, { 'x-api-key': KEY }));
  }
} finally {
  await bare.close();
  await stack.close();
}

const row = (name: string, runs: Load[]): string =>
  `| ${name} | ${median(runs.map((l) => l.requests)).toFixed(0)} (${span(runs.map((l) => l.requests))}) | ${median(runs.map((l) => l.p50))} ms | ${median(runs.map((l) => l.p99))} ms | ${median(runs.map((l) => l.cpuUs)).toFixed(0)} µs | ${runs.reduce((n, l) => n + l.errors, 0)} |`;
const ratio = median(figures.server.map((l) => l.requests)) / median(figures.bare.map((l) => l.requests));
console.log(
  `GET /sessions/:id, 50 connections, ${seconds} s × ${rounds} rounds, ${pinned ? 'server on core 0, load on core 1' : 'one core: not pinned'}`,
);
console.log('| target | req/s median (min–max) | p50 | p99 | CPU per request | errors |');
console.log('|---|---|---|---|---|---|');
console.log(row('floor: bare Fastify route', figures.bare));
console.log(row(`server: authenticated, LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'info'}`, figures.server));
const cpuRatio = median(figures.bare.map((l) => l.cpuUs)) / median(figures.server.map((l) => l.cpuUs));
console.log(
  `server / floor: ${(ratio * 100).toFixed(0)}% of the req/s, ${(cpuRatio * 100).toFixed(0)}% by CPU per request`,
);
/** A figure of the server beside the same figure of the bare route. */
const versus = (pick: (l: Load) => number) => ({
  ...summarize(figures.server.map(pick)),
  floor: median(figures.bare.map(pick)),
  floorName: 'bare Fastify route',
});
report('http', [
  {
    figure: `authenticated GET /sessions/:id, LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'info'}`,
    unit: 'req/s',
    ...versus((l) => l.requests),
    target: '≥ 0.5× floor',
  },
  {
    figure: 'authenticated GET /sessions/:id, CPU per request',
    unit: 'µs',
    ...versus((l) => l.cpuUs),
    target: '≤ 2× floor (≥ 50% of its rate)',
  },
  { figure: 'authenticated GET /sessions/:id, p99', unit: 'ms', ...versus((l) => l.p99), target: '≤ 10 ms' },
]);
