/**
 * The closed set of error codes of the API contract, and the one error class. Each situation
 * that ends in an error has its factory in error-situations.ts; only the HTTP layer knows
 * statuses (src/http/error-status.ts).
 */
import { z } from 'zod';

export const ERROR_CODES = [
  'INVALID_REQUEST',
  'MISSING_API_KEY',
  'INVALID_API_KEY',
  'FORBIDDEN',
  'SESSION_NOT_FOUND',
  'PERMISSION_REQUEST_NOT_FOUND',
  'NOT_FOUND',
  'RANGE_NOT_SATISFIABLE',
  'PRECONDITION_FAILED',
  'REQUEST_TIMEOUT',
  'CURSOR_EXPIRED',
  'SESSION_BUSY',
  'IDEMPOTENCY_KEY_REUSED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMIT_EXCEEDED',
  'MAX_SESSIONS_REACHED',
  'MAX_RUNNING_TURNS_REACHED',
  'MAX_STREAMS_REACHED',
  'BUDGET_EXCEEDED',
  'UPSTREAM_ERROR',
  'GIT_CLONE_FAILED',
  'UPSTREAM_UNAVAILABLE',
  'AGENT_ERROR',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorDetails = Record<string, unknown>;

/** The `error` object of the contract's envelope; also the data of an SSE `error` event. */
export const ErrorBodySchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  /** Seconds a client should wait before retrying; becomes the `Retry-After` header. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }

  static fromBody(body: ErrorBody, retryAfterSeconds?: number): ApiError {
    return new ApiError(body.code, body.message, body.details, retryAfterSeconds);
  }
}
