/**
 * The `AgentRunner` on the real Claude Code binary, through `@anthropic-ai/claude-agent-sdk`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { query, type Options } from '@anthropic-ai/claude-agent-sdk';
import type { AgentProcess, AgentRunner, AgentSpec, Logger, ModelInfo } from '../../domain/ports.js';
import { buildChildEnv } from './child-env.js';
import { ClaudeProcess } from './claude-process.js';
import { FALLBACK_MODELS } from './fallback-models.js';
import { InputQueue } from './input-queue.js';
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
  logger: Logger;
}

export class ClaudeSdkRunner implements AgentRunner {
  private readonly env: Record<string, string>;
  private readonly sandbox: SandboxPolicy | null;
  private models: Promise<ModelInfo[]> | null = null;

  constructor(private readonly options: ClaudeSdkRunnerOptions) {
    fs.mkdirSync(options.claudeConfigDir, { recursive: true, mode: 0o700 });
    this.env = buildChildEnv({ source: options.envSource, claudeConfigDir: options.claudeConfigDir });
    this.sandbox = options.sandbox
      ? { ...options.sandbox, deniedEnvVars: credentialVariables(this.env) }
      : null;
  }

  start(spec: AgentSpec): AgentProcess {
    return new ClaudeProcess(spec, {
      resume: transcriptExists(this.options.claudeConfigDir, spec.claudeSessionId),
      env:
        spec.permissionMode === 'bypassPermissions' && RUNNING_AS_ROOT
          ? { ...this.env, IS_SANDBOX: '1' }
          : this.env,
      confineFileTools: this.options.confineFileTools,
      sandbox: this.sandbox ? sandboxSettings(this.sandbox, spec.cwd) : null,
      settingSources: this.options.settingSources,
      executable: this.options.executable,
      logStderr: this.options.logStderr,
      logger: this.options.logger.child({ sessionId: spec.sessionId }),
    });
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
    const q = query({
      prompt: input,
      options: {
        env: this.env,
        settingSources: this.options.settingSources,
        ...(this.options.executable ? { pathToClaudeCodeExecutable: this.options.executable } : {}),
      },
    });
    try {
      const models = await q.supportedModels();
      return models.map((m) => ({
        id: m.value,
        name: m.displayName,
        description: m.description,
        resolvedModel: (m as { resolvedModel?: string }).resolvedModel ?? null,
      }));
    } finally {
      input.end();
      q.close();
    }
  }
}

const RUNNING_AS_ROOT = process.getuid?.() === 0;

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
