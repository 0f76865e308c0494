import { describe, expect, it } from 'vitest';
import type { SummaryPart } from './events.js';
import { summarize } from './message-summary.js';
import type { ClaudeMessage } from './ports.js';

const assistant = (content: unknown): ClaudeMessage => ({
  type: 'assistant',
  message: { id: 'msg_api_1', role: 'assistant', content },
  parent_tool_use_id: null,
});

const user = (content: unknown): ClaudeMessage => ({
  type: 'user',
  message: { role: 'user', content },
  parent_tool_use_id: null,
});

const toolResult = (toolUseId: string, content: unknown, isError?: boolean) => ({
  type: 'tool_result',
  tool_use_id: toolUseId,
  content,
  ...(isError === undefined ? {} : { is_error: isError }),
});

describe('summarize', () => {
  describe('assistant messages', () => {
    it('keeps text, thinking and tool calls in order, and drops blocks it does not know', () => {
      const names = new Map<string, string>();
      const parts = summarize(
        assistant([
          { type: 'thinking', thinking: 'Let me think.', signature: 'sig' },
          { type: 'redacted_thinking', data: 'opaque' },
          { type: 'text', text: 'I will look.' },
          { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls -la' } },
          { type: 'tool_use', id: 'toolu_2', name: 'Read', input: { file_path: '/w/a.txt' } },
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} },
        ]),
        names,
      );
      expect(parts).toEqual<SummaryPart[]>([
        { type: 'thinking', text: 'Let me think.' },
        { type: 'text', text: 'I will look.' },
        { type: 'tool_use', toolUseId: 'toolu_1', name: 'Bash', input: { command: 'ls -la' } },
        { type: 'tool_use', toolUseId: 'toolu_2', name: 'Read', input: { file_path: '/w/a.txt' } },
      ]);
      // Each call is remembered, for its result.
      expect([...names]).toEqual([
        ['toolu_1', 'Bash'],
        ['toolu_2', 'Read'],
      ]);
    });

    it('a tool call without input has an empty input; odd fields become empty strings', () => {
      expect(
        summarize(assistant([{ type: 'tool_use', id: 'toolu_x', name: 'TaskList' }]), new Map()),
      ).toEqual([{ type: 'tool_use', toolUseId: 'toolu_x', name: 'TaskList', input: {} }]);
      expect(summarize(assistant([{ type: 'text', text: 42 }, null, 'text', 7]), new Map())).toEqual([
        { type: 'text', text: '' },
      ]);
    });

    it('content given as a string is one text part; no content is no part', () => {
      expect(summarize(assistant('plain words'), new Map())).toEqual([{ type: 'text', text: 'plain words' }]);
      expect(summarize({ type: 'assistant' }, new Map())).toEqual([]);
      expect(summarize({ type: 'assistant', message: { content: { not: 'a list' } } }, new Map())).toEqual(
        [],
      );
    });
  });

  describe('tool results', () => {
    it('name the tool of their call, which came in an earlier message', () => {
      const names = new Map<string, string>();
      summarize(
        assistant([{ type: 'tool_use', id: 'toolu_7', name: 'Bash', input: { command: 'echo hi' } }]),
        names,
      );
      summarize(assistant([{ type: 'text', text: 'meanwhile' }]), names);
      expect(summarize(user([toolResult('toolu_7', 'hi', false)]), names)).toEqual<SummaryPart[]>([
        { type: 'tool_result', toolUseId: 'toolu_7', name: 'Bash', isError: false, content: 'hi' },
      ]);
    });

    it('of several calls in one message each get their own name', () => {
      const names = new Map<string, string>();
      summarize(
        assistant([
          { type: 'tool_use', id: 'toolu_a', name: 'Glob', input: { pattern: '*.ts' } },
          { type: 'tool_use', id: 'toolu_b', name: 'Grep', input: { pattern: 'x' } },
        ]),
        names,
      );
      expect(
        summarize(user([toolResult('toolu_b', 'b.ts'), toolResult('toolu_a', 'a.ts', true)]), names),
      ).toEqual([
        { type: 'tool_result', toolUseId: 'toolu_b', name: 'Grep', isError: false, content: 'b.ts' },
        { type: 'tool_result', toolUseId: 'toolu_a', name: 'Glob', isError: true, content: 'a.ts' },
      ]);
    });

    it('of an unknown call have no name', () => {
      expect(summarize(user([toolResult('toolu_unknown', 'x')]), new Map())).toEqual([
        { type: 'tool_result', toolUseId: 'toolu_unknown', name: null, isError: false, content: 'x' },
      ]);
    });

    it('with text blocks join them by lines; an image is [image]; other blocks are left out', () => {
      const names = new Map([['toolu_r', 'Read']]);
      const parts = summarize(
        user([
          toolResult(
            'toolu_r',
            [
              { type: 'text', text: 'line one' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
              { type: 'tool_reference', tool_name: 'X' },
              { type: 'text', text: '' },
              { type: 'text', text: 'line two' },
            ],
            false,
          ),
        ]),
        names,
      );
      expect(parts).toEqual([
        {
          type: 'tool_result',
          toolUseId: 'toolu_r',
          name: 'Read',
          isError: false,
          content: 'line one\n[image]\nline two',
        },
      ]);
    });

    it('without content, or with content of another shape, have empty content', () => {
      const names = new Map([['toolu_e', 'Bash']]);
      expect(summarize(user([{ type: 'tool_result', tool_use_id: 'toolu_e' }]), names)).toEqual([
        { type: 'tool_result', toolUseId: 'toolu_e', name: 'Bash', isError: false, content: '' },
      ]);
      expect(summarize(user([toolResult('toolu_e', { text: 'not a list' })]), names)[0]).toMatchObject({
        content: '',
      });
    });

    it('is_error must be true to count as an error', () => {
      const parts = summarize(
        user([
          toolResult('t1', 'a', true),
          toolResult('t2', 'b'),
          { ...toolResult('t3', 'c'), is_error: 'yes' },
        ]),
        new Map(),
      );
      expect(parts.map((p) => (p.type === 'tool_result' ? p.isError : null))).toEqual([true, false, false]);
    });
  });

  it('a user prompt (string content) is its text', () => {
    expect(summarize(user('What is here?'), new Map())).toEqual([{ type: 'text', text: 'What is here?' }]);
  });

  describe('system messages', () => {
    it('init: the model, permission mode and working directory', () => {
      const init: ClaudeMessage = {
        type: 'system',
        subtype: 'init',
        model: 'claude-opus-5-5',
        permissionMode: 'default',
        cwd: '/w/sess_1',
        tools: ['Bash', 'Read'],
        session_id: 'c1',
      };
      expect(summarize(init, new Map())).toEqual([
        {
          type: 'system',
          subtype: 'init',
          model: 'claude-opus-5-5',
          permissionMode: 'default',
          cwd: '/w/sess_1',
        },
      ]);
    });

    it('api_retry: the attempt, the delay and the model API’s status', () => {
      const retry: ClaudeMessage = {
        type: 'system',
        subtype: 'api_retry',
        attempt: 2,
        max_retries: 10,
        retry_delay_ms: 1200,
        error_status: 529,
        error: 'overloaded',
      };
      expect(summarize(retry, new Map())).toEqual([
        {
          type: 'system',
          subtype: 'api_retry',
          attempt: 2,
          maxRetries: 10,
          delayMs: 1200,
          upstreamStatus: 529,
        },
      ]);
    });

    it('any other subtype: just its name', () => {
      expect(
        summarize({ type: 'system', subtype: 'compact_boundary', compact_metadata: {} }, new Map()),
      ).toEqual([{ type: 'system', subtype: 'compact_boundary' }]);
      expect(summarize({ type: 'system' }, new Map())).toEqual([{ type: 'system', subtype: '' }]);
    });
  });

  describe('result messages', () => {
    it('the outcome of the turn', () => {
      const result: ClaudeMessage = {
        type: 'result',
        subtype: 'success',
        is_error: false,
        num_turns: 3,
        duration_ms: 1234,
        stop_reason: 'end_turn',
        result: 'done',
        total_cost_usd: 0.1,
      };
      expect(summarize(result, new Map())).toEqual([
        {
          type: 'result',
          subtype: 'success',
          isError: false,
          numTurns: 3,
          durationMs: 1234,
          stopReason: 'end_turn',
        },
      ]);
    });

    it('an error result with missing figures', () => {
      expect(
        summarize({ type: 'result', subtype: 'error_during_execution', is_error: true }, new Map()),
      ).toEqual([
        {
          type: 'result',
          subtype: 'error_during_execution',
          isError: true,
          numTurns: 0,
          durationMs: 0,
          stopReason: null,
        },
      ]);
    });
  });

  it('other message types have no summary, and leave the tool names alone', () => {
    const names = new Map([['toolu_1', 'Bash']]);
    const streamEvent: ClaudeMessage = {
      type: 'stream_event',
      event: {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_2', name: 'Write' },
      },
    };
    expect(summarize(streamEvent, names)).toEqual([]);
    expect(summarize({ type: 'rate_limit_event' }, names)).toEqual([]);
    expect([...names]).toEqual([['toolu_1', 'Bash']]);
  });
});
