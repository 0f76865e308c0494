/**
 * Per-key policy: the schema every writer of a policy validates with (the CLI, the admin API),
 * and `effectivePolicy`, which fills what a key does not set with the server's defaults.
 */
import path from 'node:path';
import { z } from 'zod';
import {
  KEY_SCOPES,
  PERMISSION_MODES,
  type ApiKeyRecord,
  type KeyPolicy,
  type KeyScope,
  type PermissionMode,
  type RateLimitBucket,
} from './types.js';

const positiveInt = z.number().int().min(1).max(1_000_000_000);

export const KeyPolicySchema = z.strictObject({
  rateLimits: z
    .strictObject({
      sessions: positiveInt.optional(),
      messages: positiveInt.optional(),
      events: positiveInt.optional(),
    })
    .optional(),
  scopes: z.array(z.enum(KEY_SCOPES)).max(KEY_SCOPES.length).optional(),
  maxConcurrentSessions: positiveInt.optional(),
  maxRunningTurns: positiveInt.optional(),
  maxTurns: z.number().int().min(1).max(1000).optional(),
  dailyBudgetUsd: z.number().min(0).max(1_000_000).optional(),
  permissionModes: z.array(z.enum(PERMISSION_MODES)).max(PERMISSION_MODES.length).optional(),
  allowedTools: z.array(z.string().min(1).max(500)).max(200).optional(),
  workspaceRoots: z
    .array(
      z
        .string()
        .min(1)
        .max(4096)
        .refine((p) => path.isAbsolute(p), { message: 'must be an absolute path' }),
    )
    .max(50)
    .optional(),
}) satisfies z.ZodType<KeyPolicy>;

/** The server-wide defaults a key's policy falls back to. */
export interface PolicyDefaults {
  rateLimits: Record<RateLimitBucket, number>;
  maxConcurrentSessions: number | null;
  maxRunningTurns: number | null;
  maxTurns: number | null;
  dailyBudgetUsd: number | null;
  permissionModes: readonly PermissionMode[];
  workspaceRoots: readonly string[];
}

export interface EffectivePolicy {
  rateLimits: Record<RateLimitBucket, number>;
  scopes: readonly KeyScope[];
  maxConcurrentSessions: number | null;
  maxRunningTurns: number | null;
  maxTurns: number | null;
  dailyBudgetUsd: number | null;
  permissionModes: readonly PermissionMode[];
  /** null: any rule may be allowed. */
  allowedTools: readonly string[] | null;
  workspaceRoots: readonly string[];
}

/** The effective policy of each key, from the server's defaults. */
export class Policies {
  constructor(readonly defaults: PolicyDefaults) {}

  of(key: ApiKeyRecord): EffectivePolicy {
    return effectivePolicy(key, this.defaults);
  }

  /** One bucket's limit: asked for every delivered SSE event, so without building the policy. */
  rateLimit(key: ApiKeyRecord, bucket: RateLimitBucket): number {
    return rateLimitOf(key, bucket, this.defaults);
  }
}

function rateLimitOf(key: ApiKeyRecord, bucket: RateLimitBucket, defaults: PolicyDefaults): number {
  return key.policy.rateLimits?.[bucket] ?? defaults.rateLimits[bucket];
}

/** The scopes a key's policy grants (all of them when it names none). */
export function scopesOf(key: ApiKeyRecord): readonly KeyScope[] {
  return key.policy.scopes ?? KEY_SCOPES;
}

export function effectivePolicy(key: ApiKeyRecord, defaults: PolicyDefaults): EffectivePolicy {
  const p = key.policy;
  return {
    rateLimits: {
      sessions: rateLimitOf(key, 'sessions', defaults),
      messages: rateLimitOf(key, 'messages', defaults),
      events: rateLimitOf(key, 'events', defaults),
    },
    scopes: scopesOf(key),
    maxConcurrentSessions: p.maxConcurrentSessions ?? defaults.maxConcurrentSessions,
    maxRunningTurns: p.maxRunningTurns ?? defaults.maxRunningTurns,
    maxTurns: p.maxTurns ?? defaults.maxTurns,
    dailyBudgetUsd: p.dailyBudgetUsd ?? defaults.dailyBudgetUsd,
    permissionModes: p.permissionModes ?? defaults.permissionModes,
    allowedTools: p.allowedTools ?? null,
    workspaceRoots: (p.workspaceRoots ?? defaults.workspaceRoots).map((r) => path.resolve(r)),
  };
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
