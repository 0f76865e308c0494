import { describe, expect, it } from 'vitest';
import {
  findWorkingDirectory,
  isStreamingRequest,
  lastUserMessage,
  promptText,
  requestMessages,
  requestModel,
  toolResults,
  userTexts,
} from './request-body.js';

/** Shaped like Claude Code's first request: environment reminder blocks, then the prompt. */
const firstTurn = {
  model: 'claude-sonnet-4-5',
  stream: true,
  system: [{ type: 'text', text: "You are a Claude agent, built on Anthropic's Claude Agent SDK." }],
  messages: [
    {
      role: 'user',
      content: [
        {
          type: 'text',
          text: '<system-reminder>\n# Environment\n - Primary working directory: /tmp/work dir\n - Platform: linux\n</system-reminder>',
        },
        { type: 'text', text: '<system-reminder>\nYou are powered by Sonnet.\n</system-reminder>' },
        { type: 'text', text: 'my name is Zed' },
      ],
    },
  ],
};

const toolTurn = {
  model: 'claude-sonnet-4-5',
  messages: [
    ...firstTurn.messages,
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_fake_1', name: 'Bash', input: {} }] },
    {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_fake_1',
          content: 'hi\n<system-reminder><total_tokens>5</total_tokens></system-reminder>',
          is_error: false,
        },
      ],
    },
  ],
};

describe('request-body', () => {
  it('reads model and stream flag', () => {
    expect(requestModel(firstTurn)).toBe('claude-sonnet-4-5');
    expect(isStreamingRequest(firstTurn)).toBe(true);
    expect(isStreamingRequest(toolTurn)).toBe(false);
  });

  it('tolerates bodies that are not message requests', () => {
    expect(requestMessages(null)).toEqual([]);
    expect(requestMessages({ messages: [1, { role: 'user' }, { role: 'user', content: 'x' }] })).toEqual([
      { role: 'user', content: 'x' },
    ]);
    expect(promptText('nonsense')).toBe('');
    expect(findWorkingDirectory(42)).toBeUndefined();
  });

  it('strips system reminders from the prompt', () => {
    expect(promptText(firstTurn)).toBe('my name is Zed');
  });

  it('finds the working directory anywhere in the body', () => {
    expect(findWorkingDirectory(firstTurn)).toBe('/tmp/work dir');
    expect(findWorkingDirectory({ system: 'Primary working directory: /srv/app\nmore' })).toBe('/srv/app');
  });

  it('takes the last statement of the working directory: a conversation continued elsewhere (a fork)', () => {
    const forked = {
      messages: [
        { role: 'user', content: [{ type: 'text', text: ' - Primary working directory: /w/old\n' }] },
        {
          role: 'user',
          content: [{ type: 'text', text: ' - Primary working directory: /w/new (was /w/old)\n' }],
        },
      ],
    };
    expect(findWorkingDirectory(forked)).toBe('/w/new');
  });

  it('reads tool results without their reminder suffix', () => {
    expect(promptText(toolTurn)).toBe('');
    expect(toolResults(lastUserMessage(toolTurn))).toEqual([
      { toolUseId: 'toolu_fake_1', text: 'hi', isError: false },
    ]);
    const blockContent = {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 't', is_error: true, content: [{ type: 'text', text: 'boom' }] },
      ],
    };
    expect(toolResults(blockContent)).toEqual([{ toolUseId: 't', text: 'boom', isError: true }]);
  });

  it('drops interruption markers from the prompt but keeps the new text', () => {
    const body = {
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: '[Request interrupted by user]\n\nare you there?' }],
        },
      ],
    };
    expect(promptText(body)).toBe('are you there?');
  });

  it('reads only the newest prompt of a message that merges a failed turn with the next one', () => {
    // As Claude Code 2.1.330 sends it after a turn that failed ([[error:529]]) or timed out ([[hang]]).
    const merged = (...texts: string[]) => ({
      messages: [
        ...firstTurn.messages,
        { role: 'user', content: texts.map((text) => ({ type: 'text', text })) },
      ],
    });
    expect(promptText(merged('overload [[error:529]]\n', 'plain follow-up'))).toBe('plain follow-up');
    expect(promptText(merged('hang [[hang]]\n', '[Request interrupted by user]\n', 'are you back?'))).toBe(
      'are you back?',
    );
    expect(promptText(merged('a\n', 'b\n', '<system-reminder>\nlate context\n</system-reminder>'))).toBe('b');
    expect(promptText(merged('[Request interrupted by user for tool use]'))).toBe('');
    // The history still shows everything the model was sent.
    expect(userTexts(merged('overload [[error:529]]\n', 'plain follow-up')).at(-1)).toBe(
      'overload [[error:529]]\nplain follow-up',
    );
  });

  it('lists the user texts of the whole history, skipping tool-result-only turns', () => {
    const body = {
      messages: [
        ...toolTurn.messages,
        { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
        { role: 'user', content: 'what is my name?' },
      ],
    };
    expect(userTexts(body)).toEqual(['my name is Zed', 'what is my name?']);
  });
});
