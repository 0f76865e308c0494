/** The console: sign in, then the key's sessions beside the chosen one's chat. */
import { useState } from 'preact/hooks';
import { Api } from '../api.js';
import { Chat } from './Chat.js';
import { Sessions } from './Sessions.js';
import { SignIn } from './SignIn.js';

/** Session storage: the key lives as long as the tab, never in a URL or on disk. */
const KEY_STORAGE = 'ccr.apiKey';

export function App() {
  const [key, setKey] = useState<string | null>(() => sessionStorage.getItem(KEY_STORAGE));
  const [sessionId, setSessionId] = useState<string | null>(() => sessionStorage.getItem('ccr.session'));
  const [listVersion, setListVersion] = useState(0);

  const choose = (id: string | null) => {
    setSessionId(id);
    if (id) sessionStorage.setItem('ccr.session', id);
    else sessionStorage.removeItem('ccr.session');
  };

  if (!key) {
    return (
      <SignIn
        onSignedIn={(k) => {
          sessionStorage.setItem(KEY_STORAGE, k);
          setKey(k);
        }}
      />
    );
  }
  const api = new Api(key);
  return (
    <div class="layout">
      <header class="top">
        <h1>Claude Code console</h1>
        <button
          type="button"
          onClick={() => {
            sessionStorage.removeItem(KEY_STORAGE);
            choose(null);
            setKey(null);
          }}
        >
          Sign out
        </button>
      </header>
      <Sessions api={api} selected={sessionId} onSelect={choose} version={listVersion} />
      <main class="chat-area">
        {sessionId ? (
          <Chat
            key={sessionId}
            api={api}
            sessionId={sessionId}
            onTurnEnded={() => setListVersion((v) => v + 1)}
            onGone={() => choose(null)}
            onOpen={(id) => {
              choose(id);
              setListVersion((v) => v + 1);
            }}
          />
        ) : (
          <p class="empty">Choose a session, or create one.</p>
        )}
      </main>
    </div>
  );
}
