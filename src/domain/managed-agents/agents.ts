/**
 * Managed Agents' agents: a reusable configuration (model, system prompt, tools) that sessions
 * start from. Every update is a new version; sessions name an agent by id (its latest version)
 * or by id and version. Archived agents start no new session.
 */
import { agentVersionMismatch, managedFeatureRefused, managedObjectArchived } from '../error-situations.js';
import type { ApiKeyRecord } from '../types.js';
import { normalizeTools, type AgentToolset } from './agent-tools.js';
import {
  mergeMetadata,
  iso,
  ManagedRecords,
  offsetOf,
  pageTokens,
  type PageOf,
  type PageRequest,
} from './records.js';

export interface ModelConfig {
  id: string;
  speed?: 'standard' | 'fast';
}

/** An agent as the API shows it (BetaManagedAgentsAgent). */
export interface AgentView {
  id: string;
  type: 'agent';
  name: string;
  description: string | null;
  model: ModelConfig;
  system: string | null;
  tools: AgentToolset[];
  mcp_servers: never[];
  skills: never[];
  multiagent: null;
  execution_identity: null;
  metadata: Record<string, string>;
  version: number;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

/** The fields of a create or an update (AgentCreateParams / AgentUpdateParams). */
export interface AgentFields {
  name?: string;
  description?: string | null;
  model?: string | { id: string; speed?: string | null; effort?: unknown; inference_geo?: string | null };
  system?: string | null;
  tools?: Array<{ type: string }> | null;
  mcp_servers?: unknown[] | null;
  skills?: unknown[] | null;
  multiagent?: unknown;
  execution_identity?: unknown;
  metadata?: Record<string, string | null> | null;
}

/** Refuses what a self-hosted Claude Code cannot do; never accepted and ignored. */
export function refuseUnsupported(fields: AgentFields): void {
  if (fields.mcp_servers && fields.mcp_servers.length > 0) {
    throw managedFeatureRefused('mcp_servers', 'this server runs no MCP servers for a session.');
  }
  if (fields.skills && fields.skills.length > 0) {
    throw managedFeatureRefused(
      'skills',
      'Anthropic-hosted skills do not exist on a self-hosted Claude Code.',
    );
  }
  if (fields.multiagent !== undefined && fields.multiagent !== null) {
    throw managedFeatureRefused('multiagent', 'a session here is one Claude Code agent (no threads).');
  }
  if (fields.execution_identity !== undefined && fields.execution_identity !== null) {
    throw managedFeatureRefused('execution_identity', 'Claude Code runs as the server’s sandboxed user.');
  }
}

export function modelOf(model: AgentFields['model']): ModelConfig {
  if (model === undefined) throw managedFeatureRefused('an agent without a model', 'model is required.');
  if (typeof model === 'string') return { id: model };
  if (model.effort !== undefined && model.effort !== null) {
    throw managedFeatureRefused('model.effort', 'Claude Code chooses its own effort here.');
  }
  if (model.inference_geo !== undefined && model.inference_geo !== null) {
    throw managedFeatureRefused(
      'model.inference_geo',
      'the model API this server calls is its operator’s choice.',
    );
  }
  if (model.speed === 'fast')
    throw managedFeatureRefused('model.speed "fast"', 'not available through Claude Code.');
  return { id: model.id };
}

export class ManagedAgents {
  constructor(private readonly records: ManagedRecords) {}

  async create(key: ApiKeyRecord, fields: AgentFields & { name: string }): Promise<AgentView> {
    refuseUnsupported(fields);
    const now = this.records.clock.now();
    const view: AgentView = {
      id: ManagedRecords.newId('agent'),
      type: 'agent',
      name: fields.name,
      description: fields.description ?? null,
      model: modelOf(fields.model),
      system: fields.system ?? null,
      tools: normalizeTools(fields.tools as Parameters<typeof normalizeTools>[0]),
      mcp_servers: [],
      skills: [],
      multiagent: null,
      execution_identity: null,
      metadata: mergeMetadata({}, fields.metadata),
      version: 1,
      created_at: iso(now) as string,
      updated_at: iso(now) as string,
      archived_at: null,
    };
    await this.save(key, view, now, null);
    return view;
  }

  async get(key: ApiKeyRecord, id: string, version?: number): Promise<AgentView> {
    return JSON.parse((await this.records.owned('agent', key, id, version)).data) as AgentView;
  }

  /** A new version with the given fields changed; the version named (if any) must be the current one. */
  async update(
    key: ApiKeyRecord,
    id: string,
    fields: AgentFields & { version?: number },
  ): Promise<AgentView> {
    refuseUnsupported(fields);
    const record = await this.records.owned('agent', key, id);
    const current = JSON.parse(record.data) as AgentView;
    if (record.archivedAt !== null) throw managedObjectArchived('agent', id);
    if (fields.version !== undefined && fields.version !== current.version) {
      throw agentVersionMismatch(id, fields.version, current.version);
    }
    const now = this.records.clock.now();
    const next: AgentView = {
      ...current,
      name: fields.name ?? current.name,
      description: fields.description !== undefined ? fields.description : current.description,
      model: fields.model !== undefined ? modelOf(fields.model) : current.model,
      system: fields.system !== undefined ? fields.system : current.system,
      tools:
        fields.tools !== undefined
          ? normalizeTools(fields.tools as Parameters<typeof normalizeTools>[0])
          : current.tools,
      metadata: mergeMetadata(current.metadata, fields.metadata),
      version: current.version + 1,
      updated_at: iso(now) as string,
    };
    await this.save(key, next, record.createdAt, null, now);
    return next;
  }

  async list(key: ApiKeyRecord, request: PageRequest): Promise<PageOf<AgentView>> {
    const { records, ...tokens } = await this.records.page('agent', key, request);
    return { data: records.map((r) => JSON.parse(r.data) as AgentView), ...tokens };
  }

  async versions(key: ApiKeyRecord, id: string, request: PageRequest): Promise<PageOf<AgentView>> {
    await this.records.owned('agent', key, id);
    const all = await this.records.store.listVersions('agent', id);
    const offset = offsetOf(request.page);
    const items = all.slice(offset, offset + request.limit);
    return {
      data: items.map((r) => JSON.parse(r.data) as AgentView),
      ...pageTokens(offset, items.length, request.limit, all.length),
    };
  }

  /** Archived: read-only, starts no new session; its running sessions go on. */
  async archive(key: ApiKeyRecord, id: string): Promise<AgentView> {
    const record = await this.records.owned('agent', key, id);
    const view = JSON.parse(record.data) as AgentView;
    if (record.archivedAt !== null) return view;
    const now = this.records.clock.now();
    const archived: AgentView = { ...view, archived_at: iso(now), updated_at: iso(now) as string };
    await this.save(key, archived, record.createdAt, now, now);
    return archived;
  }

  private async save(
    key: ApiKeyRecord,
    view: AgentView,
    createdAt: number,
    archivedAt: number | null,
    updatedAt: number = createdAt,
  ): Promise<void> {
    await this.records.store.putObject({
      kind: 'agent',
      id: view.id,
      version: view.version,
      keyId: key.id,
      data: JSON.stringify(view),
      createdAt,
      updatedAt,
      archivedAt,
    });
  }
}
