import { describe, expect, it } from 'vitest';
import { result, results } from '../../test/helpers/fake-agent-runner.js';
import type { AgentTurnOutcome, AgentTurnResult } from './ports.js';
import { endTurn, type TurnContext } from './turn-outcome.js';
import { ZERO_USAGE } from './types.js';

const ctx: TurnContext = {
  sessionId: 'sess_1',
  messageId: 'msg_1',
  model: 'opus',
  timedOutAfterMs: null,
  lastAssistantText: 'the last thing the assistant said',
};

const ok = (r: AgentTurnResult): AgentTurnOutcome => ({ kind: 'result', result: r });
const crashed: AgentTurnOutcome = {
  kind: 'crashed',
  message: 'exited with 137',
  exitCode: 137,
  signal: 'SIGKILL',
};

describe('endTurn', () => {
  it('success → a completion with the result text, usage and cost', () => {
    const r = result({ text: 'Hello', numTurns: 3, durationMs: 420, costUsd: 0.02 });
    const ending = endTurn(ok(r), ctx);
    expect(ending).toEqual({
      status: 'completed',
      error: null,
      usage: r.usage,
      costUsd: 0.02,
      completion: {
        messageId: 'msg_1',
        sessionId: 'sess_1',
        response: 'Hello',
        usage: r.usage,
        costUsd: 0.02,
        durationMs: 420,
        numTurns: 3,
        stopReason: 'end_turn',
        status: 'completed',
      },
    });
  });

  it.each([
    [401, 'UPSTREAM_ERROR', /credentials/],
    [403, 'UPSTREAM_ERROR', /credentials/],
    [400, 'UPSTREAM_ERROR', /rejected the request/],
    [404, 'UPSTREAM_ERROR', /model "opus"/],
    [500, 'UPSTREAM_ERROR', /rejected the request \(HTTP 500/],
    [429, 'UPSTREAM_UNAVAILABLE', /overloaded or rate-limited \(HTTP 429\)/],
    [529, 'UPSTREAM_UNAVAILABLE', /overloaded or rate-limited \(HTTP 529\)/],
    [null, 'UPSTREAM_UNAVAILABLE', /could not be reached/],
  ] as const)('api error %s → %s', (status, code, message) => {
    const r = results.apiError(status, 'API Error: upstream said no');
    const ending = endTurn(ok(r), ctx);
    expect(ending.status).toBe('failed');
    expect(ending.completion).toBeNull();
    expect(ending.error?.code).toBe(code);
    expect(ending.error?.message).toMatch(message);
    expect(ending.error?.details).toMatchObject({
      upstreamStatus: status,
      upstreamMessage: 'API Error: upstream said no',
      model: 'opus',
    });
  });

  it('a 400 that is about the model names the model', () => {
    const r = results.apiError(400, 'model: claude-3-opus-20240229 is not supported');
    expect(endTurn(ok(r), ctx).error?.message).toMatch(/model "opus"/);
  });

  it('an upstream error without a model set names the default', () => {
    const ending = endTurn(ok(results.apiError(404)), { ...ctx, model: null });
    expect(ending.error?.message).toMatch(/model "default"/);
    expect(ending.error?.details).not.toHaveProperty('model');
  });

  it('terminal_reason api_error without a status is an unavailable upstream', () => {
    const r = result({ isError: true, terminalReason: 'api_error', apiErrorStatus: null });
    expect(endTurn(ok(r), ctx).error?.code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('no credentials ("Not logged in", no HTTP status) → UPSTREAM_ERROR no_credentials, saying what to set', () => {
    // Claude Code 2.1.330's result when it has no credentials: it made no request at all.
    const r = results.apiError(null, 'Not logged in · Please run /login');
    const ending = endTurn(ok(r), ctx);
    expect(ending.status).toBe('failed');
    expect(ending.error).toEqual({
      code: 'UPSTREAM_ERROR',
      message: expect.stringMatching(/no credentials.*set ANTHROPIC_API_KEY/),
      details: {
        reason: 'no_credentials',
        upstreamStatus: null,
        upstreamErrorType: null,
        upstreamMessage: 'Not logged in · Please run /login',
        model: 'opus',
      },
    });
    // A 401 (a key the API refuses) stays the credentials-refused error, without the reason.
    const refused = endTurn(ok(results.apiError(401, 'Not logged in')), ctx).error;
    expect(refused?.details).not.toHaveProperty('reason');
  });

  it.each(['aborted_streaming', 'aborted_tools'])('aborted (%s) → an interrupted completion', (reason) => {
    const ending = endTurn(ok({ ...results.aborted(), terminalReason: reason }), ctx);
    expect(ending.status).toBe('interrupted');
    expect(ending.error).toBeNull();
    expect(ending.completion).toMatchObject({
      status: 'interrupted',
      stopReason: 'interrupted',
      // An interrupted result carries diagnostics, not the answer.
      response: 'the last thing the assistant said',
    });
  });

  it('timeout → REQUEST_TIMEOUT, whether Claude Code aborted, failed or died', () => {
    const timed = { ...ctx, timedOutAfterMs: 5000 };
    for (const outcome of [ok(results.aborted()), ok(results.apiError(500)), crashed]) {
      const ending = endTurn(outcome, timed);
      expect(ending.status).toBe('timed_out');
      expect(ending.completion).toBeNull();
      expect(ending.error).toEqual({
        code: 'REQUEST_TIMEOUT',
        message: expect.stringContaining('5000 ms'),
        details: { timeoutMs: 5000, messageId: 'msg_1' },
      });
    }
  });

  it('a timed-out crash costs nothing; a timed-out result keeps its usage', () => {
    const timed = { ...ctx, timedOutAfterMs: 1000 };
    expect(endTurn(crashed, timed)).toMatchObject({ usage: ZERO_USAGE, costUsd: 0 });
    const aborted = { ...results.aborted(), costUsd: 0.5 };
    expect(endTurn(ok(aborted), timed)).toMatchObject({ usage: aborted.usage, costUsd: 0.5 });
  });

  it('a success that lands after the timeout fired is still a success', () => {
    const ending = endTurn(ok(result({ text: 'just in time' })), { ...ctx, timedOutAfterMs: 1000 });
    expect(ending.status).toBe('completed');
    expect(ending.completion?.response).toBe('just in time');
  });

  it('error_max_turns → a completion with stopReason max_turns and the last assistant text', () => {
    const ending = endTurn(ok(results.maxTurns(2)), ctx);
    expect(ending.status).toBe('completed');
    expect(ending.error).toBeNull();
    expect(ending.completion).toMatchObject({
      status: 'completed',
      stopReason: 'max_turns',
      response: 'the last thing the assistant said',
      numTurns: 3,
    });
  });

  it('error_max_budget_usd → a completion with stopReason max_budget', () => {
    const r = result({ isError: true, subtype: 'error_max_budget_usd', text: '', stopReason: null });
    expect(endTurn(ok(r), ctx).completion).toMatchObject({ stopReason: 'max_budget', status: 'completed' });
  });

  it('crash → AGENT_ERROR with the exit details, no cost', () => {
    const ending = endTurn(crashed, ctx);
    expect(ending).toMatchObject({ status: 'failed', completion: null, usage: ZERO_USAGE, costUsd: 0 });
    expect(ending.error).toMatchObject({
      code: 'AGENT_ERROR',
      details: { reason: 'exited with 137', exitCode: 137, signal: 'SIGKILL' },
    });
  });

  it('another Claude Code error (error_during_execution) → AGENT_ERROR naming the first error', () => {
    const r = result({
      isError: true,
      subtype: 'error_during_execution',
      terminalReason: 'completed',
      errors: ['No conversation found with session ID: x', 'second'],
    });
    const ending = endTurn(ok(r), ctx);
    expect(ending.status).toBe('failed');
    expect(ending.error?.code).toBe('AGENT_ERROR');
    expect(ending.error?.message).toContain('No conversation found with session ID: x');
    expect(ending.error?.details).toMatchObject({ subtype: 'error_during_execution' });
  });
});
