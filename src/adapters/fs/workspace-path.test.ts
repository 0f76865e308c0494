import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../domain/errors.js';
import { isInside, MAX_WORKSPACE_PATH_CHARS, resolveInWorkspace } from './workspace-path.js';

/**
 * A workspace with links in and out: `in` → a folder inside, `out` → the folder beside the
 * workspace (the "data dir"), `up` → `..`, `dangling` → nowhere, and `deep/loop` → `deep`.
 */
let base: string;
let root: string;
let outside: string;

beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-paths-')));
  root = path.join(base, 'workspace');
  outside = path.join(base, 'data');
  fs.mkdirSync(path.join(root, 'dir', 'sub'), { recursive: true });
  fs.mkdirSync(path.join(root, 'deep'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.db'), 'secret');
  fs.writeFileSync(path.join(root, 'dir', 'file.txt'), 'x');
  fs.symlinkSync(path.join(root, 'dir'), path.join(root, 'in'));
  fs.symlinkSync(outside, path.join(root, 'out'));
  fs.symlinkSync('..', path.join(root, 'up'));
  fs.symlinkSync('/nonexistent-ccr-target', path.join(root, 'dangling'));
  fs.symlinkSync(path.join(root, 'deep'), path.join(root, 'deep', 'loop'));
});

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

async function outcome(
  requested: string,
): Promise<{ ok: true; absolute: string } | { ok: false; code: string }> {
  try {
    const resolved = await resolveInWorkspace(root, requested);
    return { ok: true, absolute: resolved.absolute };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, code: err.code };
    throw err;
  }
}

describe('resolveInWorkspace', () => {
  it('resolves paths inside, symlinks inside followed', async () => {
    expect(await outcome('')).toEqual({ ok: true, absolute: root });
    expect(await outcome('dir/file.txt')).toEqual({ ok: true, absolute: path.join(root, 'dir', 'file.txt') });
    expect(await outcome('in/file.txt')).toEqual({ ok: true, absolute: path.join(root, 'dir', 'file.txt') });
    expect(await outcome('dir/../dir/new/name.txt')).toEqual({
      ok: true,
      absolute: path.join(root, 'dir', 'new', 'name.txt'),
    });
  });

  it('refuses `..`, absolute paths, links out and dangling links (403), NUL and absurd lengths (400)', async () => {
    for (const p of [
      '..',
      '../data/secret.db',
      '/etc/passwd',
      'out/secret.db',
      'up/data',
      'dangling',
      'dangling/x',
    ]) {
      expect(await outcome(p), p).toEqual({ ok: false, code: 'FORBIDDEN' });
    }
    expect(await outcome('dir/\0x')).toEqual({ ok: false, code: 'INVALID_REQUEST' });
    expect(await outcome('a'.repeat(MAX_WORKSPACE_PATH_CHARS + 1))).toEqual({
      ok: false,
      code: 'INVALID_REQUEST',
    });
  });

  it('property: whatever the path, the answer is inside the workspace or a refusal', async () => {
    const segment = fc.constantFrom(
      'dir',
      'sub',
      'file.txt',
      'in',
      'out',
      'up',
      'dangling',
      'deep',
      'loop',
      '..',
      '.',
      '',
      'new',
      'secret.db',
      'data',
      'workspace',
    );
    const requested = fc
      .tuple(fc.boolean(), fc.array(segment, { maxLength: 8 }))
      .map(([absolute, parts]) => (absolute ? '/' : '') + parts.join('/'));
    await fc.assert(
      fc.asyncProperty(requested, async (p) => {
        const result = await outcome(p);
        if (!result.ok) {
          expect(result.code).toBe('FORBIDDEN');
          return;
        }
        expect(isInside(result.absolute, root)).toBe(true);
        // The deepest part that exists really is inside (no link on the way leads out).
        let existing = result.absolute;
        while (!fs.existsSync(existing)) existing = path.dirname(existing);
        expect(isInside(fs.realpathSync(existing), root)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('property: arbitrary strings never resolve outside, and NUL is always a 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 64 }), async (p) => {
        const result = await outcome(p);
        if (p.includes('\0')) expect(result).toEqual({ ok: false, code: 'INVALID_REQUEST' });
        else if (result.ok) expect(isInside(result.absolute, root)).toBe(true);
        else expect(result.code).toBe('FORBIDDEN');
      }),
      { numRuns: 500 },
    );
  });
});
