/** The policy flags' parsing and merging, in process (the CLI tests cover them end to end). */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/errors.js';
import {
  applyPolicyChange,
  policyChangeFrom,
  splitList,
  splitToolRules,
  validatePolicy,
} from '../../src/cli/policy-flags.js';
import type { KeyPolicy } from '../../src/domain/policy-fields.js';

describe('splitToolRules', () => {
  it('splits on commas outside parentheses only', () => {
    expect(splitToolRules('Read,Write,Bash(npm test:*)')).toEqual(['Read', 'Write', 'Bash(npm test:*)']);
    expect(splitToolRules(' Read , Bash(echo a,b), Bash(git log:*,x(y,z)) ,')).toEqual([
      'Read',
      'Bash(echo a,b)',
      'Bash(git log:*,x(y,z))',
    ]);
    expect(splitToolRules('')).toEqual([]);
  });

  it('refuses unbalanced parentheses', () => {
    expect(() => splitToolRules('Bash(npm test:*')).toThrow(UsageError);
    expect(() => splitToolRules('Read),Write')).toThrow(/unbalanced "\)"/);
  });
});

describe('splitList', () => {
  it('trims and drops empty entries', () => {
    expect(splitList(' /a, /b ,,')).toEqual(['/a', '/b']);
  });
});

describe('policy changes', () => {
  it('merges rate limits field by field and does not touch the current policy', () => {
    const current: KeyPolicy = { rateLimits: { sessions: 3 }, maxTurns: 5 };
    const next = applyPolicyChange(current, policyChangeFrom({ 'rate-events': '9', 'daily-budget': '$0.5' }));
    expect(next).toEqual({ rateLimits: { sessions: 3, events: 9 }, maxTurns: 5, dailyBudgetUsd: 0.5 });
    expect(current).toEqual({ rateLimits: { sessions: 3 }, maxTurns: 5 });
  });

  it('unsets by field or flag name, and drops an emptied rateLimits', () => {
    const current: KeyPolicy = { rateLimits: { sessions: 3 }, maxTurns: 5, scopes: ['read'] };
    const next = applyPolicyChange(current, policyChangeFrom({}, ['rate-sessions', 'maxTurns']));
    expect(next).toEqual({ scopes: ['read'] });
  });

  it('refuses to set and unset one field, including a rate limit under an unset rateLimits', () => {
    expect(() => policyChangeFrom({ 'max-turns': '3' }, ['max-turns'])).toThrow(/both set/);
    expect(() => policyChangeFrom({ 'rate-events': '3' }, ['rateLimits'])).toThrow(/both set/);
  });

  it('validatePolicy names the field and the flag of each problem', () => {
    try {
      validatePolicy({ maxTurns: 0, rateLimits: { sessions: -1 }, extra: 1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      const message = (err as Error).message;
      expect(message).toMatch(/policy\.maxTurns \(--max-turns\)/);
      expect(message).toMatch(/policy\.rateLimits\.sessions \(--rate-sessions\)/);
      expect(message).toMatch(/policy\.extra: unknown field/);
    }
  });
});
