/**
 * Builds the OpenAPI 3.1 document of `/api/v1` from the route table (./api-routes.ts), the zod
 * schemas its routes validate and answer with, the event catalogue (src/domain/events.ts) and the
 * error codes (src/domain/errors.ts with their statuses). Nothing in it is written by hand: the
 * server serves it at `GET /api/v1/openapi.json`, `npm run openapi` writes it to
 * docs/openapi.json, and a test fails when that file is stale.
 *
 * Event streams follow the convention OpenAPI 3.2 made standard for `text/event-stream` (its
 * `itemSchema`), written in 3.1's `schema`: the schema describes ONE event, an object with the SSE
 * fields `id`, `event`, `data` and `retry`, one `oneOf` branch per event name, whose `data` is a
 * string with `contentMediaType: application/json` and the payload's schema as `contentSchema`.
 */
import { z } from 'zod';
import { ERROR_CODES, ErrorBodySchema, type ErrorCode } from '../../domain/errors.js';
import {
  DeltaEventSchema,
  EVENT_CATALOGUE,
  EVENT_TYPES,
  FileChangeSchema,
  FilesChangedEventSchema,
  MessageViewSchema,
  PermissionRequestSchema,
  PermissionResolutionSchema,
  RewoundEventSchema,
  StatusEventSchema,
  TurnCompletionSchema,
} from '../../domain/events.js';
import { API_PREFIX } from '../api-prefix.js';
import { ERROR_STATUS } from '../error-status.js';
import { apiRoutes, type RouteLimits } from './api-routes.js';
import * as R from './response-schemas.js';
import {
  openApiPath,
  type ApiRouteSpec,
  type RequestHeaderName,
  type ResponseHeaderName,
  type ResponseSpec,
} from './route-spec.js';

type Json = Record<string, unknown>;

export interface OpenApiOptions {
  version: string;
  limits: RouteLimits;
}

/** Response shapes with a name of their own in `components.schemas`. */
const NAMED_RESPONSES: Array<[z.ZodType, string]> = [
  [ErrorBodySchema, 'ErrorBody'],
  [R.ErrorEnvelopeSchema, 'ErrorEnvelope'],
  [MessageViewSchema, 'MessageView'],
  [StatusEventSchema, 'StatusEvent'],
  [PermissionRequestSchema, 'PermissionRequest'],
  [PermissionResolutionSchema, 'PermissionResolution'],
  [DeltaEventSchema, 'DeltaEvent'],
  [TurnCompletionSchema, 'TurnCompletion'],
  [FileChangeSchema, 'FileChange'],
  [FilesChangedEventSchema, 'FilesChangedEvent'],
  [RewoundEventSchema, 'RewoundEvent'],
  [R.SessionSummarySchema, 'SessionSummary'],
  [R.SessionDetailsSchema, 'SessionDetails'],
  [R.SessionListSchema, 'SessionList'],
  [R.MessageAcceptedSchema, 'MessageAccepted'],
  [R.TurnStateSchema, 'TurnState'],
  [R.MessageHistorySchema, 'MessageHistory'],
  [R.InterruptResultSchema, 'InterruptResult'],
  [R.PermissionListSchema, 'PermissionList'],
  [R.UsageReportSchema, 'UsageReport'],
  [R.ModelListSchema, 'ModelList'],
  [R.HealthSchema, 'Health'],
  [R.ReadinessSchema, 'Readiness'],
  [R.KeySchema, 'Key'],
  [R.KeyListSchema, 'KeyList'],
  [R.CreatedKeySchema, 'CreatedKey'],
  [R.WorkspaceListingSchema, 'WorkspaceListing'],
  [R.WrittenFileSchema, 'WrittenFile'],
  [R.DiffFileSchema, 'DiffFile'],
  [R.WorkspaceDiffSchema, 'WorkspaceDiff'],
];

const ref = (id: string): Json => ({ $ref: `#/components/schemas/${id}` });
const capitalised = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect), shared shapes as component references. */
function convert(
  registry: z.core.$ZodRegistry<{ id: string }>,
  io: 'input' | 'output',
): Record<string, Json> {
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const out: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as Json;
    out[id] = rest;
  }
  return out;
}

/** One schema inline (parameters; a response's serializer), without the dialect markers. */
export function inlineJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

/** The error codes a route can answer: its own and those of every route of its kind. */
export function errorCodesOf(route: ApiRouteSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>(['INVALID_REQUEST', 'INTERNAL_ERROR', ...route.errors]);
  if (route.access !== 'public') {
    for (const code of ['MISSING_API_KEY', 'INVALID_API_KEY', 'FORBIDDEN'] as const) codes.add(code);
  }
  if (route.method !== 'get') {
    codes.add('PAYLOAD_TOO_LARGE');
    // A raw body takes any content type; every other body is JSON or nothing.
    if (!route.rawBody) codes.add('UNSUPPORTED_MEDIA_TYPE');
  }
  return ERROR_CODES.filter((c) => codes.has(c));
}

const RESPONSE_HEADERS: Record<ResponseHeaderName, Json> = {
  Location: { description: 'Where the new resource is.', required: true, schema: { type: 'string' } },
  'Idempotent-Replayed': {
    description: 'Present when this answer replays the first request of the same `Idempotency-Key`.',
    schema: { type: 'string', const: 'true' },
  },
  'Cache-Control': {
    description: '`no-store`: the answer holds a secret.',
    required: true,
    schema: { type: 'string' },
  },
  'Content-Length': {
    description: 'The size of the body in bytes (of the range, for a 206).',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  ETag: {
    description:
      "A weak validator of the file's size and modification time (for `If-None-Match`, `If-Range`).",
    required: true,
    schema: { type: 'string' },
  },
  'Last-Modified': {
    description: "The file's modification time (HTTP date; for `If-Modified-Since`).",
    required: true,
    schema: { type: 'string' },
  },
  'Accept-Ranges': {
    description: '`bytes`: a `Range` of bytes may be asked for.',
    required: true,
    schema: { type: 'string', const: 'bytes' },
  },
  'Content-Range': {
    description: 'The bytes sent and the size of the whole file (`bytes 0-99/1234`).',
    required: true,
    schema: { type: 'string', pattern: '^bytes [0-9]+-[0-9]+/[0-9]+$' },
  },
  'Content-Disposition': {
    description: "`attachment` with the archive's file name (`<sessionId>.tar.gz`).",
    required: true,
    schema: { type: 'string', pattern: '^attachment; filename=' },
  },
};

/** Request headers as components.parameters, by the name a route spec uses. */
const REQUEST_HEADER_PARAMETERS: Record<RequestHeaderName, string> = {
  'Idempotency-Key': 'IdempotencyKey',
  'Last-Event-ID': 'LastEventId',
  Range: 'Range',
  'If-Range': 'IfRange',
  'If-None-Match': 'IfNoneMatch',
  'If-Modified-Since': 'IfModifiedSince',
  'If-Match': 'IfMatch',
  'If-Unmodified-Since': 'IfUnmodifiedSince',
};

/** The headers every response of its kind carries, as references to `components.headers`. */
function commonHeaders(route: ApiRouteSpec, success: boolean, status: number): Json {
  const headers: Json = { 'X-Request-ID': headerRef('RequestId') };
  if (route.access !== 'public') {
    // A refused key gets no rate-limit headers; every other answer to a key does.
    const suffix = success ? '' : 'IfKeyKnown';
    headers['X-RateLimit-Limit'] = headerRef(`RateLimitLimit${suffix}`);
    headers['X-RateLimit-Remaining'] = headerRef(`RateLimitRemaining${suffix}`);
    headers['X-RateLimit-Reset'] = headerRef(`RateLimitReset${suffix}`);
  }
  if (status === 429 || status === 503) headers['Retry-After'] = headerRef('RetryAfter');
  return headers;
}

const headerRef = (id: string): Json => ({ $ref: `#/components/headers/${id}` });

function headerComponents(): Record<string, Json> {
  const rateLimit = (what: string, required: boolean): Json => ({
    description: `${what} of the route's rate-limit bucket${required ? '' : ' (absent when the key itself was refused)'}.`,
    required,
    schema: { type: 'integer', minimum: 0 },
  });
  const out: Record<string, Json> = {
    RequestId: {
      description:
        "The request's id (the client's own when it sent a sane one); equals an error's `requestId`.",
      required: true,
      schema: { type: 'string', minLength: 1 },
    },
    RetryAfter: {
      description: 'Seconds to wait before retrying (when the server can tell).',
      schema: { type: 'integer', minimum: 0 },
    },
  };
  for (const required of [true, false]) {
    const suffix = required ? '' : 'IfKeyKnown';
    out[`RateLimitLimit${suffix}`] = rateLimit('The size', required);
    out[`RateLimitRemaining${suffix}`] = rateLimit('What is left in the window', required);
    out[`RateLimitReset${suffix}`] = rateLimit('Unix time (seconds) when the window ends', required);
  }
  return out;
}

/** One SSE event of the catalogue, as the stream carries it. */
function eventSchema(type: (typeof EVENT_TYPES)[number], payloadId: string): Json {
  const traits = EVENT_CATALOGUE[type];
  // A stored event carries its sequence number as `id:`; `error` also comes as a notice about
  // the connection itself, without one.
  const hasId = traits.stored && type !== 'error';
  return {
    type: 'object',
    description: traits.description,
    properties: {
      id: {
        type: 'string',
        pattern: '^[0-9]+$',
        description: "The event's sequence number: the cursor to resume after.",
      },
      event: { type: 'string', const: type },
      data: { type: 'string', contentMediaType: 'application/json', contentSchema: ref(payloadId) },
      retry: { type: 'integer', description: 'How long an EventSource waits before it reconnects (ms).' },
    },
    required: hasId ? ['id', 'event', 'data'] : ['event', 'data'],
    'x-stored': traits.stored,
    'x-terminal': traits.terminal,
    'x-opt-in': traits.optIn,
  };
}

export function buildOpenApiDocument(options: OpenApiOptions): Json {
  const routes = apiRoutes(options.limits);

  const responses = z.registry<{ id: string }>();
  for (const [schema, id] of NAMED_RESPONSES) responses.add(schema, { id });
  const requests = z.registry<{ id: string }>();
  const bodyIds = new Map<ApiRouteSpec, string>();
  const responseIds = new Map<ResponseSpec, string>();
  for (const route of routes) {
    if (route.body) {
      const id = `${capitalised(route.operationId)}Request`;
      requests.add(route.body, { id });
      bodyIds.set(route, id);
    }
    for (const [status, spec] of Object.entries(route.responses)) {
      if (!spec.json) continue;
      let id = responses.get(spec.json)?.id;
      if (id === undefined) {
        id = `${capitalised(route.operationId)}${status}`;
        responses.add(spec.json, { id });
      }
      responseIds.set(spec, id);
    }
  }

  // A new event of the catalogue joins by itself: its payload gets a name unless it has one.
  const eventIds = Object.fromEntries(
    EVENT_TYPES.map((type) => {
      const schema: z.ZodType = EVENT_CATALOGUE[type].schema;
      let id = responses.get(schema)?.id;
      if (id === undefined) {
        id = `${type.split('_').map(capitalised).join('')}Event`;
        responses.add(schema, { id });
      }
      return [type, id];
    }),
  ) as Record<(typeof EVENT_TYPES)[number], string>;
  const schemas: Record<string, Json> = { ...convert(responses, 'output'), ...convert(requests, 'input') };
  for (const type of EVENT_TYPES) schemas[`Event_${type}`] = eventSchema(type, eventIds[type]);
  schemas.SessionEvent = {
    description: 'One event of a session stream (see the event catalogue in `info.description`).',
    oneOf: EVENT_TYPES.map((type) => ref(`Event_${type}`)),
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route, bodyIds.get(route), responseIds);
  }

  return {
    openapi: '3.1.1',
    info: {
      title: 'claude-code-rest',
      version: options.version,
      description: describeApi(),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: API_PREFIX, description: 'This server' }],
    security: [{ apiKey: [] }, { bearer: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      headers: headerComponents(),
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key (`ccr_…`).' },
        bearer: { type: 'http', scheme: 'bearer', description: 'The same API key as a bearer token.' },
      },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'A retry with the same key and request gets the first outcome instead of running again.',
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
        },
        LastEventId: {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description: 'Resume after this event (an EventSource sends it when it reconnects).',
          schema: { type: 'string', pattern: '^\\s*[0-9]+\\s*$' },
        },
        Range: {
          name: 'Range',
          in: 'header',
          required: false,
          description:
            'One range of bytes (`bytes=0-99`, `bytes=100-`, `bytes=-100`): a 206 with that part; ' +
            'a range outside the file is 416. Several ranges, or a malformed one, get the whole file.',
          schema: { type: 'string' },
        },
        IfRange: {
          name: 'If-Range',
          in: 'header',
          required: false,
          description: 'An `ETag` or date: the `Range` is honoured only while the file is unchanged.',
          schema: { type: 'string' },
        },
        IfNoneMatch: {
          name: 'If-None-Match',
          in: 'header',
          required: false,
          description: 'The `ETag` you have: 304 (no body) while the file is unchanged.',
          schema: { type: 'string' },
        },
        IfModifiedSince: {
          name: 'If-Modified-Since',
          in: 'header',
          required: false,
          description: 'An HTTP date: 304 (no body) when the file was not modified since.',
          schema: { type: 'string' },
        },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: false,
          description: 'The `ETag` you expect: 412 `PRECONDITION_FAILED` when the file is another version.',
          schema: { type: 'string' },
        },
        IfUnmodifiedSince: {
          name: 'If-Unmodified-Since',
          in: 'header',
          required: false,
          description: 'An HTTP date: 412 `PRECONDITION_FAILED` when the file was modified since.',
          schema: { type: 'string' },
        },
        RequestId: {
          name: 'X-Request-ID',
          in: 'header',
          required: false,
          description: 'Your own request id (1–128 of `A-Za-z0-9._:-`), kept and echoed.',
          schema: { type: 'string' },
        },
      },
    },
  };
}

function operation(
  route: ApiRouteSpec,
  bodyId: string | undefined,
  responseIds: Map<ResponseSpec, string>,
): Json {
  const parameters: Json[] = [
    ...parametersOf(route.params, 'path'),
    ...parametersOf(route.query, 'query'),
    ...(route.requestHeaders ?? []).map((h) => ({
      $ref: `#/components/parameters/${REQUEST_HEADER_PARAMETERS[h]}`,
    })),
    { $ref: '#/components/parameters/RequestId' },
  ];
  const op: Json = {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    parameters,
  };
  if (route.access === 'public') op.security = [{}, { apiKey: [] }, { bearer: [] }];
  else op['x-access'] = route.access === 'admin' ? 'admin key' : `scope ${route.access}`;
  if (route.body && bodyId) {
    op.requestBody = {
      required: !route.body.safeParse(undefined).success,
      content: { 'application/json': { schema: ref(bodyId) } },
    };
  } else if (route.rawBody) {
    // Any content type, never parsed: OpenAPI 3.1 describes raw octets by a media type without a schema.
    op.requestBody = { required: false, description: route.rawBody.description, content: { '*/*': {} } };
  }
  const responses: Json = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const headers = commonHeaders(route, true, Number(status));
    for (const name of spec.headers ?? []) headers[name] = RESPONSE_HEADERS[name];
    const id = responseIds.get(spec);
    const content: Json = {};
    if (id) content['application/json'] = { schema: ref(id) };
    if (spec.eventStream) content['text/event-stream'] = { schema: ref('SessionEvent') };
    for (const [mediaType, kind] of Object.entries(spec.raw ?? {})) {
      content[mediaType] = kind === 'text' ? { schema: { type: 'string' } } : {};
    }
    responses[status] = {
      description: spec.description,
      headers,
      ...(Object.keys(content).length > 0 ? { content } : {}),
    };
  }
  const codes = errorCodesOf(route);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: `Error: ${statusCodes.map((c) => `\`${c}\``).join(', ')}.`,
      headers: commonHeaders(route, false, status),
      content: {
        'application/json': {
          schema: {
            allOf: [
              ref('ErrorEnvelope'),
              {
                type: 'object',
                properties: { error: { type: 'object', properties: { code: { enum: statusCodes } } } },
              },
            ],
          },
        },
      },
    };
  }
  op.responses = responses;
  op['x-error-codes'] = codes;
  return op;
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const json = inlineJsonSchema(schema, 'input') as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function describeApi(): string {
  const events = EVENT_TYPES.map((t) => `| \`${t}\` | ${EVENT_CATALOGUE[t].description} |`).join('\n');
  const errors = ERROR_CODES.map((c) => `| \`${c}\` | ${ERROR_STATUS[c]} |`).join('\n');
  return [
    'Claude Code sessions over HTTP: REST for sessions and turns, Server-Sent Events for watching a turn.',
    '',
    'Authenticate with `x-api-key: <key>` or `Authorization: Bearer <key>`. Every error has the envelope ' +
      '`ErrorEnvelope`; every response carries `X-Request-ID`; authenticated responses carry `X-RateLimit-*`.',
    '',
    '**Event streams** (`text/event-stream`): the schema describes one event (the convention of OpenAPI ' +
      "3.2's `itemSchema`): the SSE fields `id`, `event`, `data`, `retry`; `data` is JSON " +
      '(`contentMediaType`) whose schema is its `contentSchema`. Comments (`: ping`) carry nothing.',
    '',
    '| event | meaning |',
    '|---|---|',
    events,
    '',
    '| error code | status |',
    '|---|---|',
    errors,
  ].join('\n');
}
