/**
 * The OpenAPI document: valid by a standard validator, served without a key, committed in
 * docs/openapi.json exactly as generated, and complete: every route the app serves under
 * /api/v1 has its operation. (That every response of the suites matches it is checked by the
 * shared helpers: test/helpers/openapi-contract.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../src/domain/events.js';
import { ERROR_STATUS } from '../../src/http/error-status.js';
import {
  PUBLISHED_OPENAPI_PATH,
  publishedOpenApiDocument,
  renderOpenApi,
} from '../../src/http/openapi/published.js';
import { openApiContract } from '../helpers/openapi-contract.js';
import { routesOf } from './security-suite.js';
import { startApp, type Harness } from './harness.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const document = publishedOpenApiDocument() as Json;

describe('the OpenAPI document', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startApp();
  });
  afterAll(() => h.close());

  it('is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is committed in docs/openapi.json as generated (else: npm run openapi)', () => {
    const committed = fs.readFileSync(path.join(process.cwd(), PUBLISHED_OPENAPI_PATH), 'utf8');
    expect(
      committed === renderOpenApi(document),
      `${PUBLISHED_OPENAPI_PATH} is stale: run npm run openapi`,
    ).toBe(true);
  });

  it('is served at GET /api/v1/openapi.json without a key', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual(document);
  });

  it('has an operation for every route the app serves under /api/v1, and no other', () => {
    const served = routesOf(h.app)
      .filter((r) => r.split(' ')[1]!.startsWith('/api/v1/'))
      .map((r) => {
        const [method, url] = r.split(' ') as [string, string];
        return `${method} ${url.slice('/api/v1'.length).replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
      })
      .sort();
    const documented = Object.entries(document.paths as Json)
      .flatMap(([p, item]) => Object.keys(item as Json).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(served);
  });

  it('describes each error response with the codes of its status, in the envelope', () => {
    for (const [p, item] of Object.entries(document.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        const codes = op['x-error-codes'] as (keyof typeof ERROR_STATUS)[];
        expect(codes, `${method} ${p}`).toContain('INTERNAL_ERROR');
        for (const code of codes) {
          const response = op.responses[String(ERROR_STATUS[code])];
          expect(response, `${method} ${p} ${code}`).toBeDefined();
          const schema = response.content['application/json'].schema;
          expect(schema.allOf[0]).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
          expect(schema.allOf[1].properties.error.properties.code.enum).toContain(code);
          expect(response.headers['X-Request-ID']).toBeDefined();
        }
        if (op.security === undefined) {
          expect(
            op.responses['401'].content['application/json'].schema.allOf[1].properties.error.properties.code
              .enum,
          ).toEqual(['MISSING_API_KEY', 'INVALID_API_KEY']);
        }
      }
    }
  });

  it('describes the headers: rate limits, Retry-After, Idempotency-Key, Last-Event-ID, the two key schemes', () => {
    const create = document.paths['/sessions'].post;
    expect(create.responses['201'].headers['X-RateLimit-Remaining']).toEqual({
      $ref: '#/components/headers/RateLimitRemaining',
    });
    expect(create.responses['429'].headers['Retry-After']).toEqual({
      $ref: '#/components/headers/RetryAfter',
    });
    expect(create.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    expect(document.paths['/sessions/{id}/stream'].get.parameters).toContainEqual({
      $ref: '#/components/parameters/LastEventId',
    });
    expect(document.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }),
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(document.paths['/health'].get.security).toContainEqual({});
  });

  it('describes the event streams with every event of the catalogue', () => {
    for (const p of ['/sessions/{id}/stream']) {
      for (const method of ['get', 'post']) {
        expect(document.paths[p][method].responses['200'].content['text/event-stream'].schema).toEqual({
          $ref: '#/components/schemas/SessionEvent',
        });
      }
    }
    const branches = document.components.schemas.SessionEvent.oneOf.map((b: Json) => b.$ref);
    expect(branches).toEqual(EVENT_TYPES.map((t) => `#/components/schemas/Event_${t}`));
    const message = document.components.schemas.Event_message.properties.data;
    expect(message).toEqual({
      type: 'string',
      contentMediaType: 'application/json',
      contentSchema: { $ref: '#/components/schemas/MessageView' },
    });
  });

  it('leaves out every surface that is not /api/v1', () => {
    for (const p of Object.keys(document.paths as Json)) expect(p.startsWith('/v1/')).toBe(false);
    expect(document.servers).toEqual([expect.objectContaining({ url: '/api/v1' })]);
  });
});

describe('the response checker of the suites', () => {
  const contract = openApiContract();
  const ok = { 'x-request-id': 'req_1', 'content-type': 'application/json; charset=utf-8' };
  const limits = {
    'x-ratelimit-limit': '100',
    'x-ratelimit-remaining': '99',
    'x-ratelimit-reset': '1800000000',
  };

  it('accepts a described answer', () => {
    const body = JSON.stringify({ models: [], defaultModel: 'default' });
    expect(
      contract.problemsOf({
        method: 'GET',
        url: '/api/v1/models',
        status: 200,
        headers: { ...ok, ...limits },
        body,
      }),
    ).toEqual([]);
  });

  it('refuses a status, a header, a body or an event the document does not describe', () => {
    const body = JSON.stringify({ models: [], defaultModel: 'default' });
    const at = { method: 'GET', url: '/api/v1/models', headers: { ...ok, ...limits }, body };
    expect(contract.problemsOf({ ...at, status: 418 })).not.toEqual([]);
    expect(contract.problemsOf({ ...at, status: 200, headers: ok })).toContainEqual(
      expect.stringContaining('X-RateLimit-Limit is required'),
    );
    expect(contract.problemsOf({ ...at, status: 200, body: JSON.stringify({ models: 'x' }) })).not.toEqual(
      [],
    );
    const wrongCode = JSON.stringify({
      error: { code: 'SESSION_BUSY', message: 'm', details: {} },
      timestamp: new Date().toISOString(),
      requestId: 'req_1',
    });
    expect(contract.problemsOf({ ...at, status: 409, body: wrongCode })).not.toEqual([]);
    expect(contract.eventProblems({ id: '1', event: 'complete', data: '{"messageId":"m"}' })).not.toEqual([]);
    expect(contract.eventProblems({ id: '1', event: 'surprise', data: '{}' })).not.toEqual([]);
  });

  it('matches raw bodies by media type or range: any bytes of a file, a diff as text, never an undescribed type', () => {
    const file = {
      'x-request-id': 'req_1',
      ...limits,
      'content-length': '4',
      etag: 'W/"4-19b"',
      'last-modified': 'Tue, 24 Nov 2026 21:00:00 GMT',
      'accept-ranges': 'bytes',
    };
    const content = '/api/v1/sessions/sess_1/files/content?path=notes.md';
    const markdown = { ...file, 'content-type': 'text/markdown; charset=utf-8' };
    expect(
      contract.problemsOf({ method: 'GET', url: content, status: 200, headers: markdown, body: '# hi' }),
    ).toEqual([]);
    expect(
      contract.problemsOf({ method: 'GET', url: content, status: 206, headers: markdown, body: '# h' }),
    ).toContainEqual(expect.stringContaining('Content-Range is required'));
    const { etag: _etag, ...withoutEtag } = markdown;
    expect(
      contract.problemsOf({ method: 'GET', url: content, status: 200, headers: withoutEtag, body: '# hi' }),
    ).toContainEqual(expect.stringContaining('ETag is required'));

    const archive = {
      method: 'GET',
      url: '/api/v1/sessions/sess_1/archive',
      status: 200,
      body: 'x',
      headers: { ...file, 'content-disposition': 'attachment; filename="sess_1.tar.gz"' },
    };
    expect(
      contract.problemsOf({
        ...archive,
        headers: { ...archive.headers, 'content-type': 'application/gzip' },
      }),
    ).toEqual([]);
    expect(
      contract.problemsOf({ ...archive, headers: { ...archive.headers, 'content-type': 'text/html' } }),
    ).toContainEqual(expect.stringContaining('content type text/html is not one of application/gzip'));

    const diff = { method: 'GET', url: '/api/v1/sessions/sess_1/diff?messageId=m', status: 200 };
    const text = { ...ok, ...limits, 'content-type': 'text/x-diff; charset=utf-8' };
    expect(contract.problemsOf({ ...diff, headers: text, body: 'diff --git a/x b/x\n' })).toEqual([]);
    expect(
      contract.problemsOf({ ...diff, headers: { ...ok, ...limits }, body: JSON.stringify({ files: 'x' }) }),
    ).not.toEqual([]);
  });
});
