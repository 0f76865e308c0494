/**
 * A turn's changes to the workspace, folded: the summary counts the files (from the turn's
 * `files_changed`), opening it reads the turn's diff (`GET …/diff?format=json`) once.
 */
import { useState } from 'preact/hooks';
import { describeError, type Api } from '../api.js';
import type { FileChange } from '../transcript.js';
import { turnDiff, type FileDiff } from '../workspace.js';

export function TurnChanges(props: {
  api: Api;
  sessionId: string;
  messageId: string;
  /** Unknown for a turn drawn from the history: the diff says. */
  changes?: FileChange[];
}) {
  const { api, sessionId, messageId, changes } = props;
  const [diff, setDiff] = useState<FileDiff[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asked, setAsked] = useState(false);

  // A turn that changed nothing has nothing to unfold.
  if (changes?.length === 0) return null;

  const load = (open: boolean) => {
    if (!open || asked) return;
    setAsked(true);
    turnDiff(api, sessionId, messageId)
      .then(setDiff)
      .catch((err: unknown) => setError(describeError(err)));
  };

  return (
    <details class="changes" onToggle={(e) => load(e.currentTarget.open)}>
      <summary>Changes{changes ? `: ${describeChanges(changes)}` : ''}</summary>
      {error && <p class="error">{error}</p>}
      {diff?.length === 0 && <p class="hint">No file changed.</p>}
      {diff?.map((file) => (
        <section key={file.path} class="file-diff" aria-label={`Changes to ${file.path}`}>
          <h4>
            {file.previousPath ? `${file.previousPath} → ` : ''}
            {file.path} <span class="badge">{file.status}</span>{' '}
            <span class="hint">
              +{file.additions} −{file.deletions}
            </span>
          </h4>
          {file.binary ? (
            <p class="hint">Binary file: not shown.</p>
          ) : (
            <pre class="diff">
              {file.hunks.flatMap((hunk) => [
                <span key={hunk.header} class="hunk">{`${hunk.header}\n`}</span>,
                ...hunk.lines.map((line, i) => (
                  <span key={`${hunk.header} ${i}`} class={lineClass(line)}>{`${line}\n`}</span>
                )),
              ])}
            </pre>
          )}
        </section>
      ))}
    </details>
  );
}

const lineClass = (line: string): string =>
  line.startsWith('+') ? 'added' : line.startsWith('-') ? 'removed' : 'context';

function describeChanges(changes: FileChange[]): string {
  const additions = changes.reduce((sum, c) => sum + c.additions, 0);
  const deletions = changes.reduce((sum, c) => sum + c.deletions, 0);
  const files = changes.length === 1 ? '1 file' : `${changes.length} files`;
  return `${files}, +${additions} −${deletions}`;
}
