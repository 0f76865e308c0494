/**
 * Errors on `/v1` in Anthropic's format, so the official SDKs raise their own typed errors
 * (`NotFoundError`, `RateLimitError`, `AuthenticationError`, …):
 * `{ "type": "error", "error": { "type": "not_found_error", "message": … }, "request_id": … }`
 * with the `request-id` header. The status is the seed's for the same situation; the seed's code
 * and details stay readable under `error.details` for a client that wants them.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { routeNotFound } from '../../domain/error-situations.js';
import type { ApiError, ErrorCode } from '../../domain/errors.js';
import { ERROR_STATUS } from '../error-status.js';
import { apiErrorOf, setRateLimitHeaders } from '../plugins/errors.js';

/** Anthropic's error type for each seed code (its status is the seed's). */
const ANTHROPIC_TYPE: Record<ErrorCode, string> = {
  INVALID_REQUEST: 'invalid_request_error',
  MISSING_API_KEY: 'authentication_error',
  INVALID_API_KEY: 'authentication_error',
  FORBIDDEN: 'permission_error',
  SESSION_NOT_FOUND: 'not_found_error',
  PERMISSION_REQUEST_NOT_FOUND: 'not_found_error',
  NOT_FOUND: 'not_found_error',
  RANGE_NOT_SATISFIABLE: 'invalid_request_error',
  PRECONDITION_FAILED: 'invalid_request_error',
  GIT_CLONE_FAILED: 'api_error',
  REQUEST_TIMEOUT: 'timeout_error',
  CURSOR_EXPIRED: 'invalid_request_error',
  SESSION_BUSY: 'invalid_request_error',
  IDEMPOTENCY_KEY_REUSED: 'invalid_request_error',
  PAYLOAD_TOO_LARGE: 'request_too_large',
  UNSUPPORTED_MEDIA_TYPE: 'invalid_request_error',
  RATE_LIMIT_EXCEEDED: 'rate_limit_error',
  MAX_SESSIONS_REACHED: 'rate_limit_error',
  MAX_RUNNING_TURNS_REACHED: 'rate_limit_error',
  MAX_STREAMS_REACHED: 'rate_limit_error',
  BUDGET_EXCEEDED: 'billing_error',
  INTERNAL_ERROR: 'api_error',
  AGENT_ERROR: 'api_error',
  UPSTREAM_ERROR: 'api_error',
  UPSTREAM_UNAVAILABLE: 'overloaded_error',
  SERVICE_UNAVAILABLE: 'overloaded_error',
};

export function anthropicErrorBody(error: ApiError, requestId: string) {
  return {
    type: 'error' as const,
    error: {
      type: ANTHROPIC_TYPE[error.code],
      message: error.message,
      details: { code: error.code, ...error.details },
    },
    request_id: requestId,
  };
}

export function sendAnthropicError(reply: FastifyReply, error: ApiError): FastifyReply {
  reply.header('x-request-id', reply.request.id);
  reply.header('request-id', reply.request.id);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', error.retryAfterSeconds);
  if (error.code === 'RATE_LIMIT_EXCEEDED') {
    setRateLimitHeaders(reply, error.details as { limit: number; remaining: number; resetAt: string });
  }
  // A refusal that a retry cannot change is said so, so the SDK does not retry it.
  if (ERROR_STATUS[error.code] === 409) reply.header('x-should-retry', 'false');
  return reply
    .status(ERROR_STATUS[error.code])
    .type('application/json; charset=utf-8')
    .send(anthropicErrorBody(error, reply.request.id));
}

/** Registers, for the `/v1` scope only, the error handler, the 404 and the headers. */
export function registerAnthropicErrors(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) =>
    sendAnthropicError(reply, apiErrorOf(err, request, bodyLimit)),
  );
  app.setNotFoundHandler((request, reply) =>
    sendAnthropicError(reply, routeNotFound(request.method, request.url.split('?')[0] ?? request.url)),
  );
  // Anthropic's names for the request id and the rate-limit headers, beside the seed's.
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('request-id', request.id);
    const limit = reply.getHeader('x-ratelimit-limit');
    const remaining = reply.getHeader('x-ratelimit-remaining');
    const reset = reply.getHeader('x-ratelimit-reset');
    if (limit !== undefined) reply.header('anthropic-ratelimit-requests-limit', limit);
    if (remaining !== undefined) reply.header('anthropic-ratelimit-requests-remaining', remaining);
    if (reset !== undefined) {
      reply.header('anthropic-ratelimit-requests-reset', new Date(Number(reset) * 1000).toISOString());
    }
    return payload;
  });
}
