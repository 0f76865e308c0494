/**
 * The sequences here are what Claude Code 2.1.330 emitted in streaming-input mode (measured
 * against the fake model API, trimmed to the fields that matter).
 */
import { describe, expect, it } from 'vitest';
import type { ClaudeMessage } from '../../domain/ports.js';
import { TurnCorrelator, type Route } from './turn-correlation.js';

const lifecycle = (uuid: string, state: 'queued' | 'started' | 'completed'): ClaudeMessage => ({
  type: 'command_lifecycle',
  command_uuid: uuid,
  state,
});
const init: ClaudeMessage = { type: 'system', subtype: 'init' };
const assistant = (text: string): ClaudeMessage => ({
  type: 'assistant',
  message: { content: [{ type: 'text', text }] },
});
const result = (text: string, uuids?: string[]): ClaudeMessage => ({
  type: 'result',
  subtype: 'success',
  result: text,
  ...(uuids ? { user_message_uuids: uuids } : {}),
});
const taskNotification: ClaudeMessage = { type: 'system', subtype: 'task_notification', status: 'completed' };

function routes(correlator: TurnCorrelator, messages: readonly ClaudeMessage[]): Route['to'][] {
  return messages.map((m) => correlator.route(m).to);
}

describe('TurnCorrelator', () => {
  it("hands the client's turn its messages, from `started` to the result naming its prompt", () => {
    const c = new TurnCorrelator();
    c.expect('u1');
    expect(c.awaitingAnswer).toBe(true);
    expect(c.turnStarted).toBe(false);
    expect(
      routes(c, [
        lifecycle('u1', 'queued'),
        lifecycle('u1', 'started'),
        init,
        assistant('I will use the Bash tool.'),
        result('done', ['u1']),
        lifecycle('u1', 'completed'),
      ]),
    ).toEqual(['none', 'none', 'turn', 'turn', 'turn-end', 'none']);
    expect(c.awaitingAnswer).toBe(false);
  });

  it('a turn Claude Code starts on its own between turns is unprompted, and only its init starts it', () => {
    const c = new TurnCorrelator();
    c.expect('u1');
    routes(c, [lifecycle('u1', 'started'), init, result('first', ['u1'])]);
    const later = [taskNotification, init, assistant('noted'), result('noted')];
    expect(later.map((m) => c.route(m))).toEqual([
      { to: 'unprompted', startsTurn: false },
      { to: 'unprompted', startsTurn: true },
      { to: 'unprompted', startsTurn: false },
      { to: 'unprompted', startsTurn: false },
    ]);
  });

  it("a prompt sent while Claude Code answers a background task gets its own answer, not that one's", () => {
    // Measured: the prompt was queued behind the unprompted turn, whose result names no prompt.
    const c = new TurnCorrelator();
    c.route(taskNotification);
    expect(c.route(init)).toEqual({ to: 'unprompted', startsTurn: true });
    c.expect('u2');
    expect(
      routes(c, [
        lifecycle('u2', 'queued'),
        assistant('noted the task slowly'),
        result('noted the task slowly'),
        lifecycle('u2', 'started'),
        init,
        assistant('the answer to u2'),
        result('the answer to u2', ['u2']),
        lifecycle('u2', 'completed'),
      ]),
    ).toEqual(['none', 'unprompted', 'unprompted', 'none', 'turn', 'turn', 'turn-end', 'none']);
  });

  it('a prompt queued behind an unprompted turn is not started by that turn starting', () => {
    const c = new TurnCorrelator();
    c.expect('u1');
    c.route(lifecycle('u1', 'queued'));
    expect(c.route(init)).toEqual({ to: 'unprompted', startsTurn: true });
    expect(c.turnStarted).toBe(false);
    c.route(lifecycle('other', 'started'));
    expect(c.turnStarted).toBe(false);
    c.route(lifecycle('u1', 'started'));
    expect(c.turnStarted).toBe(true);
  });

  it("a result naming no prompt ends the client's turn when nothing else runs (ended before it started)", () => {
    const c = new TurnCorrelator();
    c.expect('u1');
    expect(c.route(result('error_during_execution'))).toEqual({ to: 'turn-end' });
    expect(c.awaitingAnswer).toBe(false);
  });

  it('a result naming another prompt is never taken as the answer', () => {
    const c = new TurnCorrelator();
    c.expect('u1');
    c.route(lifecycle('u1', 'started'));
    expect(c.route(result('someone else', ['u0']))).toEqual({ to: 'unprompted', startsTurn: false });
    expect(c.awaitingAnswer).toBe(true);
  });
});
