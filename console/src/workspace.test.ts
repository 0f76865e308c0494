/** The files panel's data: a recursive listing as folders, and text told from binary. */
import { describe, expect, it } from 'vitest';
import { asText, buildTree, type Entry } from './workspace.js';

const entry = (path: string, type: Entry['type'] = 'file'): Entry => ({
  name: path.slice(path.lastIndexOf('/') + 1),
  path,
  type,
  size: 1,
  modifiedAt: '2026-11-24T21:00:00.000Z',
});

describe('workspace', () => {
  it('nests a listing sorted by path into folders, folders first', () => {
    const tree = buildTree([
      entry('README.md'),
      entry('src', 'dir'),
      entry('src/b.ts'),
      entry('src/lib', 'dir'),
      entry('src/lib/a.ts'),
      entry('z', 'symlink'),
    ]);
    const names = (nodes: typeof tree): unknown[] =>
      nodes.map((n) => (n.children.length ? [n.entry.name, names(n.children)] : n.entry.name));
    expect(names(tree)).toEqual([['src', [['lib', ['a.ts']], 'b.ts']], 'README.md', 'z']);
  });

  it('tells UTF-8 text from binary, a character cut at the end included', () => {
    expect(asText(new TextEncoder().encode('héllo\n'))).toBe('héllo\n');
    const cut = new TextEncoder().encode('aé').slice(0, 2); // 'a' and half of 'é'
    expect(asText(cut)).toBe('a');
    expect(asText(new Uint8Array([0x68, 0x00, 0x69]))).toBeNull();
    expect(asText(new Uint8Array([0x89, 0x50, 0xff, 0xfe]))).toBeNull();
  });
});
