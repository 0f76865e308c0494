/**
 * The request shapes of the API. Objects are strict: an unknown field is a 400, because a
 * typo (`maxturns`) silently ignored is a bug the client never finds.
 */
import { z } from 'zod';
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
  });

export const streamBody = (maxTimeoutMs: number) =>
  z.strictObject({
    prompt,
    timeout: timeout(maxTimeoutMs).optional(),
  });

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
});

export const sessionParams = z.strictObject({
  id: z.string().min(1).max(100),
});
