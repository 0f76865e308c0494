import { describe, expect, it } from 'vitest';
import { fitsSpare, type SpareTemplate } from './spare-template.js';

const template: SpareTemplate = {
  model: 'claude-opus-5-5',
  permissionMode: 'default',
  maxTurns: null,
  allowedTools: [],
  disallowedTools: ['WebFetch', 'WebSearch'],
};
const plain = { ...template };

describe('which new sessions a spare can serve', () => {
  it('the server’s defaults, in any permission mode a claim can carry', () => {
    expect(fitsSpare(plain, template)).toBe(true);
    expect(fitsSpare({ ...plain, permissionMode: 'acceptEdits' }, template)).toBe(true);
    expect(fitsSpare({ ...plain, permissionMode: 'plan' }, template)).toBe(true);
    // The same tools in another order.
    expect(fitsSpare({ ...plain, disallowedTools: ['WebSearch', 'WebFetch'] }, template)).toBe(true);
  });

  it('not what Claude Code fixes at start: model, turn limit, tool rules, bypassPermissions', () => {
    expect(fitsSpare({ ...plain, model: 'claude-sonnet-4-5' }, template)).toBe(false);
    expect(fitsSpare({ ...plain, maxTurns: 5 }, template)).toBe(false);
    expect(fitsSpare({ ...plain, allowedTools: ['Bash(ls:*)'] }, template)).toBe(false);
    expect(fitsSpare({ ...plain, disallowedTools: ['WebFetch'] }, template)).toBe(false);
    expect(fitsSpare({ ...plain, disallowedTools: ['WebFetch', 'WebSearch', 'Bash'] }, template)).toBe(false);
    expect(fitsSpare({ ...plain, permissionMode: 'bypassPermissions' }, template)).toBe(false);
    expect(
      fitsSpare(
        { ...plain, permissionMode: 'bypassPermissions' },
        { ...template, permissionMode: 'bypassPermissions' },
      ),
    ).toBe(true);
  });
});
