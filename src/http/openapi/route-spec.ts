/**
 * How a route of `/api/v1` describes itself for the OpenAPI document: the zod schemas its handler
 * validates with, what it answers (status, body schema, headers) and the error codes its own
 * logic can return. The codes every route of its kind can return (authentication, malformed
 * input, a bug) are added by the document builder from `access` and `method`, so an entry lists
 * only what is particular to it. A new route joins the document by adding one entry to
 * `api-routes.ts`; a test fails while a registered route has none.
 */
import type { z } from 'zod';
import type { ErrorCode } from '../../domain/errors.js';
import type { RateLimitBucket } from '../../domain/rate-limit-buckets.js';
import type { KeyScope } from '../../domain/types.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Response headers a route may declare besides those every response carries. */
export type ResponseHeaderName =
  | 'Location'
  | 'Idempotent-Replayed'
  | 'Cache-Control'
  | 'Content-Length'
  | 'ETag'
  | 'Last-Modified'
  | 'Accept-Ranges'
  | 'Content-Range'
  | 'Content-Disposition';

/** Request headers with a meaning for one route (besides the key and `X-Request-ID`). */
export type RequestHeaderName =
  | 'Idempotency-Key'
  | 'Last-Event-ID'
  | 'Range'
  | 'If-Range'
  | 'If-None-Match'
  | 'If-Modified-Since'
  | 'If-Match'
  | 'If-Unmodified-Since';

/**
 * A body that is not JSON, by media type (or a media range: `text/*`, or the any-type range for
 * "whatever the file is"): `text` is a string, `bytes` any octets (no schema).
 */
export type RawContent = Record<string, 'text' | 'bytes'>;

export interface ResponseSpec {
  description: string;
  /** A JSON body of this shape. */
  json?: z.ZodType;
  /** An event stream of the session's events (the event catalogue). */
  eventStream?: true;
  /** A body that is not JSON (a file's bytes, an archive, a diff). */
  raw?: RawContent;
  headers?: ResponseHeaderName[];
}

export interface ApiRouteSpec {
  method: HttpMethod;
  /** The path under `/api/v1`, as Fastify writes it (`/sessions/:id`). */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** `public`: no key; `admin`: admin keys only; a scope: the one a user key needs. */
  access: 'public' | 'admin' | KeyScope;
  /** The bucket whose `X-RateLimit-*` headers its responses carry (default: messages). */
  rateLimitBucket?: RateLimitBucket;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body is taken as raw bytes, of any content type (an upload); never parsed. */
  rawBody?: { description: string };
  requestHeaders?: RequestHeaderName[];
  /** Its successful answers, by status. */
  responses: Record<number, ResponseSpec>;
  /** Error codes this route's own logic can return (the common ones are added). */
  errors: ErrorCode[];
}

/** `/sessions/:id` → `/sessions/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
