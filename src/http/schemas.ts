/**
 * The request shapes of the API. Objects are strict: an unknown field is a 400, because a
 * typo (`maxturns`) silently ignored is a bug the client never finds.
 */
import { z } from 'zod';
import { KeyPolicySchema } from '../domain/policy-fields.js';
import { PERMISSION_MODES } from '../domain/types.js';

/** Limits on sizes, so one request cannot make the server hold or store unbounded data. */
export const LIMITS = {
  promptChars: 200_000,
  systemPromptChars: 100_000,
  modelChars: 200,
  toolNames: 100,
  toolNameChars: 500,
  metadataBytes: 16 * 1024,
  metadataKeys: 50,
  pathChars: 4096,
  seedFiles: 1000,
  sessionsPageMax: 100,
  messagesPageMax: 1000,
} as const;

const toolList = z.array(z.string().min(1).max(LIMITS.toolNameChars)).max(LIMITS.toolNames);

const metadata = z
  .record(z.string().max(100), z.unknown())
  .refine((m) => Object.keys(m).length <= LIMITS.metadataKeys, {
    message: `at most ${LIMITS.metadataKeys} keys`,
  })
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= LIMITS.metadataBytes, {
    message: `at most ${LIMITS.metadataBytes} bytes of JSON`,
  });

export const CreateSessionBody = z
  .strictObject({
    model: z.string().trim().min(1).max(LIMITS.modelChars).optional(),
    permissionMode: z.enum(PERMISSION_MODES).optional(),
    maxTurns: z.number().int().min(1).max(1000).optional(),
    cwd: z.string().min(1).max(LIMITS.pathChars).optional(),
    systemPrompt: z.string().max(LIMITS.systemPromptChars).optional(),
    appendSystemPrompt: z.string().max(LIMITS.systemPromptChars).optional(),
    allowedTools: toolList.optional(),
    disallowedTools: toolList.optional(),
    metadata: metadata.optional(),
    /** Files to write into the new workspace. */
    files: z.lazy(() => seedFiles).optional(),
    /** A repository to clone into the new workspace (its remote on the key's `gitRemotes`). */
    git: z.lazy(() => gitSeed).optional(),
  })
  .optional()
  .transform((body) => body ?? {});

const prompt = z
  .string({ error: 'prompt is required and must be a string' })
  .max(LIMITS.promptChars)
  .refine((p) => p.trim().length > 0, { message: 'prompt must not be empty' });

/** `timeout` in milliseconds; the upper bound is the server's TURN_TIMEOUT_MAX_MS. */
const timeout = (maxMs: number) => z.number().int().min(1000).max(maxMs);

export const sendMessageBody = (maxTimeoutMs: number) =>
  z.strictObject({
    prompt,
    stream: z.boolean().optional().default(false),
    timeout: timeout(maxTimeoutMs).optional(),
    /** Wait behind a running turn instead of SESSION_BUSY. */
    queue: z.boolean().optional(),
  });

export const streamBody = (maxTimeoutMs: number) =>
  z.strictObject({
    prompt,
    timeout: timeout(maxTimeoutMs).optional(),
    queue: z.boolean().optional(),
    /** Also stream `delta` events: text as the model writes it. */
    partial: z.boolean().optional(),
  });

/** `true`/`1`/`false`/`0` in a query string. */
const queryFlag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const pageNumber = (max: number, fallback: number) =>
  z.coerce.number().int().min(0).max(max).default(fallback);

export const listSessionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIMITS.sessionsPageMax).default(20),
  offset: pageNumber(1_000_000, 0),
});

export const listMessagesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(LIMITS.messagesPageMax).default(100),
  offset: pageNumber(100_000_000, 0),
});

export const streamQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional(),
  messageId: z.string().min(1).max(100).optional(),
  partial: queryFlag,
});

export const messageParams = z.strictObject({
  id: z.string().min(1).max(100),
  messageId: z.string().min(1).max(100),
});

/** `GET …/messages/:messageId`: `wait=true` blocks until the turn ends or needs an approval. */
export const turnStateQuery = (maxTimeoutMs: number) =>
  z.strictObject({
    wait: queryFlag,
    /** How long a `wait` may block, in ms (default 30 s); the answer then says the turn runs. */
    timeout: z.coerce.number().int().min(1000).max(maxTimeoutMs).default(Math.min(30_000, maxTimeoutMs)),
  });

export const permissionParams = z.strictObject({
  id: z.string().min(1).max(100),
  requestId: z.string().min(1).max(100),
});

export const permissionDecisionBody = z.strictObject({
  decision: z.enum(['allow', 'deny']),
  /** For a deny: what the model is told (its feedback). */
  message: z.string().min(1).max(10_000).optional(),
  /** For an allow: the tool input to run instead of the one the model gave. */
  updatedInput: z.record(z.string(), z.unknown()).optional(),
  /** For an allow: apply Claude Code's suggested rule for the rest of the session. */
  remember: z.boolean().optional(),
});

export const usageQuery = z.strictObject({
  since: z.iso
    .datetime({ offset: true })
    .or(z.iso.date())
    .optional()
    .transform((v) => (v === undefined ? undefined : Date.parse(v))),
});

export const sessionParams = z.strictObject({
  id: z.string().min(1).max(100),
});

// --- the admin API ---------------------------------------------------------------------------

/** The name's own rules (characters) are KeyAdmin's; this bounds the size. */
const name = z.string().min(1).max(100);

export const CreateKeyBody = z.strictObject({
  name,
  role: z.enum(['user', 'admin']).optional(),
  policy: KeyPolicySchema.optional(),
});

export const UpdateKeyBody = z.strictObject({
  name: name.optional(),
  /** Replaces the key's policy as a whole (`{}`: back to the server's defaults). */
  policy: KeyPolicySchema.optional(),
});

export const listKeysQuery = z.strictObject({
  include: z.literal('revoked').optional(),
});

export const keyParams = z.strictObject({
  id: z.string().min(1).max(100),
});

// --- workspace files, diffs, rewind, fork ------------------------------------------------------

/** A workspace path (relative; `.` or empty: the root); NUL bytes are refused by the resolver. */
const workspacePath = z.string().max(LIMITS.pathChars);

export const filesListQuery = z.strictObject({
  path: workspacePath.default(''),
  recursive: queryFlag,
});

export const fileContentQuery = z.strictObject({
  path: workspacePath.min(1, 'path is required'),
});

export const archiveQuery = z.strictObject({
  path: workspacePath.default(''),
});

const turnId = z.string().min(1).max(100);

/** `messageId` alone, or a range `from`…`to` (both turns included). */
export const diffQuery = z
  .strictObject({
    messageId: turnId.optional(),
    from: turnId.optional(),
    to: turnId.optional(),
    format: z.enum(['diff', 'json']).default('diff'),
  })
  .refine(
    (q) => (q.messageId !== undefined ? q.from === undefined && q.to === undefined : q.from !== undefined),
    {
      message: 'give messageId, or from (and to)',
      path: ['messageId'],
    },
  );

export const rewindBody = z
  .strictObject({
    messageId: turnId,
    files: z.boolean().default(true),
    conversation: z.boolean().default(true),
  })
  .refine((b) => b.files || b.conversation, {
    message: 'rewind files, conversation or both',
    path: ['files'],
  });

export const forkBody = z
  .strictObject({
    messageId: turnId.optional(),
    metadata: metadata.optional(),
  })
  .optional()
  .transform((body) => body ?? {});

const seedFile = z
  .strictObject({
    path: z.string().min(1).max(LIMITS.pathChars),
    content: z.string(),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
  })
  .refine((f) => f.encoding !== 'base64' || /^[A-Za-z0-9+/]*={0,2}$/.test(f.content), {
    message: 'content is not valid base64',
    path: ['content'],
  });

export const seedFiles = z.array(seedFile).max(LIMITS.seedFiles);

export const gitSeed = z.strictObject({
  url: z.string().min(1).max(2048),
  ref: z
    .string()
    .min(1)
    .max(250)
    .regex(/^[\w./-]+$/, 'letters, digits, _ . / - only')
    .refine((r) => !r.startsWith('-'), 'must not start with -')
    .optional(),
});
