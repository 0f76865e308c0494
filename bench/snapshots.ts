/**
 * What the workspace snapshots cost a turn: a workspace of 10 000 files / 200 MB (20 KB each,
 * in 100 folders), snapshotted by the server's own adapter (ShadowGitSnapshots: a shadow git
 * repository with its own index). Measured: the first snapshot (every file read and stored), a
 * snapshot with nothing changed, and a turn that changes 3 files (its `before` and `after`
 * snapshots and the list of changes, as TurnService does them), against the time to merely read
 * the whole workspace once. A snapshot that re-read unchanged files would cost at least that;
 * git's index (size and times of each file) is what lets it skip them.
 *
 * Prints figures; asserts nothing. Run: `npm run bench:snapshots [-- rounds] [files] [kbPerFile]`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ShadowGitSnapshots } from '../src/adapters/git/shadow-git.js';
import { arg, minMedianMax, report, SMOKE, summarize } from './stats.js';

const rounds = arg(0, SMOKE ? 1 : 5);
const files = arg(1, SMOKE ? 500 : 10_000);
const kbPerFile = arg(2, 20);
const FOLDERS = 100;

/** The time and the value (the snapshot id), unlike stats.ts's `timed`. */
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const fileOf = (root: string, i: number): string =>
  path.join(root, `dir${String(i % FOLDERS).padStart(3, '0')}`, `file${i}.txt`);

async function main(): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-bench-snapshots-'));
  const root = path.join(base, 'workspace');
  const snapshots = new ShadowGitSnapshots(path.join(base, 'snapshots'), {
    dataDir: path.join(base, 'data'),
    workspacesDir: base,
  });
  try {
    // Text-like content (base64 of random bytes): compressible about as much as source code.
    const chunk = randomBytes(Math.ceil((kbPerFile * 1024 * 3) / 4))
      .toString('base64')
      .slice(0, kbPerFile * 1024);
    for (let d = 0; d < FOLDERS; d++)
      fs.mkdirSync(path.join(root, `dir${String(d).padStart(3, '0')}`), { recursive: true });
    for (let i = 0; i < files; i++) fs.writeFileSync(fileOf(root, i), `${i}\n${chunk}`);
    const totalMb = (files * (kbPerFile * 1024)) / 1024 / 1024;
    console.log(
      `workspace: ${files} files, ${totalMb.toFixed(0)} MB (${kbPerFile} KB each, ${FOLDERS} folders)`,
    );

    const readAll = await timed(async () => {
      let bytes = 0;
      for (let i = 0; i < files; i++) bytes += fs.readFileSync(fileOf(root, i)).length;
      return bytes;
    });
    console.log(`reading every file once (page cache warm):      ${readAll.ms.toFixed(0)} ms`);

    const first = await timed(() => snapshots.snapshot('sess_bench', root, 'seed', 'seed'));
    console.log(`first snapshot (every file hashed and stored):  ${first.ms.toFixed(0)} ms`);

    const unchanged: number[] = [];
    const turns: number[] = [];
    const befores: number[] = [];
    const afters: number[] = [];
    for (let r = 0; r < rounds; r++) {
      unchanged.push((await timed(() => snapshots.snapshot('sess_bench', root, `idle/${r}`, 'idle'))).ms);
      const turn = await timed(async () => {
        const before = await timed(() =>
          snapshots.snapshot('sess_bench', root, `turns/${r}/before`, 'before'),
        );
        // The turn: 3 files changed (one edited, one added, one deleted).
        fs.appendFileSync(fileOf(root, r * 7 + 1), `edit ${r}\n`);
        fs.writeFileSync(path.join(root, `dir000`, `new${r}.txt`), `new ${r}\n`);
        fs.rmSync(fileOf(root, r * 7 + 2));
        const after = await timed(() => snapshots.snapshot('sess_bench', root, `turns/${r}/after`, 'after'));
        const changes = await snapshots.changes('sess_bench', before.value, after.value);
        if (changes.length !== 3) throw new Error(`expected 3 changes, got ${changes.length}`);
        befores.push(before.ms);
        afters.push(after.ms);
      });
      turns.push(turn.ms);
    }
    console.log(`snapshot, nothing changed (${rounds} rounds):       ${minMedianMax(unchanged)}`);
    console.log(`a turn changing 3 files, its "before" snapshot:  ${minMedianMax(befores)}`);
    console.log(`a turn changing 3 files, its "after" snapshot:   ${minMedianMax(afters)}`);
    console.log(`a turn's whole cost (before + after + changes):  ${minMedianMax(turns)}`);
    const repoMb = duMb(path.join(base, 'snapshots'));
    console.log(`shadow repository size:                         ${repoMb.toFixed(0)} MB`);
    const floor = { floor: readAll.ms, floorName: 'reading every file once' };
    const size = `${files} files / ${((files * kbPerFile) / 1024).toFixed(0)} MB`;
    report('snapshots', [
      { figure: `a turn's snapshots, 3 files changed (${size})`, unit: 'ms', ...summarize(turns), ...floor },
      { figure: `snapshot, nothing changed (${size})`, unit: 'ms', ...summarize(unchanged), ...floor },
      { figure: `first snapshot (${size})`, unit: 'ms', value: first.ms, ...floor },
    ]);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

function duMb(dir: string): number {
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return bytes / 1024 / 1024;
}

await main();
