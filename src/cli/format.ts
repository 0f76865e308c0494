/**
 * How keys are shown to people: a table for `keys list`, one block per key otherwise. JSON output
 * is the admin API's shape, `keyJson` (domain/key-admin.ts). Never the hash, never the secret.
 */
import type { ApiKeyRecord, KeyPolicy } from '../domain/types.js';

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** `2026-01-02T03:04:05Z`: to the second, UTC. */
export function shortTime(ms: number | null, none: string): string {
  return ms === null ? none : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One line of a policy's limits; `server defaults` when it sets none. */
export function limitsSummary(policy: KeyPolicy): string {
  const parts: string[] = [];
  const rates = policy.rateLimits ?? {};
  for (const bucket of ['sessions', 'messages', 'events'] as const) {
    const n = rates[bucket];
    if (n !== undefined) parts.push(`${bucket} ${n}/h`);
  }
  if (policy.maxConcurrentSessions !== undefined) parts.push(`open ${policy.maxConcurrentSessions}`);
  if (policy.maxRunningTurns !== undefined) parts.push(`running ${policy.maxRunningTurns}`);
  if (policy.maxTurns !== undefined) parts.push(`maxTurns ${policy.maxTurns}`);
  if (policy.dailyBudgetUsd !== undefined) parts.push(`$${policy.dailyBudgetUsd}/day`);
  if (policy.permissionModes !== undefined) parts.push(`modes ${list(policy.permissionModes, ',')}`);
  if (policy.scopes !== undefined) parts.push(`scopes ${list(policy.scopes, ',')}`);
  if (policy.allowedTools !== undefined) parts.push(`tools ${list(policy.allowedTools, ',')}`);
  if (policy.workspaceRoots !== undefined) parts.push(`roots ${list(policy.workspaceRoots, ',')}`);
  return parts.length === 0 ? 'server defaults' : parts.join('; ');
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
    limitsSummary(k.policy),
  ]);
  return table([header, ...rows]);
}

/** The policy's fields, one per line, named as `--unset` and the admin API name them. */
export function policyLines(policy: KeyPolicy): string[] {
  const lines: Array<[string, string]> = [];
  for (const bucket of ['sessions', 'messages', 'events'] as const) {
    const n = policy.rateLimits?.[bucket];
    if (n !== undefined) lines.push([`rateLimits.${bucket}`, `${n} per hour`]);
  }
  if (policy.maxConcurrentSessions !== undefined)
    lines.push(['maxConcurrentSessions', String(policy.maxConcurrentSessions)]);
  if (policy.maxRunningTurns !== undefined) lines.push(['maxRunningTurns', String(policy.maxRunningTurns)]);
  if (policy.maxTurns !== undefined) lines.push(['maxTurns', String(policy.maxTurns)]);
  if (policy.dailyBudgetUsd !== undefined)
    lines.push(['dailyBudgetUsd', `${policy.dailyBudgetUsd} USD per UTC day`]);
  if (policy.permissionModes !== undefined)
    lines.push(['permissionModes', list(policy.permissionModes, ', ')]);
  if (policy.scopes !== undefined) lines.push(['scopes', list(policy.scopes, ', ')]);
  if (policy.allowedTools !== undefined) lines.push(['allowedTools', list(policy.allowedTools, ', ')]);
  if (policy.workspaceRoots !== undefined) lines.push(['workspaceRoots', list(policy.workspaceRoots, ', ')]);
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

function list(items: readonly string[], sep: string): string {
  return items.length === 0 ? '(none)' : items.join(sep);
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
