/**
 * The document as published: built with the server's defaults (config.ts) and the package's
 * version. `npm run openapi` writes it to docs/openapi.json; a test fails when that file differs.
 * A running server serves the same document built with its own limits.
 */
import { packageVersion } from '../../composition.js';
import { loadConfig } from '../../config/config.js';
import { buildOpenApiDocument } from './document.js';

export const PUBLISHED_OPENAPI_PATH = 'docs/openapi.json';

export function publishedOpenApiDocument(): Record<string, unknown> {
  const defaults = loadConfig({});
  return buildOpenApiDocument({
    version: packageVersion(),
    limits: { turnTimeoutMaxMs: defaults.turnTimeoutMaxMs },
  });
}

/** The file's text: stable, so a stale copy shows as a diff. */
export function renderOpenApi(document: Record<string, unknown>): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
