/**
 * Request schemas of `/v1`, after the official SDK's types (`@anthropic-ai/sdk`,
 * `resources/beta/**`). Bodies are strict: a field this server does not know is refused, never
 * ignored. Query strings come as the SDK writes them (`types[]=…`, `created_at[gte]=…`).
 */
import { z } from 'zod';
import { invalidField, managedFeatureRefused } from '../../domain/error-situations.js';

const metadata = z.record(z.string().max(64), z.string().max(512));
const metadataPatch = z.record(z.string().max(64), z.string().max(512).nullable());
const modelParam = z.union([z.string().min(1).max(200), z.looseObject({ id: z.string().min(1).max(200) })]);
const toolParam = z.looseObject({ type: z.string() });

export const agentCreateBody = z.strictObject({
  name: z.string().min(1).max(256),
  model: modelParam,
  description: z.string().max(2048).nullable().optional(),
  system: z.string().max(100_000).nullable().optional(),
  tools: z.array(toolParam).max(128).optional(),
  mcp_servers: z.array(z.unknown()).optional(),
  skills: z.array(z.unknown()).optional(),
  multiagent: z.unknown().optional(),
  execution_identity: z.unknown().optional(),
  metadata: metadata.optional(),
});

export const agentUpdateBody = z.strictObject({
  name: z.string().min(1).max(256).optional(),
  model: modelParam.optional(),
  description: z.string().max(2048).nullable().optional(),
  system: z.string().max(100_000).nullable().optional(),
  tools: z.array(toolParam).max(128).nullable().optional(),
  mcp_servers: z.array(z.unknown()).nullable().optional(),
  skills: z.array(z.unknown()).nullable().optional(),
  multiagent: z.unknown().optional(),
  execution_identity: z.unknown().optional(),
  metadata: metadataPatch.nullable().optional(),
  version: z.number().int().min(1).optional(),
});

const environmentConfig = z.looseObject({ type: z.string() }).nullable();

export const environmentCreateBody = z.strictObject({
  name: z.string().min(1).max(256),
  config: environmentConfig.optional(),
  description: z.string().max(2048).nullable().optional(),
  metadata: metadata.optional(),
  scope: z.enum(['organization', 'account']).nullable().optional(),
});

export const environmentUpdateBody = z.strictObject({
  name: z.string().min(1).max(256).nullable().optional(),
  config: environmentConfig.optional(),
  description: z.string().max(2048).nullable().optional(),
  metadata: metadataPatch.optional(),
  scope: z.enum(['organization', 'account']).nullable().optional(),
});

const textBlock = z.looseObject({ type: z.string(), text: z.string().optional() });
export const eventParam = z.looseObject({ type: z.string() }).and(
  z.union([
    z.object({ type: z.literal('user.message'), content: z.array(textBlock).min(1) }),
    z.object({ type: z.literal('user.interrupt'), session_thread_id: z.string().nullable().optional() }),
    z.object({
      type: z.literal('user.tool_confirmation'),
      tool_use_id: z.string().min(1),
      result: z.enum(['allow', 'deny']),
      deny_message: z.string().max(10_000).nullable().optional(),
    }),
    // Known to the SDK, refused with a reason by the domain.
    z.looseObject({
      type: z.string().regex(/^(user|system)\.(custom_tool_result|define_outcome|tool_result|message)$/),
    }),
  ]),
);

const resourceParam = z.looseObject({
  type: z.string(),
  file_id: z.string().optional(),
  mount_path: z.string().max(1024).nullable().optional(),
});

export const sessionCreateBody = z.strictObject({
  agent: z.union([
    z.string().min(1),
    z.looseObject({
      id: z.string().min(1),
      type: z.enum(['agent', 'agent_with_overrides']).optional(),
      version: z.number().int().min(1).optional(),
    }),
  ]),
  environment_id: z.string().min(1),
  title: z.string().max(512).nullable().optional(),
  metadata: metadata.optional(),
  resources: z.array(resourceParam).max(64).optional(),
  initial_events: z.array(eventParam).max(64).optional(),
  budget: z.unknown().optional(),
  vault_ids: z.array(z.string()).optional(),
});

export const sessionUpdateBody = z.strictObject({
  title: z.string().max(512).nullable().optional(),
  metadata: metadataPatch.nullable().optional(),
  agent: z.unknown().optional(),
  budget: z.unknown().optional(),
  vault_ids: z.array(z.string()).optional(),
});

export const sendEventsBody = z.strictObject({ events: z.array(eventParam).min(1).max(64) });
export const resourceAddBody = resourceParam;

export const idParams = z.object({ id: z.string().min(1).max(200) });
export const resourceParams = z.object({
  id: z.string().min(1).max(200),
  resourceId: z.string().min(1).max(200),
});

/** `limit` and `page` of the SDK's page cursors (and the flags several lists share). */
export const pageQuery = z.looseObject({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  page: z.string().max(100).optional(),
  include_archived: z.enum(['true', 'false']).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});

/** A query value the SDK sends as `name[]=a&name[]=b` (or once, as a string). */
export function listParam(query: Record<string, unknown>, name: string): string[] | undefined {
  const value = query[`${name}[]`] ?? query[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** `created_at[gt]` and its siblings, as times. */
export function createdAtBounds(query: Record<string, unknown>): {
  after?: { at: number; inclusive: boolean };
  before?: { at: number; inclusive: boolean };
} {
  const time = (name: string): number | undefined => {
    const raw = query[`created_at[${name}]`];
    if (raw === undefined) return undefined;
    const at = Date.parse(String(raw));
    if (Number.isNaN(at))
      throw invalidField(`created_at[${name}] is not a time.`, `created_at[${name}]`, 'RFC 3339 time');
    return at;
  };
  const gt = time('gt');
  const gte = time('gte');
  const lt = time('lt');
  const lte = time('lte');
  return {
    ...(gt !== undefined
      ? { after: { at: gt, inclusive: false } }
      : gte !== undefined
        ? { after: { at: gte, inclusive: true } }
        : {}),
    ...(lt !== undefined
      ? { before: { at: lt, inclusive: false } }
      : lte !== undefined
        ? { before: { at: lte, inclusive: true } }
        : {}),
  };
}

/** List filters this server does not apply: refused, never ignored (a list would be wrong). */
export function refuseFilters(query: unknown, names: readonly string[]): void {
  const given = query as Record<string, unknown>;
  for (const name of names) {
    if (given[name] !== undefined) {
      throw managedFeatureRefused(
        `the list filter ${name}`,
        'it is not applied by this server; list without it.',
      );
    }
  }
}
