/**
 * Asks before a rewind, in a modal `<dialog>` (focus kept inside, Esc cancels): what to put back
 * (the files, the conversation, both by default) and how many turns it marks rewound.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Turn } from '../transcript.js';

export function RewindDialog(props: {
  turn: Turn;
  /** The turns it undoes: this one and every later one not rewound yet. */
  undone: number;
  onConfirm: (what: { files: boolean; conversation: boolean }) => void;
  onCancel: () => void;
}) {
  const { turn, undone, onConfirm, onCancel } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const [files, setFiles] = useState(true);
  const [conversation, setConversation] = useState(true);

  useEffect(() => {
    const element = dialog.current!;
    element.showModal();
    // Closed before it leaves the page, so the browser gives focus back to the Rewind button.
    return () => element.open && element.close();
  }, []);

  const later = undone - 1;
  return (
    <dialog
      ref={dialog}
      class="rewind-dialog"
      aria-labelledby="rewind-title"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm({ files, conversation });
        }}
      >
        <h3 id="rewind-title">Rewind to before this turn?</h3>
        <p class="rewind-prompt">{turn.prompt}</p>
        <p>
          This turn{later > 0 ? ` and the ${later === 1 ? 'turn' : `${later} turns`} after it` : ''} will be
          marked rewound; they stay in the history.
        </p>
        <fieldset>
          <legend>Put back</legend>
          <label class="check">
            <input type="checkbox" checked={files} onChange={(e) => setFiles(e.currentTarget.checked)} />
            the files (the workspace as it was before this turn)
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={conversation}
              onChange={(e) => setConversation(e.currentTarget.checked)}
            />
            the conversation (the agent forgets this turn and later ones)
          </label>
        </fieldset>
        <div class="dialog-buttons">
          <button type="submit" disabled={!files && !conversation}>
            Rewind
          </button>
          <button type="button" class="quiet" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
