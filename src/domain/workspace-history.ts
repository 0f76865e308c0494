/**
 * A session's past as a client can use it: what a turn (or a range of turns) changed in the
 * workspace, rewinding the workspace and/or the conversation to before a turn, and forking a new
 * session from after a turn. The turns' order, their Claude Code messages and earlier rewinds are
 * read from the session's event log; the workspace's states from its checkpoints; the
 * conversation is copied by the runner (the SDK's own `forkSession`).
 */
import type { Checkpoints } from './checkpoints.js';
import { checkpointMissing, invalidField, messageNotInSession } from './error-situations.js';
import type { EventLog } from './event-log.js';
import type { DiffFile } from './ports.js';
import type { AgentRunner, Clock, Logger } from './ports.js';
import type { SessionRegistry } from './session-registry.js';
import type { CreateSessionInput, SessionService, SessionSeed } from './session-service.js';
import type { SessionRuntime } from './session-runtime.js';
import type { Stores } from './stores.js';
import type { ApiKeyRecord } from './types.js';

export interface WorkspaceHistoryDeps {
  stores: Pick<Stores, 'events'>;
  registry: SessionRegistry;
  sessions: SessionService;
  events: EventLog;
  checkpoints: Checkpoints;
  runner: Pick<AgentRunner, 'forkConversation'>;
  clock: Clock;
  logger: Logger;
}

/** What the log says about a session's turns. */
interface Timeline {
  /** Turn ids in the order they ran. */
  turns: string[];
  /** Each turn's last top-level assistant message uuid (Claude Code's). */
  lastAssistant: Map<string, string>;
  completed: Set<string>;
  rewound: Set<string>;
}

const PAGE = 1000;

export class WorkspaceHistory {
  constructor(private readonly deps: WorkspaceHistoryDeps) {}

  /** The unified diff (or per-file hunks) of one turn, or of the turns `from` to `to`. */
  async diff(
    key: ApiKeyRecord,
    sessionId: string,
    query: { messageId?: string; from?: string; to?: string },
    format: 'diff' | 'json',
  ): Promise<{ text: string } | { files: DiffFile[]; from: string; to: string }> {
    this.deps.registry.find(key, sessionId);
    const from = query.messageId ?? query.from ?? '';
    const to = query.messageId ?? query.to ?? from;
    const timeline = await this.timeline(sessionId);
    for (const id of [from, to]) if (!timeline.turns.includes(id)) throw messageNotInSession(id, sessionId);
    if (timeline.turns.indexOf(to) < timeline.turns.indexOf(from)) {
      throw invalidField('"to" is a turn before "from".', 'to', 'must not come before from');
    }
    const range = await this.deps.checkpoints.range(sessionId, from, to);
    if (format === 'json') {
      return {
        files: await this.deps.checkpoints.diffFiles(sessionId, range),
        from: range.from,
        to: range.to,
      };
    }
    return { text: await this.deps.checkpoints.diff(sessionId, range) };
  }

  /** The turns rewound so far (their messages are shown with `rewound: true`). */
  async rewoundTurns(sessionId: string): Promise<Set<string>> {
    return (await this.timeline(sessionId)).rewound;
  }

  /**
   * Puts the workspace and/or the conversation back to before the turn `messageId`. Refused while
   * a turn runs or waits. Nothing is deleted: the turn and every later one are marked rewound,
   * and a `rewound` event says what happened.
   */
  async rewind(
    key: ApiKeyRecord,
    sessionId: string,
    request: { messageId: string; files: boolean; conversation: boolean },
  ) {
    const session = this.deps.registry.find(key, sessionId);
    const release = session.holdWorkspace();
    try {
      const timeline = await this.timeline(sessionId);
      const index = timeline.turns.indexOf(request.messageId);
      if (index < 0) throw messageNotInSession(request.messageId, sessionId);
      if (timeline.rewound.has(request.messageId)) {
        throw invalidField(
          `Turn ${request.messageId} was already rewound.`,
          'messageId',
          'a turn that is not rewound',
        );
      }
      const later = timeline.turns.slice(index).filter((id) => !timeline.rewound.has(id));
      const checkpoint = request.files
        ? await this.deps.checkpoints.restoreBefore(session.record, request.messageId)
        : null;
      if (request.conversation) {
        const kept = timeline.turns.slice(0, index).filter((id) => !timeline.rewound.has(id));
        await this.continueFrom(session, lastAssistantOf(kept, timeline) ?? (await this.inherited(session)));
      }
      const event = await this.deps.events.append(sessionId, null, 'rewound', (meta) => ({
        sessionId,
        messageId: request.messageId,
        files: request.files,
        conversation: request.conversation,
        rewoundMessageIds: later,
        checkpoint,
        at: new Date(meta.createdAt).toISOString(),
      }));
      return JSON.parse(event.data) as unknown;
    } finally {
      release();
    }
  }

  /**
   * A new session of the same key whose workspace is a copy of the checkpoint after the turn
   * (default: the last completed turn not rewound) and whose conversation is the source's up to
   * and including it. The source is left as it is.
   */
  async fork(
    key: ApiKeyRecord,
    sessionId: string,
    request: { messageId?: string; metadata?: Record<string, unknown> },
  ) {
    const source = this.deps.registry.find(key, sessionId);
    const timeline = await this.timeline(sessionId);
    const kept = timeline.turns.filter((id) => !timeline.rewound.has(id));
    const messageId = request.messageId ?? [...kept].reverse().find((id) => timeline.completed.has(id));
    if (!messageId) throw checkpointMissing('(no completed turn)');
    const index = kept.indexOf(messageId);
    if (index < 0) throw messageNotInSession(messageId, sessionId);
    const checkpoint = await this.deps.checkpoints.afterOf(sessionId, messageId);
    const upToUuid = lastAssistantOf(kept.slice(0, index + 1), timeline);
    const { record } = source;
    const { config } = record;
    const input: CreateSessionInput = {
      ...(config.requestedModel ? { model: config.requestedModel } : {}),
      permissionMode: config.permissionMode,
      ...(config.maxTurns !== null ? { maxTurns: config.maxTurns } : {}),
      ...(config.systemPrompt !== null ? { systemPrompt: config.systemPrompt } : {}),
      ...(config.appendSystemPrompt !== null ? { appendSystemPrompt: config.appendSystemPrompt } : {}),
      allowedTools: config.allowedTools,
      disallowedTools: config.disallowedTools,
      metadata: request.metadata ?? record.metadata,
    };
    const seed: SessionSeed = {
      populate: (cwd) => this.deps.checkpoints.copyInto(sessionId, checkpoint, cwd),
      conversation: (cwd) =>
        this.deps.runner.forkConversation({
          claudeSessionId: record.claudeSessionId,
          cwd: config.cwd,
          upToUuid,
          targetCwd: cwd,
        }),
      forkedFrom: { sessionId, messageId },
    };
    return this.deps.sessions.create(key, input, undefined, seed);
  }

  /** The session's conversation continues from a copy cut after `upToUuid` (null: a new one). */
  private async continueFrom(session: SessionRuntime, upToUuid: string | null): Promise<void> {
    const { record } = session;
    const next = await this.deps.runner.forkConversation({
      claudeSessionId: record.claudeSessionId,
      cwd: record.config.cwd,
      upToUuid,
      targetCwd: record.config.cwd,
    });
    // The running process knows the whole conversation: the next turn starts a new one on the copy.
    await session.closeProcess();
    await this.deps.sessions.switchConversation(session, next);
  }

  /** Where a fork's conversation began: the source's last message it was given (null: not a fork). */
  private async inherited(session: SessionRuntime): Promise<string | null> {
    const origin = session.record.config.forkedFrom;
    if (!origin) return null;
    const source = await this.timeline(origin.sessionId);
    const index = source.turns.indexOf(origin.messageId);
    const kept = source.turns.slice(0, index + 1).filter((id) => !source.rewound.has(id));
    return lastAssistantOf(kept, source);
  }

  private async timeline(sessionId: string): Promise<Timeline> {
    const timeline: Timeline = {
      turns: [],
      lastAssistant: new Map(),
      completed: new Set(),
      rewound: new Set(),
    };
    const seen = new Set<string>();
    for (let after = 0; ;) {
      const page = await this.deps.stores.events.listEvents(sessionId, after, PAGE);
      for (const event of page) {
        after = event.seq;
        if (event.type === 'message' && event.turnId) {
          if (!seen.has(event.turnId)) {
            seen.add(event.turnId);
            timeline.turns.push(event.turnId);
          }
          const uuid = topLevelAssistantUuid(JSON.parse(event.data) as { content?: unknown });
          if (uuid) timeline.lastAssistant.set(event.turnId, uuid);
        } else if (event.type === 'complete' && event.turnId) {
          if ((JSON.parse(event.data) as { status?: string }).status === 'completed') {
            timeline.completed.add(event.turnId);
          }
        } else if (event.type === 'rewound') {
          for (const id of (JSON.parse(event.data) as { rewoundMessageIds: string[] }).rewoundMessageIds) {
            timeline.rewound.add(id);
          }
        }
      }
      if (page.length < PAGE) return timeline;
    }
  }
}

function lastAssistantOf(turns: readonly string[], timeline: Timeline): string | null {
  for (let i = turns.length - 1; i >= 0; i--) {
    const uuid = timeline.lastAssistant.get(turns[i] ?? '');
    if (uuid) return uuid;
  }
  return null;
}

/** The uuid of a Claude Code assistant message of the main conversation (not a subagent's). */
function topLevelAssistantUuid(view: { content?: unknown }): string | null {
  const content = view.content as { type?: unknown; uuid?: unknown; parent_tool_use_id?: unknown } | null;
  if (!content || content.type !== 'assistant' || typeof content.uuid !== 'string') return null;
  if (content.parent_tool_use_id) return null;
  return content.uuid;
}
