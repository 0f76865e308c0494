/**
 * `npm run openapi`: writes the OpenAPI document of /api/v1 (generated from the route table, the
 * zod schemas and the event catalogue: src/http/openapi/) to docs/openapi.json, and the client
 * types generated from it to examples/typescript/api.d.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PUBLISHED_OPENAPI_PATH,
  publishedOpenApiDocument,
  renderOpenApi,
} from '../src/http/openapi/published.js';
import { CLIENT_TYPES_PATH, clientTypes } from './openapi-client-types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const document = publishedOpenApiDocument();
fs.writeFileSync(path.join(root, PUBLISHED_OPENAPI_PATH), renderOpenApi(document));
console.log(`wrote ${PUBLISHED_OPENAPI_PATH}`);
fs.writeFileSync(path.join(root, CLIENT_TYPES_PATH), await clientTypes(document));
console.log(`wrote ${CLIENT_TYPES_PATH}`);
