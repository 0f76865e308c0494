/**
 * Policy flags of `keys create` and `keys policy` → a KeyPolicy. Each flag sets one field;
 * `--policy '<json>'` gives the whole object; `--unset <field>` removes one. The result is
 * checked with the same schema as the admin API (KeyPolicySchema), and a problem names the
 * field and the flag that sets it.
 */
import {
  fieldRow,
  KeyPolicySchema,
  POLICY_FIELD_NAMES,
  type FlagKind,
  type PolicyFieldName,
} from '../domain/policy-fields.js';
import type { KeyPolicy } from '../domain/policy-fields.js';
import { issuesOf } from '../domain/error-situations.js';
import { UsageError } from './errors.js';

interface FlagSpec {
  flag: string;
  /** The policy field it sets, dotted for the rate limits (`rateLimits.sessions`). */
  field: PolicyFieldName;
  kind: FlagKind;
  help: string;
}

/** The policy flags, one per field of the policy-field table, in its order. */
export const POLICY_FLAGS: readonly FlagSpec[] = POLICY_FIELD_NAMES.map((field) => {
  const { flag, kind, help } = fieldRow(field);
  return { flag, field, kind, help };
});

/** The parseArgs options of the policy flags (all strings: numbers are parsed here). */
export const POLICY_OPTIONS = Object.fromEntries([
  ...POLICY_FLAGS.map((s) => [s.flag, { type: 'string' as const }]),
  ['policy', { type: 'string' as const }],
]) as Record<string, { type: 'string' }>;

/** The values parseArgs read: the policy flags' are strings, the command's own may be anything. */
export type PolicyFlagValues = Readonly<Record<string, unknown>>;

/** Every field `--unset` takes (a flag's name works too: `--unset max-turns`). */
export const UNSETTABLE_FIELDS: readonly string[] = [
  'rateLimits',
  ...POLICY_FIELD_NAMES.filter((f) => f.startsWith('rateLimits.')),
  ...POLICY_FIELD_NAMES.filter((f) => !f.startsWith('rateLimits.')),
];

export interface PolicyChange {
  /** `--policy`: the whole policy to start from, instead of the key's. */
  base: KeyPolicy | null;
  /** Fields given by flags, by dotted field name. */
  set: Map<string, number | string[]>;
  /** Fields to remove, by dotted field name. */
  unset: string[];
}

export function isEmptyChange(change: PolicyChange): boolean {
  return change.base === null && change.set.size === 0 && change.unset.length === 0;
}

/** Reads the policy flags (and `--unset`s) of a command line; bad syntax is a UsageError. */
export function policyChangeFrom(values: PolicyFlagValues, unset: readonly string[] = []): PolicyChange {
  const base = typeof values.policy === 'string' ? parsePolicyJson(values.policy) : null;
  const set = new Map<string, number | string[]>();
  for (const spec of POLICY_FLAGS) {
    const raw = values[spec.flag];
    if (typeof raw === 'string') set.set(spec.field, parseValue(spec, raw));
  }
  const fields = unset.map(unsetField);
  for (const field of fields) {
    for (const given of set.keys()) {
      if (given === field || given.startsWith(`${field}.`)) {
        throw new UsageError(`${field} is both set (--${flagOf(given)}) and unset (--unset ${field}).`);
      }
    }
  }
  return { base, set, unset: [...new Set(fields)] };
}

/** The policy after the change: `--policy` (or the current policy), minus unsets, plus flags. */
export function applyPolicyChange(current: KeyPolicy, change: PolicyChange): KeyPolicy {
  const next = structuredClone(change.base ?? current) as Record<string, unknown>;
  for (const field of change.unset) {
    const [head, sub] = field.split('.') as [string, string | undefined];
    if (sub === undefined) {
      delete next[head];
    } else if (isObject(next[head])) {
      delete next[head][sub];
    }
  }
  for (const [field, value] of change.set) {
    const [head, sub] = field.split('.') as [string, string | undefined];
    if (sub === undefined) {
      next[head] = value;
    } else {
      next[head] = { ...(isObject(next[head]) ? next[head] : {}), [sub]: value };
    }
  }
  if (isObject(next.rateLimits) && Object.keys(next.rateLimits).length === 0) delete next.rateLimits;
  return next as KeyPolicy;
}

/**
 * Checks a policy with the schema every writer of a policy uses. Each problem names the field
 * and, where there is one, the flag that sets it.
 */
export function validatePolicy(policy: unknown): KeyPolicy {
  const parsed = KeyPolicySchema.safeParse(policy);
  if (parsed.success) return parsed.data;
  const lines = issuesOf(parsed.error, 'policy').map(({ field, message }) => {
    const path = field.split('.').slice(1);
    const flag =
      message === 'unknown field' ? null : flagOf(path.slice(0, path[0] === 'rateLimits' ? 2 : 1).join('.'));
    return `${field}${flag ? ` (--${flag})` : ''}: ${message}`;
  });
  throw new UsageError(`Invalid policy:\n  ${lines.join('\n  ')}`);
}

/** `a, b,,c` → [a, b, c]. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Splits on commas outside parentheses: `Read,Bash(npm run a,b)` → [Read, Bash(npm run a,b)]. */
export function splitToolRules(raw: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of raw) {
    if (ch === '(') depth++;
    if (ch === ')') {
      depth--;
      if (depth < 0) throw new UsageError(`--allowed-tools: unbalanced ")" in "${raw}".`);
    }
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new UsageError(`--allowed-tools: unbalanced "(" in "${raw}".`);
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

function parseValue(spec: FlagSpec, raw: string): number | string[] {
  const value = raw.trim();
  switch (spec.kind) {
    case 'int':
      if (!/^-?\d+$/.test(value)) {
        throw new UsageError(`--${spec.flag}: expected a whole number, got "${raw}".`);
      }
      return Number(value);
    case 'usd': {
      const amount = value.startsWith('$') ? value.slice(1) : value;
      if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(amount)) {
        throw new UsageError(`--${spec.flag}: expected an amount in USD such as 2.50, got "${raw}".`);
      }
      return Number(amount);
    }
    case 'list':
      return splitList(value);
    case 'tools':
      return splitToolRules(value);
  }
}

function parsePolicyJson(raw: string): KeyPolicy {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--policy: not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
  if (!isObject(value))
    throw new UsageError('--policy: expected a JSON object, such as \'{"maxTurns":10}\'.');
  return validatePolicy(value);
}

function unsetField(name: string): string {
  if (UNSETTABLE_FIELDS.includes(name)) return name;
  const byFlag = POLICY_FLAGS.find((s) => s.flag === name.replace(/^--/, ''));
  if (byFlag) return byFlag.field;
  throw new UsageError(`--unset: unknown policy field "${name}". Fields: ${UNSETTABLE_FIELDS.join(', ')}.`);
}

function flagOf(field: string): string | null {
  return POLICY_FLAGS.find((s) => s.field === field)?.flag ?? null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
