/**
 * Managed Agents' environments: where a session's agent runs. Here that is always this server's
 * sandbox, so an environment records a name and a description, and its `config` says what the
 * sandbox does; anything asking for something else is refused (docs/managed-agents.md):
 * - `networking: limited` with no extra hosts, no package managers, no MCP: what the sandbox does
 *   (the agent's commands reach only the hosts of the key's sandbox policy);
 * - `networking: unrestricted`, extra `allowed_hosts`, and `packages`: refused;
 * - `self_hosted`: accepted, it is what this server is.
 */
import { managedFeatureRefused, managedObjectArchived } from '../error-situations.js';
import type { ApiKeyRecord } from '../types.js';
import { mergeMetadata, iso, ManagedRecords, type PageOf, type PageRequest } from './records.js';

const SANDBOX_NETWORK = {
  type: 'limited' as const,
  allowed_hosts: [] as string[],
  allow_mcp_servers: false,
  allow_package_managers: false,
};
const NO_PACKAGES = { type: 'packages' as const, apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] };

type EnvironmentConfig =
  | { type: 'cloud'; networking: typeof SANDBOX_NETWORK; packages: typeof NO_PACKAGES }
  | { type: 'self_hosted' };

export interface EnvironmentView {
  id: string;
  type: 'environment';
  name: string;
  description: string | null;
  config: EnvironmentConfig;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
}

export interface EnvironmentFields {
  name?: string | null;
  description?: string | null;
  config?: {
    type: string;
    networking?: {
      type: string;
      allowed_hosts?: string[] | null;
      allow_mcp_servers?: boolean | null;
      allow_package_managers?: boolean | null;
    } | null;
    packages?: Record<string, unknown> | null;
  } | null;
  metadata?: Record<string, string | null> | null;
  scope?: string | null;
}

function configOf(config: EnvironmentFields['config']): EnvironmentConfig {
  if (!config || config.type === 'cloud') {
    const networking = config?.networking;
    if (networking?.type === 'unrestricted') {
      throw managedFeatureRefused(
        'networking "unrestricted"',
        "the agent's commands run in this server's sandbox, which reaches only the hosts of the key's sandbox policy; use networking limited.",
      );
    }
    if (networking && networking.type !== 'limited') {
      throw managedFeatureRefused(`networking "${networking.type}"`, 'use limited.');
    }
    if ((networking?.allowed_hosts ?? []).length > 0) {
      throw managedFeatureRefused(
        'networking.allowed_hosts',
        "the hosts the sandbox reaches are the key's policy.",
      );
    }
    if (networking?.allow_mcp_servers || networking?.allow_package_managers) {
      throw managedFeatureRefused(
        'networking.allow_mcp_servers / allow_package_managers',
        'the sandbox allows neither.',
      );
    }
    const packages = Object.entries(config?.packages ?? {}).filter(
      ([k, v]) => k !== 'type' && Array.isArray(v) && v.length > 0,
    );
    if (packages.length > 0) {
      throw managedFeatureRefused(
        'packages',
        'this server installs nothing into its sandbox per environment.',
      );
    }
    return { type: 'cloud', networking: SANDBOX_NETWORK, packages: NO_PACKAGES };
  }
  if (config.type === 'self_hosted') return { type: 'self_hosted' };
  throw managedFeatureRefused(`environment config "${config.type}"`, 'use cloud or self_hosted.');
}

export class ManagedEnvironments {
  constructor(private readonly records: ManagedRecords) {}

  async create(key: ApiKeyRecord, fields: EnvironmentFields & { name: string }): Promise<EnvironmentView> {
    if (fields.scope === 'organization') {
      throw managedFeatureRefused('scope "organization"', 'an environment here belongs to one API key.');
    }
    const now = this.records.clock.now();
    const view: EnvironmentView = {
      id: ManagedRecords.newId('env'),
      type: 'environment',
      name: fields.name,
      description: fields.description ?? null,
      config: configOf(fields.config),
      metadata: mergeMetadata({}, fields.metadata),
      created_at: iso(now) as string,
      updated_at: iso(now) as string,
      archived_at: null,
    };
    await this.save(key, view, now, now, null);
    return view;
  }

  async get(key: ApiKeyRecord, id: string): Promise<EnvironmentView> {
    return JSON.parse((await this.records.owned('environment', key, id)).data) as EnvironmentView;
  }

  /** An environment a new session may use: the caller's, not archived. */
  async usable(key: ApiKeyRecord, id: string): Promise<EnvironmentView> {
    const record = await this.records.owned('environment', key, id);
    if (record.archivedAt !== null) throw managedObjectArchived('environment', id);
    return JSON.parse(record.data) as EnvironmentView;
  }

  async update(key: ApiKeyRecord, id: string, fields: EnvironmentFields): Promise<EnvironmentView> {
    const record = await this.records.owned('environment', key, id);
    if (record.archivedAt !== null) throw managedObjectArchived('environment', id);
    if (fields.scope === 'organization') {
      throw managedFeatureRefused('scope "organization"', 'an environment here belongs to one API key.');
    }
    const current = JSON.parse(record.data) as EnvironmentView;
    const now = this.records.clock.now();
    const next: EnvironmentView = {
      ...current,
      name: fields.name ?? current.name,
      description: fields.description !== undefined ? fields.description : current.description,
      config:
        fields.config !== undefined && fields.config !== null ? configOf(fields.config) : current.config,
      metadata: mergeMetadata(current.metadata, fields.metadata),
      updated_at: iso(now) as string,
    };
    await this.save(key, next, record.createdAt, now, null);
    return next;
  }

  async list(key: ApiKeyRecord, request: PageRequest): Promise<PageOf<EnvironmentView>> {
    const { records, ...tokens } = await this.records.page('environment', key, request);
    return { data: records.map((r) => JSON.parse(r.data) as EnvironmentView), ...tokens };
  }

  async archive(key: ApiKeyRecord, id: string): Promise<EnvironmentView> {
    const record = await this.records.owned('environment', key, id);
    const view = JSON.parse(record.data) as EnvironmentView;
    if (record.archivedAt !== null) return view;
    const now = this.records.clock.now();
    const archived = { ...view, archived_at: iso(now), updated_at: iso(now) as string };
    await this.save(key, archived, record.createdAt, now, now);
    return archived;
  }

  /** Sessions that use it keep running (they copied what they need when they started). */
  async delete(key: ApiKeyRecord, id: string): Promise<{ id: string; type: 'environment_deleted' }> {
    await this.records.owned('environment', key, id);
    await this.records.store.deleteObject('environment', id);
    return { id, type: 'environment_deleted' };
  }

  private async save(
    key: ApiKeyRecord,
    view: EnvironmentView,
    createdAt: number,
    updatedAt: number,
    archivedAt: number | null,
  ): Promise<void> {
    await this.records.store.putObject({
      kind: 'environment',
      id: view.id,
      version: 1,
      keyId: key.id,
      data: JSON.stringify(view),
      createdAt,
      updatedAt,
      archivedAt: archivedAt ?? (view.archived_at ? Date.parse(view.archived_at) : null),
    });
  }
}
