/**
 * Every situation in which the API answers with an error, one factory each: the code of the
 * contract's closed set (errors.ts), the message a client reads, the `details` it can act on,
 * and a `Retry-After` where one helps. Code anywhere in the server names the situation; only
 * here is it decided what the client is told. The HTTP layer alone knows statuses
 * (src/http/error-status.ts).
 */
import type { z } from 'zod';
import { ApiError, type ErrorDetails } from './errors.js';
import type { CwdResolution, RateLimitDecision } from './ports.js';
import type { RateLimitBucket } from './rate-limit-buckets.js';

/** The Retry-After of SERVICE_UNAVAILABLE while the server shuts down. */
const DRAINING_RETRY_AFTER_SECONDS = 5;
/** The Retry-After of MAX_SESSIONS_REACHED: a hint only, a slot frees when any session ends. */
const CAP_RETRY_AFTER_SECONDS = 30;
/** Retry-After of MAX_RUNNING_TURNS_REACHED: a hint, turns end when they end. */
const RUNNING_TURNS_RETRY_AFTER_SECONDS = 5;

/** One bad field of a request: `details.issues` of INVALID_REQUEST. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The one formatter of zod's issues: each bad field named, unknown fields included. */
export function issuesOf(error: z.ZodError, prefix = ''): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    const base = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ field: base ? `${base}.${key}` : key, message: 'unknown field' });
    } else {
      out.push({ field: base || '(body)', message: issue.message });
    }
  }
  return out;
}

const summary = (issues: readonly FieldIssue[]): string =>
  issues.map((i) => `${i.field}: ${i.message}`).join('; ');

// --- requests --------------------------------------------------------------------------------

export const invalidFields = (what: string, issues: FieldIssue[]): ApiError =>
  new ApiError('INVALID_REQUEST', `Invalid ${what}: ${summary(issues)}`, { issues });

/** One field (header, parameter) with a rule of its own. */
export const invalidField = (message: string, field: string, rule: string): ApiError =>
  new ApiError('INVALID_REQUEST', message, { issues: [{ field, message: rule }] });

export const invalidJson = (parserMessage: string): ApiError =>
  new ApiError('INVALID_REQUEST', 'The request body is not valid JSON.', { parser: parserMessage });

export const invalidUrl = (reason: string): ApiError =>
  new ApiError('INVALID_REQUEST', `The request URL is not valid: ${reason}`);

/** A request too broken to reach the router (framing, headers); `reason` is the parser's code. */
export const malformedHttp = (reason: string | null, headersTooLarge: boolean): ApiError =>
  new ApiError(
    'INVALID_REQUEST',
    headersTooLarge
      ? 'The request headers are larger than the server accepts.'
      : 'The request is not valid HTTP/1.1.',
    { reason },
  );

export const requestArrivedTooSlowly = (reason: string | null): ApiError =>
  new ApiError('REQUEST_TIMEOUT', 'The request did not arrive in full in time.', { reason });

/** Any other 4xx the HTTP framework raises on its own. */
export const badRequest = (message: string, reason: string | null): ApiError =>
  new ApiError('INVALID_REQUEST', message, { reason });

export const bodyTooLarge = (limitBytes: number, message?: string): ApiError =>
  new ApiError('PAYLOAD_TOO_LARGE', message ?? `The request body is larger than ${limitBytes} bytes.`, {
    limitBytes,
  });

export const unsupportedMediaType = (contentType: string | null): ApiError =>
  new ApiError(
    'UNSUPPORTED_MEDIA_TYPE',
    'Send the request body as JSON with Content-Type: application/json.',
    {
      contentType,
    },
  );

export const routeNotFound = (method: string, path: string): ApiError =>
  new ApiError('NOT_FOUND', `No route ${method} ${path}.`);

/** What the client sees for a bug: a generic message; the cause stays in the log. */
export const internalError = (): ApiError =>
  new ApiError(
    'INTERNAL_ERROR',
    'An internal error occurred. The request id identifies it in the server log.',
  );

// --- keys and access ---------------------------------------------------------------------------

export const missingApiKey = (): ApiError =>
  new ApiError(
    'MISSING_API_KEY',
    'An API key is required: send it in the x-api-key header (or Authorization: Bearer).',
  );

export const invalidApiKey = (): ApiError => new ApiError('INVALID_API_KEY', 'The API key is not valid.');

export const adminKeyRequired = (): ApiError =>
  new ApiError('FORBIDDEN', 'This route needs an admin key.', { policy: 'admin_key_required' });

export const scopeMissing = (required: string, scopes: readonly string[]): ApiError =>
  new ApiError('FORBIDDEN', `This key lacks the "${required}" scope.`, {
    policy: 'scopes',
    required,
    scopes,
  });

export const keyNotFound = (idOrPrefix: string, ambiguous: boolean): ApiError =>
  new ApiError(
    'NOT_FOUND',
    ambiguous
      ? `Several keys have the prefix ${idOrPrefix}; use the key id.`
      : `No key ${idOrPrefix} (give a key id or a key's prefix).`,
    { key: idOrPrefix },
  );

export const keyNameInvalid = (): ApiError =>
  invalidField(
    'A key name is 1 to 100 letters, digits, spaces or ._:@/- characters.',
    'name',
    '1 to 100 letters, digits, spaces or ._:@/-',
  );

// --- limits --------------------------------------------------------------------------------------

export const rateLimitExceeded = (
  decision: RateLimitDecision & { bucket: RateLimitBucket },
  now: number,
): ApiError => {
  const retryAfterSeconds = Math.max(1, Math.ceil((decision.resetAt - now) / 1000));
  return new ApiError(
    'RATE_LIMIT_EXCEEDED',
    `Rate limit exceeded: ${decision.limit} ${decision.bucket} per hour for this API key. Retry in ${retryAfterSeconds} s.`,
    {
      bucket: decision.bucket,
      limit: decision.limit,
      remaining: decision.remaining,
      resetAt: new Date(decision.resetAt).toISOString(),
    },
    retryAfterSeconds,
  );
};

export const serverSessionCap = (maxLiveSessions: number): ApiError =>
  new ApiError(
    'MAX_SESSIONS_REACHED',
    `The server runs at most ${maxLiveSessions} sessions at once. End a session (DELETE) or try again later.`,
    { maxLiveSessions },
    CAP_RETRY_AFTER_SECONDS,
  );

export const keySessionCap = (limit: number): ApiError =>
  new ApiError(
    'MAX_SESSIONS_REACHED',
    `This key may have at most ${limit} sessions open at once.`,
    { scope: 'key', policy: 'maxConcurrentSessions', limit },
    CAP_RETRY_AFTER_SECONDS,
  );

export const runningTurnsCap = (limit: number): ApiError =>
  new ApiError(
    'MAX_RUNNING_TURNS_REACHED',
    `This key may run at most ${limit} turns at once. Wait for one to complete.`,
    { policy: 'maxRunningTurns', limit },
    RUNNING_TURNS_RETRY_AFTER_SECONDS,
  );

export const budgetExceeded = (
  dailyBudgetUsd: number,
  spentUsd: number,
  resetsAt: number,
  now: number,
): ApiError =>
  new ApiError(
    'BUDGET_EXCEEDED',
    `This key spent $${spentUsd.toFixed(4)} today, its daily budget is $${dailyBudgetUsd}. It resets at ${new Date(resetsAt).toISOString()}.`,
    { policy: 'dailyBudgetUsd', dailyBudgetUsd, spentUsd, resetsAt: new Date(resetsAt).toISOString() },
    Math.max(1, Math.ceil((resetsAt - now) / 1000)),
  );

/** The Retry-After of MAX_STREAMS_REACHED: streams close when their turns end or clients leave. */
const STREAMS_RETRY_AFTER_SECONDS = 5;

export const streamsCap = (limit: number): ApiError =>
  new ApiError(
    'MAX_STREAMS_REACHED',
    `This key may have at most ${limit} event streams open at once. Close one (or wait for its turn to end) and retry.`,
    { policy: 'maxOpenStreams', limit },
    STREAMS_RETRY_AFTER_SECONDS,
  );

/** The Retry-After of a turn that found no Claude Code process slot in time. */
const PROCESS_CAPACITY_RETRY_AFTER_SECONDS = 10;

export const processCapacity = (maxLiveProcesses: number, waitedMs: number): ApiError =>
  new ApiError(
    'SERVICE_UNAVAILABLE',
    `Every Claude Code process of this server (MAX_LIVE_PROCESSES = ${maxLiveProcesses}) is busy with a turn, and none was freed within ${Math.round(waitedMs / 1000)} s. Retry later.`,
    { reason: 'process_capacity', maxLiveProcesses, waitedMs },
    PROCESS_CAPACITY_RETRY_AFTER_SECONDS,
  );

/** The Retry-After of a session found moving between instances. */
const MOVING_RETRY_AFTER_SECONDS = 1;
/** The Retry-After of a session whose instance did not answer (its lease expires soon). */
const OWNER_DOWN_RETRY_AFTER_SECONDS = 2;

export const sessionMoving = (sessionId: string): ApiError =>
  new ApiError(
    'SERVICE_UNAVAILABLE',
    'This session is moving between server instances. Retry in a moment.',
    { sessionId },
    MOVING_RETRY_AFTER_SECONDS,
  );

export const sessionOwnerDown = (): ApiError =>
  new ApiError(
    'SERVICE_UNAVAILABLE',
    'The server instance that runs this session did not answer. Retry in a moment: another ' +
      'instance takes the session over once that one is gone.',
    {},
    OWNER_DOWN_RETRY_AFTER_SECONDS,
  );

export const shuttingDown = (): ApiError =>
  new ApiError(
    'SERVICE_UNAVAILABLE',
    'The server is shutting down. Retry in a few seconds: sessions and their history are kept.',
    {},
    DRAINING_RETRY_AFTER_SECONDS,
  );

// --- what a key's policy refuses a session ------------------------------------------------------

/** Allowed for nobody with this key; `details.policy` names the rule. */
const forbidden = (message: string, details: ErrorDetails & { policy: string }): ApiError =>
  new ApiError('FORBIDDEN', message, details);

export const permissionModeRefused = (permissionMode: string, allowed: readonly string[]): ApiError =>
  forbidden(`This key may not use permissionMode "${permissionMode}".`, {
    policy: 'permissionModes',
    permissionMode,
    allowed,
  });

export const bypassUnavailable = (reason: string): ApiError =>
  forbidden(`bypassPermissions cannot run on this server: ${reason}.`, {
    policy: 'bypassPermissions',
    reason,
  });

export const maxTurnsOverLimit = (requested: number, limit: number): ApiError =>
  forbidden(`maxTurns ${requested} is over this key's limit of ${limit}.`, {
    policy: 'maxTurns',
    maxTurns: limit,
  });

export const toolDisabledOnServer = (tool: string, name: string): ApiError =>
  forbidden(`The tool ${name} is disabled on this server.`, { policy: 'DISALLOWED_TOOLS', tool });

export const toolRuleRefused = (tool: string, permitted: readonly string[] | null): ApiError =>
  forbidden(`This key may not allow "${tool}".`, { policy: 'allowedTools', tool, permitted });

// --- workspaces ----------------------------------------------------------------------------------

export const cwdNotAccepted = (): ApiError =>
  forbidden('This server does not accept a cwd: each session gets its own workspace.', {
    policy: 'WORKSPACE_ROOTS',
  });

export const cwdNotAbsolute = (): ApiError =>
  invalidField(
    'cwd must be an absolute path inside a configured workspace root.',
    'cwd',
    'must be an absolute path',
  );

export const cwdNotADirectory = (cwd: string): ApiError =>
  invalidField(`cwd ${cwd} is not an existing directory.`, 'cwd', 'not an existing directory');

export const cwdAroundDataDir = (cwd: string): ApiError =>
  forbidden(`cwd ${cwd} is inside or around the server's data directory.`, { policy: 'DATA_DIR', cwd });

export const cwdOutsideRoots = (cwd: string): ApiError =>
  forbidden(`cwd ${cwd} is outside the configured workspace roots.`, { policy: 'WORKSPACE_ROOTS', cwd });

export const cwdIsRoot = (cwd: string): ApiError =>
  forbidden(`cwd ${cwd} is a workspace root itself: name a folder inside it.`, {
    policy: 'workspace',
    reason: 'workspace_root',
    cwd,
  });

export const cwdInUse = (cwd: string): ApiError =>
  forbidden(
    `cwd ${cwd} is, contains or lies inside the working directory of another live session. Name a folder apart from it, or end that session first.`,
    // Which session is not said: it may be another key's.
    { policy: 'workspace', reason: 'in_use', cwd },
  );

/** Why a client's `cwd` is refused (the Workspaces port's reasons), as the client is told. */
export function cwdRefused(reason: Extract<CwdResolution, { ok: false }>['reason'], cwd: string): ApiError {
  switch (reason) {
    case 'no_roots':
      return cwdNotAccepted();
    case 'not_absolute':
      return cwdNotAbsolute();
    case 'not_a_directory':
      return cwdNotADirectory(cwd);
    case 'data_dir':
      return cwdAroundDataDir(cwd);
    case 'workspace_root':
      return cwdIsRoot(cwd);
    case 'outside_roots':
      return cwdOutsideRoots(cwd);
  }
}

/** Why a session's folder is no longer the one it was created with. */
export type WorkspaceGoneReason = 'missing' | 'moved' | 'not_a_directory' | 'data_dir';

const WORKSPACE_GONE: Record<WorkspaceGoneReason, string> = {
  missing: 'it no longer exists',
  moved: 'it was moved or replaced: its path now leads elsewhere (a symlink on the way)',
  not_a_directory: 'it is no longer a directory',
  data_dir: "it lies in or around the server's data directory",
};

export const workspaceGone = (cwd: string, reason: WorkspaceGoneReason): ApiError =>
  forbidden(
    `The session's working directory ${cwd} is not the directory the session was created with: ` +
      `${WORKSPACE_GONE[reason]}. Claude Code does not start there; end this session and create a new one.`,
    { policy: 'workspace', cwd, reason },
  );

// --- sessions and turns --------------------------------------------------------------------------

export const sessionNotFound = (sessionId: string): ApiError =>
  new ApiError('SESSION_NOT_FOUND', `Session ${sessionId} does not exist or has ended.`, { sessionId });

export const sessionBusy = (sessionId: string, runningMessageId: string | null): ApiError =>
  new ApiError(
    'SESSION_BUSY',
    'A turn is already running in this session. Wait for it to complete, or send with "queue": true.',
    { sessionId, runningMessageId },
  );

export const queueFull = (
  sessionId: string,
  runningMessageId: string | null,
  queued: number,
  maxQueuedTurns: number,
): ApiError =>
  new ApiError('SESSION_BUSY', `The session's queue is full (${maxQueuedTurns} turns).`, {
    sessionId,
    runningMessageId,
    queued,
    maxQueuedTurns,
  });

export const messageNotFound = (messageId: string): ApiError =>
  new ApiError('NOT_FOUND', `Message ${messageId} does not exist.`, { messageId });

export const messageNotInSession = (messageId: string, sessionId: string): ApiError =>
  new ApiError('NOT_FOUND', `Message ${messageId} is not a prompt of session ${sessionId}.`, { messageId });

export const permissionRequestNotPending = (sessionId: string, requestId: string): ApiError =>
  new ApiError(
    'PERMISSION_REQUEST_NOT_FOUND',
    `Permission request ${requestId} is not pending in this session (unknown, answered or expired).`,
    { sessionId, requestId },
  );

export const permissionRequestJustAnswered = (sessionId: string, requestId: string): ApiError =>
  new ApiError('PERMISSION_REQUEST_NOT_FOUND', `Permission request ${requestId} was just answered.`, {
    sessionId,
    requestId,
  });

// --- idempotency ---------------------------------------------------------------------------------

export const idempotencyKeyInvalid = (): ApiError =>
  invalidField(
    'Idempotency-Key must be 1 to 255 visible ASCII characters.',
    'Idempotency-Key',
    '1 to 255 visible ASCII characters',
  );

export const idempotencyKeyReused = (idempotencyKey: string): ApiError =>
  new ApiError(
    'IDEMPOTENCY_KEY_REUSED',
    'This Idempotency-Key was already used with a different request. Use a new key for a new request.',
    { idempotencyKey },
  );

export const idempotentTurnGone = (): ApiError =>
  new ApiError('NOT_FOUND', 'The turn of this Idempotency-Key no longer exists.');

// --- how a turn fails ----------------------------------------------------------------------------

export const agentStopped = (reason: string, exitCode: number | null, signal: string | null): ApiError =>
  new ApiError(
    'AGENT_ERROR',
    'Claude Code stopped before the turn finished. The session stays usable: send the next message.',
    { reason, exitCode, signal },
  );

export const agentFailed = (firstError: string, details: ErrorDetails): ApiError =>
  new ApiError('AGENT_ERROR', `Claude Code could not complete the turn: ${firstError}`, details);

/** A turn left running or queued by a server that stopped (recorded at the next start). */
export const turnCutByRestart = (messageId: string): ApiError =>
  new ApiError(
    'AGENT_ERROR',
    'The server stopped while this turn was running. The session stays usable: send the next message.',
    { messageId, reason: 'server_restart' },
  );

export const turnUnfinished = (messageId: string): ApiError =>
  new ApiError('AGENT_ERROR', 'The turn did not finish.', { messageId });

export const turnTimedOut = (timeoutMs: number | null, messageId: string): ApiError =>
  new ApiError(
    'REQUEST_TIMEOUT',
    `The turn did not finish within its timeout of ${timeoutMs} ms and was stopped.`,
    { timeoutMs, messageId },
  );

export const upstreamUnavailable = (status: number | null, details: ErrorDetails): ApiError =>
  new ApiError(
    'UPSTREAM_UNAVAILABLE',
    status === null
      ? 'The model API could not be reached. Try again later.'
      : `The model API is overloaded or rate-limited (HTTP ${status}). Try again later.`,
    details,
  );

export const upstreamRejected = (message: string, details: ErrorDetails): ApiError =>
  new ApiError('UPSTREAM_ERROR', message, details);

// --- the Managed Agents API (/v1) -------------------------------------------------------------

/**
 * A Managed Agents feature that cannot mean anything on a self-hosted Claude Code (or is not
 * built yet): refused, never accepted and ignored. `feature` names it for the client.
 */
export const managedFeatureRefused = (feature: string, why: string): ApiError =>
  new ApiError('INVALID_REQUEST', `${feature} is not supported by this server: ${why}`, { feature });

/** An agent, environment, file or resource that does not exist, or is another key's. */
export const managedObjectNotFound = (kind: string, id: string): ApiError =>
  new ApiError('NOT_FOUND', `No ${kind} with id ${id}.`, { kind, id });

/** An archived agent or environment cannot start a new session, nor be changed. */
export const managedObjectArchived = (kind: string, id: string): ApiError =>
  new ApiError('INVALID_REQUEST', `The ${kind} ${id} is archived.`, { kind, id });

/** An agent update that names a version other than the current one (a concurrent update). */
export const agentVersionMismatch = (id: string, given: number, current: number): ApiError =>
  new ApiError(
    'INVALID_REQUEST',
    `Agent ${id} is at version ${current}, not ${given}: another update came first. Retrieve it and retry.`,
    { id, given, current },
  );

/** An uploaded file larger than the server takes (MANAGED_FILE_MAX_BYTES). */
export const fileTooLarge = (limitBytes: number): ApiError =>
  new ApiError('PAYLOAD_TOO_LARGE', `Files are limited to ${limitBytes} bytes on this server.`, {
    limitBytes,
  });

/** A tool confirmation for a tool call that does not wait for one. */
export const toolConfirmationNotPending = (toolUseId: string): ApiError =>
  new ApiError('NOT_FOUND', `No tool call ${toolUseId} waits for a confirmation in this session.`, {
    toolUseId,
  });

// --- workspace files, checkpoints, rewind and fork -----------------------------------------------

/** Why a client's workspace path is not a path at all (400). */
export type BadPathReason = 'nul_byte' | 'too_long' | 'empty';

const BAD_PATH: Record<BadPathReason, string> = {
  nul_byte: 'contains a NUL byte',
  too_long: 'is longer than the server accepts',
  empty: 'is empty',
};

export const workspacePathInvalid = (reason: BadPathReason): ApiError =>
  new ApiError('INVALID_REQUEST', `The path ${BAD_PATH[reason]}.`, {
    issues: [{ field: 'path', message: BAD_PATH[reason] }],
    reason,
  });

/** The path leads out of the session's workspace (`..`, an absolute path, or a symlink). */
export const pathOutsideWorkspace = (path: string): ApiError =>
  forbidden(`The path ${JSON.stringify(path)} leads outside the session's workspace.`, {
    policy: 'workspace',
    reason: 'outside_workspace',
    path,
  });

export const workspaceFileNotFound = (path: string): ApiError =>
  new ApiError('NOT_FOUND', `No file or folder ${JSON.stringify(path)} in the session's workspace.`, {
    path,
  });

/** A folder where a file is needed, or a file where a folder is (400). */
export const workspaceWrongType = (path: string, expected: 'file' | 'dir'): ApiError =>
  new ApiError(
    'INVALID_REQUEST',
    `${JSON.stringify(path)} is not a ${expected === 'file' ? 'file' : 'folder'} of the workspace.`,
    { issues: [{ field: 'path', message: `not a ${expected === 'file' ? 'file' : 'folder'}` }], path },
  );

export const uploadTooLarge = (limitBytes: number): ApiError =>
  new ApiError('PAYLOAD_TOO_LARGE', `A file may be at most ${limitBytes} bytes (FILE_UPLOAD_LIMIT_BYTES).`, {
    limitBytes,
    limit: 'file',
  });

export const workspaceQuotaExceeded = (limitBytes: number, usedBytes: number, addedBytes: number): ApiError =>
  new ApiError(
    'PAYLOAD_TOO_LARGE',
    `The workspace would hold more than ${limitBytes} bytes (WORKSPACE_MAX_BYTES).`,
    { limitBytes, usedBytes, addedBytes, limit: 'workspace' },
  );

/** A download's `If-Match` / `If-Unmodified-Since` does not hold: the file changed since. */
export const preconditionFailed = (path: string): ApiError =>
  new ApiError(
    'PRECONDITION_FAILED',
    `${JSON.stringify(path)} is not the version the request's If-Match or If-Unmodified-Since names.`,
    { path },
  );

export const rangeNotSatisfiable = (size: number): ApiError =>
  new ApiError('RANGE_NOT_SATISFIABLE', `The requested range is not inside the file (${size} bytes).`, {
    size,
  });

/** `files` or `git` with a client-given `cwd`: they seed only a workspace the server makes. */
export const seedNeedsOwnWorkspace = (): ApiError =>
  new ApiError(
    'INVALID_REQUEST',
    '"files" and "git" seed a new workspace the server makes; they cannot be combined with "cwd".',
    { issues: [{ field: 'cwd', message: 'not with files or git' }] },
  );

/** A workspace operation (upload, delete, rewind) while a turn runs or waits: its changes must be its own. */
export const workspaceBusy = (sessionId: string, runningMessageId: string | null): ApiError =>
  new ApiError(
    'SESSION_BUSY',
    'A turn is running or waiting in this session; the workspace changes only between turns.',
    { sessionId, runningMessageId },
  );

export const checkpointMissing = (messageId: string): ApiError =>
  new ApiError(
    'NOT_FOUND',
    `Turn ${messageId} has no checkpoint of the workspace (it changed nothing or ran before checkpoints were kept).`,
    {
      messageId,
    },
  );

// --- git seeds (the URL in these is always the one with any credentials taken out) -------------

export const gitUrlInvalid = (safeUrl: string, rule: string): ApiError =>
  new ApiError('INVALID_REQUEST', `The git URL ${safeUrl} is not accepted: ${rule}.`, {
    issues: [{ field: 'git.url', message: rule }],
  });

export const gitRemoteNotAllowed = (safeUrl: string, allowed: readonly string[]): ApiError =>
  forbidden(
    allowed.length === 0
      ? 'This key may not clone repositories (its policy names no gitRemotes, nor does GIT_REMOTES).'
      : `This key may not clone ${safeUrl}: it is not under one of the key's gitRemotes.`,
    { policy: 'gitRemotes', url: safeUrl, allowed },
  );

export const gitCloneFailed = (safeUrl: string, reason: 'timeout' | 'failed', gitSays: string): ApiError =>
  new ApiError(
    'GIT_CLONE_FAILED',
    reason === 'timeout'
      ? `Cloning ${safeUrl} took longer than GIT_CLONE_TIMEOUT_MS; no session was created.`
      : `Cloning ${safeUrl} failed; no session was created.`,
    { url: safeUrl, reason, git: gitSays },
  );
