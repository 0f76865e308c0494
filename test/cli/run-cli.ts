/** Runs the command-line tool as its own process (`tsx src/cli/main.ts …`), as an operator would. */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const TSX = path.resolve('node_modules/.bin/tsx');
const MAIN = path.resolve('src/cli/main.ts');

/** `env` replaces the environment (PATH and HOME are kept), so DATA_DIR is only what a test sets. */
export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
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
