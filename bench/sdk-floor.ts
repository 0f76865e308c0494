/**
 * The floors of the turn benchmarks: Claude Code through the SDK's `query()` called directly,
 * with no server, against the same fake model API and the same settings the server gives it
 * (no setting sources, partial messages on), each in a new folder with its own config dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { query, type Options, type SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';

export interface SdkFolder {
  dir: string;
  options: Options;
  remove(): void;
}

export function sdkFolder(fakeUrl: string): SdkFolder {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sdk-'));
  return {
    dir,
    options: {
      cwd: dir,
      settingSources: [],
      includePartialMessages: true,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ANTHROPIC_BASE_URL: fakeUrl,
        ANTHROPIC_API_KEY: 'sk-ant-fake',
        CLAUDE_CONFIG_DIR: path.join(dir, '.config'),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_AUTOUPDATER: '1',
      },
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A cold `query()`: process start to its `result`, in ms, and the session id it used. */
export async function sdkColdTurn(
  folder: SdkFolder,
  prompt: string,
  extra: Options = {},
): Promise<{ ms: number; sessionId: string }> {
  const t0 = performance.now();
  let sessionId = '';
  for await (const message of query({ prompt, options: { ...folder.options, ...extra } })) {
    if (message.type === 'result') {
      sessionId = message.session_id;
      if (message.subtype !== 'success') throw new Error(`SDK turn failed: ${message.subtype}`);
    }
  }
  return { ms: performance.now() - t0, sessionId };
}

/** A conversation of `prompts.length` turns on one live `query()`; its session id. */
export async function sdkConversation(folder: SdkFolder, prompts: string[]): Promise<string> {
  let next: (() => void) | null = null;
  async function* input(): AsyncGenerator<SDKUserMessage> {
    for (const prompt of prompts) {
      yield {
        type: 'user',
        message: { role: 'user', content: prompt },
        parent_tool_use_id: null,
      } as SDKUserMessage;
      await new Promise<void>((resolve) => (next = resolve));
    }
  }
  let sessionId = '';
  let answered = 0;
  for await (const message of query({ prompt: input(), options: folder.options })) {
    if (message.type !== 'result') continue;
    sessionId = message.session_id;
    if (++answered === prompts.length) break;
    (next as (() => void) | null)?.();
  }
  return sessionId;
}
