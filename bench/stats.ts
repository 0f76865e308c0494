/**
 * What every benchmark shares: the statistics it prints and the row it reports to `npm run bench`
 * (bench/all.ts), which runs each script with `BENCH_REPORT` set to a file and prints one table
 * of every figure beside its floor.
 */
import fs from 'node:fs';

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export const median = (values: number[]): number => quantile(values, 0.5);

/** "min … p50 … max ms", rounded: a script's own printed line. */
export const minMedianMax = (values: number[]): string =>
  `min ${Math.min(...values).toFixed(0)}  p50 ${median(values).toFixed(0)}  max ${Math.max(...values).toFixed(0)} ms`;

/** "min–max", rounded. */
export const span = (values: number[]): string =>
  `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** One figure of the table: the server's value beside its floor measured in the same run. */
export interface BenchRow {
  /** What is measured, e.g. "first turn of a new session (create + message)". */
  figure: string;
  unit: 'ms' | 'µs' | 'req/s' | 'MB' | 'turns';
  /** The server's median, with the min and max of the runs when there were several. */
  value: number;
  min?: number;
  max?: number;
  /** The floor's median from the same run, and what it is; absent for figures without one. */
  floor?: number;
  floorName?: string;
  /** The target, in words ("≤ 0.5× floor"), when there is one. */
  target?: string;
}

/** The median, min and max of `values`, as a row's `value`, `min` and `max`. */
export const summarize = (values: number[]): Pick<BenchRow, 'value' | 'min' | 'max'> => ({
  value: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
});

/** Hands the script's headline figures to `npm run bench`; nothing when run on its own. */
export function report(bench: string, rows: BenchRow[]): void {
  const file = process.env.BENCH_REPORT;
  if (!file) return;
  fs.appendFileSync(file, rows.map((row) => `${JSON.stringify({ bench, ...row })}\n`).join(''));
}

/** `--smoke` (passed by `npm run bench -- --smoke`): one short round, to keep the scripts working. */
export const SMOKE = process.argv.includes('--smoke');

/** The script's positional argument `index` (after the script name), or its default. */
export function arg(index: number, fallback: number): number {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  return positional[index] !== undefined ? Number(positional[index]) : fallback;
}
