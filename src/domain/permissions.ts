/**
 * Approvals over HTTP. When Claude Code would ask before a tool call (permission mode `default`
 * or `plan`, no rule allowing it), the turn waits and the question becomes a
 * `permission_request` event; a client answers it with POST …/permissions/:requestId from any
 * connection of the session's key. Nobody answers within the timeout: the configured default
 * decision applies (deny unless set otherwise), so a headless run never hangs. An interrupt
 * withdraws the question. Every answer is a `permission_resolved` event.
 *
 * Pending questions live in memory: they belong to a running turn of a live Claude Code process,
 * which a server restart ends anyway.
 */
import { permissionRequestJustAnswered, permissionRequestNotPending } from './error-situations.js';
import type { EventLog } from './event-log.js';
import type { PermissionDecision, PermissionRequestView, PermissionResolution } from './events.js';
import { randomBase62 } from './ids.js';
import type { Clock, Logger, PermissionAnswer, PermissionAsk } from './ports.js';

export interface PermissionSettings {
  timeoutMs: number;
  defaultDecision: PermissionDecision;
}

export interface ClientDecision {
  decision: PermissionDecision;
  message?: string;
  updatedInput?: Record<string, unknown>;
  remember?: boolean;
}

interface Pending {
  view: PermissionRequestView;
  resolve: (answer: PermissionAnswer) => void;
  timer: NodeJS.Timeout;
  onAbort: () => void;
  signal: AbortSignal;
}

export class PermissionBroker {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly deps: { events: EventLog; clock: Clock; logger: Logger; settings: PermissionSettings },
  ) {}

  /** Asks the session's client; resolves with the answer Claude Code gets. */
  async ask(sessionId: string, messageId: string, ask: PermissionAsk): Promise<PermissionAnswer> {
    const now = this.deps.clock.now();
    const view: PermissionRequestView = {
      requestId: `perm_${randomBase62(20)}`,
      sessionId,
      messageId,
      toolName: ask.toolName,
      toolUseId: ask.toolUseId,
      input: ask.input,
      description: ask.description,
      displayName: ask.displayName,
      decisionReason: ask.decisionReason,
      suggestions: ask.suggestions,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.deps.settings.timeoutMs).toISOString(),
    };
    let resolve!: (answer: PermissionAnswer) => void;
    const answered = new Promise<PermissionAnswer>((r) => (resolve = r));
    const { requestId } = view;
    const onAbort = (): void => void this.settle(requestId, { decision: 'deny', by: 'interrupt' });
    const timer = setTimeout(
      () => void this.settle(requestId, { decision: this.deps.settings.defaultDecision, by: 'timeout' }),
      this.deps.settings.timeoutMs,
    );
    timer.unref();
    this.pending.set(requestId, { view, resolve, timer, onAbort, signal: ask.signal });
    // Appended in this same tick, so before any answer's event (appends keep call order); stored
    // before the client can see it.
    const stored = this.deps.events.append(sessionId, messageId, 'permission_request', () => view);
    if (ask.signal.aborted) onAbort();
    else ask.signal.addEventListener('abort', onAbort, { once: true });
    await stored;
    return answered;
  }

  /** The session's open questions, oldest first. */
  list(sessionId: string): PermissionRequestView[] {
    return [...this.pending.values()].filter((p) => p.view.sessionId === sessionId).map((p) => p.view);
  }

  /** The client's answer. Unknown, answered or another session's request: 404. */
  async answer(
    sessionId: string,
    requestId: string,
    decision: ClientDecision,
  ): Promise<PermissionResolution> {
    const pending = this.pending.get(requestId);
    if (!pending || pending.view.sessionId !== sessionId) {
      throw permissionRequestNotPending(sessionId, requestId);
    }
    const resolution = await this.settle(requestId, { ...decision, by: 'client' });
    if (!resolution) {
      throw permissionRequestJustAnswered(sessionId, requestId);
    }
    return resolution;
  }

  /** Withdraws every open question of a session (it is ending). */
  async withdrawAll(sessionId: string): Promise<void> {
    for (const pending of [...this.pending.values()]) {
      if (pending.view.sessionId === sessionId) {
        await this.settle(pending.view.requestId, { decision: 'deny', by: 'session_end' });
      }
    }
  }

  /** Answers a pending question once; later calls for it do nothing and return null. */
  private async settle(
    requestId: string,
    outcome: ClientDecision & { by: PermissionResolution['by'] },
  ): Promise<PermissionResolution | null> {
    const pending = this.pending.get(requestId);
    if (!pending) return null;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.signal.removeEventListener('abort', pending.onAbort);
    const { view } = pending;
    const message =
      outcome.decision === 'deny'
        ? (outcome.message ?? defaultDenyMessage(outcome.by, this.deps.settings))
        : null;
    const rules =
      outcome.decision === 'allow' && outcome.remember === true ? allowRules(view.suggestions) : [];
    const remember = rules.length > 0;
    const resolution: PermissionResolution = {
      requestId,
      sessionId: view.sessionId,
      messageId: view.messageId,
      toolName: view.toolName,
      toolUseId: view.toolUseId,
      decision: outcome.decision,
      by: outcome.by,
      message,
      updatedInput: outcome.decision === 'allow' && outcome.updatedInput !== undefined,
      remember,
      resolvedAt: new Date(this.deps.clock.now()).toISOString(),
    };
    pending.resolve(
      outcome.decision === 'allow'
        ? {
            behavior: 'allow',
            ...(outcome.updatedInput ? { updatedInput: outcome.updatedInput } : {}),
            ...(remember ? { remember: rules } : {}),
          }
        : {
            behavior: 'deny',
            message: message ?? '',
            ...(outcome.by === 'interrupt' ? { interrupt: true } : {}),
          },
    );
    await this.deps.events
      .append(view.sessionId, view.messageId, 'permission_resolved', () => resolution)
      .catch((err: unknown) =>
        this.deps.logger.error({ err, requestId }, 'could not store a permission answer'),
      );
    return resolution;
  }
}

function defaultDenyMessage(by: PermissionResolution['by'], settings: PermissionSettings): string {
  switch (by) {
    case 'timeout':
      return `No decision arrived within ${Math.round(settings.timeoutMs / 1000)} s, so the server denied this tool call.`;
    case 'interrupt':
      return 'The turn was interrupted.';
    case 'session_end':
      return 'The session ended.';
    default:
      return 'The user denied this tool call.';
  }
}

/**
 * The suggestions `remember` may apply: allow rules for a tool call (`addRules`, `behavior:
 * allow`). Claude Code also suggests changes of the whole session (`setMode: acceptEdits`,
 * `addDirectories` outside the workspace, replacing or removing rules): those would widen the
 * session past its key's policy and the workspace confinement, so they are never applied.
 */
export function allowRules(suggestions: readonly unknown[]): unknown[] {
  return suggestions.filter((s) => {
    const update = s as { type?: unknown; behavior?: unknown } | null;
    return typeof update === 'object' && update?.type === 'addRules' && update.behavior === 'allow';
  });
}
