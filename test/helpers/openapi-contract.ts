/**
 * "The document cannot lie": every response the HTTP and end-to-end suites receive is checked
 * against the OpenAPI document (status, headers, body, and each SSE event's data), through the
 * shared helpers (test/helpers/http.ts, test/http/harness.ts, test/e2e/support.ts). A response the
 * document does not describe throws, and so fails the test that received it.
 *
 * Validation is Ajv's (JSON Schema 2020-12, OpenAPI 3.1's dialect) on the document itself: the
 * schemas are read from it by JSON pointer, never rebuilt from the zod schemas, so what is checked
 * is what a client generator reads. Paths outside `/api/v1` (the reference page, other surfaces)
 * are not this document's and are skipped.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { publishedOpenApiDocument } from '../../src/http/openapi/published.js';
import { parseSse, type SseEvent } from './sse-text.js';

const PREFIX = '/api/v1';
const DOC_ID = 'openapi.json';

type Json = Record<string, unknown>;

interface Operation {
  template: string;
  segments: string[];
  method: string;
  responses: Record<string, { headers?: Record<string, Json>; content?: Record<string, Json> }>;
}

export interface ObservedResponse {
  method: string;
  /** The URL or path as requested (with `/api/v1`, query allowed). */
  url: string;
  status: number;
  headers: Record<string, string | undefined>;
  /** The body as text (an event stream: everything received). */
  body: string;
}

/** An event as the checker sees it. */
export type ObservedEvent = SseEvent;

export class ContractViolation extends Error {
  constructor(what: string, problems: string[]) {
    super(`The OpenAPI document does not describe ${what}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ContractViolation';
  }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

class OpenApiContract {
  readonly document: Json = publishedOpenApiDocument();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly operations: Operation[] = [];

  constructor() {
    addFormats(this.ajv);
    this.ajv.addSchema(this.document, DOC_ID);
    const paths = this.document.paths as Record<string, Record<string, Json>>;
    for (const [template, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        this.operations.push({
          template,
          segments: template.split('/').filter(Boolean),
          method: method.toUpperCase(),
          responses: op.responses as Operation['responses'],
        });
      }
    }
  }

  /** The operation a request reached: literal segments win over parameters. */
  operationOf(method: string, path: string): Operation | null {
    const segments = path.split('/').filter(Boolean);
    let best: { op: Operation; literal: number } | null = null;
    for (const op of this.operations) {
      if (op.method !== method.toUpperCase() || op.segments.length !== segments.length) continue;
      let literal = 0;
      const matches = op.segments.every((s, i) => {
        if (s.startsWith('{')) return segments[i] !== '';
        literal++;
        return s === segments[i];
      });
      if (matches && (!best || literal > best.literal)) best = { op, literal };
    }
    return best?.op ?? null;
  }

  private validator(pointer: string): ValidateFunction {
    let fn = this.compiled.get(pointer);
    if (!fn) {
      fn = this.ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      this.compiled.set(pointer, fn);
    }
    return fn;
  }

  private check(pointer: string, value: unknown, what: string, problems: string[]): void {
    const validate = this.validator(pointer);
    if (validate(value)) return;
    for (const e of validate.errors ?? []) {
      problems.push(`${what}${e.instancePath || ''} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    }
  }

  /** Problems with a response, or [] when the document describes it. */
  problemsOf(r: ObservedResponse): string[] {
    const url = new URL(r.url, 'http://x');
    if (!url.pathname.startsWith(`${PREFIX}/`)) return [];
    const path = url.pathname.slice(PREFIX.length);
    // HEAD is GET without a body (HTTP's rule; Fastify answers it for every GET).
    if (r.method.toUpperCase() === 'HEAD') {
      const problems = this.problemsOf({ ...r, method: 'GET', body: '' }).filter(
        (p) => !p.startsWith('body '),
      );
      if (r.body !== '') problems.push('a HEAD answer has a body');
      return problems;
    }
    const op = this.operationOf(r.method, path);
    const problems: string[] = [];
    if (!op) {
      // No such route: the document's promise is the envelope, as NOT_FOUND (or a bad URL).
      this.check('/components/schemas/ErrorEnvelope', parseJson(r.body, problems), 'body', problems);
      if (r.status !== 404 && r.status !== 400)
        problems.push(`status ${r.status} for a path it does not list`);
      return problems;
    }
    const esc = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');
    const response = op.responses[String(r.status)];
    if (!response) return [`status ${r.status} is not a response of ${op.method} ${op.template}`];
    const base = `/paths/${esc(op.template)}/${op.method.toLowerCase()}/responses/${r.status}`;

    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const spec = this.resolve(header);
      const value = r.headers[name.toLowerCase()];
      if (value === undefined) {
        if (spec.required === true) problems.push(`header ${name} is required`);
        continue;
      }
      const schema = spec.schema as Json;
      const typed = schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
      const headerPointer = `${base}/headers/${esc(name)}`;
      const pointer =
        '$ref' in header ? `${refPointer(header.$ref as string)}/schema` : `${headerPointer}/schema`;
      this.check(pointer, typed, `header ${name}`, problems);
    }

    const contentType = (r.headers['content-type'] ?? '').split(';')[0]!.trim();
    const content = response.content ?? {};
    if (Object.keys(content).length === 0) {
      if (r.body !== '')
        problems.push(`a ${r.status} has no body, got ${JSON.stringify(r.body.slice(0, 200))}`);
      return problems;
    }
    const mediaType = mediaTypeOf(contentType, Object.keys(content));
    if (mediaType === null) {
      problems.push(
        `content type ${contentType || '(none)'} is not one of ${Object.keys(content).join(', ')}`,
      );
      return problems;
    }
    const schemaPointer = `${base}/content/${esc(mediaType)}/schema`;
    if (mediaType === 'text/event-stream') {
      for (const event of parseSse(r.body)) problems.push(...this.eventProblems(event));
      return problems;
    }
    // A media type without a schema is raw octets (a file, an archive): any bytes are its.
    if ((content[mediaType] as Json).schema === undefined) return problems;
    // JSON is checked as the value it encodes; a text body (a diff) as the string it is.
    const value = isJson(contentType) ? parseJson(r.body, problems) : r.body;
    this.check(schemaPointer, value, 'body', problems);
    return problems;
  }

  /** Problems with one event of a session stream. */
  eventProblems(e: ObservedEvent): string[] {
    const problems: string[] = [];
    const event: Json = { event: e.event, data: e.data };
    if (e.id !== null) event.id = e.id;
    this.check('/components/schemas/SessionEvent', event, `event ${e.event}`, problems);
    const schemas = (this.document.components as { schemas: Record<string, Json> }).schemas;
    if (`Event_${e.event}` in schemas) {
      const data = parseJson(e.data, problems);
      this.check(
        `/components/schemas/Event_${e.event}/properties/data/contentSchema`,
        data,
        `event ${e.event} data`,
        problems,
      );
    }
    return problems;
  }

  private resolve(maybeRef: Json): Json {
    if (typeof maybeRef.$ref !== 'string') return maybeRef;
    let node: unknown = this.document;
    for (const part of refPointer(maybeRef.$ref).split('/').slice(1)) node = (node as Json)[part];
    return node as Json;
  }
}

/**
 * The media type of the document a response's content type falls under: the exact one, else the
 * most specific range (`text/*`, then the any-type range), as OpenAPI resolves them.
 */
function mediaTypeOf(contentType: string, described: string[]): string | null {
  if (contentType === '') return null;
  const lower = contentType.toLowerCase();
  const range = `${lower.split('/')[0]}/*`;
  for (const candidate of [lower, range, '*/*']) {
    if (described.includes(candidate)) return candidate;
  }
  return null;
}

function isJson(contentType: string): boolean {
  return /^application\/([\w.+-]+\+)?json$/i.test(contentType);
}

function refPointer(ref: string): string {
  return ref.replace(/^#/, '');
}

function parseJson(text: string, problems: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch {
    problems.push(`body is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    return undefined;
  }
}

let contract: OpenApiContract | null = null;

export function openApiContract(): OpenApiContract {
  contract ??= new OpenApiContract();
  return contract;
}

/** Throws a ContractViolation when the document does not describe the response. */
export function assertDescribed(r: ObservedResponse): void {
  const problems = openApiContract().problemsOf(r);
  if (problems.length > 0) {
    throw new ContractViolation(`${r.method} ${r.url} → ${r.status} ${r.body.slice(0, 300)}`, problems);
  }
}

/** Throws when an SSE event is not one the document describes. */
export function assertEventDescribed(e: ObservedEvent): void {
  const problems = openApiContract().eventProblems(e);
  if (problems.length > 0)
    throw new ContractViolation(`the event ${e.event} ${e.data.slice(0, 300)}`, problems);
}

/** Headers of a fetch Response or of inject(), lower-cased, as one string each. */
export function headerRecord(
  headers: Headers | Record<string, string | string[] | number | undefined>,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => (out[name.toLowerCase()] = value));
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
