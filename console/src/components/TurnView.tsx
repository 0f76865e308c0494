/** One turn: the prompt, what the agent wrote and did (tool cards, thinking), and its end. */
import type { Api } from '../api.js';
import { editDiff } from '../edit-diff.js';
import { isActive, type Part, type ToolCall, type Turn } from '../transcript.js';
import { formatCost } from './Sessions.js';
import { TurnChanges } from './TurnChanges.js';

/** What can be done with an ended turn: undo it (and every later one), or branch off after it. */
export interface TurnActions {
  api: Api;
  sessionId: string;
  /** A turn runs or waits: the workspace is its own, no rewind now. */
  busy: boolean;
  onRewind: (turn: Turn) => void;
  onFork: (turn: Turn) => void;
}

const STATUS_LABEL: Record<Turn['status'], string> = {
  queued: 'queued',
  running: 'running',
  waiting: 'waiting for approval',
  completed: 'completed',
  interrupted: 'interrupted',
  failed: 'failed',
};

export function TurnView({
  turn,
  tools,
  actions,
}: {
  turn: Turn;
  tools: Record<string, ToolCall>;
  actions: TurnActions;
}) {
  return (
    <li class={`turn ${turn.status}${turn.rewound ? ' rewound' : ''}`} data-turn={turn.messageId}>
      <div class="prompt">
        <span class="who">You</span>
        <p>{turn.prompt}</p>
        <span class={`badge ${turn.status}`}>
          {STATUS_LABEL[turn.status]}
          {turn.status === 'queued' && turn.position ? ` (position ${turn.position})` : ''}
        </span>
        {turn.rewound && <span class="badge rewound-badge">rewound</span>}
      </div>
      <div class="agent">
        {turn.parts.map((part, i) => (
          <PartView key={i} part={part} tools={tools} />
        ))}
        {turn.live.thinking && (
          <details class="thinking">
            <summary>Thinking…</summary>
            <p>{turn.live.thinking}</p>
          </details>
        )}
        {turn.live.text && <p class="text streaming">{turn.live.text}</p>}
      </div>
      {turn.completion && (
        <p class="turn-end">
          {turn.completion.status} · {formatCost(turn.completion.costUsd)}
          {turn.completion.costSimulated ? ' (simulated)' : ''} · {turn.completion.usage?.inputTokens ?? 0}{' '}
          tokens in, {turn.completion.usage?.outputTokens ?? 0} out
          {turn.completion.durationMs !== undefined
            ? ` · ${(turn.completion.durationMs / 1000).toFixed(1)} s`
            : ''}
        </p>
      )}
      {turn.error && (
        <p class="error turn-error" role="alert">
          {turn.error.message} ({turn.error.code})
        </p>
      )}
      {!isActive(turn) && <TurnFooter turn={turn} actions={actions} />}
    </li>
  );
}

/** An ended turn's changes, and its Rewind and Fork buttons (not on a turn already rewound). */
function TurnFooter({ turn, actions }: { turn: Turn; actions: TurnActions }) {
  return (
    <div class="turn-footer">
      <TurnChanges
        api={actions.api}
        sessionId={actions.sessionId}
        messageId={turn.messageId}
        changes={turn.changes}
      />
      {!turn.rewound && (
        <div class="turn-buttons">
          <button
            type="button"
            class="quiet"
            disabled={actions.busy}
            title="Put the files and the conversation back to before this turn"
            onClick={() => actions.onRewind(turn)}
          >
            Rewind…
          </button>
          <button
            type="button"
            class="quiet"
            title="A new session from after this turn, with its files"
            onClick={() => actions.onFork(turn)}
          >
            Fork
          </button>
        </div>
      )}
    </div>
  );
}

function PartView({ part, tools }: { part: Part; tools: Record<string, ToolCall> }) {
  switch (part.kind) {
    case 'text':
      return <p class="text">{part.text}</p>;
    case 'thinking':
      return (
        <details class="thinking">
          <summary>Thinking</summary>
          <p>{part.text}</p>
        </details>
      );
    case 'note':
      return <p class="note">{part.text}</p>;
    case 'tool': {
      const call = tools[part.toolUseId];
      return call ? <ToolCard call={call} /> : null;
    }
  }
}

function ToolCard({ call }: { call: ToolCall }) {
  const diff = editDiff(call.name, call.input);
  const state = call.result === undefined ? 'running' : call.isError ? 'error' : 'done';
  const duration =
    call.endedAt && call.startedAt
      ? `${((Date.parse(call.endedAt) - Date.parse(call.startedAt)) / 1000).toFixed(1)} s`
      : '';
  return (
    <details class={`tool ${state}`}>
      <summary>
        <span class="tool-name">{call.name}</span> <span class="tool-brief">{brief(call.input)}</span>{' '}
        <span class={`badge ${state}`}>{state}</span> {duration}
      </summary>
      {diff && diff.length > 0 && (
        <>
          <h4>Change</h4>
          <pre class="diff">
            {diff.map((line, i) => (
              <span key={i} class={line.sign === '+' ? 'added' : 'removed'}>
                {`${line.sign} ${line.text}\n`}
              </span>
            ))}
          </pre>
        </>
      )}
      <h4>Input</h4>
      <pre>{JSON.stringify(call.input, null, 2)}</pre>
      {call.result !== undefined && (
        <>
          <h4>Result</h4>
          <pre>{call.result}</pre>
        </>
      )}
    </details>
  );
}

/** The gist of a tool's input for the card's one-line summary. */
function brief(input: unknown): string {
  if (!input || typeof input !== 'object') return '';
  const i = input as Record<string, unknown>;
  const value = i.command ?? i.file_path ?? i.path ?? i.pattern ?? i.url ?? '';
  const text = typeof value === 'string' ? value : '';
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
