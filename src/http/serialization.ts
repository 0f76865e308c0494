/**
 * Response serialization from the response schemas (src/http/openapi/response-schemas.ts): a
 * route given `schema: { response: serializedAs(…) }` has its body written by Fastify's
 * fast-json-stringify, compiled once from the schema, instead of `JSON.stringify`, which must
 * discover the object's shape on every call.
 *
 * fast-json-stringify writes only the properties a schema lists and silently drops any other,
 * so the schema must describe the whole view: only objects whose properties are all listed are
 * compiled this way, and test/http/serialization.test.ts checks that each route using it answers
 * exactly its view. A property the view gains without its schema fails that test (and the
 * OpenAPI contract checks of every response).
 */
import type { z } from 'zod';
import { inlineJsonSchema } from './openapi/document.js';

type Json = Record<string, unknown>;

/** The JSON schema of a response shape (as the OpenAPI document has it), simplified for fast-json-stringify. */
export function serializationSchema(schema: z.ZodType): Json {
  return simplify(inlineJsonSchema(schema, 'output')) as Json;
}

/** `schema.response` of a route: its status codes and their response shapes. */
export function serializedAs(responses: Record<number, z.ZodType>): Record<number, Json> {
  return Object.fromEntries(
    Object.entries(responses).map(([status, schema]) => [status, serializationSchema(schema)]),
  );
}

/**
 * Only what changes the output is kept: bounds and descriptions are dropped (the view already
 * obeys them; a serializer does not check), and `anyOf: [X, null]` becomes `type: [X, 'null']`,
 * which fast-json-stringify writes without a run-time schema match per value.
 */
function simplify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(simplify);
  if (node === null || typeof node !== 'object') return node;
  const {
    description: _description,
    minimum: _minimum,
    maximum: _maximum,
    minLength: _minLength,
    ...rest
  } = node as Json;
  const anyOf = rest.anyOf as Json[] | undefined;
  if (anyOf?.length === 2 && anyOf[1]?.type === 'null' && typeof anyOf[0]?.type === 'string') {
    const { anyOf: _anyOf, ...others } = rest;
    return simplify({ ...others, ...anyOf[0], type: [anyOf[0].type, 'null'] });
  }
  const out: Json = {};
  for (const [name, value] of Object.entries(rest)) {
    // `properties` maps names to schemas: its keys are property names, never keywords.
    out[name] =
      name === 'properties'
        ? Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, simplify(v)]))
        : simplify(value);
  }
  return out;
}
