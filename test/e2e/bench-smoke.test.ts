/**
 * `npm run bench -- --smoke` in CI: every benchmark script still runs to its end and reports its
 * figures to the table (one short round each; the figures themselves are not judged here: no
 * benchmark is a timed test).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchRow } from '../../bench/stats.js';
import { tempDir } from '../helpers/test-server.js';

const BENCHMARKS = ['turns', 'resume', 'deltas', 'http', 'capacity', 'snapshots', 'cluster'];

describe('npm run bench -- --smoke', () => {
  const outDir = tempDir('bench');
  afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it('runs every benchmark and prints one table of finite figures beside their floors', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/all.ts', '--smoke'],
      { env: { ...process.env, BENCH_OUTPUT_DIR: outDir }, timeout: 600_000 },
    );
    const rows = fs
      .readFileSync(path.join(outDir, 'report.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as BenchRow & { bench: string });
    expect(new Set(rows.map((r) => r.bench))).toEqual(new Set(BENCHMARKS));
    for (const row of rows) {
      expect(Number.isFinite(row.value), `${row.bench}: ${row.figure}`).toBe(true);
      if (row.floor !== undefined)
        expect(Number.isFinite(row.floor), `${row.bench}: ${row.figure}`).toBe(true);
    }
    // The table: one line per figure, after its header.
    expect(stdout).toContain('| bench | figure | server: median (min–max) | floor (same run) |');
    for (const row of rows) expect(stdout).toContain(`| ${row.bench} | ${row.figure} |`);
  }, 660_000);
});
