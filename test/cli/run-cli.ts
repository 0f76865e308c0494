/**
 * Runs the command-line tool as its own process, as an operator would. The source is bundled
 * once per test file with esbuild (the packages stay external, resolved from node_modules) and
 * each call is a plain `node` of the bundle: a call costs about 0.2 s of CPU instead of the
 * second a TypeScript loader spends on every start, which matters when a test runs fifteen.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';

export interface CliResult {
  code: number | null;
  stdout: string;
  /** stdout as it came, for a command that writes bytes (`files get`). */
  stdoutBytes: Buffer;
  stderr: string;
}

const MAIN = path.resolve('src/cli/main.ts');
/** Inside the checkout, so the bundle's imports of packages resolve from its node_modules. */
const BUNDLE_DIR = fs.mkdtempSync(path.resolve('node_modules/.cache-cli-test-'));
const BUNDLE = path.join(BUNDLE_DIR, 'main.mjs');
let bundled = false;

/** The CLI bundled once per test file (its path), for tests that start it themselves (tmux). */
export function bundle(): string {
  if (!bundled) {
    buildSync({
      entryPoints: [MAIN],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: BUNDLE,
      logLevel: 'error',
    });
    bundled = true;
    process.once('exit', () => fs.rmSync(BUNDLE_DIR, { recursive: true, force: true }));
  }
  return BUNDLE;
}

/** `env` replaces the environment (PATH and HOME are kept), so DATA_DIR is only what a test sets. */
export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle(), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({ code, stdout: stdoutBytes.toString(), stdoutBytes, stderr });
    });
  });
}

/** Runs the tool and fails with its output unless it exits 0. */
export async function ok(args: readonly string[], env?: Record<string, string>): Promise<CliResult> {
  const result = await cli(args, env);
  if (result.code !== 0) {
    throw new Error(`${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** Runs the tool with `--json` and parses its stdout. */
export async function okJson<T>(args: readonly string[], env?: Record<string, string>): Promise<T> {
  return JSON.parse((await ok([...args, '--json'], env)).stdout) as T;
}
