/**
 * What parking costs the next message: a turn on a live process vs the first turn after the
 * session was parked (its Claude Code process stopped; the turn starts a new one that loads the
 * transcript from the server's store), for a short and a long conversation. Also the transcript
 * size in the store, and the memory a parked session gives back. The floor: a cold
 * `query({ resume })` of the SDK over a conversation of the same length, with the options the
 * server gives Claude Code (its transcript in a session store) and with bare options
 * (bench/sdk-floor.ts).
 *
 * Real server (in this process), real Claude Code binary, the project's fake model API on
 * 127.0.0.1 (answers in about 1 ms). Prints figures; asserts nothing.
 * Run: `npm run bench:resume [-- rounds]`.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { startStack, type Stack } from '../test/helpers/test-server.js';
import { call } from '../test/helpers/http.js';
import { KEY, newSession, sendTurn } from './api.js';
import { claudeMemoryOf } from './claude-memory.js';
import { InMemorySessionStore } from '@anthropic-ai/claude-agent-sdk';
import { sdkColdTurn, sdkConversation, sdkFolder, serverOptions } from './sdk-floor.js';
import { arg, median as p50, minMedianMax, report, SMOKE, summarize, timed } from './stats.js';

const rounds = arg(0, SMOKE ? 1 : 5);
const LONG_CONVERSATION = SMOKE ? 4 : 40;

const turnPrompt = (t: number) => `Turn ${t}: some context to keep. [[slow:4:0]]`;

/**
 * The floor: a conversation of `length` turns through the SDK, then a cold `query({ resume })`,
 * with the server's options (the transcript resumed from a session store) or bare ones.
 */
async function sdkResume(stack: Stack, length: number, options: 'server' | 'bare'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const folder = sdkFolder(stack.fake.url);
    const store = new InMemorySessionStore();
    const prompts = Array.from({ length }, (_, t) => turnPrompt(t));
    const sessionId = await sdkConversation(
      folder,
      prompts,
      options === 'server' ? serverOptions(folder, store) : {},
    );
    const resume = options === 'server' ? serverOptions(folder, store, sessionId) : { resume: sessionId };
    out.push((await sdkColdTurn(folder, 'first turn after parking', resume)).ms);
    folder.remove();
  }
  return out;
}

/** The size of a session's transcript entries in the server's store (a second, read-only connection). */
function transcriptKb(stack: Stack, claudeSessionId: string): number {
  const db = new Database(path.join(stack.dataDir, 'server.db'), { readonly: true });
  const bytes = db
    .prepare('SELECT COALESCE(SUM(LENGTH(entry)), 0) FROM transcripts WHERE session_id = ?')
    .pluck()
    .get(claudeSessionId) as number;
  db.close();
  return bytes / 1024;
}

async function park(stack: Stack, id: string): Promise<void> {
  const { deps, pool } = stack.server.server;
  const session = deps.registry.find(await deps.keys.authenticate(KEY), id);
  if (!(await pool.park(session))) throw new Error('nothing to park');
}

/** Warm and resumed turn times for a conversation of `length` earlier turns. */
async function measure(
  stack: Stack,
  length: number,
): Promise<{
  warm: number[];
  resumed: number[];
  floor: number[];
  bareFloor: number[];
  transcriptKb: number[];
  rssMb: number[];
}> {
  const out = {
    floor: await sdkResume(stack, length, 'server'),
    bareFloor: await sdkResume(stack, length, 'bare'),
    warm: [] as number[],
    resumed: [] as number[],
    transcriptKb: [] as number[],
    rssMb: [] as number[],
  };
  for (let i = 0; i < rounds; i++) {
    const id = await newSession(stack);
    for (let t = 0; t < length; t++) await sendTurn(stack, id, turnPrompt(t));
    out.warm.push(await timed(() => sendTurn(stack, id, 'warm turn')));
    const { deps } = stack.server.server;
    const pid = deps.registry.pidOf(id);
    // The process group's leader is the process sandbox (bwrap): the figure is Claude Code's own.
    if (pid) out.rssMb.push(claudeMemoryOf(pid).rssMb);
    await park(stack, id);
    out.resumed.push(await timed(() => sendTurn(stack, id, 'first turn after parking')));
    out.transcriptKb.push(
      transcriptKb(stack, (await stack.server.server.stores.sessions.getSession(id))!.claudeSessionId),
    );
    await call(stack.base, 'DELETE', `/sessions/${id}`, { key: KEY });
  }
  return out;
}

async function main(): Promise<void> {
  const stack = await startStack({
    env: { RATE_LIMIT_MESSAGES_PER_HOUR: '1000000', RATE_LIMIT_SESSIONS_PER_HOUR: '100000' },
  });
  const short = await measure(stack, 1);
  const long = await measure(stack, LONG_CONVERSATION);
  await stack.close();

  const conversations = [
    ['1 earlier turn', short],
    [`${LONG_CONVERSATION} earlier turns`, long],
  ] as const;
  console.log(`resume after parking (${rounds} rounds, fake model API on loopback)`);
  for (const [name, m] of conversations) {
    console.log(`  ${name}:`);
    console.log(`    turn on the live process   : ${minMedianMax(m.warm)}`);
    console.log(`    first turn after parking   : ${minMedianMax(m.resumed)}`);
    console.log(`    ratio resumed/live (p50)   : ${(p50(m.resumed) / p50(m.warm)).toFixed(1)}x`);
    console.log(`    floor: SDK query({resume}) : ${minMedianMax(m.floor)} (the server's options)`);
    console.log(`    SDK query({resume}), bare  : ${minMedianMax(m.bareFloor)}`);
    console.log(`    transcript in the store    : ${p50(m.transcriptKb).toFixed(0)} KB`);
    if (m.rssMb.length > 0) console.log(`    RSS given back by parking  : ${p50(m.rssMb).toFixed(0)} MB`);
  }
  report(
    'resume',
    conversations.flatMap(([name, m]) => [
      {
        figure: `first turn after parking, ${name}`,
        unit: 'ms' as const,
        ...summarize(m.resumed),
        floor: p50(m.floor),
        floorName: "cold SDK query({ resume }) with the server's options → result",
        target: '≤ 0.5× floor',
      },
      {
        figure: `first turn after parking, ${name} (against bare options)`,
        unit: 'ms' as const,
        ...summarize(m.resumed),
        floor: p50(m.bareFloor),
        floorName: 'cold SDK query({ resume }), bare options → result',
      },
    ]),
  );
}

void main();
