/**
 * Requests that are not HTTP enough to reach Fastify (broken framing, a malformed request line,
 * oversized headers, a request that did not arrive in time). Node reports them on the socket, and
 * Fastify's default answer is its own body (`{"error":"Bad Request","message":"Client Error",…}`);
 * here they get the contract's envelope like every other error. Nothing was parsed, so the request
 * id is a new one, and the connection is closed after the answer.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { malformedHttp, requestArrivedTooSlowly } from '../../domain/error-situations.js';
import type { ApiError } from '../../domain/errors.js';
import { envelope } from '../envelope.js';
import { ERROR_STATUS } from '../error-status.js';
import { genRequestId } from './request-id.js';

function toApiError(err: NodeJS.ErrnoException): ApiError {
  const reason = err.code ?? null;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestArrivedTooSlowly(reason);
  return malformedHttp(reason, err.code === 'HPE_HEADER_OVERFLOW');
}

export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody to answer (as in Fastify's own handler).
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const apiError = toApiError(err);
  const requestId = genRequestId({ headers: {} } as http.IncomingMessage);
  this.log.debug({ err, requestId }, 'malformed request');
  if (socket.writable) {
    const status = ERROR_STATUS[apiError.code];
    const body = JSON.stringify(envelope(apiError.toBody(), requestId));
    socket.write(
      [
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        `X-Request-ID: ${requestId}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  }
  socket.destroy();
}
