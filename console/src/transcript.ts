/**
 * The one place where the session's event log becomes what the screen shows.
 *
 * Everything the console draws for a session comes from `applyEvent`: live SSE events, the
 * replayed ones after a reload or a reconnect, and history items (`GET …/messages`, fed in as
 * `history` events: the `message` events they were, for turns not replayed from the log). So a reload shows what live streaming showed. Events carry their
 * log id; one already applied is ignored, so a replay that overlaps adds no duplicate.
 */
import type { StreamEvent } from './sse.js';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens?: number;
  cacheReadInputTokens?: number;
}

export interface Completion {
  status: string;
  stopReason?: string | null;
  costUsd?: number | null;
  costSimulated?: boolean;
  usage?: Usage;
  durationMs?: number;
  numTurns?: number;
}

/** One file a turn changed (its `files_changed` event, or its `complete`'s `changes`). */
export interface FileChange {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed';
  previousPath?: string;
  additions: number;
  deletions: number;
  binary: boolean;
}

export interface TurnError {
  code: string;
  message: string;
}

export interface ToolCall {
  toolUseId: string;
  name: string;
  input: unknown;
  startedAt: string;
  result?: string;
  isError?: boolean;
  endedAt?: string;
  decision?: { decision: string; by: string };
}

export type Part =
  | { kind: 'text'; text: string }
  | { kind: 'thinking'; text: string }
  | { kind: 'tool'; toolUseId: string }
  | { kind: 'note'; text: string };

export type TurnStatus = 'queued' | 'running' | 'waiting' | 'completed' | 'interrupted' | 'failed';

export interface Turn {
  messageId: string;
  prompt: string;
  status: TurnStatus;
  /** Place in the queue (1: next), while queued. */
  position?: number;
  parts: Part[];
  /** Text and thinking being written (`delta` events), until the complete message arrives. */
  live: { text: string; thinking: string };
  completion?: Completion;
  error?: TurnError;
  /** What the turn changed in the workspace; unknown (undefined) for a turn drawn from the history. */
  changes?: FileChange[];
  /** Undone by a rewind (`rewound` event, or `rewound: true` in the history); kept on screen, marked. */
  rewound?: boolean;
}

export interface PermissionRequest {
  requestId: string;
  messageId: string;
  toolName: string;
  toolUseId?: string;
  input: unknown;
  description?: string;
  decisionReason?: string;
  expiresAt?: string;
}

export interface Transcript {
  turns: Turn[];
  tools: Record<string, ToolCall>;
  pending: PermissionRequest[];
  /** The id of the last stored event applied: where a reconnect resumes. */
  lastEventId: number;
  /** A stream-level problem (rate limit on events, shutdown), not part of any turn. */
  notice?: TurnError;
  /**
   * The id of the last event that changed the workspace's files (`files_changed`, a `rewound` of
   * the files): the file tree reads the workspace again when it moves.
   */
  filesRevision: number;
}

export const emptyTranscript = (): Transcript => ({
  turns: [],
  tools: {},
  pending: [],
  lastEventId: 0,
  filesRevision: 0,
});

export const isActive = (turn: Turn): boolean =>
  turn.status === 'queued' || turn.status === 'running' || turn.status === 'waiting';

export const isBusy = (t: Transcript): boolean => t.turns.some(isActive);

type Json = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function applyEvent(state: Transcript, event: StreamEvent): Transcript {
  if (event.id !== undefined && event.id <= state.lastEventId) return state;
  const data = (event.data ?? {}) as Json;
  const next: Transcript = {
    ...state,
    turns: [...state.turns],
    lastEventId: event.id ?? state.lastEventId,
  };
  switch (event.event) {
    case 'message':
      onMessage(next, data, false);
      break;
    case 'history':
      // The console's own: a history item (`GET …/messages`) of a turn not replayed from the log.
      onMessage(next, data, true);
      break;
    case 'delta':
      updateTurn(next, str(data.messageId), (turn) => {
        const kind = data.kind === 'thinking' ? 'thinking' : 'text';
        return { ...turn, live: { ...turn.live, [kind]: turn.live[kind] + str(data.text) } };
      });
      break;
    case 'status':
      onStatus(next, data);
      break;
    case 'permission_request':
      next.pending = [
        ...state.pending.filter((p) => p.requestId !== data.requestId),
        data as unknown as PermissionRequest,
      ];
      break;
    case 'permission_resolved':
      onResolved(next, data);
      break;
    case 'complete':
      updateTurn(next, str(data.messageId), (turn) => ({
        ...turn,
        status: data.status === 'interrupted' ? 'interrupted' : 'completed',
        position: undefined,
        live: { text: '', thinking: '' },
        completion: data as unknown as Completion,
        changes: Array.isArray(data.changes) ? (data.changes as FileChange[]) : turn.changes,
      }));
      next.pending = next.pending.filter((p) => p.messageId !== data.messageId);
      break;
    case 'error':
      onError(next, event.id !== undefined, data);
      break;
    case 'files_changed':
      updateTurn(next, str(data.messageId), (turn) => ({
        ...turn,
        changes: Array.isArray(data.files) ? (data.files as FileChange[]) : [],
      }));
      next.filesRevision = event.id ?? state.filesRevision + 1;
      break;
    case 'rewound': {
      // Not part of a turn: it marks the turns it undid (they stay on screen, as in the history).
      const ids = new Set(Array.isArray(data.rewoundMessageIds) ? data.rewoundMessageIds.map(str) : []);
      next.turns = next.turns.map((turn) => (ids.has(turn.messageId) ? { ...turn, rewound: true } : turn));
      if (data.files === true) next.filesRevision = event.id ?? state.filesRevision + 1;
      break;
    }
    case 'sent': {
      // The console's own: this tab's prompt was accepted (the 202). The log says the same a
      // moment later; until a queued turn runs, its prompt is known only here.
      const messageId = str(data.messageId);
      const known = next.turns.some((turn) => turn.messageId === messageId);
      updateTurn(next, messageId, (turn) => ({
        ...turn,
        prompt: turn.prompt || str(data.prompt),
        ...(known
          ? {}
          : data.queued === true
            ? { status: 'queued', position: Number(data.position) || undefined }
            : {}),
      }));
      break;
    }
    case 'reconnected':
      // The console's own: the stream is back after a drop.
      next.notice = undefined;
      break;
    default:
      // Later versions add event names: ignored, as the contract asks.
      return next;
  }
  return next;
}

/** Applies `change` to the turn `messageId`, creating it (prompt unknown yet) if it is new. */
function updateTurn(t: Transcript, messageId: string, change: (turn: Turn) => Turn): void {
  let at = t.turns.findIndex((turn) => turn.messageId === messageId);
  if (at < 0) {
    t.turns.push({ messageId, prompt: '', status: 'running', parts: [], live: { text: '', thinking: '' } });
    at = t.turns.length - 1;
  }
  t.turns[at] = change(t.turns[at]!);
}

function onMessage(t: Transcript, item: Json, fromHistory: boolean): void {
  const turnId = str(item.turnId);
  const summary = Array.isArray(item.summary) ? (item.summary as Json[]) : [];
  const timestamp = str(item.timestamp);
  // The history marks a rewound turn's messages (the `rewound` event did, when it was replayed).
  const rewound = item.rewound === true ? { rewound: true } : {};
  if (item.source === 'client') {
    const prompt = summary.map((p) => str(p.text)).join('\n');
    updateTurn(t, turnId, (turn) => ({ ...turn, prompt, ...rewound }));
    return;
  }
  updateTurn(t, turnId, (before) => {
    const turn = { ...before, ...rewound };
    const parts = [...turn.parts];
    const live = { ...turn.live };
    for (const part of summary) {
      switch (part.type) {
        case 'text':
          if (item.role === 'assistant') {
            parts.push({ kind: 'text', text: str(part.text) });
            live.text = ''; // the complete message replaces what the deltas wrote
          }
          break;
        case 'thinking':
          parts.push({ kind: 'thinking', text: str(part.text) });
          live.thinking = '';
          break;
        case 'tool_use': {
          const toolUseId = str(part.toolUseId);
          t.tools = {
            ...t.tools,
            [toolUseId]: { toolUseId, name: str(part.name), input: part.input, startedAt: timestamp },
          };
          parts.push({ kind: 'tool', toolUseId });
          break;
        }
        case 'tool_result': {
          const toolUseId = str(part.toolUseId);
          const call = t.tools[toolUseId] ?? {
            toolUseId,
            name: str(part.name),
            input: null,
            startedAt: timestamp,
          };
          t.tools = {
            ...t.tools,
            [toolUseId]: {
              ...call,
              result: str(part.content),
              isError: part.isError === true,
              endedAt: timestamp,
            },
          };
          break;
        }
        case 'system':
          if (part.subtype === 'api_retry') {
            parts.push({
              kind: 'note',
              text: `The model API failed; retry ${String(part.attempt)} of ${String(part.maxRetries)}.`,
            });
          }
          break;
        case 'result':
          // From the history alone, the result message is the turn's end as far as it tells it.
          // In the event log the turn's `complete` or `error` event that follows says more.
          if (fromHistory) return { ...turn, parts, live, ...completionFromResult(item, part) };
          break;
      }
    }
    return { ...turn, parts, live };
  });
}

function completionFromResult(item: Json, part: Json): Pick<Turn, 'completion' | 'status'> {
  const content = (item.content ?? {}) as Json;
  const usage = (content.usage ?? {}) as Json;
  const failed = part.isError === true;
  return {
    status: failed ? 'failed' : 'completed',
    completion: {
      status: failed ? 'failed' : 'completed',
      stopReason: typeof part.stopReason === 'string' ? part.stopReason : null,
      costUsd: typeof content.total_cost_usd === 'number' ? content.total_cost_usd : null,
      usage: {
        inputTokens: Number(usage.input_tokens ?? 0),
        outputTokens: Number(usage.output_tokens ?? 0),
      },
      durationMs: typeof part.durationMs === 'number' ? part.durationMs : undefined,
      numTurns: typeof part.numTurns === 'number' ? part.numTurns : undefined,
    },
  };
}

function onStatus(t: Transcript, data: Json): void {
  const messageId = str(data.messageId);
  if (!messageId) return;
  const status = str(data.status);
  updateTurn(t, messageId, (turn) => {
    switch (status) {
      case 'queued':
        return { ...turn, status: 'queued', position: Number(data.position) || undefined };
      case 'running':
        return { ...turn, status: 'running', position: undefined };
      case 'waiting_for_permission':
        return { ...turn, status: 'waiting' };
      case 'waiting_for_process':
        return { ...turn, status: 'queued', position: Number(data.position) || undefined };
      default:
        return turn;
    }
  });
}

function onResolved(t: Transcript, data: Json): void {
  const request = t.pending.find((p) => p.requestId === data.requestId);
  t.pending = t.pending.filter((p) => p.requestId !== data.requestId);
  const decision = { decision: str(data.decision), by: str(data.by) };
  const toolUseId = request?.toolUseId;
  if (toolUseId && t.tools[toolUseId]) {
    t.tools = { ...t.tools, [toolUseId]: { ...t.tools[toolUseId]!, decision } };
  }
  updateTurn(t, str(data.messageId), (turn) => ({
    ...turn,
    status: turn.status === 'waiting' ? 'running' : turn.status,
    parts: [
      ...turn.parts,
      {
        kind: 'note',
        text: `${str(data.toolName) || 'Tool'}: ${decision.decision === 'allow' ? 'allowed' : 'denied'} (by ${decision.by})`,
      },
    ],
  }));
}

function onError(t: Transcript, stored: boolean, data: Json): void {
  const error = { code: str(data.code), message: str(data.message) };
  // A stored `error` ends the running turn (its data names no turn: it is the running one's).
  const running = [...t.turns]
    .reverse()
    .find((turn) => turn.status === 'running' || turn.status === 'waiting');
  if (!stored || !running) {
    t.notice = error;
    return;
  }
  updateTurn(t, running.messageId, (turn) => ({
    ...turn,
    status: 'failed',
    live: { text: '', thinking: '' },
    error,
  }));
  t.pending = t.pending.filter((p) => p.messageId !== running.messageId);
}
