/**
 * Live text: how long a piece of text takes from the model API's write to the client's read,
 * through the server (`partial: true` stream), beside the floor from the same run: the SDK's own
 * `stream_event` delivery from the same Claude Code binary, called directly with the same fake
 * model. 40 chunks 25 ms apart per turn, at 1 and at 8 concurrent turns.
 *
 * Real server (in this process), real Claude Code, the project's fake model API on 127.0.0.1,
 * which reports each text delta as it writes it (`onTextDelta`). Prints figures; asserts nothing.
 * Run: `npm run bench:deltas [-- rounds]`.
 */
import { query } from '@anthropic-ai/claude-agent-sdk';
import { startFakeAnthropic } from '../src/fake-anthropic/index.js';
import { call } from '../test/helpers/http.js';
import { startStack, TEST_KEYS } from '../test/helpers/test-server.js';
import { sdkFolder } from './sdk-floor.js';
import { arg, quantile, report, SMOKE, type BenchRow } from './stats.js';

const rounds = arg(0, SMOKE ? 1 : 3);
const KEY = TEST_KEYS[0];
const GAP_MS = 25;
const CHUNKS = 40;

/** When each chunk was written by the fake model, by its text (`[i/n] `, unique per turn: n differs). */
const written = new Map<string, number>();
const fake = await startFakeAnthropic({ onTextDelta: (text) => written.set(text, performance.now()) });

/** The chunks of one turn: `[[slow:n:25]]` with n unique among concurrent turns. */
const promptFor = (n: number): string => `[[slow:${n}:${GAP_MS}]]`;
const markersIn = (text: string): string[] => text.match(/\[\d+\/\d+\] /g) ?? [];

function latenciesOf(text: string, at: number, into: number[]): void {
  for (const marker of markersIn(text)) {
    const t = written.get(marker);
    if (t !== undefined) into.push(at - t);
  }
}

/** The floor: Claude Code through the SDK, no server; each streamed text delta as the SDK yields it. */
async function sdkTurn(n: number, into: number[]): Promise<void> {
  const folder = sdkFolder(fake.url);
  try {
    const q = query({ prompt: promptFor(n), options: folder.options });
    for await (const message of q) {
      if (message.type !== 'stream_event') continue;
      const event = message.event as { type: string; delta?: { type: string; text?: string } };
      if (event.type === 'content_block_delta' && event.delta?.type === 'text_delta') {
        latenciesOf(event.delta.text ?? '', performance.now(), into);
      }
    }
  } finally {
    folder.remove();
  }
}

/** Through the server: one turn on a warm session, its `delta` events read off the SSE stream. */
async function serverTurn(base: string, sessionId: string, n: number, into: number[]): Promise<void> {
  const res = await fetch(`${base}/sessions/${sessionId}/stream`, {
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: promptFor(n), partial: true }),
  });
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = performance.now();
    pending += decoder.decode(chunk, { stream: true });
    const events = pending.split('\n\n');
    pending = events.pop() ?? '';
    for (const event of events) {
      if (!event.includes('event: delta')) continue;
      const data = /^data: (.*)$/m.exec(event)?.[1];
      if (data) latenciesOf((JSON.parse(data) as { text: string }).text, at, into);
    }
  }
}

const stack = await startStack({ fake, env: { MAX_LIVE_PROCESSES: '16' } });
const rows: string[] = [];
const reported: BenchRow[] = [];
try {
  for (const concurrency of [1, 8]) {
    const sessions: string[] = [];
    for (let i = 0; i < concurrency; i++) {
      const created = await call(stack.base, 'POST', '/sessions', { key: KEY, body: {} });
      sessions.push(created.body.sessionId as string);
    }
    // Warm each process, so the figures are the text's way, not a start.
    await Promise.all(
      sessions.map((id) =>
        call(stack.base, 'POST', `/sessions/${id}/messages`, { key: KEY, body: { prompt: 'hi' } }),
      ),
    );
    const floor: number[] = [];
    const server: number[] = [];
    for (let r = 0; r < rounds; r++) {
      written.clear();
      await Promise.all(sessions.map((_, i) => sdkTurn(CHUNKS + i, floor)));
      written.clear();
      await Promise.all(sessions.map((id, i) => serverTurn(stack.base, id, CHUNKS + i, server)));
    }
    for (const [q, name] of [
      [0.5, 'p50'],
      [0.99, 'p99'],
    ] as const) {
      const f = quantile(floor, q);
      const s = quantile(server, q);
      reported.push({
        figure: `live text ${name}, ${concurrency} concurrent stream${concurrency > 1 ? 's' : ''}`,
        unit: 'ms',
        value: s,
        floor: f,
        floorName: 'SDK stream_event',
        target: 'p99 ≤ floor + 5 ms',
      });
      rows.push(
        `| ${concurrency} | ${name} | ${f.toFixed(1)} ms | ${s.toFixed(1)} ms | ${s - f >= 0 ? '+' : '−'}${Math.abs(s - f).toFixed(1)} ms (${(s / Math.max(f, 0.1)).toFixed(1)}×) |`,
      );
    }
    rows.push(`|   | chunks | ${floor.length} | ${server.length} | |`);
    for (const id of sessions) await call(stack.base, 'DELETE', `/sessions/${id}`, { key: KEY });
  }
} finally {
  await stack.close();
  await fake.close();
}

console.log(`Live text, model write → client read, ${CHUNKS} chunks ${GAP_MS} ms apart, ${rounds} rounds`);
console.log('| concurrent turns | quantile | floor: SDK stream_event | server: SSE delta | server − floor |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
report('deltas', reported);
