/**
 * The only reader of `process.env` for the server's own settings. `loadConfig` validates every
 * variable at once and reports all problems together, so a bad deployment fails at start with
 * one readable list instead of one surprise at a time.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { POLICY_ENV_VARIABLES, policyDefaultsFrom, type PolicyDefaults } from '../domain/policy-fields.js';
import { commaList, intFrom } from '../domain/text-values.js';
import { PERMISSION_MODES, type PermissionMode } from '../domain/types.js';

/** `a=b,c=d` → { a: 'b', c: 'd' }; used for the model map. */
const pairList = z.string().transform((s, ctx) => {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((x) => x.trim())) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) {
      ctx.addIssue({ code: 'custom', message: `expected from=to pairs, got "${part}"` });
      continue;
    }
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
});

/** A URL of one of the given schemes (`postgres:`, …), kept as written. */
const urlOf = (...schemes: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a ${schemes.map((s) => `${s}//…`).join(' or ')} URL` },
  );

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Retired model ids that the seed's examples use. Mapped by default so that the examples work
 * against the real model API; `MODEL_MAP=` (empty) turns the mapping off.
 */
export const DEFAULT_MODEL_MAP =
  'claude-3-opus-20240229=opus,claude-3-sonnet-20240229=sonnet,claude-3-haiku-20240307=haiku,' +
  'claude-3-5-sonnet-20240620=sonnet,claude-3-5-sonnet-20241022=sonnet,claude-3-5-haiku-20241022=haiku';

const EnvSchema = z.object({
  PORT: intFrom(0, 65535).default(3050),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: pretty lines when stdout is a terminal, JSON otherwise; `pretty`; `json`. */
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  API_KEYS: commaList.default([]),
  /** Keys with the admin role (the /admin API), seeded like API_KEYS. */
  ADMIN_API_KEYS: commaList.default([]),

  BODY_LIMIT_BYTES: intFrom(1024, 64 * 1024 * 1024).default(1024 * 1024),
  MANAGED_FILE_MAX_BYTES: intFrom(1, 1024 * 1024 * 1024).default(32 * 1024 * 1024),
  MAX_LIVE_SESSIONS: intFrom(1, 100_000).default(64),
  /** Claude Code processes at once (about 200 MB RSS each); past it, the longest-idle one is parked. */
  MAX_LIVE_PROCESSES: intFrom(1, 10_000).default(16),
  /**
   * Claude Code processes started ahead of the next new sessions (within MAX_LIVE_PROCESSES):
   * a new session with the default options claims one instead of a cold start. 0: none.
   */
  PREWARM_PROCESSES: intFrom(0, 64).default(1),
  /** How long a turn waits for a free process slot when every process is busy, before a 503. */
  PROCESS_WAIT_MAX_MS: intFrom(1000, 3_600_000).default(120_000),
  SESSION_IDLE_EXPIRY_SECONDS: intFrom(60, 365 * 24 * 3600).default(7 * 24 * 3600),
  /** An idle session's Claude Code process is stopped after this long (0: never); the session stays. */
  SESSION_PARK_AFTER_SECONDS: intFrom(0, 365 * 24 * 3600).default(600),
  /** Upper bound of a message's `timeout` and the default when a request gives none. */
  TURN_TIMEOUT_MAX_MS: intFrom(1000, 24 * 3600 * 1000).default(30 * 60 * 1000),
  SSE_PING_INTERVAL_MS: intFrom(100, 300_000).default(15_000),
  /** How long a permission question waits for a client's answer before the default applies. */
  PERMISSION_TIMEOUT_MS: intFrom(1000, 24 * 3600 * 1000).default(300_000),
  /** The answer a permission question gets when nobody answers in time. */
  PERMISSION_DEFAULT_DECISION: z.enum(['deny', 'allow']).default('deny'),
  /** Turns that may wait in one session's queue (`queue: true`). */
  QUEUE_MAX_TURNS: intFrom(1, 1000).default(10),
  /** How long an Idempotency-Key is remembered; the contract promises at least a day. */
  IDEMPOTENCY_RETENTION_HOURS: intFrom(24, 24 * 365).default(24),
  SSE_RETRY_MS: intFrom(100, 600_000).default(3000),
  /** On SIGTERM, how long running turns may go on before they are interrupted. */
  SHUTDOWN_DRAIN_MS: intFrom(0, 3_600_000).default(30_000),
  /** Larger `message` events are streamed in short form (the history keeps them whole); 0: no cap. */
  SSE_MAX_EVENT_BYTES: intFrom(0, 64 * 1024 * 1024).default(32 * 1024),

  DEFAULT_MODEL: z.string().min(1).optional(),
  MODEL_MAP: pairList.default(pairList.parse(DEFAULT_MODEL_MAP)),
  DEFAULT_PERMISSION_MODE: z.enum(PERMISSION_MODES).default('default'),
  /** Claude Code settings files to load (`user`, `project`, `local`); empty = isolated. */
  CLAUDE_SETTING_SOURCES: commaList.pipe(z.array(z.enum(['user', 'project', 'local']))).default([]),
  CLAUDE_CODE_EXECUTABLE: z.string().min(1).optional(),
  /**
   * Claude Code's sandbox for the agent's commands. `auto`: on where bubblewrap and socat work,
   * else off with a loud warning; `required`: always on, turns fail where it cannot run;
   * `off`: never (logged loudly).
   */
  SANDBOX_MODE: z.enum(['auto', 'required', 'off']).default('auto'),
  /**
   * Host paths a sandboxed Claude Code may read besides the system folders (toolchains that live
   * elsewhere than /usr and /opt), absolute; never in or around DATA_DIR.
   */
  SANDBOX_EXTRA_READ_PATHS: commaList.default([]),
  /** Claude Code's file tools (Read, Write, Edit, …) only inside the session's working directory. */
  FILE_TOOLS_CONFINED: booleanFlag.default(true),
  /** Tools no session may use, whatever it asks (Claude Code tool names or rules). */
  DISALLOWED_TOOLS: commaList.default(['WebFetch', 'WebSearch']),
  /**
   * How long the event log keeps events other than messages and each turn's final event (status,
   * permissions, …), and an ended session's log at all (0: forever).
   */
  EVENT_RETENTION_HOURS: intFrom(0, 100 * 365 * 24).default(30 * 24),
  /** How long the workspace of an ended session is kept before it is removed. */
  WORKSPACE_RETENTION_SECONDS: intFrom(0, 30 * 24 * 3600).default(3600),
  /** The largest file a client may upload (PUT …/files/content) or seed, in bytes. */
  FILE_UPLOAD_LIMIT_BYTES: intFrom(1, 2 ** 50).default(100 * 1024 * 1024),
  /** What a workspace may hold after an upload or a seed, in bytes (the agent's own writes are not capped). */
  WORKSPACE_MAX_BYTES: intFrom(1, 2 ** 50).default(10 * 1024 * 1024 * 1024),
  /** How long a `git` seed's clone may take before it is given up (502). */
  GIT_CLONE_TIMEOUT_MS: intFrom(1000, 3_600_000).default(120_000),
  /** A stream whose client reads nothing for this long is closed (its writes cannot drain). */
  SSE_STALL_TIMEOUT_MS: intFrom(1000, 3_600_000).default(60_000),
  /** Log each Claude Code stderr line at debug level. */
  CLAUDE_CODE_STDERR_LOG: booleanFlag.default(false),
  /**
   * The model API is a simulation (the offline demo sets it): every response that carries a cost
   * says `costSimulated: true`, since the figures are Claude Code's estimate for fake tokens.
   */
  COSTS_SIMULATED: booleanFlag.default(false),
  /** Trust `X-Forwarded-For` from a reverse proxy (only behind one). */
  TRUST_PROXY: booleanFlag.default(false),

  /** PostgreSQL instead of SQLite: the store several instances share. */
  DATABASE_URL: urlOf('postgres:', 'postgresql:').optional(),
  /** Redis: rate limits and live events shared by the instances. */
  REDIS_URL: urlOf('redis:', 'rediss:').optional(),
  /** Prefix of this deployment's Redis keys and channel (several deployments may share a Redis). */
  REDIS_KEY_PREFIX: z.string().min(1).max(100).default('ccr:'),
  /** How the other instances reach this one (requests for its sessions are forwarded there). */
  INSTANCE_URL: urlOf('http:', 'https:').optional(),
  /** An instance that has not renewed its lease for this long is taken as gone. */
  INSTANCE_LEASE_MS: intFrom(1000, 600_000).default(15_000),
});

/**
 * Every variable the server reads: its own (above), and the defaults of the per-key policy
 * (RATE_LIMIT_*_PER_HOUR, KEY_*, ALLOWED_PERMISSION_MODES, WORKSPACE_ROOTS), whose names and
 * parsers come from the policy-field table (src/domain/policy-fields.ts).
 */
const ALL_VARIABLES: Record<string, z.ZodType> = { ...EnvSchema.shape, ...POLICY_ENV_VARIABLES };
export const CONFIG_VARIABLES = Object.keys(ALL_VARIABLES);

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  logFormat: z.infer<typeof EnvSchema>['LOG_FORMAT'];
  apiKeys: string[];
  adminApiKeys: string[];
  /** The per-key policy's defaults (rate limits, caps, modes, workspace roots). */
  policyDefaults: PolicyDefaults;
  bodyLimitBytes: number;
  /** Largest file uploaded through the Managed Agents API (`POST /v1/files`). */
  managedFileMaxBytes: number;
  maxLiveSessions: number;
  maxLiveProcesses: number;
  prewarmProcesses: number;
  processWaitMaxMs: number;
  sessionIdleExpiryMs: number;
  sessionParkAfterMs: number;
  turnTimeoutMaxMs: number;
  ssePingIntervalMs: number;
  idempotencyRetentionMs: number;
  permissionTimeoutMs: number;
  permissionDefaultDecision: 'deny' | 'allow';
  queueMaxTurns: number;
  sseRetryMs: number;
  shutdownDrainMs: number;
  sseMaxEventBytes: number;
  defaultModel: string | null;
  modelMap: Record<string, string>;
  defaultPermissionMode: z.infer<typeof EnvSchema>['DEFAULT_PERMISSION_MODE'];
  claudeSettingSources: z.infer<typeof EnvSchema>['CLAUDE_SETTING_SOURCES'];
  claudeCodeExecutable: string | null;
  sandboxMode: 'auto' | 'required' | 'off';
  sandboxExtraReadPaths: string[];
  /**
   * With the sandbox on, whether Claude Code's whole process is sandboxed too (always, but for
   * bench/turn-latency.ts, which turns it off to measure its cost). Not an environment variable.
   */
  sandboxWholeProcess: boolean;
  fileToolsConfined: boolean;
  disallowedTools: string[];
  workspaceRetentionMs: number;
  fileUploadLimitBytes: number;
  workspaceMaxBytes: number;
  gitCloneTimeoutMs: number;
  eventRetentionMs: number;
  sseStallTimeoutMs: number;
  claudeCodeStderrLog: boolean;
  trustProxy: boolean;
  costsSimulated: boolean;
  /** PostgreSQL (several instances may share it); null: SQLite in the data dir. */
  databaseUrl: string | null;
  redisUrl: string | null;
  redisKeyPrefix: string;
  /**
   * With PostgreSQL: how the other instances reach this one (INSTANCE_URL, else
   * `http://<HOST or the host name>:<PORT>`); null with SQLite, where there is one instance.
   */
  instanceUrl: string | null;
  instanceLeaseMs: number;
  /** The environment Claude Code's own variables are taken from (see child-env.ts). */
  agentEnvSource: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  // Empty strings mean "not set" for optional values (a common shell and .env idiom),
  // except MODEL_MAP where empty deliberately means "no mapping".
  const cleaned: Record<string, string> = {};
  for (const key of CONFIG_VARIABLES) {
    const value = env[key];
    if (value === undefined) continue;
    if (value.trim() === '' && key !== 'MODEL_MAP') continue;
    cleaned[key] = value;
  }
  // Each variable is parsed on its own, so one bad value does not hide the others, and the
  // checks across variables run on whatever did parse.
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(ALL_VARIABLES)) {
    const result = schema.safeParse(cleaned[key]);
    if (result.success) parsed[key] = result.data;
    else problems.push(...result.error.issues.map((i) => `${key}: ${i.message}`));
  }
  const e = parsed as z.infer<typeof EnvSchema>;
  const dataDir = path.resolve(e.DATA_DIR ?? './data');
  const overlaps = (a: string, b: string) => a === b || a.startsWith(b + path.sep);
  const policy = policyDefaultsFrom(parsed);
  for (const root of (parsed.WORKSPACE_ROOTS as string[] | undefined) ?? []) {
    if (!path.isAbsolute(root)) {
      problems.push(`WORKSPACE_ROOTS: "${root}" is not an absolute path`);
      continue;
    }
    const [outer, inner] = [path.resolve(root), dataDir];
    if (overlaps(inner, outer) || overlaps(outer, inner)) {
      problems.push(
        `WORKSPACE_ROOTS: "${root}" overlaps DATA_DIR (${dataDir}); sessions could reach other sessions' data`,
      );
    }
  }
  for (const extra of e.SANDBOX_EXTRA_READ_PATHS ?? []) {
    if (!path.isAbsolute(extra))
      problems.push(`SANDBOX_EXTRA_READ_PATHS: "${extra}" is not an absolute path`);
    else if (overlaps(path.resolve(extra), dataDir) || overlaps(dataDir, path.resolve(extra))) {
      problems.push(
        `SANDBOX_EXTRA_READ_PATHS: "${extra}" overlaps DATA_DIR (${dataDir}); every agent could read every session's data`,
      );
    }
  }
  const allowedModes = parsed.ALLOWED_PERMISSION_MODES as PermissionMode[] | undefined;
  if (allowedModes && e.DEFAULT_PERMISSION_MODE && !allowedModes.includes(e.DEFAULT_PERMISSION_MODE)) {
    problems.push(
      `DEFAULT_PERMISSION_MODE: "${e.DEFAULT_PERMISSION_MODE}" is not in ALLOWED_PERMISSION_MODES (${allowedModes.join(', ')})`,
    );
  }
  if (e.DATABASE_URL && !e.INSTANCE_URL && e.PORT === 0) {
    problems.push(
      'INSTANCE_URL: needed with DATABASE_URL when PORT is 0 (how other instances reach this one)',
    );
  }
  if (e.INSTANCE_URL && !e.DATABASE_URL) {
    problems.push(
      'INSTANCE_URL: only means something with DATABASE_URL (instances share a PostgreSQL database)',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    apiKeys: e.API_KEYS,
    adminApiKeys: e.ADMIN_API_KEYS,
    policyDefaults: policy,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    managedFileMaxBytes: e.MANAGED_FILE_MAX_BYTES,
    maxLiveSessions: e.MAX_LIVE_SESSIONS,
    maxLiveProcesses: e.MAX_LIVE_PROCESSES,
    prewarmProcesses: e.PREWARM_PROCESSES,
    processWaitMaxMs: e.PROCESS_WAIT_MAX_MS,
    sessionIdleExpiryMs: e.SESSION_IDLE_EXPIRY_SECONDS * 1000,
    sessionParkAfterMs: e.SESSION_PARK_AFTER_SECONDS * 1000,
    turnTimeoutMaxMs: e.TURN_TIMEOUT_MAX_MS,
    ssePingIntervalMs: e.SSE_PING_INTERVAL_MS,
    idempotencyRetentionMs: e.IDEMPOTENCY_RETENTION_HOURS * 3600 * 1000,
    permissionTimeoutMs: e.PERMISSION_TIMEOUT_MS,
    permissionDefaultDecision: e.PERMISSION_DEFAULT_DECISION,
    queueMaxTurns: e.QUEUE_MAX_TURNS,
    sseRetryMs: e.SSE_RETRY_MS,
    shutdownDrainMs: e.SHUTDOWN_DRAIN_MS,
    sseMaxEventBytes: e.SSE_MAX_EVENT_BYTES,
    defaultModel: e.DEFAULT_MODEL ?? null,
    modelMap: e.MODEL_MAP,
    defaultPermissionMode: e.DEFAULT_PERMISSION_MODE,
    claudeSettingSources: e.CLAUDE_SETTING_SOURCES,
    claudeCodeExecutable: e.CLAUDE_CODE_EXECUTABLE ?? null,
    sandboxMode: e.SANDBOX_MODE,
    sandboxExtraReadPaths: e.SANDBOX_EXTRA_READ_PATHS.map((p) => path.resolve(p)),
    sandboxWholeProcess: true,
    fileToolsConfined: e.FILE_TOOLS_CONFINED,
    disallowedTools: e.DISALLOWED_TOOLS,
    workspaceRetentionMs: e.WORKSPACE_RETENTION_SECONDS * 1000,
    fileUploadLimitBytes: e.FILE_UPLOAD_LIMIT_BYTES,
    workspaceMaxBytes: e.WORKSPACE_MAX_BYTES,
    gitCloneTimeoutMs: e.GIT_CLONE_TIMEOUT_MS,
    eventRetentionMs: e.EVENT_RETENTION_HOURS * 3600 * 1000,
    sseStallTimeoutMs: e.SSE_STALL_TIMEOUT_MS,
    claudeCodeStderrLog: e.CLAUDE_CODE_STDERR_LOG,
    trustProxy: e.TRUST_PROXY,
    costsSimulated: e.COSTS_SIMULATED,
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    instanceUrl: e.DATABASE_URL ? (e.INSTANCE_URL ?? defaultInstanceUrl(e.HOST, e.PORT)) : null,
    instanceLeaseMs: e.INSTANCE_LEASE_MS,
    agentEnvSource: env,
  };
}

/** Where other instances reach this one when INSTANCE_URL is not set: its address and port. */
function defaultInstanceUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? os.hostname() : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
