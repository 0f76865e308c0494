/**
 * Request ids: every response carries `X-Request-ID`, equal to the `requestId` of an error
 * envelope. A client's own `X-Request-ID` is kept when it is a sane token, so one id can follow
 * a request through a caller's logs and ours.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { randomBase62 } from '../../domain/ids.js';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function genRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && SAFE_ID.test(given)) return given;
  return `req_${randomBase62(20)}`;
}

export function registerRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
}
