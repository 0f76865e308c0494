import { describe, expect, it } from 'vitest';
import { fitsClaimedSpare, fitsSpare, type SpareTemplate } from './spare-template.js';

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

  it('claimed ahead: only a plain session, in the template’s mode, without prompts or a filled workspace', () => {
    const request = { ...plain, systemPrompt: null, appendSystemPrompt: null, seeded: false };
    expect(fitsClaimedSpare(request, template)).toBe(true);
    expect(fitsClaimedSpare({ ...request, permissionMode: 'plan' }, template)).toBe(false);
    expect(fitsClaimedSpare({ ...request, systemPrompt: 'be brief' }, template)).toBe(false);
    expect(fitsClaimedSpare({ ...request, appendSystemPrompt: 'and kind' }, template)).toBe(false);
    expect(fitsClaimedSpare({ ...request, seeded: true }, template)).toBe(false);
    expect(fitsClaimedSpare({ ...request, maxTurns: 5 }, template)).toBe(false);
  });
});
