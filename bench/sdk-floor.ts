/**
 * The floors of the turn benchmarks: Claude Code through the SDK's `query()` called directly,
 * with no server, against the same fake model API, each in a new folder with its own config dir:
 * with the bare settings (no setting sources, partial messages on), or with every option the
 * server gives Claude Code (`serverOptions`).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  InMemorySessionStore,
  query,
  type Options,
  type SDKUserMessage,
  type SessionStore,
} from '@anthropic-ai/claude-agent-sdk';
import { sessionOptions } from '../src/adapters/claude-sdk/claude-process.js';
import { sandboxSettings } from '../src/adapters/claude-sdk/sandbox-settings.js';
import type { AgentSpec } from '../src/domain/ports.js';

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

/**
 * The options the server gives Claude Code (`sessionOptions`, claude-process.ts), for a session
 * of the server's defaults in `folder` (its tool rules aside): Claude Code's sandbox for the
 * commands (no network, the folder's parent unreadable but the folder), file tools confined by
 * managed settings, the transcript written to `store` as it comes (`resume`: continued from
 * there), and, as the server's own callbacks, permission questions routed to the host and a
 * PreToolUse hook. Not the process sandbox around Claude Code: that is the server's own layer,
 * measured as part of the server.
 */
export function serverOptions(
  folder: SdkFolder,
  store: SessionStore = new InMemorySessionStore(),
  resume?: string,
): Options {
  const env = Object.fromEntries(
    Object.entries(folder.options.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const spec: AgentSpec = {
    sessionId: 'sess_floor',
    claudeSessionId: resume ?? randomUUID(),
    model: null,
    permissionMode: 'default',
    maxTurns: null,
    cwd: folder.dir,
    systemPrompt: null,
    appendSystemPrompt: null,
    allowedTools: [],
    disallowedTools: [],
    priorCostUsd: 0,
  };
  const sandbox = sandboxSettings(
    {
      deniedEnvVars: Object.keys(env).filter((name) => name.startsWith('ANTHROPIC_')),
      denyRead: [path.dirname(folder.dir)],
      allowedDomains: [],
    },
    [folder.dir],
  );
  return {
    ...sessionOptions(spec, {
      resume: resume !== undefined,
      env,
      sandbox,
      confineFileTools: true,
      transcripts: store,
      settingSources: [],
      executable: null,
    }),
    canUseTool: async () => ({ behavior: 'deny', message: 'benchmark' }),
    hooks: { PreToolUse: [{ hooks: [async () => ({})] }] },
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
export async function sdkConversation(
  folder: SdkFolder,
  prompts: string[],
  extra: Options = {},
): Promise<string> {
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
  for await (const message of query({ prompt: input(), options: { ...folder.options, ...extra } })) {
    if (message.type !== 'result') continue;
    sessionId = message.session_id;
    if (++answered === prompts.length) break;
    (next as (() => void) | null)?.();
  }
  return sessionId;
}
