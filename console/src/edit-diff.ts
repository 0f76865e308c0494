/**
 * A file edit's tool input as diff lines, for its tool card: Claude Code's `Edit` replaces
 * `old_string` with `new_string` (each `edits` entry of `MultiEdit` likewise), `Write` puts
 * `content` in a file. Other tools have no diff.
 */
export interface DiffLine {
  sign: '-' | '+';
  text: string;
}

type Input = Record<string, unknown>;

const lines = (sign: DiffLine['sign'], text: unknown): DiffLine[] =>
  typeof text === 'string' && text !== '' ? text.split('\n').map((line) => ({ sign, text: line })) : [];

const replacement = (edit: Input): DiffLine[] => [
  ...lines('-', edit.old_string),
  ...lines('+', edit.new_string),
];

export function editDiff(toolName: string, input: unknown): DiffLine[] | null {
  if (!input || typeof input !== 'object') return null;
  const i = input as Input;
  switch (toolName) {
    case 'Edit':
      return replacement(i);
    case 'MultiEdit':
      return Array.isArray(i.edits) ? (i.edits as Input[]).flatMap(replacement) : null;
    case 'Write':
      return lines('+', i.content);
    default:
      return null;
  }
}
