/**
 * The JSON shapes the API answers with, as zod schemas: the OpenAPI document is generated from
 * them (src/http/openapi/document.ts), and the HTTP and end-to-end suites validate every response
 * they receive against that document, so a view that drifts from its schema fails a test.
 * Event payloads are the catalogue's own (src/domain/events.ts), never re-declared here.
 */
import { z } from 'zod';
import { ErrorBodySchema } from '../../domain/errors.js';
import {
  FileChangeSchema,
  MessageViewSchema,
  PermissionRequestSchema,
  PermissionResolutionSchema,
  TokenUsageSchema,
  TurnCompletionSchema,
} from '../../domain/events.js';
import { KeyPolicySchema } from '../../domain/policy-fields.js';
import { PERMISSION_MODES } from '../../domain/types.js';

const isoTime = z.string().describe('ISO 8601 time, UTC');

export const ErrorEnvelopeSchema = z
  .object({
    error: ErrorBodySchema,
    timestamp: isoTime,
    /** Equal to the `X-Request-ID` header. */
    requestId: z.string().min(1),
  })
  .describe("The contract's error envelope: every error of every route has this shape.");

export const SessionSummarySchema = z.object({
  sessionId: z.string(),
  /** The model the client asked for (`default`: the server's). */
  model: z.string(),
  resolvedModel: z.string(),
  permissionMode: z.enum(PERMISSION_MODES),
  maxTurns: z.number().int().nullable(),
  status: z.enum(['running', 'idle']),
  createdAt: isoTime,
  lastActivity: isoTime,
  expiresAt: isoTime,
  metadata: z.record(z.string(), z.unknown()),
});

export const SessionDetailsSchema = SessionSummarySchema.extend({
  messageCount: z.number().int(),
  currentMessageId: z.string().nullable(),
  claudeSessionId: z.string(),
  /** Only on a fork (`POST …/fork`): the session and turn it was made from. */
  forkedFrom: z.object({ sessionId: z.string(), messageId: z.string() }).optional(),
  /** `parked`: no Claude Code process now; the next message resumes the conversation in a new one. */
  process: z.enum(['live', 'parked']),
  config: z.object({
    model: z.string().nullable(),
    resolvedModel: z.string().nullable(),
    permissionMode: z.enum(PERMISSION_MODES),
    maxTurns: z.number().int().nullable(),
    cwd: z.string(),
    workspace: z.enum(['owned', 'external']),
    systemPrompt: z.string().nullable(),
    appendSystemPrompt: z.string().nullable(),
    allowedTools: z.array(z.string()),
    disallowedTools: z.array(z.string()),
  }),
  usage: TokenUsageSchema.extend({
    costUsd: z.number(),
    costSimulated: z.literal(true).optional(),
  }),
});

export const SessionListSchema = z.object({
  sessions: z.array(SessionSummarySchema),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  hasMore: z.boolean(),
});

export const MessageAcceptedSchema = z.object({
  messageId: z.string(),
  sessionId: z.string(),
  /** Where to watch the turn (`GET …/stream?messageId=`). */
  streamUrl: z.string(),
  /** Present when the turn waits behind a running one (`queue: true`). */
  queued: z.literal(true).optional(),
  position: z.number().int().min(1).optional(),
});

export const TurnStateSchema = z.object({
  messageId: z.string(),
  sessionId: z.string(),
  /** `requires_action`: the turn waits for an answer to `pendingPermissions`. */
  status: z.enum(['queued', 'running', 'requires_action', 'completed', 'failed', 'interrupted', 'timed_out']),
  completion: TurnCompletionSchema.nullable(),
  error: ErrorBodySchema.nullable(),
  pendingPermissions: z.array(PermissionRequestSchema),
  streamUrl: z.string(),
  /** Where to wait for the turn's end (`GET …/messages/:messageId?wait=true`). */
  waitUrl: z.string(),
});

export const MessageHistorySchema = z.object({
  sessionId: z.string(),
  messages: z.array(MessageViewSchema),
  pagination: z.object({
    limit: z.number().int(),
    offset: z.number().int(),
    total: z.number().int(),
    hasMore: z.boolean(),
  }),
});

export const InterruptResultSchema = z.object({
  sessionId: z.string(),
  interrupted: z.boolean(),
  messageId: z.string().nullable(),
  status: z.enum(['interrupting', 'idle']),
  /** Turns still waiting behind it. */
  queued: z.number().int(),
});

export const PermissionListSchema = z.object({
  sessionId: z.string(),
  permissions: z.array(PermissionRequestSchema),
});

export { PermissionResolutionSchema };

const usageTotals = z.object({ turns: z.number().int(), usage: TokenUsageSchema, costUsd: z.number() });

export const UsageReportSchema = z.object({
  key: z.object({ id: z.string(), name: z.string(), prefix: z.string() }),
  since: isoTime,
  total: usageTotals,
  today: z.object({
    date: z.string().describe('YYYY-MM-DD, UTC'),
    costUsd: z.number(),
    dailyBudgetUsd: z.number().nullable(),
    remainingUsd: z.number().nullable(),
  }),
  sessions: z.array(usageTotals.extend({ sessionId: z.string() })),
  costSimulated: z.literal(true).optional(),
});

export const ModelListSchema = z.object({
  models: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      description: z.string(),
      resolvedModel: z.string().nullable(),
      default: z.boolean(),
      /** `claude_code`: Claude Code's catalogue; `model_map`: an id the operator maps (MODEL_MAP). */
      source: z.enum(['claude_code', 'model_map']),
    }),
  ),
  defaultModel: z.string(),
});

export const HealthSchema = z
  .object({
    status: z.enum(['healthy', 'degraded', 'draining', 'unhealthy']),
    timestamp: isoTime,
    version: z.string(),
    // Only for a caller with a valid key:
    uptimeSeconds: z.number().int().optional(),
    sessions: z
      .object({
        active: z.number().int(),
        total: z.number().int(),
        running: z.number().int(),
        max: z.number().int(),
      })
      .optional(),
    spares: z
      .object({
        ready: z.number().int().describe('prewarmed Claude Code processes parked now (PREWARM_PROCESSES)'),
        claimed: z
          .number()
          .int()
          .describe('new sessions that started on a prewarmed process since the server started'),
      })
      .optional(),
    store: z.object({ ok: z.boolean() }).optional(),
    claudeCode: z.object({ version: z.string().nullable() }).optional(),
    credentials: z.enum(['configured', 'missing']).optional(),
    problems: z
      .array(z.object({ code: z.enum(['agent_temp_dir', 'no_credentials']), message: z.string() }))
      .optional(),
  })
  .describe('Without a valid key: status, timestamp and version only.');

export const ReadinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  timestamp: isoTime,
  /** Each dependency by name (store, redis, lease, accepting): does it answer. */
  checks: z.record(z.string(), z.boolean()),
});

export const KeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  role: z.enum(['user', 'admin']),
  policy: KeyPolicySchema,
  createdAt: isoTime,
  lastUsedAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});

export const KeyListSchema = z.object({ keys: z.array(KeySchema) });

export const CreatedKeySchema = z.object({
  key: KeySchema,
  /** The key itself: shown here once, never again. */
  secret: z.string(),
});

// --- workspace files and diffs -----------------------------------------------------------------

export const WorkspaceListingSchema = z.object({
  /** The listed folder, relative to the workspace root (`.`: the root). */
  path: z.string(),
  entries: z.array(
    z.object({
      name: z.string(),
      /** Relative to the workspace root, with `/` separators. */
      path: z.string(),
      /** A symlink is listed, never followed. */
      type: z.enum(['file', 'dir', 'symlink']),
      size: z.number().int().min(0),
      modifiedAt: isoTime,
    }),
  ),
  /** Only with `recursive=true`: the listing stopped at its cap (10 000 entries). */
  truncated: z.boolean().optional(),
});

export const WrittenFileSchema = z.object({
  path: z.string(),
  size: z.number().int().min(0),
  /** Hex SHA-256 of the bytes written. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** One file of a diff in JSON: its change and its hunks (each line starts with ` `, `+` or `-`). */
export const DiffFileSchema = FileChangeSchema.extend({
  hunks: z.array(
    z.object({
      header: z.string(),
      oldStart: z.number().int(),
      oldLines: z.number().int(),
      newStart: z.number().int(),
      newLines: z.number().int(),
      lines: z.array(z.string()),
    }),
  ),
});

export const WorkspaceDiffSchema = z.object({
  sessionId: z.string(),
  /** The snapshot before the first turn of the range. */
  from: z.string(),
  /** The snapshot after the last turn of the range. */
  to: z.string(),
  files: z.array(DiffFileSchema),
});
