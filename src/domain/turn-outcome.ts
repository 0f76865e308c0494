/**
 * How a turn ends: Claude Code's result (or its death) becomes either a completion
 * (the `complete` event, a 200) or an error of the contract (the `error` event, a 4xx/5xx).
 */
import {
  agentFailed,
  agentStopped,
  turnTimedOut,
  upstreamRejected,
  upstreamUnavailable,
} from './error-situations.js';
import type { ErrorBody } from './errors.js';
import { isNoCredentialsFailure, NO_CREDENTIALS_HINT } from './no-credentials.js';
import type { AgentTurnOutcome, AgentTurnResult } from './ports.js';
import { ZERO_USAGE, type TurnStatus } from './types.js';
import { type TokenUsage, type TurnCompletion } from './events.js';

export interface TurnEnding {
  status: Exclude<TurnStatus, 'running'>;
  completion: TurnCompletion | null;
  error: ErrorBody | null;
  usage: TokenUsage;
  costUsd: number;
}

export interface TurnContext {
  sessionId: string;
  messageId: string;
  /** The model the session asked Claude Code for (named in upstream errors). */
  model: string | null;
  /** Set when the turn's `timeout` ran out and the server interrupted it. */
  timedOutAfterMs: number | null;
  /** The text of the turn's last assistant message, for results that carry no text of their own. */
  lastAssistantText: string;
}

/** Upstream statuses that mean "overloaded or unreachable, try again later". */
const UNAVAILABLE_STATUSES = new Set([408, 429, 502, 503, 504, 529]);

export function endTurn(outcome: AgentTurnOutcome, ctx: TurnContext): TurnEnding {
  if (outcome.kind === 'crashed') {
    if (ctx.timedOutAfterMs !== null) return timedOut(ctx, ZERO_USAGE, 0);
    return {
      status: 'failed',
      completion: null,
      error: agentStopped(outcome.message, outcome.exitCode, outcome.signal).toBody(),
      usage: ZERO_USAGE,
      costUsd: 0,
    };
  }
  const r = outcome.result;
  const aborted = r.terminalReason?.startsWith('aborted') === true;
  if (ctx.timedOutAfterMs !== null && (aborted || r.isError)) return timedOut(ctx, r.usage, r.costUsd);
  if (r.isError && isUpstreamFailure(r)) return failed(upstreamError(r, ctx), r);
  // Claude Code's own stop reason is that of its last model reply (`tool_use` when interrupted
  // during a tool): the client asked for the interrupt, so that is the reason it gets.
  if (aborted) return completed(r, ctx, 'interrupted', 'interrupted');
  // Running out of agent turns is an outcome the client asked for (maxTurns), not a failure.
  if (r.subtype === 'error_max_turns') return completed(r, ctx, 'completed', 'max_turns');
  if (r.subtype === 'error_max_budget_usd') return completed(r, ctx, 'completed', 'max_budget');
  if (r.isError) {
    return failed(
      agentFailed(r.errors[0] ?? r.text ?? r.subtype, {
        subtype: r.subtype,
        errors: r.errors,
        terminalReason: r.terminalReason,
      }).toBody(),
      r,
    );
  }
  return completed(r, ctx, 'completed');
}

function isUpstreamFailure(r: AgentTurnResult): boolean {
  return r.apiErrorStatus !== null || r.terminalReason === 'api_error';
}

function upstreamError(r: AgentTurnResult, ctx: TurnContext): ErrorBody {
  const status = r.apiErrorStatus;
  const details = {
    upstreamStatus: status,
    upstreamErrorType: r.apiErrorType,
    upstreamMessage: r.text,
    ...(ctx.model ? { model: ctx.model } : {}),
  };
  // Not an outage: no retry helps until the operator sets credentials.
  if (isNoCredentialsFailure(status, r.text)) {
    return upstreamRejected(NO_CREDENTIALS_HINT, { reason: 'no_credentials', ...details }).toBody();
  }
  const unavailable = status === null || UNAVAILABLE_STATUSES.has(status);
  if (unavailable) return upstreamUnavailable(status, details).toBody();
  let message = `The model API rejected the request (HTTP ${status}${r.apiErrorType ? ` ${r.apiErrorType}` : ''}).`;
  if (status === 404 || (status === 400 && /model/i.test(r.text))) {
    message = `The model API rejected the model "${ctx.model ?? 'default'}" (HTTP ${status}).`;
  } else if (status === 401 || status === 403) {
    message = `The model API refused the server's credentials (HTTP ${status}).`;
  }
  return upstreamRejected(message, details).toBody();
}

function completed(
  r: AgentTurnResult,
  ctx: TurnContext,
  status: TurnCompletion['status'],
  stopReason?: string,
): TurnEnding {
  return {
    status: status === 'interrupted' ? 'interrupted' : 'completed',
    completion: {
      messageId: ctx.messageId,
      sessionId: ctx.sessionId,
      // Only a successful result carries the final text; an interrupted or max-turns result
      // carries diagnostics instead, so the last thing the assistant said is the answer.
      response: r.subtype === 'success' ? r.text : ctx.lastAssistantText,
      usage: r.usage,
      costUsd: r.costUsd,
      durationMs: r.durationMs,
      numTurns: r.numTurns,
      stopReason: stopReason ?? r.stopReason ?? (status === 'interrupted' ? 'interrupted' : null),
      status,
    },
    error: null,
    usage: r.usage,
    costUsd: r.costUsd,
  };
}

function failed(error: ErrorBody, r: AgentTurnResult): TurnEnding {
  return { status: 'failed', completion: null, error, usage: r.usage, costUsd: r.costUsd };
}

function timedOut(ctx: TurnContext, usage: TokenUsage, costUsd: number): TurnEnding {
  return {
    status: 'timed_out',
    completion: null,
    error: turnTimedOut(ctx.timedOutAfterMs, ctx.messageId).toBody(),
    usage,
    costUsd,
  };
}
