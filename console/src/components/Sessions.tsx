/** The key's open sessions (status, model, last activity, cost), a form to start one, and end. */
import { useEffect, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.js';
import { ErrorAlert } from './ErrorAlert.js';

interface SessionItem {
  sessionId: string;
  model: string;
  status: string;
  lastActivity: string;
  permissionMode: string;
  costUsd?: number;
}

const MODES = ['default', 'acceptEdits', 'plan', 'bypassPermissions'];

export function Sessions(props: {
  api: Api;
  selected: string | null;
  onSelect: (id: string | null) => void;
  version: number;
}) {
  const { api, selected, onSelect, version } = props;
  const [sessions, setSessions] = useState<SessionItem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    (async () => {
      const list = await api.json<{ sessions: SessionItem[] }>('GET', '/sessions?limit=50');
      // The list has no cost; each session's own view has its usage totals.
      const withCost = await Promise.all(
        list.sessions.map(async (s) => {
          const detail = await api
            .json<{ usage?: { costUsd?: number } }>('GET', `/sessions/${encodeURIComponent(s.sessionId)}`)
            .catch(() => ({ usage: undefined }));
          return { ...s, costUsd: detail.usage?.costUsd };
        }),
      );
      if (live) {
        setSessions(withCost);
        setError(null);
      }
    })().catch((err: unknown) => live && setError(describeError(err)));
    return () => {
      live = false;
    };
  }, [version, reload]);

  const end = async (id: string) => {
    try {
      await api.json('DELETE', `/sessions/${encodeURIComponent(id)}`);
      if (selected === id) onSelect(null);
      setReload((r) => r + 1);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <nav class="sessions" aria-label="Sessions">
      <h2>Sessions</h2>
      <NewSession
        api={api}
        onCreated={(id) => {
          setReload((r) => r + 1);
          onSelect(id);
        }}
        onError={setError}
      />
      <ErrorAlert error={error} />
      <ul>
        {sessions.map((s) => (
          <li key={s.sessionId} class={s.sessionId === selected ? 'selected' : ''}>
            <button
              type="button"
              class="session-open"
              aria-current={s.sessionId === selected ? 'true' : undefined}
              onClick={() => onSelect(s.sessionId)}
            >
              <span class="session-id">{s.sessionId}</span>
              <span class="session-meta">
                <span class={`badge ${s.status}`}>{s.status}</span> {s.model} · {s.permissionMode}
              </span>
              <span class="session-meta">
                {new Date(s.lastActivity).toLocaleString()} · {formatCost(s.costUsd)}
              </span>
            </button>
            <button
              type="button"
              class="end"
              aria-label={`End session ${s.sessionId}`}
              onClick={() => end(s.sessionId)}
            >
              End
            </button>
          </li>
        ))}
      </ul>
      {sessions.length === 0 && !error && <p class="empty">No open sessions.</p>}
    </nav>
  );
}

export const formatCost = (cost: number | null | undefined): string =>
  typeof cost === 'number' ? `$${cost.toFixed(4)}` : '$0';

function NewSession(props: {
  api: Api;
  onCreated: (id: string) => void;
  onError: (e: string | null) => void;
}) {
  const [model, setModel] = useState('');
  const [mode, setMode] = useState('default');
  const [systemPrompt, setSystemPrompt] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    props.onError(null);
    try {
      const body: Record<string, unknown> = { permissionMode: mode };
      if (model.trim()) body.model = model.trim();
      if (systemPrompt.trim()) body.systemPrompt = systemPrompt;
      const created = await props.api.json<{ sessionId: string }>('POST', '/sessions', body);
      setSystemPrompt('');
      props.onCreated(created.sessionId);
    } catch (err) {
      props.onError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="new-session" open>
      <summary>New session</summary>
      <form onSubmit={submit}>
        <label for="new-model">Model</label>
        <input
          id="new-model"
          list="model-aliases"
          placeholder="default"
          value={model}
          onInput={(e) => setModel(e.currentTarget.value)}
        />
        <datalist id="model-aliases">
          <option value="default" />
          <option value="opus" />
          <option value="sonnet" />
          <option value="haiku" />
        </datalist>
        <label for="new-mode">Permission mode</label>
        <select id="new-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
          {MODES.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        <label for="new-system">System prompt (optional)</label>
        <textarea
          id="new-system"
          rows={2}
          value={systemPrompt}
          onInput={(e) => setSystemPrompt(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Create session
        </button>
      </form>
    </details>
  );
}
