/**
 * One session: its conversation (turns, open approvals, the prompt box and the stop button) beside
 * its workspace's files.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, describeError, type Api } from '../api.js';
import { SessionFeed } from '../session-feed.js';
import { isBusy, type PermissionRequest, type Transcript, type Turn } from '../transcript.js';
import { Files } from './Files.js';
import { RewindDialog } from './RewindDialog.js';
import { TurnView, type TurnActions } from './TurnView.js';
import { ErrorAlert } from './ErrorAlert.js';

export function Chat(props: {
  api: Api;
  sessionId: string;
  onTurnEnded: () => void;
  onGone: () => void;
  /** A session made here (a fork): open it. */
  onOpen: (sessionId: string) => void;
}) {
  const { api, sessionId } = props;
  const feed = useMemo(() => new SessionFeed(api, sessionId), [sessionId]);
  const [transcript, setTranscript] = useState<Transcript>(feed.state);
  const [prompt, setPrompt] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [rewinding, setRewinding] = useState<Turn | null>(null);
  const busy = isBusy(transcript);
  const wasBusy = useRef(busy);

  useEffect(() => {
    const unsubscribe = feed.subscribe(setTranscript);
    feed.open().catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) props.onGone();
      else setError(describeError(err));
    });
    return () => {
      unsubscribe();
      feed.close();
    };
  }, [feed]);

  // The session list shows status and cost: refresh it when a turn ends.
  useEffect(() => {
    if (wasBusy.current && !busy) props.onTurnEnded();
    wasBusy.current = busy;
  }, [busy]);

  const act = async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
    }
  };

  const send = () => {
    const text = prompt;
    if (!text.trim()) return;
    void act(async () => {
      await feed.send(text);
      setPrompt('');
    });
  };

  // Esc stops the running turn, as it does in Claude Code's terminal.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // Esc in an open dialog closes the dialog, nothing more.
      if (document.querySelector('dialog[open]')) return;
      if (e.key === 'Escape' && isBusy(feed.state)) void act(() => feed.interrupt());
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [feed]);

  const actions: TurnActions = {
    api,
    sessionId,
    busy,
    onRewind: setRewinding,
    onFork: (turn) => void act(async () => props.onOpen(await feed.fork(turn.messageId))),
  };

  return (
    <div class="session-view">
      <section class="chat" aria-label={`Session ${sessionId}`}>
        <div class="chat-head">
          <h2 class="chat-title">{sessionId}</h2>
          <a class="to-files" href="#files">
            Files
          </a>
        </div>
        <ol class="turns" aria-label="Conversation">
          {transcript.turns.map((turn) => (
            <TurnView key={turn.messageId} turn={turn} tools={transcript.tools} actions={actions} />
          ))}
        </ol>
        {transcript.pending.map((request) => (
          <Approval
            key={request.requestId}
            request={request}
            onAnswer={(decision, remember) => act(() => feed.answer(request.requestId, decision, remember))}
          />
        ))}
        <div class="status" role="status" aria-live="polite">
          {transcript.notice && <span class="error">{transcript.notice.message}</span>}
          {busy && !transcript.notice && <span>Claude Code is working… (Esc stops it)</span>}
        </div>
        <ErrorAlert error={error} />
        <form
          class="composer"
          onSubmit={(e) => {
            e.preventDefault();
            send();
          }}
        >
          <label for="prompt">Message</label>
          <textarea
            id="prompt"
            rows={3}
            value={prompt}
            placeholder="Ask Claude Code… (Enter sends, Shift+Enter for a new line)"
            onInput={(e) => setPrompt(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                send();
              }
            }}
          />
          <div class="composer-buttons">
            <button type="submit">Send</button>
            <button type="button" class="stop" disabled={!busy} onClick={() => act(() => feed.interrupt())}>
              Stop
            </button>
          </div>
        </form>
        {rewinding && (
          <RewindDialog
            turn={rewinding}
            undone={undoneBy(transcript, rewinding)}
            onConfirm={(what) => {
              setRewinding(null);
              void act(() => feed.rewind(rewinding.messageId, what));
            }}
            onCancel={() => setRewinding(null)}
          />
        )}
      </section>
      <Files api={api} sessionId={sessionId} revision={transcript.filesRevision} />
    </div>
  );
}

/** The turns a rewind to `turn` marks rewound: it and every later one not rewound yet. */
const undoneBy = (transcript: Transcript, turn: Turn): number => {
  const kept = transcript.turns.filter((t) => !t.rewound);
  return kept.length - kept.findIndex((t) => t.messageId === turn.messageId);
};

function Approval(props: {
  request: PermissionRequest;
  onAnswer: (decision: 'allow' | 'deny', remember: boolean) => void;
}) {
  const { request, onAnswer } = props;
  const headingId = `approval-${request.requestId}`;
  return (
    <section class="approval" role="group" aria-labelledby={headingId}>
      <h3 id={headingId}>Claude Code asks to use {request.toolName}</h3>
      {request.description && <p>{request.description}</p>}
      {request.decisionReason && <p class="hint">{request.decisionReason}</p>}
      <pre>{JSON.stringify(request.input, null, 2)}</pre>
      {request.expiresAt && (
        <p class="hint">
          Without an answer by {new Date(request.expiresAt).toLocaleTimeString()} the server decides.
        </p>
      )}
      <div class="approval-buttons">
        <button type="button" onClick={() => onAnswer('allow', false)}>
          Allow
        </button>
        <button type="button" onClick={() => onAnswer('deny', false)}>
          Deny
        </button>
        <button type="button" onClick={() => onAnswer('allow', true)}>
          Allow and remember
        </button>
      </div>
    </section>
  );
}
