/** The JSON shapes of sessions as the API returns them (times as ISO 8601). */
import type { SessionDetails } from '../domain/session-service.js';
import type { SessionSnapshot } from '../domain/session-runtime.js';
import { iso } from '../domain/time.js';
import type { z } from 'zod';
import type { SessionDetailsSchema, SessionSummarySchema } from './openapi/response-schemas.js';

// Typed by the shapes the OpenAPI document is generated from: a view that drifts does not compile.
type SessionSummaryJson = z.output<typeof SessionSummarySchema>;
type SessionDetailsJson = z.output<typeof SessionDetailsSchema>;

export function sessionSummary(session: SessionSnapshot, expiresAt: number): SessionSummaryJson {
  const { record } = session;
  const { config } = record;
  return {
    sessionId: record.id,
    model: config.requestedModel ?? 'default',
    resolvedModel: config.model ?? 'default',
    permissionMode: config.permissionMode,
    maxTurns: config.maxTurns,
    status: session.running ? 'running' : 'idle',
    createdAt: iso(record.createdAt),
    lastActivity: iso(record.lastActivityAt),
    expiresAt: iso(expiresAt),
    metadata: record.metadata,
  };
}

export function sessionDetails(details: SessionDetails): SessionDetailsJson {
  const { session, usage } = details;
  const { record } = session;
  const { config } = record;
  // Built field by field, without object spreads: this view answers every poll of a session.
  const view: SessionDetailsJson = sessionSummary(session, details.expiresAt) as SessionDetailsJson;
  view.messageCount = details.messageCount;
  view.currentMessageId = session.currentMessageId;
  view.claudeSessionId = record.claudeSessionId;
  // A fork: the session and turn it was made from.
  if (config.forkedFrom) view.forkedFrom = config.forkedFrom;
  // parked: no Claude Code process now; the next message resumes the conversation in a new one.
  view.process = session.process;
  view.config = {
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
  };
  view.usage = {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cacheCreationInputTokens: usage.cacheCreationInputTokens,
    cacheReadInputTokens: usage.cacheReadInputTokens,
    costUsd: details.costUsd,
  };
  if (details.costSimulated) view.usage.costSimulated = true;
  return view;
}
