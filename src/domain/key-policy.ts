/**
 * Per-key policy: a key's own rules (its fields are the table in policy-fields.ts), and the
 * effective policy of each key on the server's defaults.
 */
import { effectivePolicy, type EffectivePolicy, type PolicyDefaults } from './policy-fields.js';
import type { RateLimitBucket } from './rate-limit-buckets.js';
import { KEY_SCOPES, type ApiKeyRecord, type KeyScope } from './types.js';

/** The effective policy of each key, from the server's defaults. */
export class Policies {
  constructor(readonly defaults: PolicyDefaults) {}

  of(key: ApiKeyRecord): EffectivePolicy {
    return effectivePolicy(key, this.defaults);
  }

  /** One bucket's limit: asked for every delivered SSE event, so without building the policy. */
  rateLimit(key: ApiKeyRecord, bucket: RateLimitBucket): number {
    return key.policy.rateLimits?.[bucket] ?? this.defaults.rateLimits[bucket];
  }
}

/** The scopes a key's policy grants (all of them when it names none). */
export function scopesOf(key: ApiKeyRecord): readonly KeyScope[] {
  return key.policy.scopes ?? KEY_SCOPES;
}

/** Is this `allowedTools` rule one the policy lets a session grant? */
export function toolRulePermitted(rule: string, permitted: readonly string[] | null): boolean {
  if (permitted === null) return true;
  return permitted.includes(rule) || permitted.includes(toolNameOf(rule));
}

/** The tool name of a rule: `Bash(npm test:*)` → `Bash`. */
export function toolNameOf(rule: string): string {
  return rule.split('(')[0]?.trim() ?? rule;
}
