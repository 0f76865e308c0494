/**
 * Which of Claude Code's messages belong to the turn a client asked for.
 *
 * Claude Code may start a turn on its own between the client's turns: when a background command
 * finishes (Bash `run_in_background`, background agents, Monitor) or a scheduled wake-up fires,
 * it tells the model with a `<task-notification>` and lets it answer. That turn looks like any
 * other (`system/init`, assistant messages, a `result`), and if the client's next prompt arrives
 * while it runs, Claude Code queues the prompt behind it. Handing out messages in arrival order
 * would then give the client the unprompted turn's answer as its own, and drop its real one.
 *
 * Each prompt therefore carries a `uuid`. Claude Code says when it starts working on it
 * (`command_lifecycle` … `started`) and lists it in the `user_message_uuids` of the result that
 * answers it; everything else is Claude Code working on its own. (Measured with Claude Code
 * 2.1.330; see docs/architecture.md, "Turns Claude Code starts on its own".)
 */
import type { ClaudeMessage } from '../../domain/ports.js';

export type Route =
  /** A message of the client's turn. */
  | { to: 'turn' }
  /** The result that ends the client's turn. */
  | { to: 'turn-end' }
  /** Claude Code working on its own; `startsTurn` on the first message of such a turn. */
  | { to: 'unprompted'; startsTurn: boolean }
  /** Claude Code's bookkeeping of its input queue. */
  | { to: 'none' };

export class TurnCorrelator {
  /** The uuid of the client's prompt that has not been answered yet. */
  private pending: string | null = null;
  private pendingStarted = false;
  private unpromptedRunning = false;

  /** A prompt with this uuid was sent; its turn starts when Claude Code says so. */
  expect(uuid: string): void {
    this.pending = uuid;
    this.pendingStarted = false;
  }

  /** A client's prompt was sent and is not answered yet. */
  get awaitingAnswer(): boolean {
    return this.pending !== null;
  }

  /** Claude Code is working on the client's prompt (not merely holding it in its queue). */
  get turnStarted(): boolean {
    return this.pending !== null && this.pendingStarted;
  }

  route(message: ClaudeMessage): Route {
    if (message.type === 'command_lifecycle') {
      if (this.pending !== null && message.command_uuid === this.pending && message.state === 'started') {
        this.pendingStarted = true;
      }
      return { to: 'none' };
    }
    if (message.type === 'result') return this.routeResult(message);
    if (this.turnStarted) return { to: 'turn' };
    const startsTurn = message.type === 'system' && message.subtype === 'init' && !this.unpromptedRunning;
    if (startsTurn) this.unpromptedRunning = true;
    return { to: 'unprompted', startsTurn };
  }

  private routeResult(message: ClaudeMessage): Route {
    const answered = Array.isArray(message.user_message_uuids) ? message.user_message_uuids : [];
    const ours =
      this.pending !== null &&
      (answered.includes(this.pending) ||
        // A result naming no prompt while no unprompted turn runs: Claude Code ended the
        // client's turn before it started it (so it never said `started`).
        (answered.length === 0 && !this.unpromptedRunning));
    if (!ours) {
      this.unpromptedRunning = false;
      return { to: 'unprompted', startsTurn: false };
    }
    this.pending = null;
    this.pendingStarted = false;
    return { to: 'turn-end' };
  }
}
