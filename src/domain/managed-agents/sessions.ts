/**
 * Managed Agents' sessions: a `/v1` session IS a session of the seed API (same record, event log,
 * keys, caps and rate limits), started from an agent's configuration, with what only `/v1` shows
 * (the agent snapshot, environment, title, metadata, resources) kept beside it as a managed
 * record under the same id. `GET /api/v1/sessions/:id` and `GET /v1/sessions/:id` name one session.
 */
import {
  invalidField,
  managedFeatureRefused,
  managedObjectArchived,
  managedObjectNotFound,
  sessionNotFound,
} from '../error-situations.js';
import type { PermissionBroker } from '../permissions.js';
import type { FileContents } from '../ports.js';
import type { SessionRegistry } from '../session-registry.js';
import type { SessionService } from '../session-service.js';
import type { SessionSnapshot } from '../session-runtime.js';
import type { Stores } from '../stores.js';
import type { TurnService } from '../turn-service.js';
import type { ApiKeyRecord, SessionRecord } from '../types.js';
import { claudeToolRules, normalizeTools } from './agent-tools.js';
import {
  modelOf,
  refuseUnsupported,
  type AgentFields,
  type AgentView,
  type ManagedAgents,
} from './agents.js';
import type { ManagedEnvironments } from './environments.js';
import type { ManagedFiles } from './files.js';
import { iso, ManagedRecords, offsetOf, pageTokens, type PageOf } from './records.js';
import {
  checkResources,
  type CheckedResources,
  defaultMountPath,
  type FileResourceView,
  type ResourceParam,
} from './session-resources.js';
import { checkSendable, sendEvents, type SentEvent } from './session-events.js';

export type { FileResourceView } from './session-resources.js';
export { confirmationEventId, interruptEventId, toolUseEventId, type SentEvent } from './session-events.js';

/** What `/v1` keeps of a session besides the seed's record. */
interface SessionExtras {
  agent: AgentView;
  environment_id: string;
  title: string | null;
  metadata: Record<string, string>;
  resources: FileResourceView[];
}

export interface SessionView extends SessionExtras {
  id: string;
  type: 'session';
  status: 'running' | 'idle' | 'terminated';
  archived_at: string | null;
  budget: null;
  created_at: string;
  updated_at: string;
  outcome_evaluations: never[];
  stats: Record<string, number>;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens: number;
    cache_creation: { ephemeral_5m_input_tokens: number };
  };
  vault_ids: never[];
}

export interface AgentRef {
  type?: 'agent' | 'agent_with_overrides';
  id: string;
  version?: number;
  model?: AgentFields['model'];
  system?: string | null;
  tools?: AgentFields['tools'];
  mcp_servers?: unknown[];
  skills?: unknown[];
}

export interface CreateManagedSession {
  agent: string | AgentRef;
  environment_id: string;
  title?: string | null;
  metadata?: Record<string, string>;
  resources?: ResourceParam[];
  initial_events?: SentEvent[];
  budget?: unknown;
  vault_ids?: string[];
}

export interface ManagedSessionsDeps {
  records: ManagedRecords;
  stores: Pick<Stores, 'sessions'>;
  sessions: SessionService;
  /** The live sessions (is a session still running?). */
  registry: Pick<SessionRegistry, 'peek'>;
  turns: TurnService;
  permissions: PermissionBroker;
  agents: ManagedAgents;
  environments: ManagedEnvironments;
  files: ManagedFiles;
  contents: FileContents;
  /** DISALLOWED_TOOLS: no allow rule is made for them. */
  serverDisallowedTools: readonly string[];
}

export class ManagedSessions {
  constructor(private readonly deps: ManagedSessionsDeps) {}

  async create(key: ApiKeyRecord, input: CreateManagedSession): Promise<SessionView> {
    const { deps } = this;
    if (input.vault_ids && input.vault_ids.length > 0) {
      throw managedFeatureRefused('vault_ids', 'credentials come from the server’s own configuration.');
    }
    if (input.budget !== undefined && input.budget !== null) {
      throw managedFeatureRefused(
        'budget',
        "spending is capped by the API key's dailyBudgetUsd policy here.",
      );
    }
    for (const event of input.initial_events ?? []) {
      if (event.type === 'user.define_outcome') checkSendable(event);
      if (event.type !== 'user.message') {
        throw managedFeatureRefused(
          `initial_events of type ${event.type}`,
          'a session starts with user.message events.',
        );
      }
      checkSendable(event);
    }
    const agent = await this.resolveAgent(key, input.agent);
    await deps.environments.usable(key, input.environment_id);
    const { files, repository } = await this.checkResources(key, input.resources ?? [], true);

    const rules = claudeToolRules(agent.tools, deps.serverDisallowedTools);
    const { session } = await deps.sessions.create(key, {
      model: agent.model.id,
      permissionMode: 'default',
      ...(agent.system ? { systemPrompt: agent.system } : {}),
      allowedTools: rules.allowedTools,
      disallowedTools: rules.disallowedTools,
      metadata: input.metadata ?? {},
      ...(repository ? { git: repository } : {}),
    });
    const now = deps.records.clock.now();
    const extras: SessionExtras = {
      agent,
      environment_id: input.environment_id,
      title: input.title ?? null,
      metadata: input.metadata ?? {},
      resources: [],
    };
    try {
      await this.saveExtras(key, session.id, extras, now, null);
      for (const file of files) {
        await this.addFileResource(key, session.id, file);
      }
      if ((input.initial_events ?? []).length > 0)
        await this.send(key, session.id, input.initial_events ?? []);
    } catch (err) {
      // All or nothing: a session whose resources or first events failed is not left behind
      // (it would hold a Claude Code process and a place under the caps).
      await deps.sessions.end(key, session.id).catch(() => undefined);
      await deps.records.store.deleteObject('session', session.id).catch(() => undefined);
      throw err;
    }
    return this.get(key, session.id);
  }

  async get(key: ApiKeyRecord, id: string): Promise<SessionView> {
    const record = await this.deps.records.store.getObject('session', id);
    if (record && record.keyId !== key.id) throw sessionNotFound(id);
    const live = await this.liveDetails(key, id);
    if (!live && !record) throw sessionNotFound(id);
    const seed = live?.session.record ?? (await this.seedRecord(id));
    if (!seed) throw sessionNotFound(id);
    const extras: SessionExtras = record ? (JSON.parse(record.data) as SessionExtras) : this.extrasOf(seed);
    const usage = live?.usage;
    return {
      id,
      type: 'session',
      ...extras,
      status: live ? this.statusOf(live.session) : 'terminated',
      archived_at: iso(record?.archivedAt ?? null),
      budget: null,
      created_at: iso(seed.createdAt) as string,
      updated_at: iso(Math.max(seed.lastActivityAt, record?.updatedAt ?? 0)) as string,
      outcome_evaluations: [],
      stats: {},
      usage: {
        input_tokens: usage?.inputTokens ?? 0,
        output_tokens: usage?.outputTokens ?? 0,
        cache_read_input_tokens: usage?.cacheReadInputTokens ?? 0,
        cache_creation: { ephemeral_5m_input_tokens: usage?.cacheCreationInputTokens ?? 0 },
      },
      vault_ids: [],
    };
  }

  /**
   * The sessions started through `/v1` (a session started through `/api/v1` is retrieved here
   * too, but listed there). Newest first unless `order` is asc.
   */
  async list(
    key: ApiKeyRecord,
    request: {
      limit: number;
      page?: string | null;
      includeArchived?: boolean;
      order?: 'asc' | 'desc';
      agentId?: string;
      agentVersion?: number;
      statuses?: string[];
      createdAfter?: { at: number; inclusive: boolean };
      createdBefore?: { at: number; inclusive: boolean };
    },
  ): Promise<PageOf<SessionView>> {
    const all = await this.deps.records.store.listObjects('session', key.id, {
      limit: 100_000,
      offset: 0,
      includeArchived: request.includeArchived === true,
    });
    // The key's open sessions started through /api/v1 (no /v1 record) are listed too.
    const known = new Set(all.items.map((r) => r.id));
    const seed = await this.deps.sessions.list(key, { limit: 100_000, offset: 0 });
    const candidates = [
      ...all.items.map((r) => ({
        id: r.id,
        createdAt: r.createdAt,
        extras: JSON.parse(r.data) as SessionExtras,
      })),
      ...seed.items
        .filter((s) => !known.has(s.record.id))
        .map((s) => ({ id: s.record.id, createdAt: s.record.createdAt, extras: this.extrasOf(s.record) })),
    ].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let views: SessionView[] = [];
    for (const record of candidates) {
      const extras = record.extras;
      if (request.agentId !== undefined && extras.agent.id !== request.agentId) continue;
      if (request.agentVersion !== undefined && extras.agent.version !== request.agentVersion) continue;
      const after = request.createdAfter;
      if (after && (after.inclusive ? record.createdAt < after.at : record.createdAt <= after.at)) continue;
      const before = request.createdBefore;
      if (before && (before.inclusive ? record.createdAt > before.at : record.createdAt >= before.at))
        continue;
      views.push(await this.get(key, record.id).catch(() => null as never));
    }
    views = views.filter((v) => v && (!request.statuses || request.statuses.includes(v.status)));
    if (request.order !== 'asc') views.reverse();
    const offset = offsetOf(request.page);
    const data = views.slice(offset, offset + request.limit);
    return { data, ...pageTokens(offset, data.length, request.limit, views.length) };
  }

  async update(
    key: ApiKeyRecord,
    id: string,
    patch: {
      title?: string | null;
      metadata?: Record<string, string | null> | null;
      agent?: unknown;
      budget?: unknown;
      vault_ids?: string[];
    },
  ): Promise<SessionView> {
    if (patch.agent !== undefined) {
      throw managedFeatureRefused(
        'agent (on a session update)',
        "Claude Code's tools are fixed when its session starts; start a new session.",
      );
    }
    if (patch.budget !== undefined && patch.budget !== null) {
      throw managedFeatureRefused(
        'budget',
        "spending is capped by the API key's dailyBudgetUsd policy here.",
      );
    }
    if (patch.vault_ids && patch.vault_ids.length > 0) {
      throw managedFeatureRefused('vault_ids', 'credentials come from the server’s own configuration.');
    }
    const { record, extras } = await this.ownExtras(key, id);
    const metadata = { ...extras.metadata };
    if (patch.metadata === null) for (const k of Object.keys(metadata)) delete metadata[k];
    for (const [k, v] of Object.entries(patch.metadata ?? {})) {
      if (v === null) delete metadata[k];
      else metadata[k] = v;
    }
    const next = { ...extras, metadata, title: patch.title !== undefined ? patch.title : extras.title };
    await this.saveExtras(key, id, next, record.createdAt, record.archivedAt);
    return this.get(key, id);
  }

  /** Archived: its Claude Code is stopped (the seed session ends); it stays readable. */
  async archive(key: ApiKeyRecord, id: string): Promise<SessionView> {
    const { record, extras } = await this.ownExtras(key, id);
    await this.endSeed(key, id);
    if (record.archivedAt === null) {
      await this.saveExtras(key, id, extras, record.createdAt, this.deps.records.clock.now());
    }
    return this.get(key, id);
  }

  async delete(key: ApiKeyRecord, id: string): Promise<{ id: string; type: 'session_deleted' }> {
    const record = await this.deps.records.store.getObject('session', id);
    if (record && record.keyId !== key.id) throw sessionNotFound(id);
    if (!record) {
      // A seed session: ended like DELETE /api/v1/sessions/:id.
      await this.deps.sessions.end(key, id);
      return { id, type: 'session_deleted' };
    }
    await this.endSeed(key, id);
    await this.deps.records.store.deleteObject('session', id);
    return { id, type: 'session_deleted' };
  }

  /** The session is the caller's and still has a log (for reading events); throws 404 otherwise. */
  async assertReadable(key: ApiKeyRecord, id: string): Promise<void> {
    const record = await this.deps.records.store.getObject('session', id);
    if (record) {
      if (record.keyId !== key.id) throw sessionNotFound(id);
      return;
    }
    const seed = await this.deps.stores.sessions.getSession(id);
    if (!seed || seed.keyId !== key.id || seed.status !== 'active') throw sessionNotFound(id);
  }

  /** Whether the session still runs (a stream of an ended session ends); cheap, asked every second. */
  async isLive(key: ApiKeyRecord, id: string): Promise<boolean> {
    const session = this.deps.registry.peek(id);
    if (session) return !session.ending && session.record.keyId === key.id;
    // Run by another instance (or ended): the store says whether it still lives.
    const seed = await this.seedRecord(id);
    return seed !== null && seed.keyId === key.id && seed.status === 'active';
  }

  /** Every event is checked before any is acted on; returns the events as recorded. */
  async send(key: ApiKeyRecord, id: string, events: SentEvent[]): Promise<Array<Record<string, unknown>>> {
    await this.assertReadable(key, id);
    return sendEvents(this.deps, key, id, events);
  }

  // --- resources ---------------------------------------------------------------------------

  async listResources(
    key: ApiKeyRecord,
    id: string,
    page: { limit: number; page?: string | null },
  ): Promise<PageOf<FileResourceView>> {
    const { extras } = await this.ownExtras(key, id);
    const offset = offsetOf(page.page);
    const data = extras.resources.slice(offset, offset + page.limit);
    return { data, ...pageTokens(offset, data.length, page.limit, extras.resources.length) };
  }

  async getResource(key: ApiKeyRecord, id: string, resourceId: string): Promise<FileResourceView> {
    const { extras } = await this.ownExtras(key, id);
    const found = extras.resources.find((r) => r.id === resourceId);
    if (!found) throw managedObjectNotFound('session resource', resourceId);
    return found;
  }

  async addResource(
    key: ApiKeyRecord,
    id: string,
    resource: { type: string; file_id?: string; mount_path?: string | null; [f: string]: unknown },
  ): Promise<FileResourceView> {
    await this.ownExtras(key, id);
    const [file] = (await this.checkResources(key, [resource], false)).files;
    return this.addFileResource(
      key,
      id,
      file as { fileId: string; filename: string; mountPath: string | null },
    );
  }

  async deleteResource(
    key: ApiKeyRecord,
    id: string,
    resourceId: string,
  ): Promise<{ id: string; type: 'session_resource_deleted' }> {
    const { record, extras } = await this.ownExtras(key, id);
    const found = extras.resources.find((r) => r.id === resourceId);
    if (!found) throw managedObjectNotFound('session resource', resourceId);
    const live = await this.liveDetails(key, id);
    if (live) await this.deps.contents.unmount(live.session.record.config.cwd, found.mount_path);
    const next = { ...extras, resources: extras.resources.filter((r) => r.id !== resourceId) };
    await this.saveExtras(key, id, next, record.createdAt, record.archivedAt);
    return { id: resourceId, type: 'session_resource_deleted' };
  }

  // --- inside ------------------------------------------------------------------------------

  private async resolveAgent(key: ApiKeyRecord, ref: string | AgentRef): Promise<AgentView> {
    const id = typeof ref === 'string' ? ref : ref.id;
    const version = typeof ref === 'string' ? undefined : ref.version;
    const record = await this.deps.records.owned('agent', key, id, version);
    if (record.archivedAt !== null) throw managedObjectArchived('agent', id);
    const agent = JSON.parse(record.data) as AgentView;
    if (typeof ref === 'string' || ref.type !== 'agent_with_overrides') return agent;
    refuseUnsupported({ mcp_servers: ref.mcp_servers, skills: ref.skills });
    return {
      ...agent,
      ...(ref.model !== undefined ? { model: modelOf(ref.model) } : {}),
      ...(ref.system !== undefined ? { system: ref.system } : {}),
      ...(ref.tools !== undefined
        ? { tools: normalizeTools(ref.tools as Parameters<typeof normalizeTools>[0]) }
        : {}),
    };
  }

  private checkResources(
    key: ApiKeyRecord,
    resources: NonNullable<CreateManagedSession['resources']>,
    atCreation: boolean,
  ): Promise<CheckedResources> {
    return checkResources(this.deps.files, key, resources, atCreation);
  }

  private async addFileResource(
    key: ApiKeyRecord,
    id: string,
    file: { fileId: string; filename: string; mountPath: string | null },
  ): Promise<FileResourceView> {
    const live = await this.liveDetails(key, id);
    if (!live) throw sessionNotFound(id);
    const mountPath = file.mountPath ?? defaultMountPath(file.filename);
    const mounted = await this.deps.contents.mount(file.fileId, live.session.record.config.cwd, mountPath);
    if (!mounted.ok) {
      const why =
        mounted.reason === 'exists'
          ? 'a file is already there'
          : mounted.reason === 'missing'
            ? 'the file has no content'
            : 'it leaves the workspace';
      throw invalidField(`Cannot mount the file at ${mountPath}: ${why}.`, 'mount_path', why);
    }
    const now = this.deps.records.clock.now();
    const view: FileResourceView = {
      id: ManagedRecords.newId('sesrsc'),
      type: 'file',
      file_id: file.fileId,
      mount_path: mountPath,
      created_at: iso(now) as string,
      updated_at: iso(now) as string,
    };
    const { record, extras } = await this.ownExtras(key, id);
    await this.saveExtras(
      key,
      id,
      { ...extras, resources: [...extras.resources, view] },
      record.createdAt,
      record.archivedAt,
    );
    return view;
  }

  private async ownExtras(key: ApiKeyRecord, id: string) {
    const record = await this.deps.records.store.getObject('session', id);
    if (!record || record.keyId !== key.id) {
      // A session started through /api/v1 has no /v1 record: it gets one on its first change.
      const live = await this.liveDetails(key, id);
      if (!live) throw sessionNotFound(id);
      const seed = live.session.record;
      const extras = this.extrasOf(seed);
      await this.saveExtras(key, id, extras, seed.createdAt, null);
      return { record: { createdAt: seed.createdAt, archivedAt: null as number | null }, extras };
    }
    return { record, extras: JSON.parse(record.data) as SessionExtras };
  }

  private async saveExtras(
    key: ApiKeyRecord,
    id: string,
    extras: SessionExtras,
    createdAt: number,
    archivedAt: number | null,
  ): Promise<void> {
    await this.deps.records.store.putObject({
      kind: 'session',
      id,
      version: 1,
      keyId: key.id,
      data: JSON.stringify(extras),
      createdAt,
      updatedAt: this.deps.records.clock.now(),
      archivedAt,
    });
  }

  /** How a session started through /api/v1 looks on /v1: an agent made of its options. */
  private extrasOf(seed: SessionRecord): SessionExtras {
    const created = iso(seed.createdAt) as string;
    return {
      agent: {
        id: '',
        type: 'agent',
        name: 'claude-code-rest session',
        description: 'A session started through /api/v1.',
        model: { id: seed.config.model ?? 'default' },
        system: seed.config.systemPrompt,
        tools: [],
        mcp_servers: [],
        skills: [],
        multiagent: null,
        execution_identity: null,
        metadata: {},
        version: 0,
        created_at: created,
        updated_at: created,
        archived_at: null,
      },
      environment_id: '',
      title: null,
      metadata: Object.fromEntries(
        Object.entries(seed.metadata).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
      resources: [],
    };
  }

  private statusOf(session: SessionSnapshot): SessionView['status'] {
    if (!session.running) return 'idle';
    // Waiting for a tool confirmation is idle (requires_action) in Managed Agents' terms.
    return this.deps.permissions.list(session.record.id).length > 0 ? 'idle' : 'running';
  }

  private async liveDetails(key: ApiKeyRecord, id: string) {
    try {
      return await this.deps.sessions.details(key, id);
    } catch (err) {
      if ((err as { code?: string }).code === 'SESSION_NOT_FOUND') return null;
      throw err;
    }
  }

  private async seedRecord(id: string): Promise<SessionRecord | null> {
    return this.deps.stores.sessions.getSession(id);
  }

  private async endSeed(key: ApiKeyRecord, id: string): Promise<void> {
    if (await this.liveDetails(key, id)) await this.deps.sessions.end(key, id);
  }
}
