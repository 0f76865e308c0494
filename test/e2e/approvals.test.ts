/**
 * The README's table "Which tool calls ask for approval", checked against the real Claude Code:
 * one session per permission mode, one call per row, each asking call denied at once. The table
 * is the one home of these facts; this test reads it from README.md, so a Claude Code update that
 * changes them fails here, naming the row.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/http.js';
import { startStack, TEST_KEYS, type Stack } from '../helpers/test-server.js';
import { createSession, dataOf, deleteSession, openTurnStream } from './support.js';

const KEY = TEST_KEYS[0];
const MODES = ['default', 'acceptEdits', 'plan'] as const;
type Outcome = 'runs' | 'asks' | 'refused';

/** Each row of the README's table, by its first cell, and the calls that stand for it. */
const ROWS: Array<{ row: string; prompts: (cwd: string) => string[] }> = [
  { row: '`Read`', prompts: () => ['[[read:a.txt]]'] },
  {
    row: '`Write`, `Edit`',
    prompts: (cwd) => [
      '[[write:new.txt:hi]]',
      `[[tool:Edit:{"file_path":"${cwd}/a.txt","old_string":"hello","new_string":"bye"}]]`,
    ],
  },
  {
    row: '`Bash`, read-only: `ls`, `cat`, `pwd`, `grep`, `find`, `git status`',
    prompts: () => ['[[bash:ls]]', "[[bash:find . -name '*.txt']]"],
  },
  {
    row: '`Bash` that changes files: `mkdir`, `touch`, `rm`, `echo > f`',
    prompts: () => ['[[bash:mkdir d]]'],
  },
  {
    row: '`Bash`, any other program: `python3`, `npm test`, `curl`',
    prompts: () => ['[[bash:python3 -c "print(1)"]]'],
  },
  {
    row: '`Bash` reading outside the workspace: `ls /`, `cat /etc/hostname`',
    prompts: () => ['[[bash:ls /]]', '[[bash:cat /etc/hostname]]'],
  },
];

/** The README's cells of a row: { default, acceptEdits, plan }. */
function readmeRow(row: string): Record<(typeof MODES)[number], Outcome> {
  const readme = fs.readFileSync(path.resolve('README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.split('|')[1]?.trim() === row);
  if (!line) throw new Error(`README.md has no approval table row "${row}"`);
  const [d, a, p] = line
    .split('|')
    .slice(2, 5)
    .map((c) => c.trim() as Outcome);
  return { default: d!, acceptEdits: a!, plan: p! };
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: { RATE_LIMIT_MESSAGES_PER_HOUR: '1000', RATE_LIMIT_EVENTS_PER_HOUR: '100000' },
  });
});
afterAll(async () => {
  await stack?.close();
});

/** Runs one call as a turn; an approval it asks for is denied at once. */
async function outcomeOf(sessionId: string, prompt: string): Promise<Outcome> {
  const reader = await openTurnStream(stack, sessionId, { prompt });
  let asked = false;
  let response = '';
  for (let e = await reader.next(); e !== null; e = await reader.next()) {
    if (e.event === 'permission_request') {
      asked = true;
      const { requestId } = dataOf<{ requestId: string }>(e);
      const res = await call(stack.base, 'POST', `/sessions/${sessionId}/permissions/${requestId}`, {
        key: KEY,
        body: { decision: 'deny' },
      });
      expect(res.status).toBe(200);
    }
    if (e.event === 'complete') response = dataOf<{ response: string }>(e).response;
  }
  if (asked) return 'asks';
  return /was not run/.test(response) ? 'refused' : 'runs';
}

async function sessionWithFile(body: Record<string, unknown>): Promise<{ id: string; cwd: string }> {
  const id = await createSession(stack, KEY, body);
  const details = await call<{ config: { cwd: string } }>(stack.base, 'GET', `/sessions/${id}`, { key: KEY });
  fs.writeFileSync(path.join(details.body.config.cwd, 'a.txt'), 'hello\n');
  return { id, cwd: details.body.config.cwd };
}

describe("the README's approval table", () => {
  it.each(MODES)(
    '%s',
    async (mode) => {
      const { id, cwd } = await sessionWithFile({ permissionMode: mode });
      try {
        const seen: string[] = [];
        const expected: string[] = [];
        for (const { row, prompts } of ROWS) {
          // Read first: Claude Code edits only a file it has read.
          for (const prompt of prompts(cwd)) {
            seen.push(`${row}: ${prompt} → ${await outcomeOf(id, prompt)}`);
            expected.push(`${row}: ${prompt} → ${readmeRow(row)[mode]}`);
          }
        }
        expect(seen).toEqual(expected);
      } finally {
        await deleteSession(stack, KEY, id);
      }
    },
    120_000,
  );

  it('allowedTools approves what it matches: Write and Bash(python3:*) run without asking in default', async () => {
    const { id } = await sessionWithFile({ allowedTools: ['Write', 'Edit', 'Bash(python3:*)'] });
    try {
      expect(await outcomeOf(id, '[[write:new.txt:hi]]')).toBe('runs');
      expect(await outcomeOf(id, '[[bash:python3 -c "print(1)"]]')).toBe('runs');
      expect(await outcomeOf(id, '[[bash:npm test]]')).toBe('asks');
    } finally {
      await deleteSession(stack, KEY, id);
    }
  }, 60_000);
});
