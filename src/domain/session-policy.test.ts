import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { TEST_POLICY_DEFAULTS } from '../../test/helpers/policies.js';
import { effectivePolicy } from './policy-fields.js';
import { grantSession, type ServerToolPolicy } from './session-policy.js';
import type { ApiKeyRecord } from './types.js';
import type { KeyPolicy } from './policy-fields.js';

const defaults = TEST_POLICY_DEFAULTS;
const server: ServerToolPolicy = {
  defaultPermissionMode: 'default',
  disallowedTools: ['WebFetch', 'WebSearch'],
  bypass: { allowed: true },
};

function keyWith(policy: KeyPolicy): ApiKeyRecord {
  return {
    id: 'key_1',
    name: 'k',
    prefix: 'ccr_',
    hash: 'h',
    role: 'user',
    policy,
    createdAt: 0,
    lastUsedAt: null,
    revokedAt: null,
  };
}

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('grantSession', () => {
  it('defaults: the server’s mode, no turn limit, the server deny list added', () => {
    const grant = grantSession({ disallowedTools: ['Bash'] }, effectivePolicy(keyWith({}), defaults), server);
    expect(grant).toEqual({
      permissionMode: 'default',
      maxTurns: null,
      allowedTools: [],
      disallowedTools: ['Bash', 'WebFetch', 'WebSearch'],
    });
  });

  it('refuses bypassPermissions unless the key’s policy lists it, naming the policy', () => {
    const plain = effectivePolicy(keyWith({}), defaults);
    expect(refusal(() => grantSession({ permissionMode: 'bypassPermissions' }, plain, server))).toMatchObject(
      {
        code: 'FORBIDDEN',
        details: { policy: 'permissionModes', allowed: ['default', 'acceptEdits', 'plan'] },
      },
    );
    const allowed = effectivePolicy(keyWith({ permissionModes: ['bypassPermissions'] }), defaults);
    expect(grantSession({ permissionMode: 'bypassPermissions' }, allowed, server).permissionMode).toBe(
      'bypassPermissions',
    );
    const noRoot = { ...server, bypass: { allowed: false as const, reason: 'root without sandbox' } };
    expect(
      refusal(() => grantSession({ permissionMode: 'bypassPermissions' }, allowed, noRoot)).details,
    ).toEqual({
      policy: 'bypassPermissions',
      reason: 'root without sandbox',
    });
  });

  it('permits only the allowedTools rules the key may grant (a bare tool name covers its rules)', () => {
    const policy = effectivePolicy(keyWith({ allowedTools: ['Read', 'Bash(npm test:*)', 'Edit'] }), defaults);
    expect(grantSession({ allowedTools: ['Read', 'Bash(npm test:*)'] }, policy, server).allowedTools).toEqual(
      ['Read', 'Bash(npm test:*)'],
    );
    expect(refusal(() => grantSession({ allowedTools: ['Bash'] }, policy, server)).details).toMatchObject({
      policy: 'allowedTools',
      tool: 'Bash',
    });
    const bare = effectivePolicy(keyWith({ allowedTools: ['Bash'] }), defaults);
    expect(grantSession({ allowedTools: ['Bash(rm -rf:*)'] }, bare, server).allowedTools).toEqual([
      'Bash(rm -rf:*)',
    ]);
  });

  it('never allows a tool of the server’s deny list, in any spelling of a rule', () => {
    const any = effectivePolicy(keyWith({}), defaults);
    for (const rule of ['WebFetch', 'WebFetch(domain:example.com)', 'WebSearch']) {
      expect(refusal(() => grantSession({ allowedTools: [rule] }, any, server)).details).toMatchObject({
        policy: 'DISALLOWED_TOOLS',
      });
    }
  });

  it('maxTurns: the key’s limit is a ceiling and a default', () => {
    const policy = effectivePolicy(keyWith({ maxTurns: 8 }), defaults);
    expect(grantSession({}, policy, server).maxTurns).toBe(8);
    expect(grantSession({ maxTurns: 3 }, policy, server).maxTurns).toBe(3);
    expect(refusal(() => grantSession({ maxTurns: 9 }, policy, server)).details).toEqual({
      policy: 'maxTurns',
      maxTurns: 8,
    });
  });
});
