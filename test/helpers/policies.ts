/** Policy defaults for tests of the domain. */
import { Policies } from '../../src/domain/key-policy.js';
import type { PolicyDefaults } from '../../src/domain/policy-fields.js';
import type { RateLimitBucket } from '../../src/domain/rate-limit-buckets.js';

/** No caps, no budget, the three modes that need no sandbox, no workspace roots. */
export const TEST_POLICY_DEFAULTS: PolicyDefaults = {
  rateLimits: { sessions: 100, messages: 100, events: 1000 },
  maxConcurrentSessions: null,
  maxRunningTurns: null,
  maxTurns: null,
  dailyBudgetUsd: null,
  permissionModes: ['default', 'acceptEdits', 'plan'],
  workspaceRoots: [],
};

export function testPolicies(
  rateLimits: Record<RateLimitBucket, number> = TEST_POLICY_DEFAULTS.rateLimits,
  overrides: Partial<PolicyDefaults> = {},
): Policies {
  return new Policies({ ...TEST_POLICY_DEFAULTS, rateLimits, ...overrides });
}
