/** Sign-in: the key is checked against the API (`GET /sessions`) before it is kept. */
import { useState } from 'preact/hooks';
import { Api, describeError } from '../api.js';
import { ErrorAlert } from './ErrorAlert.js';

export function SignIn({ onSignedIn }: { onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await new Api(key.trim()).json('GET', '/sessions?limit=1');
      onSignedIn(key.trim());
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <h1>Claude Code console</h1>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <p class="hint">The key stays in this tab's session storage and is sent only in a header.</p>
        <ErrorAlert error={error} />
      </form>
    </main>
  );
}
