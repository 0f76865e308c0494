/**
 * The `AgentRunner` on the real Claude Code binary, through `@anthropic-ai/claude-agent-sdk`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { query, type Options, type SessionStore as SdkSessionStore } from '@anthropic-ai/claude-agent-sdk';
import type {
  AgentHealth,
  AgentProblem,
  AgentProcess,
  AgentRunner,
  AgentSpec,
  Logger,
  ModelInfo,
} from '../../domain/ports.js';
import { buildChildEnv } from './child-env.js';
import { ClaudeProcess } from './claude-process.js';
import { NO_CREDENTIALS_HINT } from '../../domain/no-credentials.js';
import { credentialsStatus } from './credentials.js';
import { FALLBACK_MODELS } from './fallback-models.js';
import { awaitGone, spawnGroupLeader, type GroupChild } from './group-spawn.js';
import { InputQueue } from './input-queue.js';
import { ProcessRegistry } from './process-registry.js';
import { credentialVariables, sandboxSettings, type SandboxPolicy } from './sandbox-settings.js';

export interface ClaudeSdkRunnerOptions {
  /** Claude Code's config dir (transcripts, settings): the server's own, under the data dir. */
  claudeConfigDir: string;
  envSource: Readonly<Record<string, string | undefined>>;
  settingSources: NonNullable<Options['settingSources']>;
  executable: string | null;
  logStderr: boolean;
  /** Run the agent's commands in Claude Code's sandbox (null: unsandboxed). */
  sandbox: Omit<SandboxPolicy, 'deniedEnvVars'> | null;
  /** Confine Claude Code's file tools (Read, Write, Edit, …) to the session's working directory. */
  confineFileTools: boolean;
  /**
   * A file (in the data dir) that remembers this server's temp directory, so the next start
   * removes what a crash left. See `AgentTempDirs`.
   */
  tmpMarkerFile: string;
  /** Where live process groups are recorded (in the data dir), see ProcessRegistry. */
  processRegistryDir: string;
  /** Claude Code's transcripts in the server's store (resume from there); null: local files. */
  transcripts: (SdkSessionStore & { has(claudeSessionId: string): boolean }) | null;
  logger: Logger;
}

export class ClaudeSdkRunner implements AgentRunner {
  private readonly env: Record<string, string>;
  private readonly sandbox: SandboxPolicy | null;
  private readonly tmp: AgentTempDirs;
  private readonly registry: ProcessRegistry;
  private models: Promise<ModelInfo[]> | null = null;
  /** Ends the catalogue query under way, if any, and resolves once its process is gone. */
  private stopCatalogue: (() => Promise<void>) | null = null;

  constructor(private readonly options: ClaudeSdkRunnerOptions) {
    fs.mkdirSync(options.claudeConfigDir, { recursive: true, mode: 0o700 });
    this.tmp = new AgentTempDirs(options.tmpMarkerFile);
    this.registry = new ProcessRegistry(options.processRegistryDir);
    const reaped = this.registry.reapLeftovers();
    if (reaped > 0)
      options.logger.warn({ processes: reaped }, 'ended processes a previous run of the server left');
    this.env = buildChildEnv({ source: options.envSource, claudeConfigDir: options.claudeConfigDir });
    this.sandbox = options.sandbox
      ? {
          ...options.sandbox,
          // Every process's temp dir is hidden from the other sessions' commands.
          denyRead: [...options.sandbox.denyRead, this.tmp.base],
          deniedEnvVars: credentialVariables(this.env),
        }
      : null;
  }

  start(spec: AgentSpec): AgentProcess {
    const tmpDir = this.tmp.create();
    const env: Record<string, string> = { ...this.env, ...tempEnv(tmpDir) };
    if (spec.permissionMode === 'bypassPermissions' && RUNNING_AS_ROOT) env.IS_SANDBOX = '1';
    const { transcripts } = this.options;
    const process = new ClaudeProcess(spec, {
      // Sessions from before the transcripts were stored still resume from Claude Code's files.
      resume:
        (transcripts?.has(spec.claudeSessionId) ?? false) ||
        transcriptExists(this.options.claudeConfigDir, spec.claudeSessionId),
      transcripts,
      registry: this.registry,
      env,
      confineFileTools: this.options.confineFileTools,
      sandbox: this.sandbox ? sandboxSettings(this.sandbox, [spec.cwd, tmpDir]) : null,
      settingSources: this.options.settingSources,
      executable: this.options.executable,
      logStderr: this.options.logStderr,
      logger: this.options.logger.child({ sessionId: spec.sessionId }),
    });
    process.onExit(() => void this.tmp.remove(tmpDir, this.options.logger));
    return process;
  }

  health(): AgentHealth {
    const problems: AgentProblem[] = [];
    const tmp = this.tmp.problem();
    if (tmp) problems.push({ code: 'agent_temp_dir', message: tmp });
    const credentials = credentialsStatus(this.env, this.options.claudeConfigDir);
    if (credentials === 'missing') problems.push({ code: 'no_credentials', message: NO_CREDENTIALS_HINT });
    return { credentials, problems };
  }

  /**
   * Claude Code refuses `bypassPermissions` as root unless IS_SANDBOX=1 says it is contained.
   * The server sets that flag (for bypass sessions only, see start()) exactly when the agent's
   * commands run in the sandbox; otherwise a root server refuses the mode.
   */
  bypassPermissions(): { allowed: true } | { allowed: false; reason: string } {
    if (!RUNNING_AS_ROOT || this.sandbox) return { allowed: true };
    return {
      allowed: false,
      reason: "the server runs as root and the agent's commands are not sandboxed (SANDBOX_MODE)",
    };
  }

  async close(): Promise<void> {
    await this.stopCatalogue?.();
    // A leftover is removed at the next start (the marker file): never a reason to fail shutdown.
    await this.tmp
      .removeAll()
      .catch((err: unknown) => this.options.logger.warn({ err }, 'could not remove the temp dirs'));
  }

  version(): string {
    return claudeCodeVersion();
  }

  /**
   * Claude Code's model catalogue. Asking for it starts a Claude Code process (about 0.5 s,
   * no network), so it is asked once and kept; a failure falls back to a built-in list.
   */
  listModels(): Promise<ModelInfo[]> {
    this.models ??= this.fetchModels().catch((err: unknown) => {
      this.options.logger.warn(
        { err },
        'could not read the model catalogue from Claude Code; using the built-in list',
      );
      this.models = null;
      return FALLBACK_MODELS;
    });
    return this.models;
  }

  private async fetchModels(): Promise<ModelInfo[]> {
    const input = new InputQueue<never>();
    const tmpDir = this.tmp.create();
    let group: GroupChild | null = null;
    const q = query({
      prompt: input,
      options: {
        env: { ...this.env, ...tempEnv(tmpDir) },
        settingSources: this.options.settingSources,
        ...(this.options.executable ? { pathToClaudeCodeExecutable: this.options.executable } : {}),
        spawnClaudeCodeProcess: (o) => {
          group = spawnGroupLeader(o, { registry: this.registry, logger: this.options.logger });
          return group.child;
        },
      },
    });
    // Closing the query returns at once; the process may take a while to exit, and must be gone
    // before its temp dir is removed and before the server reports itself stopped (close()).
    let stopped: Promise<void> | null = null;
    const stop = (): Promise<void> =>
      (stopped ??= (async () => {
        input.end();
        q.close();
        if (group) await awaitGone(group, CATALOGUE_CLOSE_GRACE_MS);
        await this.tmp.remove(tmpDir, this.options.logger);
        if (this.stopCatalogue === stop) this.stopCatalogue = null;
      })());
    this.stopCatalogue = stop;
    try {
      const models = await q.supportedModels();
      return models.map((m) => ({
        id: m.value,
        name: m.displayName,
        description: m.description,
        resolvedModel: (m as { resolvedModel?: string }).resolvedModel ?? null,
      }));
    } finally {
      // The answer does not wait for the process to exit; close() does.
      void stop();
    }
  }
}

/** How long the model catalogue's process gets to exit after its query is closed. */
const CATALOGUE_CLOSE_GRACE_MS = 2000;

const RUNNING_AS_ROOT = process.getuid?.() === 0;

/**
 * Claude Code keeps temp files (background command output, the sandbox's socket bridges, probes)
 * in TMPDIR and CLAUDE_CODE_TMPDIR. Its default, /tmp/claude-<uid>, is shared by every session of
 * the server user and kept forever: one tenant's command output would be readable by another's
 * commands. So each process gets its own directory, removed when it exits.
 */
function tempEnv(dir: string): Record<string, string> {
  return { CLAUDE_CODE_TMPDIR: dir, TMPDIR: dir };
}

/**
 * The per-process temp directories, under one base per server run. The base is short and in the
 * system temp dir, not in the data dir: the sandbox's Unix socket paths live there and may not be
 * longer than 108 bytes. Its path is kept in a marker file so the next start removes a base left
 * by a crash.
 */
class AgentTempDirs {
  readonly base: string;

  constructor(private readonly markerFile: string) {
    try {
      const previous = fs.readFileSync(markerFile, 'utf8').trim();
      if (path.basename(previous).startsWith('ccr-')) fs.rmSync(previous, { recursive: true, force: true });
    } catch {
      // No marker: a first start.
    }
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-'));
    fs.writeFileSync(markerFile, `${this.base}\n`, { mode: 0o600 });
  }

  create(): string {
    return fs.mkdtempSync(path.join(this.base, 's-'));
  }

  /**
   * Why no process could get its temp dir now (the base was removed, say by a cleaner of /tmp),
   * or null. Every new Claude Code process would fail to start until the server restarts.
   */
  problem(): string | null {
    try {
      if (!fs.statSync(this.base).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
      fs.accessSync(this.base, fs.constants.W_OK | fs.constants.X_OK);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unusable';
      return `the agent's temp dir ${this.base} is not usable (${code}): new Claude Code processes cannot start until the server restarts`;
    }
  }

  /**
   * Removes one process's temp dir, never failing: asynchronous and retried, since a helper of the
   * process group may still be writing there as it dies (ENOTEMPTY). What is left is removed with
   * the whole base at the next start.
   */
  remove(dir: string, logger: Logger): Promise<void> {
    return removeTree(dir).catch((err: unknown) => logger.warn({ err, dir }, 'could not remove a temp dir'));
  }

  removeAll(): Promise<void> {
    return removeTree(this.base);
  }
}

function removeTree(dir: string): Promise<void> {
  return fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

let cachedVersion: string | null = null;

/** The Claude Code version the installed SDK bundles (from its package.json, no process needed). */
export function claudeCodeVersion(): string {
  if (cachedVersion) return cachedVersion;
  // The package's `exports` map hides package.json, so it is read next to the entry point.
  const entry = createRequire(import.meta.url).resolve('@anthropic-ai/claude-agent-sdk');
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), 'package.json'), 'utf8')) as {
    claudeCodeVersion?: string;
  };
  cachedVersion = pkg.claudeCodeVersion ?? 'unknown';
  return cachedVersion;
}

/**
 * Claude Code keeps each conversation in `<config dir>/projects/<sanitised cwd>/<id>.jsonl`.
 * A session whose earlier process wrote one is resumed; one that never reached Claude Code
 * starts fresh with the same id.
 */
export function transcriptExists(claudeConfigDir: string, claudeSessionId: string): boolean {
  const projects = path.join(claudeConfigDir, 'projects');
  let dirs: string[];
  try {
    dirs = fs.readdirSync(projects);
  } catch {
    return false;
  }
  return dirs.some((dir) => fs.existsSync(path.join(projects, dir, `${claudeSessionId}.jsonl`)));
}
