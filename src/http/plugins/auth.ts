/**
 * API-key authentication for every route except those marked `config: { public: true }`.
 * The key comes from `x-api-key` or `Authorization: Bearer`, never from the query string
 * (URLs end up in logs and browser histories).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KeyService } from '../../domain/key-service.js';
import type { RateLimits } from '../../domain/rate-limits.js';
import { adminKeyRequired, scopeMissing } from '../../domain/error-situations.js';
import { scopesOf } from '../../domain/key-policy.js';
import { KEY_SCOPES, type ApiKeyRecord, type KeyScope } from '../../domain/types.js';
import { type RateLimitBucket } from '../../domain/rate-limit-buckets.js';
import { setRateLimitHeaders } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord | null;
  }
  interface FastifyContextConfig {
    public?: boolean;
    /** The scope a user key needs for this route (admin keys have every scope). */
    scope?: KeyScope;
    /** Only admin keys may call this route. */
    admin?: boolean;
    /** The rate-limit bucket this route draws on (default: messages), for the X-RateLimit-* headers. */
    rateLimitBucket?: RateLimitBucket;
  }
}

export function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers['x-api-key'];
  const direct = Array.isArray(header) ? header[0] : header;
  if (direct !== undefined && direct.trim() !== '') return direct.trim();
  const authorization = request.headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match?.[1] ?? null;
}

/** The authenticated key of a request on an authenticated route. */
export function keyOf(request: FastifyRequest): ApiKeyRecord {
  if (!request.apiKey) throw new Error('keyOf: route is not authenticated');
  return request.apiKey;
}

export function registerAuth(app: FastifyInstance, keys: KeyService, rateLimits: RateLimits): void {
  app.decorateRequest('apiKey', null);

  // onRequest, before the body is read: an unauthenticated caller learns nothing about the
  // validity of its request, and pays for no body parsing.
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (request.is404 || config.public) return;
    const key = await keys.authenticate(presentedKey(request));
    request.apiKey = key;
    if (config.admin && key.role !== 'admin') {
      throw adminKeyRequired();
    }
    const scopes = key.role === 'admin' ? KEY_SCOPES : scopesOf(key);
    if (config.scope && !scopes.includes(config.scope)) {
      throw scopeMissing(config.scope, scopes);
    }
  });

  // Every authenticated response reports the bucket its route draws on. A route that spent a
  // unit has set the headers already; otherwise (a refusal, or a route that spends nothing)
  // the bucket is read without spending.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.apiKey && !reply.hasHeader('x-ratelimit-limit')) {
      const bucket = request.routeOptions.config.rateLimitBucket ?? 'messages';
      setRateLimitHeaders(reply, await rateLimits.peek(request.apiKey, bucket));
    }
    return payload;
  });
}
