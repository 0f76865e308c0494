/**
 * Proof that the REAL Claude Code binary (spawned by @anthropic-ai/claude-agent-sdk) accepts the
 * fake Anthropic API: streaming text, tool calls and their results, errors, a dropped stream,
 * interrupts and multi-turn context. Everything stays on loopback; no credentials are involved.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from '@anthropic-ai/claude-agent-sdk';
import type {
  Options,
  Query,
  SDKMessage,
  SDKResultMessage,
  SDKUserMessage,
} from '@anthropic-ai/claude-agent-sdk';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEMO_PREFIX,
  lastUserMessage,
  requestUserTexts,
  startFakeAnthropic,
  textReply,
  toolResults,
} from '../../src/fake-anthropic/index.js';
import type { FakeAnthropic, RecordedRequest } from '../../src/fake-anthropic/index.js';

const MODEL = 'claude-sonnet-4-5';
const tempDirs: string[] = [];
let fake: FakeAnthropic;
let cwd: string;

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** options.env REPLACES the child's environment, so it is built from scratch. */
function childEnv(): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-fake',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    CLAUDE_CONFIG_DIR: tempDir('fa-e2e-config-'),
    // Fail fast: the default of 10 retries turns one scripted error into about 3 minutes.
    CLAUDE_CODE_MAX_RETRIES: '0',
  };
}

function options(extra: Partial<Options> = {}): Options {
  return { env: childEnv(), cwd, model: MODEL, settingSources: [], permissionMode: 'default', ...extra };
}

interface Run {
  messages: SDKMessage[];
  result: SDKResultMessage | undefined;
  /** Claude Code's iterator throws after an error result; the result received before is kept. */
  thrown: unknown;
}

async function collect(q: Query, onMessage?: (message: SDKMessage) => void): Promise<Run> {
  const run: Run = { messages: [], result: undefined, thrown: undefined };
  try {
    for await (const message of q) {
      run.messages.push(message);
      if (message.type === 'result') run.result = message;
      onMessage?.(message);
    }
  } catch (error) {
    run.thrown = error;
  }
  return run;
}

function resultOf(run: Run): SDKResultMessage {
  if (!run.result) throw new Error(`no result message; thrown: ${String(run.thrown)}`);
  return run.result;
}

function apiErrorStatus(result: SDKResultMessage): number | null | undefined {
  return result.subtype === 'success' ? result.api_error_status : undefined;
}

function resultText(result: SDKResultMessage): string | undefined {
  return result.subtype === 'success' ? result.result : undefined;
}

/** The tool results Claude Code reported back to the API, across all recorded requests. */
function reportedToolResults(): string[] {
  return fake
    .messagesRequests()
    .flatMap((r: RecordedRequest) => toolResults(lastUserMessage(r.body)).map((t) => t.text));
}

/** Push-based prompt stream for streaming-input mode (one process, many turns). */
function inputQueue() {
  const pending: SDKUserMessage[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  return {
    push(text: string): void {
      pending.push({ type: 'user', message: { role: 'user', content: text }, parent_tool_use_id: null });
      wake?.();
    },
    end(): void {
      done = true;
      wake?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<SDKUserMessage> {
      for (;;) {
        while (pending.length > 0) {
          const next = pending.shift();
          if (next) yield next;
        }
        if (done) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
});

afterAll(async () => {
  await fake.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  fake.reset();
  cwd = tempDir('fa-e2e-cwd-');
});

afterEach(() => {
  // A test that failed half-way must not leave a request hanging for the next one.
  fake.releaseHanging();
});

describe('real Claude Code against the fake Anthropic API', () => {
  it('plain text: the result is the scripted reply', async () => {
    const run = await collect(query({ prompt: 'hello fake world', options: options() }));
    const result = resultOf(run);
    expect(result.is_error).toBe(false);
    expect(resultText(result)).toBe(`${DEMO_PREFIX} You said: "hello fake world"`);
    const init = run.messages.find((m) => m.type === 'system' && m.subtype === 'init');
    expect(init).toMatchObject({ model: MODEL, cwd });

    const [request, ...others] = fake.messagesRequests();
    expect(others).toHaveLength(0);
    expect(request?.url).toBe('/v1/messages?beta=true');
    expect(request?.headers['x-api-key']).toBe('sk-ant-fake');
    expect(request?.body).toMatchObject({ model: MODEL, stream: true });
    expect(request && requestUserTexts(request)).toEqual(['hello fake world']);
  });

  it('an enqueued reply is what the agent answers', async () => {
    fake.enqueue(textReply('Scripted by the test.'));
    const result = resultOf(await collect(query({ prompt: 'anything', options: options() })));
    expect(resultText(result)).toBe('Scripted by the test.');
  });

  it('[[write]] with acceptEdits creates the file in cwd and reports the tool result', async () => {
    const run = await collect(
      query({
        prompt: 'please [[write:hello.txt:hi there]]',
        options: options({ permissionMode: 'acceptEdits' }),
      }),
    );
    const result = resultOf(run);
    expect(result.is_error).toBe(false);
    expect(readFileSync(join(cwd, 'hello.txt'), 'utf8')).toBe('hi there');
    expect(fake.messagesRequests()).toHaveLength(2);
    const [reported] = reportedToolResults();
    expect(reported).toMatch(/^File created successfully at: .*hello\.txt/);
    expect(resultText(result)).toBe(`Tool result: ${reported ?? ''}`);
  });

  it('[[bash:echo hi]] runs the command and its output comes back to the API', async () => {
    const run = await collect(query({ prompt: '[[bash:echo hi]]', options: options() }));
    expect(resultOf(run).is_error).toBe(false);
    expect(reportedToolResults()).toEqual(['hi']);
    expect(resultText(resultOf(run))).toBe('Tool result: hi');
  });

  it.each([529, 401])('[[error:%i]] ends in an error result carrying the status', async (status) => {
    const run = await collect(query({ prompt: `[[error:${status}]]`, options: options() }));
    const result = resultOf(run);
    expect(result.is_error).toBe(true);
    expect(apiErrorStatus(result)).toBe(status);
    expect(fake.messagesRequests()).toHaveLength(1);
  });

  it('[[midstream]] (dropped connection) with no retries ends in an error result', async () => {
    const run = await collect(query({ prompt: '[[midstream]]', options: options() }));
    const result = resultOf(run);
    expect(result.is_error).toBe(true);
    expect(apiErrorStatus(result)).toBeNull();
    expect(result.terminal_reason).toBe('api_error');
    expect(fake.messagesRequests().length).toBeGreaterThanOrEqual(1);
  });

  it('after a dropped stream, the non-streaming (stream:false) fallback is answered with a JSON message', async () => {
    fake.enqueue({ kind: 'midstream' }, textReply('Answered without streaming.'));
    const result = resultOf(await collect(query({ prompt: 'x', options: options() })));
    expect(result.is_error).toBe(false);
    expect(resultText(result)).toBe('Answered without streaming.');
    // Claude Code 2.1.330 falls back to stream:false even with CLAUDE_CODE_MAX_RETRIES=0.
    expect(fake.messagesRequests().map((r) => (r.body as { stream?: boolean }).stream ?? false)).toEqual([
      true,
      false,
    ]);
  });

  it('interrupt() during [[slow:20:100]] ends the turn and closes the API connection', async () => {
    const q = query({ prompt: '[[slow:20:100]]', options: options({ includePartialMessages: true }) });
    let interrupted: Promise<unknown> | undefined;
    const run = await collect(q, (message) => {
      // Interrupt on the first streamed text chunk, i.e. truly mid-stream.
      if (!interrupted && message.type === 'stream_event' && message.event.type === 'content_block_delta') {
        interrupted = q.interrupt();
      }
    });
    await interrupted;
    const result = resultOf(run);
    expect(result.is_error).toBe(true);
    expect(result.subtype).toBe('error_during_execution');
    expect(result.terminal_reason).toBe('aborted_streaming');
    const [request] = fake.messagesRequests();
    if (!request) throw new Error('no request recorded');
    await fake.waitForClientClose(request.id);
    expect(request.closedByClient).toBe(true);
  });

  it('streaming input: the second turn carries the first one', async () => {
    const input = inputQueue();
    const q = query({ prompt: input, options: options() });
    const iterator = q[Symbol.asyncIterator]();
    const nextResult = async (): Promise<SDKResultMessage> => {
      for (;;) {
        const { value, done } = await iterator.next();
        if (done) throw new Error('the session ended before a result');
        if (value.type === 'result') return value;
      }
    };
    try {
      input.push('my name is Zed');
      expect(resultText(await nextResult())).toBe(`${DEMO_PREFIX} You said: "my name is Zed"`);
      input.push('[[recall]] what is my name?');
      const second = await nextResult();
      expect(resultText(second)).toContain('1. my name is Zed');
      expect(resultText(second)).toContain('2. [[recall]] what is my name?');
    } finally {
      input.end();
      q.close();
    }
    const [first, secondRequest] = fake.messagesRequests();
    expect(first && requestUserTexts(first)).toEqual(['my name is Zed']);
    const roles = (secondRequest?.body as { messages: { role: string }[] }).messages.map((m) => m.role);
    expect(roles).toEqual(['user', 'assistant', 'user']);
  });
});
