/**
 * What the machine holds: the server's memory with 1 000 stored sessions of which 16 are live
 * (beside the same server just started, empty), the memory of the 16 Claude Code processes, and
 * how many turns can run at once before a warm turn takes twice as long as a lone one.
 *
 * Real server (in this process, so its RSS is this process's), real Claude Code processes, the
 * project's fake model API on 127.0.0.1 (about 1 ms per answer: the figures are the server's and
 * Claude Code's own CPU). Prints figures; asserts nothing.
 * Run: `npm run bench:capacity [-- rounds] [stored sessions]`.
 */
import { startStack } from '../test/helpers/test-server.js';
import { newSession, sendTurn } from './api.js';
import { claudeMemoryOf, rssMbOf } from './claude-memory.js';
import { arg, median, report, SMOKE, summarize, timed } from './stats.js';

const rounds = arg(0, SMOKE ? 1 : 3);
const STORED = arg(1, SMOKE ? 40 : 1000);
const LIVE = SMOKE ? 2 : 16;

const stack = await startStack({
  env: {
    MAX_LIVE_PROCESSES: String(LIVE),
    MAX_LIVE_SESSIONS: String(STORED + 10),
    RATE_LIMIT_SESSIONS_PER_HOUR: '1000000',
    RATE_LIMIT_MESSAGES_PER_HOUR: '1000000',
    // The test stack fails fast (no retries); 16 turns at once on loopback met a dropped
    // keep-alive connection (ECONNRESET) once, which Claude Code's own retry absorbs in real use.
    CLAUDE_CODE_MAX_RETRIES: '2',
  },
});
try {
  const emptyMb = rssMbOf('self');

  // The live ones first (each create starts its process while a slot is free), warmed by a turn.
  const live: string[] = [];
  for (let i = 0; i < LIVE; i++) live.push(await newSession(stack));
  await Promise.all(live.map((id) => sendTurn(stack, id, 'hello')));
  // The rest are stored only: every process slot is taken.
  for (let i = LIVE; i < STORED; i++) await newSession(stack);
  const loadedMb = rssMbOf('self');
  const pids = live.map((id) => stack.server.server.deps.registry.pidOf(id)).filter((p): p is number => !!p);
  const claudeMb = pids.map((pid) => claudeMemoryOf(pid).rssMb);

  // Concurrent warm turns: 1, 2, 4, … up to every live session at once.
  const latency = new Map<number, number[]>();
  for (let c = 1; c <= LIVE; c *= 2) {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      times.push(
        ...(await Promise.all(live.slice(0, c).map((id) => timed(() => sendTurn(stack, id, `turn ${r}`))))),
      );
    }
    latency.set(c, times);
  }
  const lone = median(latency.get(1)!);
  const held = [...latency].filter(([, times]) => median(times) < 2 * lone).map(([c]) => c);

  console.log(`capacity: ${STORED} stored sessions, ${LIVE} live (fake model API on loopback)`);
  console.log(`  server RSS, just started (empty)      : ${emptyMb.toFixed(0)} MB`);
  console.log(`  server RSS, ${STORED} stored + ${LIVE} live  : ${loadedMb.toFixed(0)} MB`);
  console.log(
    `  Claude Code RSS per live process      : ${median(claudeMb).toFixed(0)} MB (${pids.length} processes)`,
  );
  for (const [c, times] of latency)
    console.log(`  ${String(c).padStart(2)} concurrent warm turns: median ${median(times).toFixed(0)} ms`);
  console.log(`  most concurrent turns below 2× a lone turn: ${Math.max(...held)}`);

  report('capacity', [
    {
      figure: `server RSS, ${STORED} stored sessions + ${LIVE} live`,
      unit: 'MB',
      value: loadedMb,
      floor: emptyMb,
      floorName: 'the same server just started',
    },
    { figure: 'RSS per live Claude Code process', unit: 'MB', ...summarize(claudeMb) },
    {
      figure: 'concurrent warm turns before latency doubles',
      unit: 'turns',
      value: Math.max(...held),
      floor: lone,
      floorName: 'a lone warm turn, ms',
    },
  ]);
} finally {
  await stack.close();
}
