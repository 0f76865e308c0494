/**
 * One log line per request, when its answer has gone out: method, URL, status, time taken, and
 * the request id (pino's `reqId`, on every line of the request). Fastify's own request logging
 * writes two lines (one as the request comes in, one as it ends); at `LOG_LEVEL=info` the two
 * were the largest cost of a simple GET after the socket writes (bench:http).
 */
import type { FastifyInstance } from 'fastify';

export function registerAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
    done();
  });
}
