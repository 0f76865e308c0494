/**
 * One log line per request, when its answer has gone out: method, URL, status, time taken, and
 * the request id (pino's `reqId`, on every line of the request). Fastify's own request logging
 * writes two lines (one as the request comes in, one as it ends); at `LOG_LEVEL=info` the two
 * were the largest cost of a simple GET after the socket writes (bench:http). Fastify's
 * `LogController` is where it lets a server word those lines.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export class AccessLog extends LogController {
  override incomingRequest(): void {
    // Logged with its outcome, below.
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
