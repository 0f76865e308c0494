/**
 * The web console: the static page built from `console/` (`npm run build` → dist/console/),
 * served at `/console/`, with `/` sending a browser there. Loading it needs no key: the page
 * signs in itself and speaks only the public `/api/v1` API, from the same origin.
 *
 * The same path from src/http/ (tsx) and dist/http/ (the build) reaches <repo>/dist/console/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/** The routes, the same whether or not the page is built (the route list is checked by tests). */
export const CONSOLE_ROUTES = ['GET /', 'GET /console', 'GET /console/*'] as const;

/**
 * Only this origin's scripts, styles and API: the page fetches nothing from elsewhere, and a
 * script that got in some other way could not send the key out.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export async function registerConsole(app: FastifyInstance, dir = CONSOLE_DIR): Promise<void> {
  // `serve: false`: only `reply.sendFile`; the routes are ours (the router ignores trailing
  // slashes, so `/console` and `/console/` are one route, which the plugin's own do not expect).
  await app.register(fastifyStatic, {
    root: dir,
    serve: false,
    setHeaders(res) {
      res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
    },
  });
  const send = (reply: FastifyReply, file: string) => {
    // Checked per request, so a build made while the server runs is served at once.
    if (!fs.existsSync(path.join(dir, 'index.html'))) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The web console is not built. Run `npm run build` (or `npm start`), then reload.');
    }
    return reply.sendFile(file);
  };
  app.get('/', (_request, reply) => reply.redirect('/console/'));
  app.get('/console', (_request, reply) => send(reply, 'index.html'));
  app.get<{ Params: { '*': string } }>('/console/*', (request, reply) =>
    send(reply, request.params['*'] || 'index.html'),
  );
}
