/**
 * The `AgentRunner` on the real Claude Code binary, through `@anthropic-ai/claude-agent-sdk`.
 *
 * With the sandbox on, each Claude Code process runs in a sandbox of its own
 * (process-sandbox.ts): its file tools reach only what that sandbox shows, whatever a path or a
 * symlink says. Its commands run in Claude Code's own sandbox inside it (sandbox-settings.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { query, type Options, type SpawnOptions } from '@anthropic-ai/claude-agent-sdk';
import type {
  AgentHealth,
  AgentProblem,
  AgentProcess,
  AgentRunner,
  AgentSpec,
  Logger,
  ModelInfo,
} from '../../domain/ports.js';
import type { TranscriptStore } from '../../domain/stores.js';
import { buildChildEnv } from './child-env.js';
import { ClaudeProcess } from './claude-process.js';
import { forkConversation } from './conversation-fork.js';
import { NO_CREDENTIALS_HINT } from '../../domain/no-credentials.js';
import { credentialsStatus } from './credentials.js';
import { FALLBACK_MODELS } from './fallback-models.js';
import { AgentDirs, type ProcessDirs } from './agent-dirs.js';
import { awaitGone, plainPlan, spawnGroupLeader, type GroupChild, type SpawnPlan } from './group-spawn.js';
import { InputQueue } from './input-queue.js';
import { localTranscript, withLegacyImport } from './legacy-transcripts.js';
import { ProcessRegistry } from './process-registry.js';
import { bwrapArguments, type SandboxLayout } from './process-sandbox.js';
import { hostLayout, sdkBinaryDirs } from './sandbox-layout.js';
import {
  credentialVariables,
  sandboxSettings,
  type SandboxPolicy,
  type SandboxSettings,
} from './sandbox-settings.js';
import { openWorkspace, type WorkspaceHandle, type WorkspacePlaces } from './workspace-handle.js';

export interface ClaudeSdkRunnerOptions {
  /**
   * The server's Claude Code config dir, under the data dir: the config dir of every process
   * without the sandbox; with it, only where an operator's Claude Code login
   * (`.credentials.json`) and the local transcripts of older sessions are read from.
   */
  claudeConfigDir: string;
  /** The data dir and its workspaces folder: where a session's workspace may be (workspace-handle.ts). */
  places: WorkspacePlaces;
  envSource: Readonly<Record<string, string | undefined>>;
  settingSources: NonNullable<Options['settingSources']>;
  executable: string | null;
  logStderr: boolean;
  /** Run Claude Code and the agent's commands sandboxed (null: unsandboxed). */
  sandbox: RunnerSandbox | null;
  /** Confine Claude Code's file tools (Read, Write, Edit, …) to the session's working directory. */
  confineFileTools: boolean;
  /**
   * A file (in the data dir) that remembers this server's temp directory, so the next start
   * removes what a crash left. See `AgentDirs`.
   */
  tmpMarkerFile: string;
  /** Where live process groups are recorded (in the data dir), see ProcessRegistry. */
  processRegistryDir: string;
  /** Claude Code's transcripts in the server's store (resume from there); null: local files. */
  transcripts: TranscriptStore | null;
  logger: Logger;
}

export interface RunnerSandbox extends Omit<SandboxPolicy, 'deniedEnvVars'> {
  /** Host paths a sandboxed Claude Code may read besides the system's (SANDBOX_EXTRA_READ_PATHS). */
  extraReadPaths: string[];
  /** How the agent's commands get /proc inside the process sandbox (isolation-probe.ts). */
  nestedProc: 'fresh' | 'bind';
  /** False only to measure what the process sandbox costs: Claude Code's sandbox for commands alone. */
  wholeProcess?: boolean;
}

export class ClaudeSdkRunner implements AgentRunner {
  private readonly env: Record<string, string>;
  private readonly sandbox: (SandboxPolicy & { nestedProc: 'fresh' | 'bind' }) | null;
  private readonly dirs: AgentDirs;
  private readonly registry: ProcessRegistry;
  private readonly layout: SandboxLayout | null;
  private readonly bwrap: string;
  private models: Promise<ModelInfo[]> | null = null;
  /** Ends the catalogue query under way, if any, and resolves once its process is gone. */
  private stopCatalogue: (() => Promise<void>) | null = null;

  constructor(private readonly options: ClaudeSdkRunnerOptions) {
    fs.mkdirSync(options.claudeConfigDir, { recursive: true, mode: 0o700 });
    this.dirs = new AgentDirs(options.tmpMarkerFile);
    this.bwrap = findProgram('bwrap') ?? 'bwrap';
    const programs = [this.bwrap, ...sdkBinaryDirs().map((dir) => path.join(dir, 'claude'))];
    if (options.executable) programs.push(path.resolve(options.executable));
    this.registry = new ProcessRegistry(options.processRegistryDir, programs);
    const reaped = this.registry.reapLeftovers();
    if (reaped > 0)
      options.logger.warn({ groups: reaped }, 'ended process groups a previous run of the server left');
    this.env = buildChildEnv({ source: options.envSource, claudeConfigDir: options.claudeConfigDir });
    const sandbox = options.sandbox;
    this.layout =
      sandbox && sandbox.wholeProcess !== false
        ? hostLayout({
            programDirs: [
              ...sdkBinaryDirs(),
              ...(options.executable ? [path.dirname(path.resolve(options.executable))] : []),
            ],
            extraReadPaths: sandbox.extraReadPaths,
            etcDir: path.join(this.dirs.base, 'etc'),
          })
        : null;
    this.sandbox = sandbox
      ? {
          denyRead: [
            ...sandbox.denyRead,
            // Every process's own folder, and the config dirs the SDK makes there for a resume:
            // the agent's commands read their own TMPDIR only.
            this.dirs.base,
            os.tmpdir(),
          ],
          allowedDomains: sandbox.allowedDomains,
          deniedEnvVars: credentialVariables(this.env),
          // Not nested in the process sandbox, Claude Code's own mounts a fresh /proc.
          nestedProc: sandbox.wholeProcess === false ? 'fresh' : sandbox.nestedProc,
        }
      : null;
  }

  start(spec: AgentSpec): Promise<AgentProcess> {
    return this.launch(spec, 'start');
  }

  /**
   * A spare for the session `spec` describes (a new one: its owned workspace made, nothing in
   * it yet): started exactly as `start` would start it, in the same sandbox bound to the same
   * folder, and parked until `claim`.
   */
  async prewarm(spec: AgentSpec): Promise<AgentProcess> {
    const process = await this.launch(spec, 'spare');
    await process.park();
    return process;
  }

  /** The spare bound to its session, or null when Claude Code refused (the spare is gone then). */
  async claim(spare: AgentProcess, spec: AgentSpec): Promise<AgentProcess | null> {
    if (!(spare instanceof ClaudeProcess)) return null;
    // The spare was started for this very session id: its logger already names it.
    const claimed = await spare.claim(spec);
    return claimed ? spare : null;
  }

  private async launch(spec: AgentSpec, mode: 'start' | 'spare'): Promise<ClaudeProcess> {
    // Throws FORBIDDEN when the folder was moved under the session: nothing starts.
    const workspace = openWorkspace(spec.cwd, this.options.places);
    const dirs = this.dirs.create();
    const confined = this.layout !== null;
    const env: Record<string, string> = {
      ...this.env,
      ...tempEnv(dirs.tmp),
      // Sandboxed, each process has its own config dir and home: nothing of another session's.
      ...(confined ? { CLAUDE_CONFIG_DIR: dirs.config, HOME: dirs.home } : {}),
    };
    if (!confined) workspace.close();
    const { transcripts } = this.options;
    const legacy = localTranscript(this.options.claudeConfigDir, spec.claudeSessionId);
    if (confined && legacy && !transcripts) copyTranscript(legacy, this.options.claudeConfigDir, dirs.config);
    const process = new ClaudeProcess(
      spec,
      {
        // Sessions from before the transcripts were stored still resume, from Claude Code's files.
        resume: (transcripts ? await transcripts.has(spec.claudeSessionId) : false) || legacy !== null,
        transcripts:
          transcripts && confined ? withLegacyImport(transcripts, this.options.claudeConfigDir) : transcripts,
        registry: this.registry,
        plan: (o) => (confined ? this.confinedPlan(o, dirs, workspace) : plainPlan(o)),
        env,
        confineFileTools: this.options.confineFileTools,
        sandbox: this.sandbox ? this.commandSandbox([spec.cwd, dirs.tmp]) : null,
        settingSources: this.options.settingSources,
        executable: this.options.executable,
        logStderr: this.options.logStderr,
        logger: this.options.logger.child({ sessionId: spec.sessionId }),
      },
      mode,
    );
    process.onExit(() => {
      workspace.close();
      void this.dirs.remove(dirs, this.options.logger);
    });
    return process;
  }

  /** Claude Code's own sandbox for the agent's commands, inside the process sandbox. */
  private commandSandbox(readable: string[]): SandboxSettings {
    const sandbox = this.sandbox!;
    return {
      ...sandboxSettings(sandbox, readable),
      ...(sandbox.nestedProc === 'bind' ? { enableWeakerNestedSandbox: true } : {}),
    };
  }

  /** bubblewrap around Claude Code (process-sandbox.ts), with the session's workspace if any. */
  private confinedPlan(o: SpawnOptions, dirs: ProcessDirs, workspace: WorkspaceHandle | null): SpawnPlan {
    // The SDK may have made a config dir of its own for a resume (the transcript loaded from the
    // store): that one is Claude Code's config dir then, and is bound too.
    const configDir = o.env.CLAUDE_CONFIG_DIR ?? dirs.config;
    const login = path.join(this.options.claudeConfigDir, '.credentials.json');
    const layout = this.layout!;
    // Inside, a relative path would be taken from the workspace.
    const command = path.resolve(o.command);
    const args = bwrapArguments(
      { ...layout, readOnly: [...layout.readOnly, path.dirname(command)] },
      {
        privateDirs: configDir.startsWith(dirs.root + path.sep) ? [dirs.root] : [dirs.root, configDir],
        // The operator's Claude Code login, if any: that one file, read-write so a refreshed
        // token is kept (Claude Code rewrites it in place).
        credentials: fs.existsSync(login)
          ? { source: login, at: path.join(configDir, '.credentials.json') }
          : null,
        workspace: workspace ? { childFd: 3, path: workspace.path } : null,
        chdir: workspace?.path ?? dirs.home,
        command,
        args: o.args,
      },
    );
    return {
      command: this.bwrap,
      args,
      // bubblewrap's own working directory on the host: never the workspace's name, which may
      // lead elsewhere by now.
      cwd: dirs.root,
      env: o.env,
      extraFds: workspace ? [workspace.fd] : [],
    };
  }

  health(): AgentHealth {
    const problems: AgentProblem[] = [];
    const tmp = this.dirs.problem();
    if (tmp) problems.push({ code: 'agent_temp_dir', message: tmp });
    const credentials = credentialsStatus(this.env, this.options.claudeConfigDir);
    if (credentials === 'missing') problems.push({ code: 'no_credentials', message: NO_CREDENTIALS_HINT });
    return { credentials, problems };
  }

  /**
   * Claude Code refuses `bypassPermissions` as root. Sandboxed, it runs as a non-root user of its
   * own user namespace, so the mode works; a root server without the sandbox refuses it.
   */
  bypassPermissions(): { allowed: true } | { allowed: false; reason: string } {
    if (!RUNNING_AS_ROOT || this.sandbox) return { allowed: true };
    return {
      allowed: false,
      reason: 'the server runs as root and Claude Code is not sandboxed (SANDBOX_MODE)',
    };
  }

  async forkConversation(request: {
    claudeSessionId: string;
    cwd: string;
    upToUuid: string | null;
    targetCwd: string;
  }): Promise<string> {
    const transcripts = this.options.transcripts;
    if (!transcripts) throw new Error('conversation copies need the transcript store');
    return forkConversation(transcripts, request);
  }

  async close(): Promise<void> {
    await this.stopCatalogue?.();
    // A leftover is removed at the next start (the marker file): never a reason to fail shutdown.
    await this.dirs
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
    const dirs = this.dirs.create();
    const confined = this.layout !== null;
    let group: GroupChild | null = null;
    const q = query({
      prompt: input,
      options: {
        // Its own home, never the server's working directory (the checkout).
        cwd: dirs.home,
        env: {
          ...this.env,
          ...tempEnv(dirs.tmp),
          ...(confined ? { CLAUDE_CONFIG_DIR: dirs.config, HOME: dirs.home } : {}),
        },
        settingSources: this.options.settingSources,
        ...(this.options.executable ? { pathToClaudeCodeExecutable: this.options.executable } : {}),
        spawnClaudeCodeProcess: (o) => {
          const plan = confined ? this.confinedPlan(o, dirs, null) : plainPlan(o);
          group = spawnGroupLeader(plan, { registry: this.registry, logger: this.options.logger });
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
        await this.dirs.remove(dirs, this.options.logger);
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

function tempEnv(dir: string): Record<string, string> {
  return { CLAUDE_CODE_TMPDIR: dir, TMPDIR: dir };
}

/** The absolute path of a program on the server's PATH, or null. */
function findProgram(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** A local transcript copied to the same place in another config dir (no store to import to). */
function copyTranscript(file: string, fromConfigDir: string, toConfigDir: string): void {
  const target = path.join(toConfigDir, path.relative(fromConfigDir, file));
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  fs.copyFileSync(file, target);
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
