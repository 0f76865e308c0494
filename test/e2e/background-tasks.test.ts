/**
 * Background commands (Bash `run_in_background`) that end between turns. Claude Code then starts
 * a turn on its own to tell the model; the server stops that turn at once (claude-process.ts),
 * because every model call must belong to a turn a client asked for. The notification stays in
 * the conversation and reaches the model with the client's next prompt.
 *
 * The fake model API never answers a request made for the notification alone: a turn that was
 * not stopped would hold the session until the client's next turn timed out.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultResponder, hangReply, lastUserMessage, promptText } from '../../src/fake-anthropic/index.js';
import { call } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import {
  claudeTranscriptPath,
  createSession,
  deleteSession,
  history,
  resultOf,
  until,
  type Completion,
} from './support.js';

const [KEY] = TEST_KEYS;
const NOTIFICATION = 'task-notification';

/** A request for Claude Code's notice of an ended background task alone, no client prompt. */
const isNotificationOnly = (body: unknown): boolean =>
  JSON.stringify(lastUserMessage(body) ?? '').includes(NOTIFICATION) && promptText(body) === '';

describe('a background command that ends between turns', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    // Only a client's prompt gets an answer.
    stack.fake.setResponder((body, ctx) =>
      isNotificationOnly(body) ? hangReply() : defaultResponder(body, ctx),
    );
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('starts no turn of its own; the next prompt gets its own answer and tells the model', async () => {
    const sessionId = await createSession(stack, KEY, { allowedTools: ['Bash'] });
    try {
      const marker = `bg-${randomBytes(4).toString('hex')}`;
      const first = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: {
          prompt: `[[tool:Bash:{"command":"sleep 1; echo ${marker}","run_in_background":true,"description":"report"}]]`,
        },
      });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body.response).toMatch(/Command running in background/);
      // Nor can the model schedule prompts: Claude Code's cron tools are switched off.
      const offered = stack.fake.messagesRequests().at(-1)?.body as { tools?: Array<{ name: string }> };
      const toolNames = offered.tools?.map((t) => t.name);
      expect(toolNames).toContain('Bash');
      expect(toolNames).not.toContain('CronCreate');

      // Claude Code noticed the command's end, started a turn for it, and was stopped.
      const details = await call<{ claudeSessionId: string }>(stack.base, 'GET', `/sessions/${sessionId}`, {
        key: KEY,
      });
      const transcript = (): string => {
        const file = claudeTranscriptPath(stack.dataDir, details.body.claudeSessionId);
        return file ? fs.readFileSync(file, 'utf8') : '';
      };
      await until(
        () => {
          const text = transcript();
          const noticed = text.indexOf(NOTIFICATION);
          return noticed >= 0 && text.indexOf('[Request interrupted by user]', noticed) > noticed;
        },
        'the notification turn to be interrupted',
        15_000,
      );
      // If Claude Code had sent the notification to the model before the interrupt reached it,
      // that request was dropped by Claude Code, not answered.
      await until(
        () =>
          stack.fake
            .messagesRequests()
            .filter((r) => isNotificationOnly(r.body))
            .every((r) => r.closedByClient),
        'every notification request to be dropped',
      );
      expect(stack.fake.hangingCount()).toBe(0);

      const mark = stack.fake.mark();
      const second = await call<Completion>(stack.base, 'POST', `/sessions/${sessionId}/messages`, {
        key: KEY,
        body: { prompt: 'What happened meanwhile?', timeout: 20_000 },
      });
      expect(second.status, JSON.stringify(second.body)).toBe(200);
      expect(second.body.response).toContain('You said: "What happened meanwhile?"');
      const [asked] = stack.fake.messagesRequests().filter((r) => r.id > mark);
      // The model learns about the ended command with the client's prompt.
      expect(JSON.stringify(asked?.body)).toContain('task-notification');
      expect(JSON.stringify(asked?.body)).toMatch(/Background command \\"report\\" completed/);

      // The history holds the client's two turns and nothing else.
      const messages = await history(stack, KEY, sessionId);
      expect(new Set(messages.map((m) => m.turnId))).toEqual(
        new Set([first.body.messageId, second.body.messageId]),
      );
      expect(resultOf(messages, second.body.messageId)?.content).toMatchObject({
        result: expect.stringContaining('What happened meanwhile?'),
      });
    } finally {
      await deleteSession(stack, KEY, sessionId);
    }
  });
});
