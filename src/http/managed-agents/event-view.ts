/**
 * The Managed Agents view of a session's event log: each stored seed event (src/domain/events.ts)
 * becomes zero or more Managed Agents events. It is a second view of the one log, not a second
 * log: a turn started through `/api/v1` shows here, and one started here shows there.
 *
 * Positions: the n-th Managed Agents event made from the log event with sequence number `seq`
 * sits at `seq.n`; that is its SSE `id:`, so a stream resumes (`Last-Event-ID`) inside a log event
 * without a gap or a duplicate. Event ids are stable: a prompt's is its `messageId`, a tool call's
 * is made from Claude Code's tool-use id (what `requires_action` and `user.tool_confirmation`
 * name), an `agent.message`'s or `agent.thinking`'s from the model's message id and the block's
 * index in it (what a preview names before the block is complete), a span's from the model's
 * message id, an interrupt's from its place in the log; the rest from the position.
 */
import { managedToolName } from '../../domain/managed-agents/agent-tools.js';
import {
  confirmationEventId,
  interruptEventId,
  toolUseEventId,
} from '../../domain/managed-agents/sessions.js';
import type {
  MessageView,
  ModelRequestEvent,
  PermissionRequestView,
  PermissionResolution,
  StatusEvent,
  SummaryPart,
  TurnCompletion,
} from '../../domain/events.js';
import type { ErrorBody } from '../../domain/errors.js';
import type { SessionEvent } from '../../domain/types.js';

export interface ManagedEvent {
  id: string;
  type: string;
  processed_at: string;
  [field: string]: unknown;
}

export interface PositionedEvent {
  seq: number;
  part: number;
  event: ManagedEvent;
}

/** Every event type this view can produce (docs/managed-agents.md lists them). */
export const VIEW_EVENT_TYPES = [
  'user.message',
  'user.interrupt',
  'user.tool_confirmation',
  'agent.message',
  'agent.thinking',
  'agent.tool_use',
  'agent.tool_result',
  'session.status_running',
  'session.status_idle',
  'session.error',
  'session.usage',
  'span.model_request_start',
  'span.model_request_end',
] as const;

/** A view event before its position is known: its `id` and `processed_at` default to the log event's. */
type Draft = Omit<ManagedEvent, 'id' | 'processed_at'> & { id?: string; processed_at?: string };

const text = (t: string) => ({ type: 'text', text: t });

/**
 * The id of the `agent.message` or `agent.thinking` made from content block `index` of the model's
 * message `apiMessageId`: known while the block is still being written, so a preview
 * (`event_deltas`) and the event it previews carry the same id.
 */
export const blockEventId = (apiMessageId: string, index: number): string => `sevt_${apiMessageId}_${index}`;

/** The raw content blocks of a Claude Code message that its summary has a part for, in order. */
const SUMMARISED_BLOCKS = new Set(['text', 'thinking', 'tool_use', 'tool_result']);

/**
 * Claude Code sends each content block of a model message as a message of its own (all with the
 * model's message id): the view counts them to know each block's index in the model's message.
 */
class BlockCounter {
  private readonly seen = new Map<string, number>();

  /** The block index of each summary part of `view`, or null where it cannot be known. */
  indexes(view: MessageView): Array<number | null> {
    const message = (view.content as { message?: { id?: unknown; content?: unknown } } | null)?.message;
    const id = typeof message?.id === 'string' && view.role === 'assistant' ? message.id : null;
    const blocks = Array.isArray(message?.content) ? (message.content as Array<{ type?: unknown }>) : null;
    if (id === null || blocks === null) return view.summary.map(() => null);
    const first = this.seen.get(id) ?? 0;
    this.seen.set(id, first + blocks.length);
    const summarised = blocks.flatMap((b, i) => (SUMMARISED_BLOCKS.has(String(b?.type)) ? [first + i] : []));
    return view.summary.map((_, i) => summarised[i] ?? null);
  }

  /** The model's message is complete (its model request ended): its count is no longer needed. */
  forget(apiMessageId: string): void {
    this.seen.delete(apiMessageId);
  }
}

function messageEvents(view: MessageView, blocks: BlockCounter): Draft[] {
  if (view.source === 'client') {
    const prompt = view.summary.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n\n');
    return [{ id: view.id, type: 'user.message', content: [text(prompt)] }];
  }
  const apiMessageId = (view.content as { message?: { id?: unknown } } | null)?.message?.id;
  const idOf = (index: number | null | undefined): string | undefined =>
    typeof apiMessageId === 'string' && typeof index === 'number'
      ? blockEventId(apiMessageId, index)
      : undefined;
  const indexes = blocks.indexes(view);
  const out: Draft[] = [];
  let texts: string[] = [];
  let textsId: string | undefined;
  const flush = () => {
    if (texts.length > 0) out.push({ id: textsId, type: 'agent.message', content: texts.map(text) });
    texts = [];
  };
  for (const [i, part] of (view.summary as SummaryPart[]).entries()) {
    if (part.type === 'text' && view.role === 'assistant') {
      if (texts.length === 0) textsId = idOf(indexes[i]);
      texts.push(part.text);
      continue;
    }
    flush();
    if (part.type === 'thinking') out.push({ id: idOf(indexes[i]), type: 'agent.thinking' });
    else if (part.type === 'tool_use') {
      out.push({
        id: toolUseEventId(part.toolUseId),
        type: 'agent.tool_use',
        name: managedToolName(part.name),
        input: part.input ?? {},
      });
    } else if (part.type === 'tool_result') {
      out.push({
        id: `${toolUseEventId(part.toolUseId)}_result`,
        type: 'agent.tool_result',
        tool_use_id: toolUseEventId(part.toolUseId),
        content: [text(part.content)],
        is_error: part.isError,
      });
    }
  }
  flush();
  return out;
}

function statusEvents(status: StatusEvent): Draft[] {
  if (status.status === 'running') return [{ type: 'session.status_running' }];
  if (status.status === 'retrying') {
    return [
      {
        type: 'session.error',
        error: {
          type: modelErrorType(status.upstreamStatus),
          message: `The model API failed (status ${status.upstreamStatus ?? 'none'}); Claude Code retries (attempt ${status.attempt} of ${status.maxRetries}).`,
          retry_status: { type: 'retrying' },
        },
      },
    ];
  }
  return [];
}

function modelErrorType(upstreamStatus: number | null | undefined): string {
  if (upstreamStatus === 429) return 'model_rate_limited_error';
  if (upstreamStatus === 529 || upstreamStatus === 503) return 'model_overloaded_error';
  return 'model_request_failed_error';
}

function errorEvents(error: ErrorBody): Draft[] {
  const details = error.details as { upstreamStatus?: number | null };
  const upstream = error.code === 'UPSTREAM_ERROR' || error.code === 'UPSTREAM_UNAVAILABLE';
  const stop =
    error.code === 'BUDGET_EXCEEDED'
      ? { type: 'budget_reached' }
      : upstream
        ? { type: 'retries_exhausted' }
        : { type: 'end_turn' };
  return [
    {
      type: 'session.error',
      error: {
        type: upstream ? modelErrorType(details.upstreamStatus) : 'unknown_error',
        message: error.message,
        retry_status: { type: upstream ? 'exhausted' : 'terminal' },
        details: { code: error.code, ...error.details },
      },
    },
    { type: 'session.status_idle', stop_reason: stop, stop_details: null },
  ];
}

function permissionRequestEvents(request: PermissionRequestView): Draft[] {
  return [
    {
      type: 'session.status_idle',
      stop_reason: {
        type: 'requires_action',
        event_ids: [toolUseEventId(request.toolUseId ?? request.requestId)],
      },
      stop_details: null,
    },
  ];
}

function permissionResolvedEvents(resolution: PermissionResolution): Draft[] {
  const out: Draft[] = [
    {
      id: confirmationEventId(resolution.requestId),
      type: 'user.tool_confirmation',
      tool_use_id: toolUseEventId(resolution.toolUseId ?? resolution.requestId),
      result: resolution.decision,
      deny_message: resolution.decision === 'deny' ? resolution.message : null,
    },
  ];
  // The agent goes on after an answer (an interrupt or the session's end stops it instead).
  if (resolution.by === 'client' || resolution.by === 'timeout') out.push({ type: 'session.status_running' });
  return out;
}

/** The id of a model request's `span.model_request_start` (its end names it). */
const spanStartId = (request: ModelRequestEvent, seq: number): string =>
  `sevt_mreq_${request.apiMessageId ?? seq}`;

/**
 * A model request, stored when it ended: its start and its end, one after the other (the start's
 * `processed_at` is when the request began), with the request's own usage on the end.
 */
function modelRequestEvents(request: ModelRequestEvent, seq: number): Draft[] {
  const startId = spanStartId(request, seq);
  return [
    { id: startId, type: 'span.model_request_start', processed_at: request.startedAt },
    {
      id: `${startId}_end`,
      type: 'span.model_request_end',
      model_request_start_id: startId,
      is_error: request.isError,
      model_usage: {
        input_tokens: request.usage.inputTokens,
        output_tokens: request.usage.outputTokens,
        cache_creation_input_tokens: request.usage.cacheCreationInputTokens,
        cache_read_input_tokens: request.usage.cacheReadInputTokens,
      },
      processed_at: request.endedAt,
    },
  ];
}

function interruptEvents(seq: number): Draft[] {
  return [{ id: interruptEventId(seq), type: 'user.interrupt' }];
}

/**
 * Whether a turn's terminal event ends the session's work: the seed writes `status` idle just
 * before it when no turn waits behind it. A turn with one behind it does not make the session
 * idle here either: the next turn's `session.status_running` follows.
 */
function idleBefore(event: SessionEvent, previous: SessionEvent | null): boolean {
  if (!previous || previous.type !== 'status' || previous.turnId !== event.turnId) return false;
  return (JSON.parse(previous.data) as StatusEvent).status === 'idle';
}

/** The session's token usage so far (completed turns), as `session.usage` shows it. */
interface UsageSoFar {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number };
}

function completeEvents(completion: TurnCompletion, idle: boolean, usage: UsageSoFar): Draft[] {
  usage.input_tokens += completion.usage.inputTokens;
  usage.output_tokens += completion.usage.outputTokens;
  usage.cache_read_input_tokens += completion.usage.cacheReadInputTokens;
  usage.cache_creation.ephemeral_5m_input_tokens += completion.usage.cacheCreationInputTokens;
  const out: Draft[] = [{ type: 'session.usage', usage: structuredClone(usage) }];
  if (idle) out.push({ type: 'session.status_idle', stop_reason: { type: 'end_turn' }, stop_details: null });
  return out;
}

/**
 * The view of a log read in order (a list from its start, a stream from a cursor): it remembers
 * the stored event before the current one (whether a turn's end is idle) and the session's usage
 * so far (`session.usage` after each completed turn).
 */
export class LogView {
  private previous: SessionEvent | null = null;
  private readonly blocks = new BlockCounter();
  private readonly usage: UsageSoFar = {
    input_tokens: 0,
    output_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0 },
  };

  /** The Managed Agents events of the next stored log event, in order, with their positions. */
  next(event: SessionEvent): PositionedEvent[] {
    if (event.ephemeral) return [];
    const drafts = this.draftsOf(event);
    this.previous = event;
    const processedAt = new Date(event.createdAt).toISOString();
    return drafts.map((draft, part) => ({
      seq: event.seq,
      part,
      event: {
        ...draft,
        id: draft.id ?? `sevt_${event.seq}_${part}`,
        processed_at: draft.processed_at ?? processedAt,
      } as ManagedEvent,
    }));
  }

  private draftsOf(event: SessionEvent): Draft[] {
    const data = JSON.parse(event.data) as unknown;
    switch (event.type) {
      case 'message':
        return messageEvents(data as MessageView, this.blocks);
      case 'model_request': {
        const request = data as ModelRequestEvent;
        if (request.apiMessageId !== null) this.blocks.forget(request.apiMessageId);
        return modelRequestEvents(request, event.seq);
      }
      case 'interrupt':
        return interruptEvents(event.seq);
      case 'status':
        return statusEvents(data as StatusEvent);
      case 'permission_request':
        return permissionRequestEvents(data as PermissionRequestView);
      case 'permission_resolved':
        return permissionResolvedEvents(data as PermissionResolution);
      case 'complete':
        return completeEvents(data as TurnCompletion, idleBefore(event, this.previous), this.usage);
      case 'error': {
        const drafts = errorEvents(data as ErrorBody);
        return idleBefore(event, this.previous)
          ? drafts
          : drafts.filter((d) => d.type !== 'session.status_idle');
      }
      default:
        // `delta` (not stored) and anything a later version adds: not part of this view.
        return [];
    }
  }
}

export const positionOf = (e: { seq: number; part: number }): string => `${e.seq}.${e.part}`;

/** A position as a client sends it back (`Last-Event-ID`): `seq.part`, or a seed id `seq`. */
export function parsePosition(value: string): { seq: number; part: number } | null {
  const match = /^(\d{1,15})(?:\.(\d{1,6}))?$/.exec(value.trim());
  if (!match) return null;
  // A bare `seq` (a seed stream's id) means: everything of that log event was seen.
  return { seq: Number(match[1]), part: match[2] === undefined ? Number.MAX_SAFE_INTEGER : Number(match[2]) };
}

/** Whether an event comes after a position. */
export const isAfter = (e: { seq: number; part: number }, p: { seq: number; part: number }): boolean =>
  e.seq > p.seq || (e.seq === p.seq && e.part > p.part);
