/**
 * The API's self-description, without a key: `GET /api/v1/openapi.json` (the OpenAPI document,
 * generated from the route table: src/http/openapi/) and `GET /docs`, an interactive reference
 * built from it with Swagger UI, served from the `swagger-ui-dist` package (nothing is fetched
 * from the internet: the page works offline). Its try-it-out sends the `x-api-key` given in
 * "Authorize".
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { API_PREFIX } from '../api-prefix.js';
import type { AppDeps } from '../app-deps.js';
import { buildOpenApiDocument } from '../openapi/document.js';

export function registerOpenApiRoute(api: FastifyInstance, deps: AppDeps): void {
  let document: string | null = null;
  api.get('/openapi.json', { config: { public: true } }, async (_request, reply) => {
    document ??= JSON.stringify(
      buildOpenApiDocument({
        version: deps.version,
        limits: { turnTimeoutMaxMs: deps.settings.turnTimeoutMaxMs },
      }),
    );
    return reply.type('application/json; charset=utf-8').send(document);
  });
}

/** The files of Swagger UI the page loads, by the name it asks for. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

function swaggerUiDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>claude-code-rest API reference</title>
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="reference"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/reference.js"></script>
  </body>
</html>
`;

// In a file of its own, so a Content-Security-Policy without inline scripts can serve the page.
const START = `window.ui = SwaggerUIBundle({
  url: '${API_PREFIX}/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  docExpansion: 'list',
  tryItOutEnabled: true,
  persistAuthorization: true,
  displayRequestDuration: true,
});
`;

export function registerReferencePage(app: FastifyInstance): void {
  const dir = swaggerUiDir();
  const assets = new Map(
    Object.entries(ASSETS).map(([name, type]) => [
      name,
      { type, body: fs.readFileSync(path.join(dir, name)) },
    ]),
  );
  app.get('/docs', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE),
  );
  app.get('/docs/reference.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(START),
  );
  for (const [name, asset] of assets) {
    app.get(`/docs/${name}`, async (_request, reply) =>
      reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body),
    );
  }
}
