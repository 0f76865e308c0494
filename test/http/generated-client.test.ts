/**
 * A client generated from the OpenAPI document by standard tools (openapi-typescript for the
 * types, openapi-fetch for the calls) type-checks, and runs the seed's walk-through against a
 * real server listening on a port: proof that the document is usable as people will use it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkthrough } from '../../examples/typescript/walkthrough.js';
import { CLIENT_TYPES_PATH, clientTypes } from '../../scripts/openapi-client-types.js';
import { publishedOpenApiDocument } from '../../src/http/openapi/published.js';
import { KEY_A, startApp, type Harness } from './harness.js';

describe('a client generated from the document (openapi-typescript + openapi-fetch)', () => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await startApp();
    url = await h.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => h.close());

  it('has its generated types committed as generated (else: npm run openapi)', async () => {
    const committed = fs.readFileSync(path.join(process.cwd(), CLIENT_TYPES_PATH), 'utf8');
    expect(
      committed === (await clientTypes(publishedOpenApiDocument())),
      `${CLIENT_TYPES_PATH} is stale`,
    ).toBe(true);
  });

  it('type-checks', () => {
    const tsc = spawnSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'examples/typescript/tsconfig.json'],
      {
        encoding: 'utf8',
      },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 60_000);

  it("runs the seed's walk-through", async () => {
    const lines: string[] = [];
    const result = await walkthrough(url, KEY_A, (line) => lines.push(line));
    expect(result.response).toContain('Hello! What can you help me with?');
    expect(result.streamedEvents).toContain('message');
    expect(result.streamedEvents.at(-1)).toBe('complete');
    expect(result.historyLength).toBeGreaterThanOrEqual(4);
    expect(lines).toContain('session ended');
    const gone = await h.app.inject({
      method: 'GET',
      url: `/api/v1/sessions/${result.sessionId}`,
      headers: { 'x-api-key': KEY_A },
    });
    expect(gone.statusCode).toBe(404);
  });
});
