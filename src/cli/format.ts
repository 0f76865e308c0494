/**
 * How keys are shown to people: a table for `keys list`, one block per key otherwise. JSON output
 * is the admin API's shape, `keyJson` (domain/key-admin.ts). Never the hash, never the secret.
 */
import type { ApiKeyRecord } from '../domain/types.js';
import { policyDetails, policySummary, type KeyPolicy } from '../domain/policy-fields.js';

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** `2026-01-02T03:04:05Z`: to the second, UTC. */
export function shortTime(ms: number | null, none: string): string {
  return ms === null ? none : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function keyTable(keys: readonly ApiKeyRecord[]): string {
  const header = ['NAME', 'ID', 'PREFIX', 'ROLE', 'CREATED', 'LAST USED', 'REVOKED', 'LIMITS'];
  const rows = keys.map((k) => [
    k.name,
    k.id,
    k.prefix,
    k.role,
    shortTime(k.createdAt, '-'),
    shortTime(k.lastUsedAt, 'never'),
    shortTime(k.revokedAt, '-'),
    policySummary(k.policy),
  ]);
  return table([header, ...rows]);
}

/** The policy's fields, one per line, named as `--unset` and the admin API name them. */
export function policyLines(policy: KeyPolicy): string[] {
  const lines = policyDetails(policy);
  if (lines.length === 0) return ['(none set: the server defaults apply)'];
  return table(lines).trimEnd().split('\n');
}

export function keyDetails(key: ApiKeyRecord): string {
  const fields = table([
    ['name', key.name],
    ['id', key.id],
    ['prefix', key.prefix],
    ['role', key.role],
    ['created', shortTime(key.createdAt, '-')],
    ['last used', shortTime(key.lastUsedAt, 'never')],
    ['revoked', key.revokedAt === null ? 'no' : `yes, ${shortTime(key.revokedAt, '-')}`],
  ]);
  const policy = policyLines(key.policy).map((l) => `  ${l}`);
  return `${fields}policy\n${policy.join('\n')}\n`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
