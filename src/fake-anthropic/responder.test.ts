import { describe, expect, it } from 'vitest';
import type { Reply } from './reply.js';
import { DEMO_PREFIX, defaultResponder, resolvePath } from './responder.js';
import type { ScriptedBlock } from './wire.js';

const CWD = '/tmp/session-cwd';

/** A request as Claude Code shapes it: the cwd in a reminder of the first user message. */
function request(prompt: string, history: unknown[] = []): unknown {
  return {
    model: 'claude-sonnet-4-5',
    stream: true,
    messages: [
      ...history,
      {
        role: 'user',
        content: [
          {
            type: 'text',
            text: `<system-reminder>\n - Primary working directory: ${CWD}\n</system-reminder>`,
          },
          { type: 'text', text: prompt },
        ],
      },
    ],
  };
}

function respond(body: unknown, attempt = 0): Reply {
  return defaultResponder(body, { attempt });
}

function blocks(reply: Reply): readonly ScriptedBlock[] {
  if (reply.kind !== 'message') throw new Error(`expected a message reply, got ${reply.kind}`);
  return reply.message.content;
}

function onlyText(reply: Reply): string {
  const b = blocks(reply);
  expect(b).toHaveLength(1);
  const [first] = b;
  if (first?.type !== 'text' || typeof first.text !== 'string') throw new Error('expected one text block');
  return first.text;
}

describe('defaultResponder', () => {
  it('echoes a plain prompt as a clearly scripted reply', () => {
    expect(onlyText(respond(request('hello there')))).toBe(`${DEMO_PREFIX} You said: "hello there"`);
  });

  it('truncates the echo to 200 characters', () => {
    const text = onlyText(respond(request('x'.repeat(500))));
    expect(text).toBe(`${DEMO_PREFIX} You said: "${'x'.repeat(200)}"`);
  });

  it('answers a tool-result turn with the result text, capped at 4000 chars', () => {
    const body = {
      messages: [
        { role: 'user', content: '[[bash:echo hi]]' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'y'.repeat(5000) }] },
      ],
    };
    expect(onlyText(respond(body))).toBe(`Tool result: ${'y'.repeat(4000)}`);
  });

  it('runs [[bash]] as an announced Bash tool call', () => {
    expect(blocks(respond(request('please [[bash:echo hi]]')))).toEqual([
      { type: 'text', text: 'I will run a command.' },
      { type: 'tool_use', name: 'Bash', input: { command: 'echo hi', description: 'Run echo hi' } },
    ]);
  });

  it('resolves relative [[write]] and [[read]] paths against the session cwd', () => {
    const b = blocks(respond(request('[[write:out/a.txt:hi there]] [[read:/etc/hostname]] [[read:b.txt]]')));
    expect(b.filter((x) => x.type === 'tool_use')).toEqual([
      { type: 'tool_use', name: 'Write', input: { file_path: `${CWD}/out/a.txt`, content: 'hi there' } },
      { type: 'tool_use', name: 'Read', input: { file_path: '/etc/hostname' } },
      { type: 'tool_use', name: 'Read', input: { file_path: `${CWD}/b.txt` } },
    ]);
  });

  it('keeps a relative path as is when no cwd is known', () => {
    expect(resolvePath('a.txt', undefined)).toBe('a.txt');
    expect(resolvePath('../a.txt', '/w/x')).toBe('/w/a.txt');
  });

  it('passes [[tool]] input through and [[env]] becomes Bash env', () => {
    const b = blocks(respond(request('[[tool:Glob:{"pattern":"*.ts"}]] [[env]]')));
    expect(b.filter((x) => x.type === 'tool_use')).toEqual([
      { type: 'tool_use', name: 'Glob', input: { pattern: '*.ts' } },
      { type: 'tool_use', name: 'Bash', input: { command: 'env', description: 'Run env' } },
    ]);
  });

  it('maps failure directives to failure replies, first one wins', () => {
    expect(respond(request('[[error:529]]'))).toEqual({ kind: 'error', status: 529 });
    expect(respond(request('[[hang]] [[error:500]]'))).toEqual({ kind: 'hang' });
    expect(respond(request('[[midstream]]'))).toEqual({ kind: 'midstream' });
    expect(respond(request('[[sse_error:overloaded_error]]'))).toEqual({
      kind: 'sse_error',
      errorType: 'overloaded_error',
    });
  });

  it('[[flaky]] fails the first n attempts, then answers normally', () => {
    const body = request('[[flaky:2:529]] hi');
    expect(respond(body, 0)).toEqual({ kind: 'error', status: 529 });
    expect(respond(body, 1)).toEqual({ kind: 'error', status: 529 });
    expect(onlyText(respond(body, 2))).toBe(`${DEMO_PREFIX} You said: "[[flaky:2:529]] hi"`);
  });

  it('[[slow]] streams the requested number of chunks with a delay', () => {
    const reply = respond(request('[[slow:3:50]]'));
    expect(reply).toEqual({
      kind: 'message',
      deltaDelayMs: 50,
      message: { content: [{ type: 'text', text: ['[1/3] ', '[2/3] ', '[3/3] '] }] },
    });
  });

  it('[[recall]] lists the user texts of the history', () => {
    const history = [
      { role: 'user', content: 'my name is Zed' },
      { role: 'assistant', content: [{ type: 'text', text: 'hi Zed' }] },
    ];
    const text = onlyText(respond(request('[[recall]] what is my name?', history)));
    expect(text).toContain('2 user message(s)');
    expect(text).toContain('1. my name is Zed');
    expect(text).toContain('2. [[recall]] what is my name?');
  });

  it('answers a new prompt that follows an interrupted tool call, not the tool result', () => {
    const body = {
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't1',
              content: 'The user doesn’t want to proceed',
              is_error: true,
            },
            { type: 'text', text: '[Request interrupted by user for tool use]' },
            { type: 'text', text: 'second prompt' },
          ],
        },
      ],
    };
    expect(onlyText(respond(body))).toBe(`${DEMO_PREFIX} You said: "second prompt"`);
  });

  it('ignores directives inside <system-reminder> and in older turns', () => {
    const history = [
      { role: 'user', content: '[[error:500]]' },
      { role: 'assistant', content: [{ type: 'text', text: 'failed' }] },
    ];
    const body = request('<system-reminder>[[hang]]</system-reminder> plain', history);
    expect(onlyText(respond(body))).toBe(`${DEMO_PREFIX} You said: "plain"`);
  });

  it('explains directives it cannot use', () => {
    const text = onlyText(respond(request('[[frobnicate]]')));
    expect(text).toContain('could not use these directives');
    expect(text).toContain('unknown directive "frobnicate"');
  });

  it('puts [[think]] first as a thinking block, still followed by text', () => {
    expect(blocks(respond(request('[[think:pondering]] hi')))).toEqual([
      { type: 'thinking', thinking: 'pondering' },
      { type: 'text', text: `${DEMO_PREFIX} You said: "[[think:pondering]] hi"` },
    ]);
  });

  it('is deterministic', () => {
    const body = request('[[bash:ls]] [[recall]]');
    expect(respond(body)).toEqual(respond(body));
  });
});
