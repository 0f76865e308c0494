import { describe, expect, it } from 'vitest';
import { editDiff } from './edit-diff.js';

describe('editDiff', () => {
  it('shows an Edit as its removed and added lines', () => {
    expect(editDiff('Edit', { file_path: '/w/a.txt', old_string: 'a\nb', new_string: 'c' })).toEqual([
      { sign: '-', text: 'a' },
      { sign: '-', text: 'b' },
      { sign: '+', text: 'c' },
    ]);
  });

  it('shows each edit of a MultiEdit, and a Write as added lines', () => {
    expect(
      editDiff('MultiEdit', {
        edits: [
          { old_string: 'x', new_string: 'y' },
          { old_string: 'p', new_string: '' },
        ],
      }),
    ).toEqual([
      { sign: '-', text: 'x' },
      { sign: '+', text: 'y' },
      { sign: '-', text: 'p' },
    ]);
    expect(editDiff('Write', { file_path: '/w/f', content: 'one\ntwo' })).toEqual([
      { sign: '+', text: 'one' },
      { sign: '+', text: 'two' },
    ]);
  });

  it('has no diff for other tools or odd input', () => {
    expect(editDiff('Bash', { command: 'ls' })).toBeNull();
    expect(editDiff('Edit', null)).toBeNull();
    expect(editDiff('MultiEdit', { edits: 'no' })).toBeNull();
  });
});
