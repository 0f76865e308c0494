import { describe, expect, it } from 'vitest';
import { parseDirectives } from './directives.js';

describe('parseDirectives', () => {
  it('finds nothing in plain text or bracket prose', () => {
    expect(parseDirectives('hello [[1, 2]] and [x]')).toEqual({ directives: [], problems: [] });
  });

  it('parses tool directives, keeping colons in the last argument', () => {
    const { directives, problems } = parseDirectives(
      'do [[bash:echo a:b]] then [[write:notes/a.txt:x: y]] and [[read:/etc/hostname]] and [[env]]',
    );
    expect(problems).toEqual([]);
    expect(directives).toEqual([
      { kind: 'bash', command: 'echo a:b' },
      { kind: 'write', path: 'notes/a.txt', content: 'x: y' },
      { kind: 'read', path: '/etc/hostname' },
      { kind: 'bash', command: 'env' },
    ]);
  });

  it('keeps newlines in write content', () => {
    expect(parseDirectives('[[write:a.txt:line1\nline2]]').directives).toEqual([
      { kind: 'write', path: 'a.txt', content: 'line1\nline2' },
    ]);
  });

  it('parses [[tool]] JSON even when it contains ]]', () => {
    expect(parseDirectives('[[tool:Custom:{"a":[[1]],"b":"c"}]] after').directives).toEqual([
      { kind: 'tool', name: 'Custom', input: { a: [[1]], b: 'c' } },
    ]);
    expect(parseDirectives('[[tool:Glob]]').directives).toEqual([{ kind: 'tool', name: 'Glob', input: {} }]);
  });

  it('parses the failure and timing directives', () => {
    expect(
      parseDirectives(
        '[[slow:20:100]] [[error:529]] [[flaky:2:500]] [[midstream]] [[sse_error:api_error]] [[hang]] [[recall]] [[think:hmm]]',
      ).directives,
    ).toEqual([
      { kind: 'slow', chunks: 20, msPerChunk: 100 },
      { kind: 'error', status: 529 },
      { kind: 'flaky', times: 2, status: 500 },
      { kind: 'midstream' },
      { kind: 'sse_error', errorType: 'api_error' },
      { kind: 'hang' },
      { kind: 'recall' },
      { kind: 'think', text: 'hmm' },
    ]);
  });

  it('defaults [[sse_error]] to overloaded_error and is case-insensitive on names', () => {
    expect(parseDirectives('[[SSE_ERROR]] [[Bash:ls]]').directives).toEqual([
      { kind: 'sse_error', errorType: 'overloaded_error' },
      { kind: 'bash', command: 'ls' },
    ]);
  });

  it('reports unknown and malformed directives instead of guessing', () => {
    const { directives, problems } = parseDirectives(
      '[[nope]] [[error:200]] [[slow:x:1]] [[tool:X:[1]]] [[write:onlypath]] [[bash:]] [[flaky:0:500]]',
    );
    expect(directives).toEqual([]);
    expect(problems).toHaveLength(7);
    expect(problems[0]).toMatch(/unknown directive "nope"/);
    expect(problems[1]).toMatch(/400-599/);
  });

  it('reports a missing closing bracket', () => {
    expect(parseDirectives('[[bash:ls').problems).toEqual(['[[bash:…: missing the closing ]]']);
  });
});
