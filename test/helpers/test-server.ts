/**
 * End-to-end harness: the project's fake Anthropic API on 127.0.0.1 and the real server
 * (real HTTP, real SQLite, the real Claude Code binary through the SDK) pointed at it.
 *
 * `startStack()` runs the server in this process (fast, and tests can look inside);
 * `spawnServer()` runs `src/main.ts` as its own OS process, for tests that kill or signal it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startServer } from '../../src/main.js';
import { startFakeAnthropic, type FakeAnthropic } from '../../src/fake-anthropic/index.js';
import { processesWithEnvMention } from './processes.js';

export const TEST_KEYS = ['test-key-alpha-0001', 'test-key-bravo-0002'] as const;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ccr-${prefix}-`));
}

/** The environment a test server runs with; `extra` overrides any of it. */
export function serverEnv(
  fake: FakeAnthropic,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    API_KEYS: TEST_KEYS.join(','),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-fake-test-key',
    // Fail fast: Claude Code's default is 10 retries, about three minutes.
    CLAUDE_CODE_MAX_RETRIES: '0',
    SSE_PING_INTERVAL_MS: '1000',
    // A tool that asks for approval and gets no answer is denied after this (default 5 min).
    PERMISSION_TIMEOUT_MS: '2000',
    // Closing a stack interrupts turns still running after this (default 30 s).
    SHUTDOWN_DRAIN_MS: '1000',
    // Tests look at a workspace right after DELETE; retention is covered by unit tests.
    WORKSPACE_RETENTION_SECONDS: '0',
    // The suite tests the sandboxed server: without bubblewrap (`npm test` installs it) every
    // turn fails with the reason, rather than tests failing far from the cause.
    SANDBOX_MODE: 'required',
    // No prewarmed spare (a real server keeps one): every claim starts another, which doubles
    // the Claude Code processes a test stack starts on a 2-core machine. The files whose subject
    // spares are, or containment, run with one (`WITH_SPARES`): prewarm, containment,
    // workspace-escape.
    PREWARM_PROCESSES: '0',
    ...extra,
  };
}

/** A real server's default: one prewarmed spare (PREWARM_PROCESSES). */
export const WITH_SPARES = { PREWARM_PROCESSES: '1' } as const;

export interface Stack {
  fake: FakeAnthropic;
  /** `http://127.0.0.1:<port>/api/v1` */
  base: string;
  dataDir: string;
  server: Awaited<ReturnType<typeof startServer>>;
  close(): Promise<void>;
}

export async function startStack(
  options: {
    env?: Record<string, string>;
    fake?: FakeAnthropic;
    dataDir?: string;
    /** Changes the loaded config (settings that are no environment variable). */
    configure?: (config: Config) => void;
  } = {},
): Promise<Stack> {
  const fake = options.fake ?? (await startFakeAnthropic());
  const dataDir = options.dataDir ?? tempDir('data');
  const config = loadConfig(serverEnv(fake, dataDir, options.env));
  options.configure?.(config);
  const server = await startServer(config);
  return {
    fake,
    base: `${server.url}/api/v1`,
    dataDir,
    server,
    async close() {
      await server.close();
      if (!options.fake) await fake.close();
      await removeDataDir(dataDir);
    },
  };
}

/**
 * Removes a test's data dir once the server has closed. Nothing should write there any more: a
 * failure names what is left and which processes (Claude Code has the dir in its environment)
 * were still alive at the first attempt, which is what a leaked Claude Code process looks like.
 * The whole removal is retried for 2 s (fs.rmSync's own retries only retry the last rmdir), so a
 * process that dies a moment late shows as a warning on stderr rather than a failed suite.
 */
async function removeDataDir(dataDir: string): Promise<void> {
  let firstError: { message: string; alive: string[] } | null = null;
  for (const deadline = Date.now() + 2000; ;) {
    try {
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (firstError)
        console.warn(
          `removing ${dataDir} took retries (${firstError.message}); alive: ${firstError.alive.join('; ')}`,
        );
      return;
    } catch (err) {
      firstError ??= { message: (err as Error).message, alive: processesWithEnvMention(dataDir) };
      if (Date.now() > deadline) {
        const left = fs.readdirSync(dataDir, { recursive: true }).slice(0, 20);
        throw new Error(
          `could not remove ${dataDir} (${firstError.message}); left: ${left.join(', ')}; ` +
            `processes with it in their environment at the first attempt: ${firstError.alive.join('; ') || 'none'}`,
          { cause: err },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export interface SpawnedServer {
  child: ChildProcess;
  base: string;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs the server as its own process (`node --import tsx src/main.ts`, or another entry point
 * such as the offline demo) and waits until it listens. Node runs the entry itself (the `tsx`
 * command would put a wrapper process in between), so `child.pid` is the server: a SIGKILL
 * kills the server, not a wrapper that leaves it running.
 */
export async function spawnServer(
  env: Record<string, string>,
  timeoutMs = 20_000,
  entry = 'src/main.ts',
): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...env, LOG_LEVEL: env.LOG_LEVEL === 'silent' ? 'info' : (env.LOG_LEVEL ?? 'info') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), timeoutMs);
    const check = (): void => {
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+\/api\/v1)"/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  return {
    child,
    base,
    stdout: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs a server process that is expected to refuse to start, and returns how it ended: its exit
 * code and everything it wrote. Fails when it is still running after `timeoutMs`.
 */
export async function runServerToExit(
  env: Record<string, string>,
  timeoutMs = 20_000,
  entry = 'src/main.ts',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server was still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
