/**
 * The ports: small interfaces the domain needs and the adapters implement
 * (src/adapters/...). The composition root (src/composition.ts) picks the adapters.
 * The storage ports have their own file, src/domain/stores.ts.
 */
import type { PermissionMode, SessionEvent } from './types.js';
import type { RateLimitBucket } from './rate-limit-buckets.js';
import type { TokenUsage } from './events.js';

// ---------------------------------------------------------------------------------------------
// Rate limits. Decisions are values, not exceptions: the hot path never throws.
// ---------------------------------------------------------------------------------------------

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the current window ends, epoch ms. */
  resetAt: number;
}

export interface RateLimiter {
  /** Takes `cost` units from the bucket if they are all there; atomic per key and bucket. */
  consume(keyId: string, bucket: RateLimitBucket, limit: number, cost?: number): Promise<RateLimitDecision>;
  /** The bucket's state without spending. */
  peek(keyId: string, bucket: RateLimitBucket, limit: number): Promise<RateLimitDecision>;
}

// ---------------------------------------------------------------------------------------------
// Live events: the log's new entries, published after they are stored.
// ---------------------------------------------------------------------------------------------

export interface EventBus {
  publish(event: SessionEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(sessionId: string, listener: (event: SessionEvent) => void): () => void;
}

export interface Clock {
  now(): number;
}

/** The subset of pino's interface the domain and adapters log through. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

// ---------------------------------------------------------------------------------------------
// Workspaces: the agent's working directories.
// ---------------------------------------------------------------------------------------------

/** Where a client-given `cwd` leads, or why it may not be one. */
export type CwdResolution =
  | { ok: true; path: string }
  | {
      ok: false;
      reason:
        'no_roots' | 'not_absolute' | 'not_a_directory' | 'data_dir' | 'workspace_root' | 'outside_roots';
    };

export interface Workspaces {
  /** Makes a fresh, empty workspace for a session and returns its absolute path. */
  create(sessionId: string): Promise<string>;
  /**
   * Resolves a client-given `cwd` to an absolute, real path inside one of `roots`, or returns
   * an error (relative paths, `..` or symlinks leading out of the roots, no roots at all).
   */
  resolveExternal(cwd: string, roots: readonly string[]): Promise<CwdResolution>;
  remove(path: string): Promise<void>;
  /** The session ids that have a workspace made by `create` (for the retention sweep). */
  list(): Promise<Array<{ sessionId: string; path: string }>>;
}

/**
 * The bytes of files uploaded through the Managed Agents API (`/v1/files`), kept under the data
 * dir, and their copies mounted into a session's workspace (a session `file` resource).
 */
export interface FileContents {
  write(fileId: string, bytes: Uint8Array): Promise<void>;
  /** null when nothing is stored under the id. */
  read(fileId: string): Promise<Uint8Array | null>;
  remove(fileId: string): Promise<void>;
  /**
   * Copies a stored file into a workspace at `relativePath` (folders made as needed). Refuses
   * (`ok: false`) a path that leaves the workspace (`..`, a symlink on the way) or an existing file.
   */
  mount(
    fileId: string,
    workspace: string,
    relativePath: string,
  ): Promise<{ ok: true } | { ok: false; reason: 'outside' | 'exists' | 'missing' }>;
  /** Removes a mounted copy again (nothing there: a no-op). */
  unmount(workspace: string, relativePath: string): Promise<void>;
}

/** One entry of a workspace listing. */
export interface WorkspaceEntry {
  name: string;
  /** Relative to the workspace root, with `/` separators. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** Bytes (a symlink: the length of its target's name; a folder: what the file system says). */
  size: number;
  modifiedAt: number;
}

export interface WorkspaceListing {
  /** The listed folder, relative to the workspace root (`.` for the root). */
  path: string;
  entries: WorkspaceEntry[];
  /** The recursive listing stopped at its cap. */
  truncated: boolean;
}

/** Limits on what a client adds to a workspace (uploads, seeds). */
export interface UploadLimits {
  fileLimitBytes: number;
  workspaceMaxBytes: number;
}

export interface WrittenFile {
  path: string;
  size: number;
  sha256: string;
  /** false: an existing file was replaced. */
  created: boolean;
}

/**
 * The files of a workspace, for the files API. Every client path is resolved inside `root`
 * after following symlinks (and `..`); one that leads out throws FORBIDDEN (`policy: workspace`),
 * a NUL byte or an absurd length INVALID_REQUEST. Errors are the situations of
 * error-situations.ts.
 */
export interface WorkspaceFiles {
  list(
    root: string,
    relPath: string,
    options: { recursive: boolean; cap: number },
  ): Promise<WorkspaceListing>;
  /** The real absolute path of an existing regular file, for a download. */
  locateFile(root: string, relPath: string): Promise<{ absolutePath: string; path: string }>;
  /** Writes (creates or replaces) a file from a stream of bytes, parents created; atomic. */
  write(
    root: string,
    relPath: string,
    body: AsyncIterable<Uint8Array>,
    limits: UploadLimits,
  ): Promise<WrittenFile>;
  /** Removes a file or a symlink (never a folder). */
  remove(root: string, relPath: string): Promise<{ path: string }>;
  /** A gzip tar of a folder of the workspace (symlinks kept as links, never followed). */
  archive(root: string, relPath: string): Promise<{ path: string; stream: AsyncIterable<Uint8Array> }>;
}

/** One file a checkpoint changed, against the one before. */
export interface FileChange {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed';
  /** A renamed file's former path. */
  previousPath?: string;
  /** Lines (0 for a binary file). */
  additions: number;
  deletions: number;
  binary: boolean;
}

/** One file of a diff in JSON: its hunks, each with its lines (` `, `+`, `-` first). */
export interface DiffFile extends FileChange {
  hunks: Array<{
    header: string;
    oldStart: number;
    oldLines: number;
    newStart: number;
    newLines: number;
    lines: string[];
  }>;
}

/**
 * Snapshots of workspaces, kept apart from them (a shadow repository per session under the data
 * dir: the workspace's own `.git`, if any, is never touched, and the agent cannot reach them).
 * A snapshot is named by a ref (`turns/<messageId>/before`…) and identified by its id.
 */
export interface WorkspaceSnapshots {
  /** Records `cwd` as it is now under `name`; returns the snapshot's id. */
  snapshot(sessionId: string, cwd: string, name: string, message: string): Promise<string>;
  /** As `snapshot`, and what changed since the snapshot `since` (as `changes` says), in one go. */
  snapshotSince(
    sessionId: string,
    cwd: string,
    name: string,
    message: string,
    since: string,
  ): Promise<{ id: string; changes: FileChange[] }>;
  /** The id recorded under `name`, null when there is none. */
  idOf(sessionId: string, name: string): Promise<string | null>;
  changes(sessionId: string, from: string, to: string): Promise<FileChange[]>;
  /** Unified diff; binary files are named, not dumped. */
  diff(sessionId: string, from: string, to: string): Promise<string>;
  diffFiles(sessionId: string, from: string, to: string): Promise<DiffFile[]>;
  /** Makes `cwd` hold exactly the snapshot's files (its `.git` left alone). */
  restore(sessionId: string, cwd: string, id: string): Promise<void>;
  /** Writes the snapshot's files into `targetDir` (a new workspace). */
  copyInto(sessionId: string, id: string, targetDir: string): Promise<void>;
  remove(sessionId: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The agent: Claude Code, one long-lived process per live session.
// ---------------------------------------------------------------------------------------------

export interface AgentSpec {
  sessionId: string;
  /**
   * Claude Code's session id. The runner continues Claude Code's stored conversation of this
   * id when there is one (a restarted process), and starts a new one with this id otherwise.
   */
  claudeSessionId: string;
  model: string | null;
  permissionMode: PermissionMode;
  maxTurns: number | null;
  cwd: string;
  systemPrompt: string | null;
  appendSystemPrompt: string | null;
  allowedTools: string[];
  disallowedTools: string[];
  /**
   * The session's recorded cost so far. Claude Code reports a running total per process and
   * restores it from the transcript on resume; the runner subtracts to get each turn's cost.
   */
  priorCostUsd: number;
}

/** A message of Claude Code's stream-json output, kept as the JSON object it is. */
export type ClaudeMessage = Record<string, unknown> & { type: string };

export type AgentEvent =
  | { kind: 'message'; message: ClaudeMessage }
  /** A piece of text as the model writes it (Claude Code's partial messages). */
  | { kind: 'delta'; delta: 'text' | 'thinking'; text: string; index: number; apiMessageId: string | null }
  /**
   * One model API request as it streams (Claude Code's partial messages): `start` is its
   * message_start (the input usage), `usage` a message_delta (the usage so far, output included),
   * `stop` its message_stop. `parentToolUseId`: a subagent's request (its Task call), else null.
   */
  | {
      kind: 'model_request';
      phase: 'start' | 'usage' | 'stop';
      apiMessageId: string | null;
      parentToolUseId: string | null;
      usage: Partial<TokenUsage>;
    }
  | {
      kind: 'retry';
      attempt: number;
      maxRetries: number;
      delayMs: number;
      errorStatus: number | null;
      error: string;
    };

/** Claude Code asks whether a tool call may run (its `canUseTool` callback). */
export interface PermissionAsk {
  toolName: string;
  input: Record<string, unknown>;
  toolUseId: string | null;
  /** Claude Code's own words for the call ("Run python3 …", a file name). */
  description: string | null;
  displayName: string | null;
  decisionReason: string | null;
  /** Claude Code's suggested permission rules (its PermissionUpdate objects, kept as they are). */
  suggestions: unknown[];
  /** Aborts when the turn is interrupted: the question is withdrawn. */
  signal: AbortSignal;
}

export type PermissionAnswer =
  /** `remember`: apply these suggested rules for the rest of the session. */
  | { behavior: 'allow'; updatedInput?: Record<string, unknown>; remember?: unknown[] }
  | { behavior: 'deny'; message: string; interrupt?: boolean };

export interface TurnHandlers {
  onEvent(event: AgentEvent): void;
  /** Answers a permission question; the turn waits meanwhile. */
  onPermission(ask: PermissionAsk): Promise<PermissionAnswer>;
  /**
   * Settles once the workspace as the turn found it is recorded (its snapshot): no tool of the
   * turn may run before. The prompt goes at once; Claude Code prepares its request meanwhile.
   */
  toolsMayRun: Promise<unknown>;
}

export interface AgentTurnResult {
  isError: boolean;
  /** Claude Code's result subtype: success, error_during_execution, error_max_turns, … */
  subtype: string;
  /** The final assistant text (for an API error: Claude Code's error text). */
  text: string;
  stopReason: string | null;
  terminalReason: string | null;
  numTurns: number;
  durationMs: number;
  apiErrorStatus: number | null;
  apiErrorType: string | null;
  errors: string[];
  usage: TokenUsage;
  /** This turn's cost only (Claude Code reports a running total per process). */
  costUsd: number;
}

export type AgentTurnOutcome =
  | { kind: 'result'; result: AgentTurnResult }
  | { kind: 'crashed'; message: string; exitCode: number | null; signal: string | null };

export interface AgentExit {
  exitCode: number | null;
  signal: string | null;
}

export interface AgentProcess {
  readonly pid: number | null;
  /** Sends one prompt and resolves when its result arrives or the process dies. */
  runTurn(prompt: string, handlers: TurnHandlers): Promise<AgentTurnOutcome>;
  /** Stops the running turn the way Esc does in the terminal; the process stays usable. */
  interrupt(): Promise<void>;
  /** Ends the process; resolves when it has exited. */
  close(): Promise<void>;
  readonly exited: boolean;
  onExit(listener: (exit: AgentExit) => void): void;
}

export interface ModelInfo {
  id: string;
  name: string;
  description: string;
  resolvedModel: string | null;
}

/** A condition of the machine that makes new turns fail, for /health. */
export interface AgentProblem {
  /** `agent_temp_dir`: the agent's temp dir is gone or not writable; `no_credentials`: see below. */
  code: 'agent_temp_dir' | 'no_credentials';
  /** For the operator: what is wrong and what to do. Never a credential's value. */
  message: string;
}

export interface AgentHealth {
  /** Whether Claude Code has credentials for the model API (a key, a token, a cloud provider, its own login). */
  credentials: 'configured' | 'missing';
  /** What keeps new turns from working now; empty when nothing does. */
  problems: AgentProblem[];
}

export interface AgentRunner {
  /** Starts a Claude Code process for the session (resuming its conversation if it has one). */
  start(spec: AgentSpec): Promise<AgentProcess>;
  /**
   * A spare process (PREWARM_PROCESSES): started for the new session `spec` describes, whose
   * owned workspace exists and is empty, exactly as `start` would start it but without the
   * session's prompts, and parked until `claim`. Absent: the runner has no spares.
   */
  prewarm?(spec: AgentSpec): Promise<AgentProcess>;
  /**
   * Binds a spare to its session: `spec` differs from the spare's only in what a claim carries
   * (permission mode other than bypassPermissions, system prompts). Null when Claude Code
   * refused the claim: the spare is gone, nothing ran, and the session starts with `start`.
   */
  claim?(spare: AgentProcess, spec: AgentSpec): Promise<AgentProcess | null>;
  /** Checked when asked (each /health, the start-up warning), so a change on the machine shows. */
  health(): AgentHealth;
  /**
   * Whether sessions may run in `bypassPermissions` here. Claude Code refuses that mode as root
   * unless it is told it is sandboxed; the runner says so only when the sandbox really is on.
   */
  bypassPermissions(): { allowed: true } | { allowed: false; reason: string };
  /** Claude Code's own version string. */
  version(): string;
  /** Claude Code's model catalogue (works offline). */
  listModels(): Promise<ModelInfo[]>;
  /**
   * A copy of a session's conversation up to and including Claude Code's message `upToUuid`
   * (null: nothing of it), for Claude Code working in `targetCwd`; returns the copy's Claude Code
   * session id. The source is left as it is. A rewind continues on the copy; a fork starts on it.
   */
  forkConversation(request: {
    claudeSessionId: string;
    cwd: string;
    upToUuid: string | null;
    targetCwd: string;
  }): Promise<string>;
  /** Releases what the runner holds (temp directories); after every process has exited. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Several instances: which one runs each session's Claude Code process.
// ---------------------------------------------------------------------------------------------

export interface InstanceInfo {
  id: string;
  /** Where the other instances reach it (INSTANCE_URL). */
  url: string;
}

/** Whose a session is, after a claim. */
export type SessionClaim =
  /** This instance's now; `takenOver`: from an instance whose lease had expired (or from none). */
  | { kind: 'mine'; takenOver: boolean }
  /** Another live instance's. */
  | { kind: 'elsewhere'; owner: InstanceInfo };

/**
 * The instances' leases and the sessions' owners, in the shared database. A session belongs to
 * one instance while that instance's lease is alive; then any instance may take it over, and the
 * take-over is one atomic step, so exactly one instance wins it.
 */
export interface Ownership {
  /** Adds this instance with a lease of `leaseMs`, and the mark of its workspaces folder. */
  register(instance: InstanceInfo, leaseMs: number, volumeMark: string): Promise<void>;
  /** Extends the lease; false when it had already expired (its sessions may be taken over). */
  renew(instanceId: string, leaseMs: number): Promise<boolean>;
  /** The other instances whose lease is alive, with the mark of their workspaces folder. */
  liveInstances(exceptId: string): Promise<Array<InstanceInfo & { volumeMark: string | null }>>;
  /**
   * Makes the session this instance's, unless a live instance owns it. A session not stored yet
   * (being created) may be claimed too.
   */
  claim(sessionId: string, instanceId: string): Promise<SessionClaim>;
  /** Active sessions whose owner is gone (its lease expired, or it left), at most `limit`. */
  orphans(limit: number): Promise<string[]>;
  /** Gives up every session of the instance and its lease (a clean shutdown). */
  leave(instanceId: string): Promise<void>;
}
