/** The JSON shapes of sessions as the API returns them (times as ISO 8601). */
import type { LiveSession } from '../domain/live-session.js';
import type { TokenUsage } from '../domain/types.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export function sessionSummary(session: LiveSession, expiresAt: number) {
  const { record } = session;
  const { config } = record;
  return {
    sessionId: record.id,
    model: config.requestedModel ?? 'default',
    resolvedModel: config.model ?? 'default',
    permissionMode: config.permissionMode,
    maxTurns: config.maxTurns,
    status: session.busy ? 'running' : 'idle',
    createdAt: iso(record.createdAt),
    lastActivity: iso(record.lastActivityAt),
    expiresAt: iso(expiresAt),
    metadata: record.metadata,
  };
}

export function sessionDetails(
  session: LiveSession,
  extra: {
    expiresAt: number;
    messageCount: number;
    usage: TokenUsage;
    costUsd: number;
    costSimulated: boolean;
  },
) {
  const { record } = session;
  const { config } = record;
  return {
    ...sessionSummary(session, extra.expiresAt),
    messageCount: extra.messageCount,
    currentMessageId: session.turn?.id ?? null,
    claudeSessionId: record.claudeSessionId,
    // parked: no Claude Code process now; the next message resumes the conversation in a new one.
    process: session.process && !session.process.exited ? 'live' : 'parked',
    config: {
      model: config.requestedModel,
      resolvedModel: config.model,
      permissionMode: config.permissionMode,
      maxTurns: config.maxTurns,
      cwd: config.cwd,
      workspace: config.workspace,
      systemPrompt: config.systemPrompt,
      appendSystemPrompt: config.appendSystemPrompt,
      allowedTools: config.allowedTools,
      disallowedTools: config.disallowedTools,
    },
    usage: {
      ...extra.usage,
      costUsd: extra.costUsd,
      ...(extra.costSimulated ? { costSimulated: true } : {}),
    },
  };
}
