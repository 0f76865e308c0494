/**
 * The route table of `/api/v1` as the OpenAPI document describes it: one entry per route, with
 * the same zod schemas its handler validates with (src/http/schemas.ts) and the shapes it answers
 * with (./response-schemas.ts). `test/http/openapi.test.ts` fails while a route registered on the
 * app has no entry here, and every response the test suites receive is checked against the
 * document, so an entry cannot quietly drift from its route.
 */
import type { ErrorCode } from '../../domain/errors.js';
import { PermissionResolutionSchema, RewoundEventSchema, TurnCompletionSchema } from '../../domain/events.js';
import {
  archiveQuery,
  CreateKeyBody,
  CreateSessionBody,
  diffQuery,
  fileContentQuery,
  filesListQuery,
  forkBody,
  keyParams,
  listKeysQuery,
  listMessagesQuery,
  listSessionsQuery,
  messageParams,
  permissionDecisionBody,
  permissionParams,
  rewindBody,
  sendMessageBody,
  sessionParams,
  streamBody,
  streamQuery,
  turnStateQuery,
  UpdateKeyBody,
  usageQuery,
} from '../schemas.js';
import {
  CreatedKeySchema,
  HealthSchema,
  InterruptResultSchema,
  KeyListSchema,
  KeySchema,
  MessageAcceptedSchema,
  MessageHistorySchema,
  ModelListSchema,
  PermissionListSchema,
  ReadinessSchema,
  SessionDetailsSchema,
  SessionListSchema,
  SessionSummarySchema,
  TurnStateSchema,
  UsageReportSchema,
  WorkspaceDiffSchema,
  WorkspaceListingSchema,
  WrittenFileSchema,
} from './response-schemas.js';
import type { ApiRouteSpec } from './route-spec.js';
import { z } from 'zod';

/** The ways a turn can fail, as a blocking call (or a wait) answers them. */
const TURN_FAILURES: ErrorCode[] = [
  'REQUEST_TIMEOUT',
  'AGENT_ERROR',
  'UPSTREAM_ERROR',
  'UPSTREAM_UNAVAILABLE',
  'SERVICE_UNAVAILABLE',
];

/** Why a new turn is refused before it starts. */
const TURN_REFUSALS: ErrorCode[] = [
  'SESSION_NOT_FOUND',
  'SESSION_BUSY',
  'FORBIDDEN',
  'RATE_LIMIT_EXCEEDED',
  'MAX_SESSIONS_REACHED',
  'MAX_RUNNING_TURNS_REACHED',
  'BUDGET_EXCEEDED',
  'IDEMPOTENCY_KEY_REUSED',
  'NOT_FOUND',
  'SERVICE_UNAVAILABLE',
];

/** A route that needs the session's process: with several instances it may be forwarded. */
const OWNED_SESSION: ErrorCode[] = ['SESSION_NOT_FOUND', 'SERVICE_UNAVAILABLE'];

/**
 * A workspace path that leads out of it is FORBIDDEN (a common code); one that does not exist
 * (or a turn without a checkpoint) NOT_FOUND.
 */
const WORKSPACE_READ: ErrorCode[] = [...OWNED_SESSION, 'NOT_FOUND'];

/** A client's change to the workspace happens only between turns (else SESSION_BUSY). */
const WORKSPACE_CHANGE: ErrorCode[] = [...OWNED_SESSION, 'SESSION_BUSY'];

/** What a download of a file answers (with its validators, for conditional and ranged GETs). */
const FILE_BYTES = { '*/*': 'bytes' } as const;

export interface RouteLimits {
  /** TURN_TIMEOUT_MAX_MS: the upper bound of a message's `timeout`. */
  turnTimeoutMaxMs: number;
}

export function apiRoutes(limits: RouteLimits): ApiRouteSpec[] {
  const { turnTimeoutMaxMs } = limits;
  return [
    // --- health and discovery ----------------------------------------------------------------
    {
      method: 'get',
      path: '/health',
      operationId: 'getHealth',
      tag: 'Health',
      summary: 'Liveness: is the server up (with a valid key: how busy it is and what is wrong)',
      access: 'public',
      responses: {
        200: { description: 'Serving.', json: HealthSchema },
        503: { description: 'The store does not answer, or the server is draining.', json: HealthSchema },
      },
      errors: [],
    },
    {
      method: 'get',
      path: '/health/ready',
      operationId: 'getReadiness',
      tag: 'Health',
      summary: 'Readiness: should a load balancer send work here now',
      access: 'public',
      responses: {
        200: { description: 'Ready.', json: ReadinessSchema },
        503: { description: 'Not ready; `checks` says what fails.', json: ReadinessSchema },
      },
      errors: [],
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApiDocument',
      tag: 'Health',
      summary: 'This document',
      access: 'public',
      responses: { 200: { description: 'The OpenAPI 3.1 document of /api/v1.', json: z.looseObject({}) } },
      errors: [],
    },
    {
      method: 'get',
      path: '/models',
      operationId: 'listModels',
      tag: 'Models',
      summary: "Claude Code's model catalogue, and the retired ids the operator maps",
      access: 'read',
      responses: { 200: { description: 'The models.', json: ModelListSchema } },
      errors: [],
    },
    // --- sessions ------------------------------------------------------------------------------
    {
      method: 'post',
      path: '/sessions',
      operationId: 'createSession',
      tag: 'Sessions',
      summary: 'Create a session (a Claude Code conversation with its own workspace)',
      access: 'write',
      rateLimitBucket: 'sessions',
      body: CreateSessionBody,
      requestHeaders: ['Idempotency-Key'],
      responses: {
        201: {
          description: 'Created (or, with a replayed Idempotency-Key, the session it created).',
          json: SessionSummarySchema,
          headers: ['Location', 'Idempotent-Replayed'],
        },
      },
      errors: [
        'FORBIDDEN',
        'RATE_LIMIT_EXCEEDED',
        'MAX_SESSIONS_REACHED',
        'BUDGET_EXCEEDED',
        'IDEMPOTENCY_KEY_REUSED',
        'SERVICE_UNAVAILABLE',
        'GIT_CLONE_FAILED',
      ],
    },
    {
      method: 'get',
      path: '/sessions',
      operationId: 'listSessions',
      tag: 'Sessions',
      summary: "The key's active sessions, newest first",
      access: 'read',
      query: listSessionsQuery,
      responses: { 200: { description: 'A page of sessions.', json: SessionListSchema } },
      errors: [],
    },
    {
      method: 'get',
      path: '/sessions/:id',
      operationId: 'getSession',
      tag: 'Sessions',
      summary: 'One session: its configuration, state and usage',
      access: 'read',
      params: sessionParams,
      responses: { 200: { description: 'The session.', json: SessionDetailsSchema } },
      errors: OWNED_SESSION,
    },
    {
      method: 'delete',
      path: '/sessions/:id',
      operationId: 'endSession',
      tag: 'Sessions',
      summary: 'End a session (its running turn is interrupted, its workspace removed)',
      access: 'write',
      params: sessionParams,
      responses: { 204: { description: 'Ended.' } },
      errors: OWNED_SESSION,
    },
    // --- messages ------------------------------------------------------------------------------
    {
      method: 'post',
      path: '/sessions/:id/messages',
      operationId: 'sendMessage',
      tag: 'Messages',
      summary: 'Send a prompt: one turn (blocking, or `stream: true` to watch it)',
      description:
        '200 with the completion once the turn ended. 202 with `streamUrl` for `stream: true`; ' +
        '202 with the turn state (`requires_action`) when it waits for an approval.',
      access: 'write',
      params: sessionParams,
      body: sendMessageBody(turnTimeoutMaxMs),
      requestHeaders: ['Idempotency-Key'],
      responses: {
        200: { description: 'The turn ended.', json: TurnCompletionSchema, headers: ['Idempotent-Replayed'] },
        202: {
          description: 'Accepted (`stream: true`), or the turn waits for an approval.',
          json: z.union([MessageAcceptedSchema, TurnStateSchema]),
          headers: ['Idempotent-Replayed'],
        },
      },
      errors: [...TURN_REFUSALS, ...TURN_FAILURES],
    },
    {
      method: 'get',
      path: '/sessions/:id/messages',
      operationId: 'listMessages',
      tag: 'Messages',
      summary: "The session's history: every message of every turn, oldest first",
      access: 'read',
      params: sessionParams,
      query: listMessagesQuery,
      responses: { 200: { description: 'A page of the history.', json: MessageHistorySchema } },
      errors: ['SESSION_NOT_FOUND'],
    },
    {
      method: 'get',
      path: '/sessions/:id/messages/:messageId',
      operationId: 'getTurn',
      tag: 'Messages',
      summary: 'One turn: its state now, or (`wait=true`) once it ended or waits for an approval',
      access: 'read',
      params: messageParams,
      query: turnStateQuery(turnTimeoutMaxMs),
      responses: {
        200: {
          description: 'The state (without `wait`), or the completion (`wait=true`, the turn ended).',
          json: z.union([TurnStateSchema, TurnCompletionSchema]),
        },
        202: {
          description: '`wait=true`: the turn has not ended (or waits for an approval).',
          json: TurnStateSchema,
        },
      },
      errors: ['SESSION_NOT_FOUND', 'NOT_FOUND', ...TURN_FAILURES],
    },
    // --- streaming -----------------------------------------------------------------------------
    {
      method: 'post',
      path: '/sessions/:id/stream',
      operationId: 'streamMessage',
      tag: 'Streaming',
      summary: 'Send a prompt and stream its turn (Server-Sent Events)',
      access: 'write',
      params: sessionParams,
      body: streamBody(turnTimeoutMaxMs),
      requestHeaders: ['Idempotency-Key'],
      responses: {
        200: { description: "The turn's events, to its terminal event.", eventStream: true },
      },
      errors: [...TURN_REFUSALS, 'MAX_STREAMS_REACHED'],
    },
    {
      method: 'get',
      path: '/sessions/:id/stream',
      operationId: 'attachStream',
      tag: 'Streaming',
      summary: 'Attach to the running (or last) turn, to one turn, or resume after a cursor',
      access: 'read',
      rateLimitBucket: 'events',
      params: sessionParams,
      query: streamQuery,
      requestHeaders: ['Last-Event-ID'],
      responses: {
        200: { description: 'The events.', eventStream: true },
        204: { description: 'Nothing runs and nothing is left to replay (an EventSource stops).' },
      },
      errors: ['SESSION_NOT_FOUND', 'NOT_FOUND', 'RATE_LIMIT_EXCEEDED', 'MAX_STREAMS_REACHED'],
    },
    // --- live control --------------------------------------------------------------------------
    {
      method: 'post',
      path: '/sessions/:id/interrupt',
      operationId: 'interruptTurn',
      tag: 'Live control',
      summary: 'Interrupt the running turn (like Esc); queued turns are cancelled',
      access: 'write',
      params: sessionParams,
      responses: {
        200: { description: 'Nothing ran: a no-op.', json: InterruptResultSchema },
        202: {
          description: 'Interrupting: the stream ends with `complete`, status interrupted.',
          json: InterruptResultSchema,
        },
      },
      errors: OWNED_SESSION,
    },
    {
      method: 'get',
      path: '/sessions/:id/permissions',
      operationId: 'listPermissionRequests',
      tag: 'Live control',
      summary: 'The open permission questions of the session',
      access: 'read',
      params: sessionParams,
      responses: { 200: { description: 'The open questions.', json: PermissionListSchema } },
      errors: OWNED_SESSION,
    },
    {
      method: 'post',
      path: '/sessions/:id/permissions/:requestId',
      operationId: 'answerPermissionRequest',
      tag: 'Live control',
      summary: 'Answer a permission question: allow (optionally remembered) or deny',
      access: 'write',
      params: permissionParams,
      body: permissionDecisionBody,
      responses: { 200: { description: 'Answered.', json: PermissionResolutionSchema } },
      errors: [...OWNED_SESSION, 'PERMISSION_REQUEST_NOT_FOUND'],
    },
    // --- workspace files -------------------------------------------------------------------------
    {
      method: 'get',
      path: '/sessions/:id/files',
      operationId: 'listFiles',
      tag: 'Workspace files',
      summary: "A folder of the session's workspace (or, `recursive=true`, its whole tree)",
      access: 'read',
      params: sessionParams,
      query: filesListQuery,
      responses: { 200: { description: 'The entries, sorted.', json: WorkspaceListingSchema } },
      errors: WORKSPACE_READ,
    },
    {
      method: 'get',
      path: '/sessions/:id/files/content',
      operationId: 'downloadFile',
      tag: 'Workspace files',
      summary: 'A file of the workspace: its raw bytes, streamed (ranges and conditional GETs)',
      description:
        '`Content-Type` by extension (`application/octet-stream` when unknown). A folder is 400, ' +
        'a missing file 404, a `Range` outside the file 416 `RANGE_NOT_SATISFIABLE`.',
      access: 'read',
      params: sessionParams,
      query: fileContentQuery,
      requestHeaders: [
        'Range',
        'If-Range',
        'If-None-Match',
        'If-Modified-Since',
        'If-Match',
        'If-Unmodified-Since',
      ],
      responses: {
        200: {
          description: "The file's bytes.",
          raw: FILE_BYTES,
          headers: ['Content-Length', 'ETag', 'Last-Modified', 'Accept-Ranges'],
        },
        206: {
          description: 'The bytes of the one `Range` asked for.',
          raw: FILE_BYTES,
          headers: ['Content-Length', 'Content-Range', 'ETag', 'Last-Modified', 'Accept-Ranges'],
        },
        304: {
          description: '`If-None-Match` / `If-Modified-Since`: the file is unchanged (no body).',
          headers: ['ETag', 'Last-Modified', 'Accept-Ranges'],
        },
      },
      errors: [...WORKSPACE_READ, 'RANGE_NOT_SATISFIABLE', 'PRECONDITION_FAILED'],
    },
    {
      method: 'put',
      path: '/sessions/:id/files/content',
      operationId: 'uploadFile',
      tag: 'Workspace files',
      summary: 'Write a file of the workspace from the raw body (parents made; atomic)',
      description:
        'Over FILE_UPLOAD_LIMIT_BYTES or WORKSPACE_MAX_BYTES: 413 (`details.limit`). While a turn ' +
        'runs or waits, or another change of the workspace is under way: 409 `SESSION_BUSY`.',
      access: 'write',
      params: sessionParams,
      query: fileContentQuery,
      rawBody: { description: "The file's bytes, of any content type (none: an empty file)." },
      responses: {
        200: { description: 'An existing file was replaced.', json: WrittenFileSchema },
        201: { description: 'A new file was made.', json: WrittenFileSchema },
      },
      errors: WORKSPACE_CHANGE,
    },
    {
      method: 'delete',
      path: '/sessions/:id/files/content',
      operationId: 'deleteFile',
      tag: 'Workspace files',
      summary: 'Remove a file or a symlink of the workspace (never a folder)',
      access: 'write',
      params: sessionParams,
      query: fileContentQuery,
      responses: { 204: { description: 'Removed.' } },
      errors: [...WORKSPACE_CHANGE, 'NOT_FOUND'],
    },
    {
      method: 'get',
      path: '/sessions/:id/archive',
      operationId: 'downloadArchive',
      tag: 'Workspace files',
      summary: 'A folder of the workspace (default: all of it) as a streamed tar.gz',
      access: 'read',
      params: sessionParams,
      query: archiveQuery,
      responses: {
        200: {
          description: 'The archive (symlinks stored as links; `.git` included).',
          raw: { 'application/gzip': 'bytes' },
          headers: ['Content-Disposition'],
        },
      },
      errors: WORKSPACE_READ,
    },
    // --- checkpoints: diff, rewind, fork --------------------------------------------------------
    {
      method: 'get',
      path: '/sessions/:id/diff',
      operationId: 'getDiff',
      tag: 'Checkpoints',
      summary: 'What a turn (`messageId`) or a range of turns (`from`, `to`) changed in the workspace',
      description:
        'A unified diff (`text/x-diff`), or with `format=json` each file with its hunks. A turn not ' +
        'of the session, or without a checkpoint, is 404 `NOT_FOUND`.',
      access: 'read',
      params: sessionParams,
      query: diffQuery,
      responses: {
        200: {
          description: 'The diff: `text/x-diff` (default), or JSON (`format=json`).',
          raw: { 'text/x-diff': 'text' },
          json: WorkspaceDiffSchema,
        },
      },
      errors: WORKSPACE_READ,
    },
    {
      method: 'post',
      path: '/sessions/:id/rewind',
      operationId: 'rewindSession',
      tag: 'Checkpoints',
      summary: 'Put the workspace and/or the conversation back to before a turn',
      description:
        'The answer is the stored `rewound` event. Refused while a turn runs or waits (409); a turn ' +
        'already rewound is 400, an unknown one 404.',
      access: 'write',
      params: sessionParams,
      body: rewindBody,
      responses: { 200: { description: 'Rewound.', json: RewoundEventSchema } },
      errors: [...WORKSPACE_CHANGE, 'NOT_FOUND'],
    },
    {
      method: 'post',
      path: '/sessions/:id/fork',
      operationId: 'forkSession',
      tag: 'Checkpoints',
      summary: 'A new session from after a turn: its conversation up to it, a copy of its workspace',
      access: 'write',
      rateLimitBucket: 'sessions',
      params: sessionParams,
      body: forkBody,
      responses: {
        201: {
          description: 'The new session (its details have `forkedFrom`).',
          json: SessionSummarySchema,
          headers: ['Location'],
        },
      },
      errors: [...OWNED_SESSION, 'NOT_FOUND', 'RATE_LIMIT_EXCEEDED', 'MAX_SESSIONS_REACHED'],
    },
    // --- usage ---------------------------------------------------------------------------------
    {
      method: 'get',
      path: '/usage',
      operationId: 'getUsage',
      tag: 'Usage',
      summary: 'What the calling key used, per session and in total, and its budget today',
      access: 'read',
      query: usageQuery,
      responses: { 200: { description: 'The report.', json: UsageReportSchema } },
      errors: [],
    },
    // --- key management ------------------------------------------------------------------------
    {
      method: 'get',
      path: '/admin/keys',
      operationId: 'listKeys',
      tag: 'Key management',
      summary: 'The API keys (admin keys only)',
      access: 'admin',
      query: listKeysQuery,
      responses: { 200: { description: 'The keys.', json: KeyListSchema } },
      errors: [],
    },
    {
      method: 'post',
      path: '/admin/keys',
      operationId: 'createKey',
      tag: 'Key management',
      summary: 'Make a key; its secret is in this answer only',
      access: 'admin',
      body: CreateKeyBody,
      responses: {
        201: { description: 'Made.', json: CreatedKeySchema, headers: ['Location', 'Cache-Control'] },
      },
      errors: [],
    },
    {
      method: 'get',
      path: '/admin/keys/:id',
      operationId: 'getKey',
      tag: 'Key management',
      summary: 'One key, by id or unique prefix',
      access: 'admin',
      params: keyParams,
      responses: { 200: { description: 'The key.', json: KeySchema } },
      errors: ['NOT_FOUND'],
    },
    {
      method: 'patch',
      path: '/admin/keys/:id',
      operationId: 'updateKey',
      tag: 'Key management',
      summary: 'Rename a key or replace its policy',
      access: 'admin',
      params: keyParams,
      body: UpdateKeyBody,
      responses: { 200: { description: 'Updated.', json: KeySchema } },
      errors: ['NOT_FOUND'],
    },
    {
      method: 'post',
      path: '/admin/keys/:id/revoke',
      operationId: 'revokeKey',
      tag: 'Key management',
      summary: 'Revoke a key (its open streams end within a second)',
      access: 'admin',
      params: keyParams,
      responses: { 200: { description: 'Revoked.', json: KeySchema } },
      errors: ['NOT_FOUND'],
    },
  ];
}
