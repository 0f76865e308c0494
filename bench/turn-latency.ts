/**
 * Cold first turn vs warm later turns through the API, side by side in the same run: Claude Code
 * in its process sandbox with Claude Code's own sandbox for the commands inside (the default),
 * Claude Code's sandbox for the commands alone (what the process sandbox adds is the difference),
 * and no sandbox at all (SANDBOX_MODE=off), each with its prewarmed spare (PREWARM_PROCESSES, the
 * default 1), and the process sandbox without spares (PREWARM_PROCESSES=0: every first turn a cold
 * start). Four servers, their rounds interleaved so that a
 * slower moment of the machine hits all alike. Also the memory of an idle live session. The
 * floors, in each round: a cold `query()` of the SDK straight to its `result` with the options the
 * server gives Claude Code (the target's floor), and with bare options (bench/sdk-floor.ts).
 *
 * Real servers (in this process), real Claude Code binary, the project's fake model API on
 * 127.0.0.1 (it answers in about 1 ms, so the figures are the server's and Claude Code's own
 * overhead). Prints figures; asserts nothing. Run: `npm run bench:turns [-- rounds]`.
 */
import { startFakeAnthropic } from '../src/fake-anthropic/index.js';
import { startStack, WITH_SPARES, type Stack } from '../test/helpers/test-server.js';
import { call } from '../test/helpers/http.js';
import { KEY, newSession, sendTurn } from './api.js';
import { claudeMemoryOf } from './claude-memory.js';
import { sdkColdTurn, sdkFolder, serverOptions } from './sdk-floor.js';
import { arg, median as p50, report, SMOKE, span as range, summarize, timed } from './stats.js';

const rounds = arg(0, SMOKE ? 1 : 7);

interface Figures {
  coldFromCreate: number[];
  firstAfterReady: number[];
  warm: number[];
  idleMemory: { rssMb: number; pssMb: number } | null;
}

/** One round on one server: a cold session, its warm turns, a session given time to start. */
async function round(stack: Stack, figures: Figures, last: boolean): Promise<void> {
  // Cold: the first message sent the instant the session exists (Claude Code is still starting).
  let id = '';
  figures.coldFromCreate.push(
    await timed(async () => {
      id = await newSession(stack);
      await sendTurn(stack, id, 'hello');
    }),
  );
  figures.warm.push(await timed(() => sendTurn(stack, id, 'again')));
  figures.warm.push(await timed(() => sendTurn(stack, id, 'and again')));

  // First turn on a process that had time to start (what a client sees a second after create).
  const second = await newSession(stack);
  await new Promise((r) => setTimeout(r, 1500));
  figures.firstAfterReady.push(await timed(() => sendTurn(stack, second, 'hello')));

  if (last) {
    await new Promise((r) => setTimeout(r, 3000));
    const pid = stack.server.server.deps.registry.pidOf(second);
    if (pid) figures.idleMemory = claudeMemoryOf(pid);
  }
  await call(stack.base, 'DELETE', `/sessions/${id}`, { key: KEY });
  await call(stack.base, 'DELETE', `/sessions/${second}`, { key: KEY });
}

async function main(): Promise<void> {
  const fake = await startFakeAnthropic();
  const sdkCold: number[] = [];
  const sdkColdServerOptions: number[] = [];
  // The test stack runs without a spare unless told (test-server.ts); a real server has one.
  const limits = {
    RATE_LIMIT_MESSAGES_PER_HOUR: '100000',
    RATE_LIMIT_SESSIONS_PER_HOUR: '100000',
    ...WITH_SPARES,
  };
  const modes = [
    {
      name: 'process sandbox',
      stack: await startStack({ fake, env: { ...limits, SANDBOX_MODE: 'required' } }),
    },
    {
      name: 'commands only',
      stack: await startStack({
        fake,
        env: { ...limits, SANDBOX_MODE: 'required' },
        configure: (config) => (config.sandboxWholeProcess = false),
      }),
    },
    { name: 'no sandbox', stack: await startStack({ fake, env: { ...limits, SANDBOX_MODE: 'off' } }) },
    {
      name: 'process sandbox, no spare',
      stack: await startStack({ fake, env: { ...limits, SANDBOX_MODE: 'required', PREWARM_PROCESSES: '0' } }),
    },
  ].map((m) => ({
    ...m,
    figures: { coldFromCreate: [], firstAfterReady: [], warm: [], idleMemory: null } as Figures,
  }));
  for (let i = 0; i < rounds; i++) {
    // Rotate which server goes first.
    const order = [...modes.slice(i % modes.length), ...modes.slice(0, i % modes.length)];
    for (const m of order) await round(m.stack, m.figures, i === rounds - 1);
    const folder = sdkFolder(fake.url);
    sdkCold.push((await sdkColdTurn(folder, 'hello')).ms);
    folder.remove();
    const same = sdkFolder(fake.url);
    sdkColdServerOptions.push((await sdkColdTurn(same, 'hello', serverOptions(same))).ms);
    same.remove();
  }
  for (const m of modes) await m.stack.close();
  await fake.close();

  const cell = (values: number[]) => `${p50(values).toFixed(0)} ms (${range(values)})`.padEnd(26);
  const row = (label: string, pick: (f: Figures) => number[]) =>
    console.log(`  ${label.padEnd(38)} ${modes.map((m) => cell(pick(m.figures))).join(' ')}`);
  console.log(
    `turn latency through the API, median (min–max) of ${rounds} rounds, fake model API on loopback`,
  );
  console.log(`  ${''.padEnd(38)} ${modes.map((m) => m.name.padEnd(26)).join(' ')}`);
  row('first turn, sent right after create', (f) => f.coldFromCreate);
  row('first turn, process already started', (f) => f.firstAfterReady);
  row('later turns (warm process)', (f) => f.warm);
  console.log(`  ${"floor: cold query(), server's options".padEnd(38)} ${cell(sdkColdServerOptions)}`);
  console.log(`  ${'cold query(), bare options'.padEnd(38)} ${cell(sdkCold)}`);
  for (const m of modes) {
    const mem = m.figures.idleMemory;
    if (mem)
      console.log(
        `  idle live session, ${m.name} (Claude Code, 3 s after a turn): RSS ${mem.rssMb.toFixed(0)} MB, PSS ${mem.pssMb.toFixed(0)} MB`,
      );
  }

  const [sandboxed, , unsandboxed, sparesOff] = modes.map((m) => m.figures);
  const floor = {
    floor: p50(sdkColdServerOptions),
    floorName: "cold SDK query() with the server's options → result",
  };
  const bareFloor = { floor: p50(sdkCold), floorName: 'cold SDK query(), bare options → result' };
  report('turns', [
    {
      figure: 'first answer of a new session (create + message), process sandbox',
      unit: 'ms',
      ...summarize(sandboxed!.coldFromCreate),
      ...floor,
      target: '≤ 0.5× floor',
    },
    {
      figure: 'first answer of a new session, process sandbox (against bare options)',
      unit: 'ms',
      ...summarize(sandboxed!.coldFromCreate),
      ...bareFloor,
    },
    {
      figure: 'first answer of a new session, process sandbox, PREWARM_PROCESSES=0',
      unit: 'ms',
      ...summarize(sparesOff!.coldFromCreate),
      ...floor,
    },
    {
      figure: 'first answer of a new session, no sandbox',
      unit: 'ms',
      ...summarize(unsandboxed!.coldFromCreate),
      ...floor,
    },
    { figure: 'warm turn, process sandbox', unit: 'ms', ...summarize(sandboxed!.warm), ...floor },
    ...(sandboxed!.idleMemory
      ? [
          {
            figure: 'RSS of an idle live Claude Code process',
            unit: 'MB' as const,
            value: sandboxed!.idleMemory.rssMb,
          },
        ]
      : []),
  ]);
}

void main();
