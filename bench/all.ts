/**
 * `npm run bench`: every benchmark, one after the other (they would disturb each other's figures
 * if run at once), then one table of their headline figures, each beside its floor from the same
 * run and the ratio. Each script's own output goes to `bench-output/<name>.log` (or the folder
 * `BENCH_OUTPUT_DIR` names).
 * `npm run bench -- --smoke`: one short round of each, to check that the scripts still run (CI).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchRow } from './stats.js';

/** The scripts, in the order they run; their own arguments are their defaults. */
const BENCHMARKS = ['turn-latency', 'resume', 'deltas', 'http', 'capacity', 'snapshots', 'cluster'];

const smoke = process.argv.includes('--smoke');
const outDir = process.env.BENCH_OUTPUT_DIR ?? path.join(process.cwd(), 'bench-output');
fs.mkdirSync(outDir, { recursive: true });
const reportFile = path.join(outDir, 'report.jsonl');
fs.rmSync(reportFile, { force: true });

function run(name: string): Promise<number> {
  const log = fs.openSync(path.join(outDir, `${name}.log`), 'w');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, `${name}.ts`), ...(smoke ? ['--smoke'] : [])],
    { stdio: ['ignore', log, log], env: { ...process.env, BENCH_REPORT: reportFile } },
  );
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

const failed: string[] = [];
for (const name of BENCHMARKS) {
  const started = performance.now();
  process.stderr.write(`${name}… `);
  const code = await run(name);
  process.stderr.write(
    `${code === 0 ? 'done' : `FAILED (exit ${code}, see bench-output/${name}.log)`} in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  if (code !== 0) failed.push(name);
}

const rows = fs.existsSync(reportFile)
  ? fs
      .readFileSync(reportFile, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as BenchRow & { bench: string })
  : [];

const number = (n: number, unit: string): string => `${n.toFixed(unit === 'ms' && n < 20 ? 1 : 0)} ${unit}`;
console.log(`\n${smoke ? 'SMOKE RUN (one short round each: the figures mean nothing)\n' : ''}`);
console.log('| bench | figure | server: median (min–max) | floor (same run) | server / floor | target |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const row of rows) {
  const spread =
    row.min !== undefined && row.max !== undefined && row.min !== row.max
      ? ` (${row.min.toFixed(0)}–${row.max.toFixed(0)})`
      : '';
  const floorUnit = row.unit === 'turns' ? 'ms' : row.unit;
  const floor = row.floor !== undefined ? `${number(row.floor, floorUnit)}: ${row.floorName ?? ''}` : '—';
  const ratio =
    row.floor !== undefined && row.unit !== 'turns' ? `${(row.value / row.floor).toFixed(2)}×` : '—';
  console.log(
    `| ${row.bench} | ${row.figure} | ${number(row.value, row.unit)}${spread} | ${floor} | ${ratio} | ${row.target ?? ''} |`,
  );
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
