/**
 * The model API requests of one turn, as Claude Code streams them (its partial messages): each
 * becomes one `model_request` event when it ends, with its start and end times and its own token
 * usage. Claude Code's assistant messages cannot give this: they carry the usage of message_start
 * (output 1); the output comes with message_delta, after the messages.
 *
 * A request that does not finish (its stream broke and Claude Code started another, or the turn
 * was interrupted or failed) ends with `isError: true` and the usage seen so far. A request the
 * model API refused before replying has no message_start, so no event: the `status` retrying
 * event says so. Subagents' requests (Task) may overlap the agent's own: they are kept apart by
 * their Task call.
 */
import type { ModelRequestEvent, TokenUsage } from './events.js';
import type { AgentEvent } from './ports.js';
import { ZERO_USAGE } from './types.js';

type ModelStreamEvent = Extract<AgentEvent, { kind: 'model_request' }>;

/** What a `model_request` event says besides its session and turn. */
export type ModelRequestRecord = Omit<ModelRequestEvent, 'sessionId' | 'messageId'>;

interface OpenRequest {
  apiMessageId: string | null;
  parentToolUseId: string | null;
  startedAt: number;
  usage: TokenUsage;
}

export class ModelRequests {
  /** The requests still streaming, by the Task call they belong to ('' for the agent's own). */
  private readonly open = new Map<string, OpenRequest>();

  constructor(
    private readonly now: () => number,
    private readonly record: (event: ModelRequestRecord) => void,
  ) {}

  see(event: ModelStreamEvent): void {
    const lane = event.parentToolUseId ?? '';
    if (event.phase === 'start') {
      // A reply that began while the previous one of the same agent was unfinished: that one broke.
      this.end(lane, true);
      this.open.set(lane, {
        apiMessageId: event.apiMessageId,
        parentToolUseId: event.parentToolUseId,
        startedAt: this.now(),
        usage: { ...ZERO_USAGE, ...event.usage },
      });
      return;
    }
    const request = this.open.get(lane);
    if (!request) return;
    // message_delta's usage is cumulative: its figures replace those of message_start.
    Object.assign(request.usage, event.usage);
    if (event.phase === 'stop') this.end(lane, false);
  }

  /** Ends every request still open as cut short: the turn ended (interrupted, failed) first. */
  endAll(): void {
    for (const lane of [...this.open.keys()]) this.end(lane, true);
  }

  private end(lane: string, isError: boolean): void {
    const request = this.open.get(lane);
    if (!request) return;
    this.open.delete(lane);
    this.record({
      apiMessageId: request.apiMessageId,
      parentToolUseId: request.parentToolUseId,
      startedAt: new Date(request.startedAt).toISOString(),
      endedAt: new Date(this.now()).toISOString(),
      isError,
      usage: request.usage,
    });
  }
}
