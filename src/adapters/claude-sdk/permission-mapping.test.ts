import type { PermissionUpdate } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { toPermissionAsk, toPermissionResult, type CanUseToolOptions } from './permission-mapping.js';

const INPUT = { command: 'python3 -c "print(1)"', description: 'Print one' };

const RULE: PermissionUpdate = {
  type: 'addRules',
  rules: [{ toolName: 'Bash', ruleContent: 'python3 -c "print(1)"' }],
  behavior: 'allow',
  destination: 'localSettings',
};

function options(overrides: Partial<CanUseToolOptions> = {}): CanUseToolOptions {
  return { signal: new AbortController().signal, toolUseID: 'toolu_1', requestId: 'req_1', ...overrides };
}

describe('toPermissionAsk', () => {
  it('carries what Claude Code says about the call', () => {
    const signal = new AbortController().signal;
    const ask = toPermissionAsk(
      'Bash',
      INPUT,
      options({
        signal,
        suggestions: [RULE],
        description: 'Run python3',
        title: 'Claude wants to run python3',
        displayName: 'Bash',
        decisionReason: 'This command requires approval',
      }),
    );
    expect(ask).toEqual({
      toolName: 'Bash',
      input: INPUT,
      toolUseId: 'toolu_1',
      description: 'Run python3',
      displayName: 'Bash',
      decisionReason: 'This command requires approval',
      suggestions: [RULE],
      signal,
    });
    expect(ask.signal).toBe(signal);
  });

  it('falls back to the title for the description; absent fields are null or empty', () => {
    const ask = toPermissionAsk('Write', { file_path: '/w/a' }, options({ title: 'Write a' }));
    expect(ask).toMatchObject({
      toolUseId: 'toolu_1',
      description: 'Write a',
      displayName: null,
      decisionReason: null,
      suggestions: [],
    });
    expect(toPermissionAsk('Write', {}, options()).description).toBeNull();
  });
});

describe('toPermissionResult', () => {
  it('allow without a change runs the input Claude Code asked about', () => {
    expect(toPermissionResult({ behavior: 'allow' }, INPUT)).toEqual({
      behavior: 'allow',
      updatedInput: INPUT,
    });
  });

  it('allow with updatedInput runs the client’s input instead', () => {
    expect(
      toPermissionResult({ behavior: 'allow', updatedInput: { command: 'echo instead' } }, INPUT),
    ).toEqual({
      behavior: 'allow',
      updatedInput: { command: 'echo instead' },
    });
  });

  it('remember keeps the suggested rules for this session only, never in a settings file', () => {
    const projectRule: PermissionUpdate = {
      type: 'addRules',
      rules: [{ toolName: 'Read' }],
      behavior: 'allow',
      destination: 'projectSettings',
    };
    const result = toPermissionResult({ behavior: 'allow', remember: [RULE, projectRule] }, INPUT);
    expect(result).toEqual({
      behavior: 'allow',
      updatedInput: INPUT,
      updatedPermissions: [
        { ...RULE, destination: 'session' },
        { ...projectRule, destination: 'session' },
      ],
    });
    // The suggestions themselves are left as they were.
    expect(RULE.destination).toBe('localSettings');
  });

  it('remember with nothing to remember adds no permissions', () => {
    expect(toPermissionResult({ behavior: 'allow', remember: [] }, INPUT)).toEqual({
      behavior: 'allow',
      updatedInput: INPUT,
    });
  });

  it('deny passes the message; an interrupt also stops the turn', () => {
    expect(toPermissionResult({ behavior: 'deny', message: 'Use ls.' }, INPUT)).toEqual({
      behavior: 'deny',
      message: 'Use ls.',
    });
    expect(
      toPermissionResult({ behavior: 'deny', message: 'The turn was interrupted.', interrupt: true }, INPUT),
    ).toEqual({
      behavior: 'deny',
      message: 'The turn was interrupted.',
      interrupt: true,
    });
    expect(toPermissionResult({ behavior: 'deny', message: 'no', interrupt: false }, INPUT)).toEqual({
      behavior: 'deny',
      message: 'no',
    });
  });
});
