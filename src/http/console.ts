/**
 * The web console: the static page built from `console/` (`npm run build` → dist/console/),
 * served at `/console/`, with `/` sending a browser there. Loading it needs no key: the page
 * signs in itself and speaks only the public `/api/v1` API, from the same origin.
 *
 * The same path from src/http/ (tsx) and dist/http/ (the build) reaches <repo>/dist/console/.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/**
 * Only this origin's scripts, styles and API: the page fetches nothing from elsewhere, and a
 * script that got in some other way could not send the key out.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export async function registerConsole(app: FastifyInstance, dir = CONSOLE_DIR): Promise<void> {
  app.get('/', (_request, reply) => reply.redirect('/console/'));
  if (!fs.existsSync(`${dir}/index.html`)) {
    // A server started from a checkout that was never built still explains itself.
    app.get('/console/*', (_request, reply) =>
      reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built. Run `npm run build` (or `npm start`), then reload.'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/console/',
    // The page itself is the route below (the router ignores trailing slashes, so `/console`
    // and `/console/` are one route, which the plugin's own index handling does not expect).
    index: false,
    setHeaders(res) {
      res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
    },
  });
  app.get('/console', (_request, reply) => reply.sendFile('index.html'));
}
