/**
 * The agent's environment does not hold the server's secrets: Claude Code runs `env` and what
 * the model is told (the tool result in the next API request) has none of them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserMessage, toolResults, type ToolResultView } from '../../src/fake-anthropic/index.js';
import { call, type JsonResponse } from '../helpers/http.js';
import { secretServerSettings } from '../helpers/services.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { createSession, deleteSession, type Completion } from './support.js';

const KEY = TEST_KEYS[0];
/** Its real database and Redis URLs (each with a password) are filled in before it starts. */
const SECRETS: Record<string, string> = {
  ADMIN_API_KEY: 'admin-secret',
};
let services: Awaited<ReturnType<typeof secretServerSettings>> | undefined;
/** The server's credential for the model API (serverEnv sets it). */
const MODEL_API_KEY = 'sk-ant-fake-test-key';

let stack: Stack;
let sessionId: string;
/** The answer to the `env` prompt, and the tool result the model was sent. */
let answer: JsonResponse<Completion>;
let told: ToolResultView;

beforeAll(async () => {
  // API_KEYS (the test keys) is already in the server's environment.
  services = await secretServerSettings(() => `secret${randomBytes(6).toString('hex')}`);
  Object.assign(SECRETS, services.env);
  stack = await startStack({ env: SECRETS });
  // Plain `env` is not read-only to Claude Code: it needs approval unless allowed.
  sessionId = await createSession(stack, KEY, { allowedTools: ['Bash(env)'] });
  const mark = stack.fake.mark();
  answer = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
    key: KEY,
    body: { prompt: 'print your environment [[env]]' },
  });
  const last = stack.fake
    .messagesRequests()
    .filter((r) => r.id > mark)
    .at(-1);
  const results = last ? toolResults(lastUserMessage(last.body)) : [];
  if (results.length !== 1 || !results[0]) throw new Error(`expected one tool result, got ${results.length}`);
  told = results[0];
});
afterAll(async () => {
  if (sessionId) await deleteSession(stack, KEY, sessionId);
  await stack?.close();
  await services?.close();
});

describe("the agent's environment", () => {
  it("has none of the server's secrets", () => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(told.isError).toBe(false);
    // `env` ran (its output lists PATH).
    expect(told.text).toMatch(/^PATH=/m);
    // The server's secrets are not.
    for (const secret of [...TEST_KEYS, ...Object.values(SECRETS)]) expect(told.text).not.toContain(secret);
    for (const name of ['API_KEYS', ...Object.keys(SECRETS)]) {
      expect(told.text).not.toMatch(new RegExp(`^${name}=`, 'm'));
    }
    // Nor did any of them reach the client's answer.
    for (const secret of [...TEST_KEYS, ...Object.values(SECRETS)]) {
      expect(JSON.stringify(answer.body)).not.toContain(secret);
    }
  });

  it("does not show the tools the operator's model API key", () => {
    // Claude Code needs the key and hands its environment on to its tools; the sandbox
    // (SANDBOX_MODE, on by default where bubblewrap works) denies it to them.
    expect(told.text).not.toContain(MODEL_API_KEY);
    expect(JSON.stringify(answer.body)).not.toContain(MODEL_API_KEY);
  });
});
