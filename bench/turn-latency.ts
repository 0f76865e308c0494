/**
 * Cold first turn vs warm second turn through the API, and the memory of an idle live session.
 *
 * Real server (in this process), real Claude Code binary, the project's fake model API on
 * 127.0.0.1 (it answers in about 1 ms, so the figures are the server's and Claude Code's own
 * overhead). Prints figures; asserts nothing. Run: `npm run bench:turns [-- rounds]`.
 */
import fs from 'node:fs';
import { startStack, TEST_KEYS } from '../test/helpers/test-server.js';
import { call } from '../test/helpers/http.js';

const rounds = Number(process.argv[2] ?? 5);
const KEY = TEST_KEYS[0];

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `min ${sorted[0]!.toFixed(0)}  p50 ${pick(0.5).toFixed(0)}  max ${sorted.at(-1)!.toFixed(0)} ms`;
}

function memoryOf(pid: number): { rssMb: number; pssMb: number } {
  const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  const pss = /^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
  return { rssMb: Number(rss) / 1024, pssMb: Number(pss) / 1024 };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const stack = await startStack({
    env: { RATE_LIMIT_MESSAGES_PER_HOUR: '100000', RATE_LIMIT_SESSIONS_PER_HOUR: '100000' },
  });
  const coldFromCreate: number[] = [];
  const firstAfterReady: number[] = [];
  const warm: number[] = [];
  const send = (id: string, prompt: string) =>
    call(stack.base, 'POST', `/sessions/${id}/messages`, { key: KEY, body: { prompt } }).then((r) => {
      if (r.status !== 200) throw new Error(`turn failed: ${JSON.stringify(r.body)}`);
    });
  let idleMemory: { rssMb: number; pssMb: number } | null = null;
  for (let i = 0; i < rounds; i++) {
    // Cold: the first message sent the instant the session exists (Claude Code is still starting).
    let id = '';
    coldFromCreate.push(
      await timed(async () => {
        const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
        id = created.body.sessionId as string;
        await send(id, 'hello');
      }),
    );
    warm.push(await timed(() => send(id, 'again')));
    warm.push(await timed(() => send(id, 'and again')));

    // First turn on a process that had time to start (what a client sees a second after create).
    const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
    const second = created.body.sessionId as string;
    await new Promise((r) => setTimeout(r, 1500));
    firstAfterReady.push(await timed(() => send(second, 'hello')));

    if (i === rounds - 1) {
      await new Promise((r) => setTimeout(r, 3000));
      const pid = stack.server.server.deps.registry.pidOf(second);
      if (pid) idleMemory = memoryOf(pid);
    }
    await call(stack.base, 'DELETE', `/sessions/${id}`, { key: KEY });
    await call(stack.base, 'DELETE', `/sessions/${second}`, { key: KEY });
  }
  await stack.close();

  const p50 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  console.log(`turn latency through the API (${rounds} rounds, fake model API on loopback)`);
  console.log(`  first turn, sent right after create : ${summary(coldFromCreate)}`);
  console.log(`  first turn, process already started : ${summary(firstAfterReady)}`);
  console.log(`  later turns (warm process)          : ${summary(warm)}`);
  console.log(`  ratio cold/warm (p50)               : ${(p50(coldFromCreate) / p50(warm)).toFixed(1)}x`);
  if (idleMemory) {
    console.log(
      `  idle live session (Claude Code child, 3 s after a turn): RSS ${idleMemory.rssMb.toFixed(0)} MB, PSS ${idleMemory.pssMb.toFixed(0)} MB`,
    );
  }
}

void main();
