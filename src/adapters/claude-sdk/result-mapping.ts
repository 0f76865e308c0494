/**
 * Turns Claude Code's `result` message into the domain's `AgentTurnResult`.
 *
 * Claude Code reports API failures as `subtype: "success"` with `is_error: true` and an
 * `api_error_status`, so errors are detected with `is_error`, never with `subtype` alone.
 */
import type { AgentTurnResult, ClaudeMessage } from '../../domain/ports.js';
import type { TokenUsage } from '../../domain/events.js';

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** `value` as an object to read fields from; anything else reads as an empty object. */
export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

export function usageOf(value: unknown): TokenUsage {
  const u = record(value);
  return {
    inputTokens: num(u.input_tokens),
    outputTokens: num(u.output_tokens),
    cacheCreationInputTokens: num(u.cache_creation_input_tokens),
    cacheReadInputTokens: num(u.cache_read_input_tokens),
  };
}

/**
 * Keeps track of Claude Code's running cost total for one process and hands out per-turn costs.
 * A resumed process restores the session's earlier total from the transcript, so the first
 * result of a resumed process is measured against the session's recorded cost.
 */
export class CostMeter {
  private last: number | null = null;

  constructor(
    private readonly resumed: boolean,
    private readonly priorCostUsd: number,
  ) {}

  turnCost(runningTotal: number): number {
    let cost: number;
    if (this.last !== null) cost = runningTotal - this.last;
    else if (this.resumed && runningTotal >= this.priorCostUsd) cost = runningTotal - this.priorCostUsd;
    else cost = runningTotal;
    this.last = runningTotal;
    // Rounded to a micro-dollar: float subtraction of running totals leaves 1e-19 dust.
    return Math.max(0, Math.round(cost * 1e6) / 1e6);
  }
}

export function toTurnResult(message: ClaudeMessage, meter: CostMeter): AgentTurnResult {
  const errors = Array.isArray(message.errors) ? message.errors.filter((e) => typeof e === 'string') : [];
  const status = message.api_error_status;
  return {
    isError: message.is_error === true,
    subtype: str(message.subtype) ?? 'unknown',
    text: str(message.result) ?? errors.join('\n'),
    stopReason: str(message.stop_reason),
    terminalReason: str(message.terminal_reason),
    numTurns: num(message.num_turns),
    durationMs: num(message.duration_ms),
    apiErrorStatus: typeof status === 'number' ? status : null,
    apiErrorType: str(message.api_error_type),
    errors,
    usage: usageOf(message.usage),
    costUsd: meter.turnCost(num(message.total_cost_usd)),
  };
}
