/**
 * The session's workspace: its file tree and a viewer for the file chosen. The tree is read again
 * whenever the event log says the files changed (`revision`: a turn's `files_changed`, a rewind),
 * and on Refresh (an upload made by another client is no event).
 */
import { useEffect, useState } from 'preact/hooks';
import { describeError, type Api } from '../api.js';
import {
  downloadFile,
  listWorkspace,
  readFile,
  VIEW_LIMIT_BYTES,
  type Entry,
  type FileView,
  type Listing,
  type TreeNode,
} from '../workspace.js';
import { ErrorAlert } from './ErrorAlert.js';

/** How long the file tree waits for revisions to settle before it asks for a listing. */
const LISTING_SETTLE_MS = 100;

export function Files(props: { api: Api; sessionId: string; revision: number }) {
  const { api, sessionId, revision } = props;
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [refreshed, setRefreshed] = useState(0);
  const [chosen, setChosen] = useState<Entry | null>(null);

  useEffect(() => {
    let live = true;
    // A moment's wait: opening a session replays its turns, each `files_changed` a new revision,
    // and a burst of them asks for one listing instead of one each.
    const timer = setTimeout(() => {
      listWorkspace(api, sessionId)
        .then((next) => {
          if (!live) return;
          setListing(next);
          setError(null);
          // The file shown may be gone (a rewind) or changed (a turn): follow it in the new listing.
          setChosen((current) => (current ? findEntry(next.root, current.path) : null));
        })
        .catch((err: unknown) => live && setError(describeError(err)));
    }, LISTING_SETTLE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [sessionId, revision, refreshed]);

  return (
    <section id="files" class="files" aria-labelledby="files-title">
      <div class="files-head">
        <h2 id="files-title">Files</h2>
        <button type="button" class="quiet" onClick={() => setRefreshed((r) => r + 1)}>
          Refresh
        </button>
      </div>
      <ErrorAlert error={error} />
      {listing && listing.root.length === 0 && <p class="empty">The workspace is empty.</p>}
      {listing && (
        <ul class="tree" aria-label="Workspace files">
          {listing.root.map((node) => (
            <TreeItem key={node.entry.path} node={node} chosen={chosen?.path} onChoose={setChosen} />
          ))}
        </ul>
      )}
      {listing?.truncated && <p class="hint">Only the first 10 000 entries are listed.</p>}
      {chosen && (
        <Viewer
          key={`${chosen.path} ${chosen.modifiedAt} ${chosen.size}`}
          api={api}
          sessionId={sessionId}
          entry={chosen}
        />
      )}
    </section>
  );
}

function findEntry(nodes: TreeNode[], path: string): Entry | null {
  for (const node of nodes) {
    if (node.entry.path === path) return node.entry;
    const inside = findEntry(node.children, path);
    if (inside) return inside;
  }
  return null;
}

function TreeItem(props: { node: TreeNode; chosen?: string; onChoose: (entry: Entry) => void }) {
  const { entry, children } = props.node;
  if (entry.type === 'dir') {
    return (
      <li>
        {/* Folded at first: hidden folders (`.git`, `.claude`), which are rarely what one looks for. */}
        <details open={!entry.name.startsWith('.')}>
          <summary>{entry.name}/</summary>
          <ul>
            {children.map((child) => (
              <TreeItem key={child.entry.path} node={child} chosen={props.chosen} onChoose={props.onChoose} />
            ))}
          </ul>
        </details>
      </li>
    );
  }
  if (entry.type === 'symlink') {
    // A link is listed, never followed: its target may be outside the workspace.
    return (
      <li class="symlink">
        {entry.name} <span class="hint">(link)</span>
      </li>
    );
  }
  return (
    <li>
      <button
        type="button"
        class="file"
        aria-current={props.chosen === entry.path ? 'true' : undefined}
        onClick={() => props.onChoose(entry)}
      >
        {entry.name}
      </button>
    </li>
  );
}

function Viewer(props: { api: Api; sessionId: string; entry: Entry }) {
  const { api, sessionId, entry } = props;
  const [view, setView] = useState<FileView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    readFile(api, sessionId, entry)
      .then((v) => live && setView(v))
      .catch((err: unknown) => live && setError(describeError(err)));
    return () => {
      live = false;
    };
  }, []);

  const download = async () => {
    try {
      const blob = await downloadFile(api, sessionId, entry.path);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = entry.name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section class="viewer" aria-labelledby="viewer-title">
      <div class="files-head">
        <h3 id="viewer-title">{entry.path}</h3>
        <button type="button" class="quiet" onClick={download}>
          Download
        </button>
      </div>
      <ErrorAlert error={error} />
      {view?.kind === 'binary' && (
        <p class="hint">Binary file ({formatSize(view.size)}): download it to open it.</p>
      )}
      {view?.kind === 'text' && (
        <>
          {/* A scrolling region must be reachable by keyboard to be read (axe: scrollable-region-focusable). */}
          <pre class="file-text" tabIndex={0} aria-label={`Content of ${entry.path}`}>
            {view.text}
          </pre>
          {view.truncated && (
            <p class="hint">
              The first {formatSize(VIEW_LIMIT_BYTES)} of {formatSize(view.size)}; download it for the rest.
            </p>
          )}
        </>
      )}
    </section>
  );
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
