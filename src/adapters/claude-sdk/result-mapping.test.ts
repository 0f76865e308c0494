import { describe, expect, it } from 'vitest';
import { CostMeter, toTurnResult, usageOf } from './result-mapping.js';

describe('CostMeter', () => {
  it('a new process: each turn costs the growth of the running total', () => {
    const meter = new CostMeter(false, 0);
    expect(meter.turnCost(0.01)).toBe(0.01);
    expect(meter.turnCost(0.03)).toBe(0.02);
    expect(meter.turnCost(0.03)).toBe(0);
    expect(meter.turnCost(0.1)).toBe(0.07);
  });

  it('a new process ignores the prior cost (Claude Code starts from zero)', () => {
    const meter = new CostMeter(false, 5);
    expect(meter.turnCost(0.25)).toBe(0.25);
  });

  it('a resumed process measures its first result against the session’s prior cost', () => {
    const meter = new CostMeter(true, 1.5);
    expect(meter.turnCost(1.75)).toBe(0.25);
    expect(meter.turnCost(2)).toBe(0.25);
  });

  it('a resumed process whose total did not include the prior cost counts the whole total', () => {
    const meter = new CostMeter(true, 1.5);
    expect(meter.turnCost(0.2)).toBe(0.2);
    expect(meter.turnCost(0.5)).toBe(0.3);
  });

  it('rounds float dust to a micro-dollar and never goes negative', () => {
    const meter = new CostMeter(false, 0);
    meter.turnCost(0.1);
    expect(meter.turnCost(0.1 + 0.2)).toBe(0.2);
    expect(meter.turnCost(0.1)).toBe(0);
  });
});

describe('toTurnResult', () => {
  it('maps a success result', () => {
    const r = toTurnResult(
      {
        type: 'result',
        subtype: 'success',
        is_error: false,
        result: 'Hi there',
        stop_reason: 'end_turn',
        terminal_reason: 'completed',
        num_turns: 2,
        duration_ms: 134,
        api_error_status: null,
        total_cost_usd: 0.0006,
        usage: {
          input_tokens: 100,
          output_tokens: 20,
          cache_creation_input_tokens: 3,
          cache_read_input_tokens: 4,
        },
      },
      new CostMeter(false, 0),
    );
    expect(r).toEqual({
      isError: false,
      subtype: 'success',
      text: 'Hi there',
      stopReason: 'end_turn',
      terminalReason: 'completed',
      numTurns: 2,
      durationMs: 134,
      apiErrorStatus: null,
      apiErrorType: null,
      errors: [],
      usage: { inputTokens: 100, outputTokens: 20, cacheCreationInputTokens: 3, cacheReadInputTokens: 4 },
      costUsd: 0.0006,
    });
  });

  it('an API error is is_error with subtype success and a status', () => {
    const r = toTurnResult(
      {
        type: 'result',
        subtype: 'success',
        is_error: true,
        result: 'API Error: 401 invalid x-api-key',
        api_error_status: 401,
        api_error_type: 'authentication_error',
        terminal_reason: 'api_error',
      },
      new CostMeter(false, 0),
    );
    expect(r).toMatchObject({
      isError: true,
      subtype: 'success',
      apiErrorStatus: 401,
      apiErrorType: 'authentication_error',
      text: 'API Error: 401 invalid x-api-key',
    });
  });

  it('takes the text from errors when there is no result, and keeps only string errors', () => {
    const r = toTurnResult(
      {
        type: 'result',
        subtype: 'error_max_turns',
        is_error: true,
        errors: ['Reached maximum number of turns (1)', 7],
      },
      new CostMeter(false, 0),
    );
    expect(r).toMatchObject({
      text: 'Reached maximum number of turns (1)',
      errors: ['Reached maximum number of turns (1)'],
    });
  });

  it('missing or malformed fields become safe defaults', () => {
    const r = toTurnResult(
      { type: 'result', num_turns: 'x', usage: null, total_cost_usd: Number.NaN },
      new CostMeter(false, 0),
    );
    expect(r).toMatchObject({
      isError: false,
      subtype: 'unknown',
      numTurns: 0,
      costUsd: 0,
      stopReason: null,
    });
    expect(usageOf(undefined)).toEqual({
      inputTokens: 0,
      outputTokens: 0,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0,
    });
  });
});
