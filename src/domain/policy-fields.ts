/**
 * The one table of the per-key policy's fields. Everything else about a field is derived from
 * its row: the schema the admin API and the CLI validate with (`KeyPolicySchema`), what an absent
 * field means (a server default read from an environment variable, or a fixed meaning), the CLI
 * flag that sets it and how its value is written on a command line, how the CLI shows it, and
 * the documentation tables, which a test checks against this one. Adding a field is adding a row.
 *
 * The rate limits are fields too (`rateLimits.<bucket>`), one per bucket of RATE_LIMIT_BUCKETS.
 */
import path from 'node:path';
import { z } from 'zod';
import { RATE_LIMIT_BUCKET_NAMES, RATE_LIMIT_BUCKETS, type RateLimitBucket } from './rate-limit-buckets.js';
import { commaList, intFrom } from './text-values.js';
import { KEY_SCOPES, PERMISSION_MODES, type KeyScope, type PermissionMode } from './types.js';

/** How a value is written after the field's CLI flag. */
export type FlagKind = 'int' | 'usd' | 'list' | 'tools';

interface FieldRow<T, D extends T | null = T | null> {
  /** The value's schema, as the admin API and the CLI accept it. */
  schema: z.ZodType<T>;
  /** The CLI flag of `keys create` and `keys policy`. */
  flag: string;
  kind: FlagKind;
  /** What it limits (CLI help, docs). */
  help: string;
  /** The type as the docs describe it. */
  type: string;
  /**
   * What an absent field means: the server's default, read from an environment variable with
   * this parser (its own default when the variable is unset), or a fixed meaning.
   */
  absent: { env: string; parse: z.ZodType<T | undefined>; none?: string } | { fixed: string };
  /** The value when neither the key nor the server's environment gives one (null: no limit). */
  fallback: D;
  /** Applied to the effective value (paths resolved). */
  normalize?: (value: T) => T;
  /** Its part of the one-line summary (`keys list`), e.g. `open 3`. */
  summary(value: T): string;
  /** Its value as `keys show` prints it. */
  detail(value: T): string;
}

/** Declares a row, keeping its value and fallback types for the schema and the formatters. */
const row = <T, D extends T | null>(r: FieldRow<T, D>): FieldRow<T, D> => r;

const positiveInt = z.number().int().min(1).max(1_000_000_000);
const joined = (items: readonly string[], sep: string): string =>
  items.length === 0 ? '(none)' : items.join(sep);
const modes = z.array(z.enum(PERMISSION_MODES)).max(PERMISSION_MODES.length);
const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => path.isAbsolute(p), { message: 'must be an absolute path' });

/**
 * A remote a session may clone from: a URL prefix (`https://github.com/acme/`), without
 * credentials (a key's policy is shown to its admins).
 */
const gitRemote = z
  .string()
  .min(1)
  .max(2048)
  .refine((r) => /^(https?|ssh|file):\/\//.test(r), { message: 'must be an https, http, ssh or file URL' })
  .refine((r) => !/^https?:\/\/[^/]*@/.test(r), { message: 'must not carry credentials' });

/** The rate-limit fields, one per bucket. */
const rateFields = Object.fromEntries(
  RATE_LIMIT_BUCKET_NAMES.map((bucket) => {
    const b = RATE_LIMIT_BUCKETS[bucket];
    return [
      `rateLimits.${bucket}`,
      row<number, number>({
        schema: positiveInt,
        flag: `rate-${bucket}`,
        kind: 'int',
        help: b.perHour,
        type: 'integer ≥ 1, per hour',
        absent: { env: b.env, parse: intFrom(1, b.max).default(b.default) },
        fallback: b.default,
        summary: (n) => `${bucket} ${n}/h`,
        detail: (n) => `${n} per hour`,
      }),
    ];
  }),
) as Record<`rateLimits.${RateLimitBucket}`, FieldRow<number, number>>;

export const POLICY_FIELDS = {
  ...rateFields,
  maxConcurrentSessions: row<number, null>({
    schema: positiveInt,
    flag: 'max-sessions',
    kind: 'int',
    help: 'open sessions at once',
    type: 'integer ≥ 1',
    absent: { env: 'KEY_MAX_CONCURRENT_SESSIONS', parse: intFrom(1, 100_000).optional(), none: 'none' },
    fallback: null,
    summary: (n) => `open ${n}`,
    detail: String,
  }),
  maxRunningTurns: row<number, null>({
    schema: positiveInt,
    flag: 'max-running-turns',
    kind: 'int',
    help: 'turns running at once',
    type: 'integer ≥ 1',
    absent: { env: 'KEY_MAX_RUNNING_TURNS', parse: intFrom(1, 100_000).optional(), none: 'none' },
    fallback: null,
    summary: (n) => `running ${n}`,
    detail: String,
  }),
  maxOpenStreams: row<number, number>({
    schema: positiveInt,
    flag: 'max-streams',
    kind: 'int',
    help: 'SSE streams open at once',
    type: 'integer ≥ 1',
    // A client's tabs or workers each hold one; hundreds from one key is a leak or an attack.
    absent: { env: 'KEY_MAX_OPEN_STREAMS', parse: intFrom(1, 100_000).default(50) },
    fallback: 50,
    summary: (n) => `streams ${n}`,
    detail: String,
  }),
  maxTurns: row<number, null>({
    schema: z.number().int().min(1).max(1000),
    flag: 'max-turns',
    kind: 'int',
    help: 'highest maxTurns of a session (1-1000)',
    type: 'integer 1–1000',
    absent: { env: 'KEY_MAX_TURNS', parse: intFrom(1, 1000).optional(), none: 'none' },
    fallback: null,
    summary: (n) => `maxTurns ${n}`,
    detail: String,
  }),
  dailyBudgetUsd: row<number, null>({
    schema: z.number().min(0).max(1_000_000),
    flag: 'daily-budget',
    kind: 'usd',
    help: 'spending cap in USD per UTC day',
    type: 'number ≥ 0, USD per UTC day',
    absent: {
      env: 'KEY_DAILY_BUDGET_USD',
      parse: z.coerce.number().min(0).max(1_000_000).optional(),
      none: 'none',
    },
    fallback: null,
    summary: (usd) => `$${usd}/day`,
    detail: (usd) => `${usd} USD per UTC day`,
  }),
  permissionModes: row<PermissionMode[], PermissionMode[]>({
    schema: modes,
    flag: 'permission-modes',
    kind: 'list',
    help: 'modes a session may use (default,acceptEdits,plan,bypassPermissions)',
    type: 'list of permission modes',
    // `bypassPermissions` is left out of the default on purpose (see docs/security.md).
    absent: {
      env: 'ALLOWED_PERMISSION_MODES',
      parse: commaList.pipe(modes).default(['default', 'acceptEdits', 'plan']),
    },
    fallback: [],
    summary: (v) => `modes ${joined(v, ',')}`,
    detail: (v) => joined(v, ', '),
  }),
  scopes: row<KeyScope[], KeyScope[]>({
    schema: z.array(z.enum(KEY_SCOPES)).max(KEY_SCOPES.length),
    flag: 'scopes',
    kind: 'list',
    help: 'read, write (default: both)',
    type: 'list of `read`, `write`',
    absent: { fixed: 'both' },
    fallback: [...KEY_SCOPES],
    summary: (v) => `scopes ${joined(v, ',')}`,
    detail: (v) => joined(v, ', '),
  }),
  allowedTools: row<string[], null>({
    schema: z.array(z.string().min(1).max(500)).max(200),
    flag: 'allowed-tools',
    kind: 'tools',
    help: "rules a session may allow ('Read,Write,Bash(npm test:*)')",
    type: 'list of rules a session may grant',
    absent: { fixed: 'any rule' },
    fallback: null,
    summary: (v) => `tools ${joined(v, ',')}`,
    detail: (v) => joined(v, ', '),
  }),
  workspaceRoots: row<string[], string[]>({
    schema: z.array(absolutePath).max(50),
    flag: 'workspace-roots',
    kind: 'list',
    help: 'absolute dirs a session may use as cwd',
    type: 'list of absolute paths',
    absent: { env: 'WORKSPACE_ROOTS', parse: commaList.default([]) },
    fallback: [],
    normalize: (roots) => roots.map((r) => path.resolve(r)),
    summary: (v) => `roots ${joined(v, ',')}`,
    detail: (v) => joined(v, ', '),
  }),
  gitRemotes: row<string[], string[]>({
    schema: z.array(gitRemote).max(100),
    flag: 'git-remotes',
    kind: 'list',
    help: 'remotes a new session may clone (`git` of POST /sessions): URL prefixes',
    type: 'list of URL prefixes (https, http, ssh, file)',
    absent: { env: 'GIT_REMOTES', parse: commaList.pipe(z.array(gitRemote)).default([]) },
    fallback: [],
    summary: (v) => `git ${joined(v, ',')}`,
    detail: (v) => joined(v, ', '),
  }),
};

export type PolicyFieldName = keyof typeof POLICY_FIELDS;
export const POLICY_FIELD_NAMES = Object.keys(POLICY_FIELDS) as PolicyFieldName[];

type ValueOf<F extends PolicyFieldName> =
  (typeof POLICY_FIELDS)[F] extends FieldRow<infer T, infer _D> ? T : never;
/** A field's effective value: the key's, else the server's default, else its fallback. */
type EffectiveValue<F extends PolicyFieldName> =
  (typeof POLICY_FIELDS)[F] extends FieldRow<infer T, infer D> ? T | D : never;
type TopField = Exclude<PolicyFieldName, `rateLimits.${string}`>;

/** The value of a field in a policy (dotted names reach into `rateLimits`). */
export function fieldValue(policy: Record<string, unknown>, field: PolicyFieldName): unknown {
  const [head, sub] = field.split('.') as [string, string | undefined];
  const value = policy[head];
  if (sub === undefined) return value;
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[sub] : undefined;
}

/** A field's row, typed loosely for code that walks every field. */
export function fieldRow(field: PolicyFieldName): FieldRow<unknown> {
  return POLICY_FIELDS[field] as unknown as FieldRow<unknown>;
}

/** `keys list`'s one line of a policy's limits; `server defaults` when it sets none. */
export function policySummary(policy: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const field of POLICY_FIELD_NAMES) {
    const value = fieldValue(policy, field);
    if (value !== undefined) parts.push(fieldRow(field).summary(value));
  }
  return parts.length === 0 ? 'server defaults' : parts.join('; ');
}

/** `keys show`'s lines of a policy: each set field with its value. */
export function policyDetails(policy: Record<string, unknown>): Array<[PolicyFieldName, string]> {
  const lines: Array<[PolicyFieldName, string]> = [];
  for (const field of POLICY_FIELD_NAMES) {
    const value = fieldValue(policy, field);
    if (value !== undefined) lines.push([field, fieldRow(field).detail(value)]);
  }
  return lines;
}

// --- the schema of a key's policy ------------------------------------------------------------------

const topLevel = POLICY_FIELD_NAMES.filter((f): f is TopField => !f.includes('.'));

/** Every writer of a policy validates with this (the admin API, the CLI): unknown fields are refused. */
export const KeyPolicySchema = z.strictObject({
  rateLimits: z
    .strictObject(
      Object.fromEntries(
        RATE_LIMIT_BUCKET_NAMES.map((b) => [b, POLICY_FIELDS[`rateLimits.${b}`].schema.optional()]),
      ) as Record<RateLimitBucket, z.ZodOptional<z.ZodType<number>>>,
    )
    .optional(),
  ...(Object.fromEntries(topLevel.map((f) => [f, fieldRow(f).schema.optional()])) as {
    [F in TopField]: z.ZodOptional<z.ZodType<ValueOf<F>>>;
  }),
});

/** A key's own rules. Every field is optional: an absent one takes the server's default. */
export type KeyPolicy = z.infer<typeof KeyPolicySchema>;

// --- the server's defaults, from the environment ------------------------------------------------

/** The environment variables that give the server's defaults, with their parsers. */
export const POLICY_ENV_VARIABLES: Record<string, z.ZodType> = Object.fromEntries(
  POLICY_FIELD_NAMES.flatMap((f) => {
    const absent = fieldRow(f).absent;
    return 'env' in absent ? [[absent.env, absent.parse]] : [];
  }),
);

/** What a key may do: each field the key's own, else the server's default, else its fallback. */
export type EffectivePolicy = { readonly rateLimits: Record<RateLimitBucket, number> } & {
  readonly [F in TopField]: EffectiveValue<F>;
};

/** The server-wide defaults a key's policy falls back to (from the environment). */
export type PolicyDefaults = { rateLimits: Record<RateLimitBucket, number> } & {
  [F in TopField]?: EffectiveValue<F>;
};

/** The defaults from the parsed environment variables (`POLICY_ENV_VARIABLES`, parsed). */
export function policyDefaultsFrom(env: Record<string, unknown>): PolicyDefaults {
  const defaults: Record<string, unknown> = {};
  const rateLimits = {} as Record<RateLimitBucket, number>;
  for (const field of POLICY_FIELD_NAMES) {
    const { absent, normalize } = fieldRow(field);
    if (!('env' in absent) || env[absent.env] === undefined) continue;
    const [head, bucket] = field.split('.') as [string, RateLimitBucket | undefined];
    const value = env[absent.env];
    if (bucket) rateLimits[bucket] = value as number;
    else defaults[head] = normalize ? normalize(value) : value;
  }
  for (const bucket of RATE_LIMIT_BUCKET_NAMES) rateLimits[bucket] ??= RATE_LIMIT_BUCKETS[bucket].default;
  return { ...defaults, rateLimits } as PolicyDefaults;
}

/** The effective policy of a key (its own policy on the server's defaults). */
export function effectivePolicy(key: { policy: KeyPolicy }, defaults: PolicyDefaults): EffectivePolicy {
  const own = key.policy;
  const effective: Record<string, unknown> = {
    rateLimits: Object.fromEntries(
      RATE_LIMIT_BUCKET_NAMES.map((b) => [b, own.rateLimits?.[b] ?? defaults.rateLimits[b]]),
    ),
  };
  for (const field of topLevel) {
    const row = fieldRow(field);
    const value = own[field] ?? defaults[field] ?? row.fallback;
    effective[field] = value !== null && row.normalize ? row.normalize(value) : value;
  }
  return effective as EffectivePolicy;
}
