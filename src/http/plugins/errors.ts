/**
 * Every error leaves in the contract's envelope: ApiErrors with their status, Fastify's own
 * errors (body too large, wrong content type, bad URL) translated, unknown routes as NOT_FOUND,
 * and anything else as a generic INTERNAL_ERROR whose cause stays in the log.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  badRequest,
  bodyTooLarge,
  internalError,
  routeNotFound,
  unsupportedMediaType,
} from '../../domain/error-situations.js';
import { ApiError } from '../../domain/errors.js';
import { envelope } from '../envelope.js';
import { ERROR_STATUS } from '../error-status.js';

/** Fastify's own errors for bad input, as the contract's situations. */
export function fromFastifyError(
  err: FastifyError,
  bodyLimit: number,
  contentType: string | null,
): ApiError | null {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge(bodyLimit);
  const status = err.statusCode ?? 500;
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415)
    return unsupportedMediaType(contentType);
  if (status === 413) return bodyTooLarge(bodyLimit, err.message);
  if (status >= 400 && status < 500) return badRequest(err.message, err.code ?? null);
  return null;
}

export function setRateLimitHeaders(
  reply: FastifyReply,
  d: { limit: number; remaining: number; resetAt: number | string },
): void {
  const resetMs = typeof d.resetAt === 'number' ? d.resetAt : Date.parse(d.resetAt);
  reply.header('x-ratelimit-limit', d.limit);
  reply.header('x-ratelimit-remaining', Math.max(0, d.remaining));
  reply.header('x-ratelimit-reset', Math.ceil(resetMs / 1000));
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  // Also here: the router's own errors are answered before the onRequest hooks run.
  reply.header('x-request-id', reply.request.id);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', error.retryAfterSeconds);
  if (error.code === 'RATE_LIMIT_EXCEEDED') {
    const d = error.details as { limit: number; remaining: number; resetAt: string };
    setRateLimitHeaders(reply, d);
  }
  return reply
    .status(ERROR_STATUS[error.code])
    .type('application/json; charset=utf-8')
    .send(envelope(error.toBody(), reply.request.id));
}

/** What a thrown error means to a client: itself, Fastify's own translated, or INTERNAL_ERROR (logged). */
export function apiErrorOf(
  err: FastifyError | ApiError,
  request: FastifyRequest,
  bodyLimit: number,
): ApiError {
  if (err instanceof ApiError) return err;
  const translated = fromFastifyError(err, bodyLimit, request.headers['content-type'] ?? null);
  if (translated) return translated;
  request.log.error({ err }, 'unhandled error');
  return internalError();
}

export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) =>
    sendError(reply, apiErrorOf(err, request, bodyLimit)),
  );

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, routeNotFound(request.method, request.url.split('?')[0] ?? request.url)),
  );
}
