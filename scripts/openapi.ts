/**
 * `npm run openapi`: writes the OpenAPI document of /api/v1 (generated from the route table, the
 * zod schemas and the event catalogue: src/http/openapi/) to docs/openapi.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PUBLISHED_OPENAPI_PATH,
  publishedOpenApiDocument,
  renderOpenApi,
} from '../src/http/openapi/published.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, PUBLISHED_OPENAPI_PATH);
fs.writeFileSync(target, renderOpenApi(publishedOpenApiDocument()));
console.log(`wrote ${PUBLISHED_OPENAPI_PATH}`);
