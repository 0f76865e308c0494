/** Policy defaults for tests of the domain. */
import { Policies, type PolicyDefaults } from '../../src/domain/key-policy.js';
import type { RateLimitBucket } from '../../src/domain/types.js';

export function testPolicies(
  rateLimits: Record<RateLimitBucket, number> = { sessions: 100, messages: 100, events: 1000 },
  overrides: Partial<PolicyDefaults> = {},
): Policies {
  return new Policies({
    rateLimits,
    maxConcurrentSessions: null,
    maxRunningTurns: null,
    maxTurns: null,
    dailyBudgetUsd: null,
    permissionModes: ['default', 'acceptEdits', 'plan'],
    workspaceRoots: [],
    ...overrides,
  });
}
