/**
 * One scripted model call of the agent, run by the real Claude Code through the API, and what it
 * led to: what the agent was told (the tool results Claude Code sent back to the model API) and
 * everything the model API received. Shared by the containment suites.
 */
import { expect } from 'vitest';
import {
  findWorkingDirectory,
  lastUserMessage,
  toolResults,
  type ToolResultView,
} from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import type { Stack } from '../helpers/test-server.js';
import type { Completion } from './support.js';

/** One model call of the agent and its consequences. */
export interface Attempt {
  status: number;
  answer: Completion;
  /** What the agent was told: the tool results in the last request to the model API that had any. */
  told: ToolResultView[];
  /** Every request body the model API received during the turn, as JSON. */
  sent: string;
}

export async function attempt(
  stack: Stack,
  key: string,
  sessionId: string,
  prompt: string,
): Promise<Attempt> {
  const mark = stack.fake.mark();
  const res = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
    key,
    body: { prompt },
  });
  // Only this session's model requests: another session (a victim's background command
  // reporting back) may talk to the model at the same time.
  const details = await call<{ config: { cwd: string } }>(stack.base, 'GET', `/sessions/${sessionId}`, {
    key,
  });
  const requests = stack.fake
    .messagesRequests()
    .filter((r) => r.id > mark && findWorkingDirectory(r.body) === details.body.config.cwd);
  // The last request that reported tool results: the session's own Claude Code may make later
  // ones, e.g. for a background command that ended (it stops that turn, but a request may be out).
  const told = requests.map((r) => toolResults(lastUserMessage(r.body))).findLast((t) => t.length > 0);
  return {
    status: res.status,
    answer: res.body,
    told: told ?? [],
    sent: JSON.stringify(requests.map((r) => r.body)),
  };
}

/** The single tool result of an attempt (the turn ran and the tool was called once). */
export function toldOf(a: Attempt): ToolResultView {
  expect(a.status, JSON.stringify(a.answer)).toBe(200);
  expect(a.told).toHaveLength(1);
  return a.told[0]!;
}

/** Neither the model nor the client saw any of these values. */
export function expectNotLeaked(a: Attempt, values: readonly string[]): void {
  const answer = JSON.stringify(a.answer);
  const leaked = values.filter((value) => a.sent.includes(value) || answer.includes(value));
  expect(leaked, `leaked; the agent was told: ${a.told.map((t) => t.text).join('\n')}`).toEqual([]);
}
