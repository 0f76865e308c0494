/**
 * The event catalogue: every event a session's log can hold, with its payload schema and its
 * properties, defined once. The event log and the SSE writer are typed by it, the tests import
 * its types, and the API documents (OpenAPI, a second API surface) are generated from it.
 *
 * Properties of an event type:
 * - `stored`: appended to the log with a sequence number (the SSE `id:`); false: published only
 *   (a text delta), never replayed;
 * - `terminal`: the last event of a turn (exactly one per turn);
 * - `retained`: kept by retention (the history, and each turn's outcome);
 * - `billed`: delivering it spends one unit of the key's `events` bucket;
 * - `optIn`: sent on a stream only when the client asks (`partial`).
 *
 * Besides the log's events, a stream may carry a notice about the connection itself (see
 * `STREAM_NOTICES`): an `error` event without an `id:`.
 */
import { z } from 'zod';
import { ErrorBodySchema } from './errors.js';
import type { SessionEvent } from './types.js';

const isoTime = z.string().describe('ISO 8601 time, UTC');

export const TokenUsageSchema = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cacheCreationInputTokens: z.number().int(),
  cacheReadInputTokens: z.number().int(),
});
export type TokenUsage = z.infer<typeof TokenUsageSchema>;

// --- message ---------------------------------------------------------------------------------

/** The stable summary of a Claude Code message (src/domain/message-summary.ts builds it). */
export const SummaryPartSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('thinking'), text: z.string() }),
  z.object({ type: z.literal('tool_use'), toolUseId: z.string(), name: z.string(), input: z.unknown() }),
  z.object({
    type: z.literal('tool_result'),
    toolUseId: z.string(),
    name: z.string().nullable(),
    isError: z.boolean(),
    content: z.string(),
  }),
  z.looseObject({ type: z.literal('system'), subtype: z.string() }),
  z.object({
    type: z.literal('result'),
    subtype: z.string(),
    isError: z.boolean(),
    numTurns: z.number().int(),
    durationMs: z.number(),
    stopReason: z.string().nullable(),
  }),
]);
export type SummaryPart = z.infer<typeof SummaryPartSchema>;

/** A `message` event; also one item of the message history. */
export const MessageViewSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  /** The `messageId` of the prompt whose turn produced this message. */
  turnId: z.string(),
  sequence: z.number().int(),
  timestamp: isoTime,
  /** Claude Code's message type (`user`, `assistant`, `system`, `result`, …). */
  type: z.string(),
  subtype: z.string().optional(),
  role: z.enum(['user', 'assistant', 'system']),
  /** `client`: the prompt as sent; `claude_code`: produced by the agent. */
  source: z.enum(['client', 'claude_code']),
  summary: z.array(SummaryPartSchema),
  /** The full Claude Code message, tool calls and results included (null when cut, see `truncated`). */
  content: z.unknown(),
  /** Set on a stream when the message was too large to send whole; the history has it. */
  truncated: z.object({ bytes: z.number().int() }).optional(),
  /** In the history: the turn was rewound (POST …/rewind); its messages stay readable. */
  rewound: z.literal(true).optional(),
});
export type MessageView = z.infer<typeof MessageViewSchema>;
export type MessageRole = MessageView['role'];

// --- status ----------------------------------------------------------------------------------

const statusBase = { sessionId: z.string(), messageId: z.string(), at: isoTime };

/** A turn's state changes: queued (with its place), running, waiting, retrying, idle. */
export const StatusEventSchema = z.discriminatedUnion('status', [
  z.object({ ...statusBase, status: z.literal('queued'), position: z.number().int().min(1) }),
  z.object({ ...statusBase, status: z.literal('running') }),
  /** Every Claude Code process slot (MAX_LIVE_PROCESSES) is taken: the turn waits for one. */
  z.object({ ...statusBase, status: z.literal('waiting_for_process'), position: z.number().int().min(1) }),
  z.object({ ...statusBase, status: z.literal('waiting_for_permission'), toolName: z.string() }),
  z.object({
    ...statusBase,
    status: z.literal('retrying'),
    attempt: z.number().int(),
    maxRetries: z.number().int(),
    delayMs: z.number(),
    upstreamStatus: z.number().int().nullable(),
  }),
  z.object({ ...statusBase, status: z.literal('idle') }),
]);
export type StatusEvent = z.infer<typeof StatusEventSchema>;
export type TurnStatusName = StatusEvent['status'];
/** The details a status carries besides the common fields. */
export type StatusDetails<S extends TurnStatusName> = Omit<
  Extract<StatusEvent, { status: S }>,
  keyof typeof statusBase | 'status'
>;

// --- permissions -----------------------------------------------------------------------------

export const PermissionRequestSchema = z.object({
  requestId: z.string(),
  sessionId: z.string(),
  messageId: z.string(),
  toolName: z.string(),
  toolUseId: z.string().nullable(),
  input: z.record(z.string(), z.unknown()),
  /** Claude Code's own description of the call, and why it asks. */
  description: z.string().nullable(),
  displayName: z.string().nullable(),
  decisionReason: z.string().nullable(),
  /**
   * Claude Code's suggestions, as it made them; `remember: true` applies only the allow rules
   * among them for the rest of the session.
   */
  suggestions: z.array(z.unknown()),
  createdAt: isoTime,
  expiresAt: isoTime,
});
export type PermissionRequestView = z.infer<typeof PermissionRequestSchema>;

export const PermissionResolutionSchema = z.object({
  requestId: z.string(),
  sessionId: z.string(),
  messageId: z.string(),
  toolName: z.string(),
  /** The tool call's id (as in its permission_request); absent in events stored before it was added. */
  toolUseId: z.string().nullable().optional(),
  decision: z.enum(['allow', 'deny']),
  /** Who decided: the client, the timeout's default, an interrupt, or the session's end. */
  by: z.enum(['client', 'timeout', 'interrupt', 'session_end']),
  message: z.string().nullable(),
  updatedInput: z.boolean(),
  remember: z.boolean(),
  resolvedAt: isoTime,
});
export type PermissionResolution = z.infer<typeof PermissionResolutionSchema>;
export type PermissionDecision = PermissionResolution['decision'];

// --- delta -----------------------------------------------------------------------------------

export const DeltaEventSchema = z.object({
  sessionId: z.string(),
  messageId: z.string(),
  kind: z.enum(['text', 'thinking']),
  /** The content block the text belongs to. */
  index: z.number().int(),
  text: z.string(),
  /** The model API's id of the message being written (the `message` event's `content.message.id`). */
  apiMessageId: z.string().nullable(),
});
export type DeltaEvent = z.infer<typeof DeltaEventSchema>;

/**
 * Two deltas published one after the other as one (the second's text appended), or null when
 * they are not of the same content block of the same turn, at the same point of the log. A
 * reader that lags behind gets the deltas that piled up for it joined this way.
 */
export function joinDeltas(first: SessionEvent, next: SessionEvent): SessionEvent | null {
  const sameSpot =
    first.type === 'delta' &&
    next.type === 'delta' &&
    first.ephemeral === true &&
    next.ephemeral === true &&
    first.turnId === next.turnId &&
    first.seq === next.seq;
  if (!sameSpot) return null;
  const a = JSON.parse(first.data) as DeltaEvent;
  const b = JSON.parse(next.data) as DeltaEvent;
  if (a.kind !== b.kind || a.index !== b.index || a.apiMessageId !== b.apiMessageId) return null;
  return { ...first, data: JSON.stringify({ ...a, text: a.text + b.text }) };
}

// --- model requests --------------------------------------------------------------------------

/**
 * One call of the model API, as Claude Code streamed it: from the start of its reply
 * (message_start) to its end (message_stop), or cut short (`isError`: the stream broke and
 * Claude Code retried, or the turn was interrupted or failed), with the request's own usage.
 */
export const ModelRequestEventSchema = z.object({
  sessionId: z.string(),
  messageId: z.string(),
  /** The model API's message id (the `message` events' `content.message.id`); null if unknown. */
  apiMessageId: z.string().nullable(),
  /** The subagent's Task call whose request this was; null for the session's own agent. */
  parentToolUseId: z.string().nullable(),
  startedAt: isoTime,
  endedAt: isoTime,
  isError: z.boolean(),
  usage: TokenUsageSchema,
});
export type ModelRequestEvent = z.infer<typeof ModelRequestEventSchema>;

// --- interrupts ------------------------------------------------------------------------------

/** A client asked to stop the session's running turn (POST …/interrupt, or `/v1` `user.interrupt`). */
export const InterruptEventSchema = z.object({
  sessionId: z.string(),
  /** The turn it stopped; null when none was running (a no-op, recorded all the same). */
  messageId: z.string().nullable(),
  interrupted: z.boolean(),
  at: isoTime,
});
export type InterruptEvent = z.infer<typeof InterruptEventSchema>;

// --- workspace changes -----------------------------------------------------------------------

/** One file a turn changed (git's view of the workspace before and after it). */
export const FileChangeSchema = z.object({
  path: z.string(),
  status: z.enum(['added', 'modified', 'deleted', 'renamed']),
  previousPath: z.string().optional(),
  additions: z.number().int(),
  deletions: z.number().int(),
  binary: z.boolean(),
});

/** What a turn changed in its workspace: stored before its `complete` or `error`. */
export const FilesChangedEventSchema = z.object({
  sessionId: z.string(),
  messageId: z.string(),
  /** The snapshot of the workspace after the turn. */
  checkpoint: z.string(),
  files: z.array(FileChangeSchema),
});

/** A rewind: which turns it undid, and what it put back. */
export const RewoundEventSchema = z.object({
  sessionId: z.string(),
  /** The turn rewound to: the workspace and/or conversation are as they were before it. */
  messageId: z.string(),
  files: z.boolean(),
  conversation: z.boolean(),
  /** The turns now marked `rewound: true` (this one and every later one). */
  rewoundMessageIds: z.array(z.string()),
  /** The snapshot the workspace was put back to (null: files were not rewound). */
  checkpoint: z.string().nullable(),
  at: isoTime,
});

// --- complete --------------------------------------------------------------------------------

/** The `complete` event; the non-streaming response carries exactly this. */
export const TurnCompletionSchema = z.object({
  messageId: z.string(),
  sessionId: z.string(),
  /** The final assistant text of the turn. */
  response: z.string(),
  usage: TokenUsageSchema,
  costUsd: z.number(),
  durationMs: z.number(),
  numTurns: z.number().int(),
  stopReason: z.string().nullable(),
  /** `completed`, or `interrupted` when the turn was stopped (or cancelled while queued). */
  status: z.enum(['completed', 'interrupted']),
  /** Present only where the model API is simulated (the offline demo): the cost is not real. */
  costSimulated: z.literal(true).optional(),
  /** The files the turn changed (as its `files_changed` event); absent when no snapshot was made. */
  changes: z.array(FileChangeSchema).optional(),
});
export type TurnCompletion = z.infer<typeof TurnCompletionSchema>;

// --- the catalogue ---------------------------------------------------------------------------

interface EventTraits {
  schema: z.ZodType;
  stored: boolean;
  terminal: boolean;
  retained: boolean;
  billed: boolean;
  optIn: boolean;
  description: string;
}

export const EVENT_CATALOGUE = {
  message: {
    schema: MessageViewSchema,
    stored: true,
    terminal: false,
    retained: true,
    billed: true,
    optIn: false,
    description:
      'One Claude Code message (the prompt, assistant text and tool calls, tool results, system notes).',
  },
  status: {
    schema: StatusEventSchema,
    stored: true,
    terminal: false,
    retained: false,
    billed: true,
    optIn: false,
    description:
      'The turn changed state: queued, running, waiting_for_process, waiting_for_permission, retrying, idle.',
  },
  permission_request: {
    schema: PermissionRequestSchema,
    stored: true,
    terminal: false,
    retained: false,
    billed: true,
    optIn: false,
    description: 'Claude Code asks whether a tool call may run; answer with POST …/permissions/:requestId.',
  },
  permission_resolved: {
    schema: PermissionResolutionSchema,
    stored: true,
    terminal: false,
    retained: false,
    billed: true,
    optIn: false,
    description: 'A permission question was answered (by the client, the timeout, an interrupt or the end).',
  },
  delta: {
    schema: DeltaEventSchema,
    stored: false,
    terminal: false,
    retained: false,
    billed: false,
    optIn: true,
    description: 'Text or thinking as the model writes it (`partial: true`); the message event repeats it.',
  },
  model_request: {
    schema: ModelRequestEventSchema,
    stored: true,
    terminal: false,
    retained: false,
    billed: true,
    optIn: false,
    description:
      'A call of the model API ended (or was cut short), with its own token usage; stored after its messages.',
  },
  interrupt: {
    schema: InterruptEventSchema,
    stored: true,
    terminal: false,
    retained: false,
    billed: true,
    optIn: false,
    description: 'A client asked to interrupt the session (whether or not a turn was running).',
  },
  files_changed: {
    schema: FilesChangedEventSchema,
    stored: true,
    terminal: false,
    retained: true,
    billed: true,
    optIn: false,
    description: "The files a turn changed in the workspace; stored before the turn's complete or error.",
  },
  rewound: {
    schema: RewoundEventSchema,
    stored: true,
    terminal: false,
    retained: true,
    billed: true,
    optIn: false,
    description: 'The workspace and/or the conversation were put back to before a turn (POST …/rewind).',
  },
  complete: {
    schema: TurnCompletionSchema,
    stored: true,
    terminal: true,
    retained: true,
    billed: true,
    optIn: false,
    description: 'The turn ended with an answer (completed, or interrupted).',
  },
  error: {
    schema: ErrorBodySchema,
    stored: true,
    terminal: true,
    retained: true,
    billed: true,
    optIn: false,
    description: "The turn failed; the data is the error envelope's error object.",
  },
} as const satisfies Record<string, EventTraits>;

export type SessionEventType = keyof typeof EVENT_CATALOGUE;
export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as SessionEventType[];

/** The payload (SSE `data:`) of each event type. */
export type EventPayload<T extends SessionEventType> = z.infer<(typeof EVENT_CATALOGUE)[T]['schema']>;

type TypesWhere<P extends keyof EventTraits> = {
  [T in SessionEventType]: (typeof EVENT_CATALOGUE)[T][P] extends true ? T : never;
}[SessionEventType];

/** Event types that are published but never stored (no sequence number of their own). */
export type EphemeralEventType = Exclude<SessionEventType, TypesWhere<'stored'>>;
export type StoredEventType = TypesWhere<'stored'>;

const typesWhere = (trait: keyof EventTraits): ReadonlySet<SessionEventType> =>
  new Set(EVENT_TYPES.filter((t) => EVENT_CATALOGUE[t][trait] === true));

export const TERMINAL_EVENT_TYPES = typesWhere('terminal');
/** Retention never prunes these: the history, and each turn's outcome (a replay still ends). */
export const RETAINED_EVENT_TYPES = typesWhere('retained');
export const BILLED_EVENT_TYPES = typesWhere('billed');
export const OPT_IN_EVENT_TYPES = typesWhere('optIn');

// --- notices about a stream's connection -----------------------------------------------------

/**
 * Events about one connection rather than the session: sent as `error` without an `id:`, so a
 * client that reconnects resumes after the last event of the log. One factory per situation.
 */
export const STREAM_NOTICES = {
  cursorExpired: (after: number, floor: number) =>
    notice({
      code: 'CURSOR_EXPIRED',
      message: `Some events after ${after} up to ${floor} are no longer kept (retention): the messages and each turn's final event are. The stream goes on with what is kept.`,
      details: { after, completeFrom: floor + 1 },
    }),
  keyRevoked: () =>
    notice({ code: 'INVALID_API_KEY', message: 'The API key of this stream was revoked.', details: {} }),
  shuttingDown: (retryMs: number) =>
    notice({
      code: 'SERVICE_UNAVAILABLE',
      message: 'The server is shutting down. Reconnect with Last-Event-ID to resume where you left off.',
      details: { retryMs },
    }),
  /** Its error body comes from the rate limit's own factory (rateLimitExceeded). */
  rateLimited: (error: z.infer<typeof ErrorBodySchema>) => notice(error),
} as const;

export type StreamNoticeName = keyof typeof STREAM_NOTICES;

export interface StreamNotice {
  type: 'error';
  data: z.infer<typeof ErrorBodySchema>;
}

function notice(data: z.infer<typeof ErrorBodySchema>): StreamNotice {
  return { type: 'error', data };
}
