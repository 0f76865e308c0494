/** The web console's routes: the page without a key, its security headers, and nothing else. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerConsole } from '../../src/http/console.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(files: Record<string, string>): Promise<FastifyInstance> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccr-console-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
  await registerConsole(app, dir);
  fs.writeFileSync(path.join(dir, '..', 'outside.txt'), 'secret');
  return app;
}

describe('web console routes', () => {
  it('/ sends a browser to /console/, which serves the page with a strict policy and no key', async () => {
    const a = await serve({ 'index.html': '<!doctype html><title>console</title>', 'assets/app.js': 'ok()' });
    const root = await a.inject({ method: 'GET', url: '/' });
    expect({ status: root.statusCode, location: root.headers.location }).toEqual({
      status: 302,
      location: '/console/',
    });
    for (const url of ['/console', '/console/', '/console/index.html']) {
      const page = await a.inject({ method: 'GET', url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('<title>console</title>');
      expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    }
    const script = await a.inject({ method: 'GET', url: '/console/assets/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
  });

  it('serves nothing outside the built folder', async () => {
    const a = await serve({ 'index.html': 'x' });
    for (const url of ['/console/../outside.txt', '/console/%2e%2e/outside.txt', '/console/nope.js']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.body).not.toContain('secret');
    }
  });

  it('says how to build it when it is not built', async () => {
    const a = await serve({});
    const res = await a.inject({ method: 'GET', url: '/console/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
  });
});
