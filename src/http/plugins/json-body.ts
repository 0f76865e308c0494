/**
 * JSON bodies. Fastify's own parser is replaced so that an empty body counts as "no fields"
 * (curl -X POST without -d, or a DELETE with a Content-Type) and malformed JSON is reported
 * in the contract's envelope with the parser's own explanation.
 */
import type { FastifyInstance } from 'fastify';
import { invalidJson } from '../../domain/error-situations.js';

export function registerJsonBody(app: FastifyInstance): void {
  // JSON only: Fastify's built-in text/plain parser would let a text body through to validation.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    // Matched against the whole header, parameters included (`; charset=utf-8`).
    /^application\/([\w.+-]+\+)?json\s*(;|$)/i,
    { parseAs: 'string' },
    (_request, body: string | Buffer, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (err) {
        done(invalidJson(err instanceof Error ? err.message : String(err)), undefined);
      }
    },
  );
}
