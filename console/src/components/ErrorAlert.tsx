/** A failure said plainly, announced to screen readers (`role="alert"`); nothing when none. */
export function ErrorAlert({ error }: { error: string | null }) {
  return error ? (
    <p role="alert" class="error">
      {error}
    </p>
  ) : null;
}
