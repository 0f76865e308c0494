/**
 * The files of a session's workspace: list, download (ranges, validators, streamed), upload
 * (raw body, streamed to disk), delete, and a tar.gz of a folder. Paths are query parameters,
 * relative to the workspace; the FilesService (through its port) resolves them.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import send from '@fastify/send';
import {
  preconditionFailed,
  rangeNotSatisfiable,
  workspaceFileNotFound,
} from '../../domain/error-situations.js';
import type { AppDeps } from '../app-deps.js';
import { keyOf } from '../plugins/auth.js';
import { fileContentQuery, filesListQuery, archiveQuery, sessionParams } from '../schemas.js';
import { parseOrThrow } from '../validate.js';

export function registerFileRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { files } = deps;

  app.get('/sessions/:id/files', { config: { scope: 'read', owner: true } }, async (request) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const query = parseOrThrow(filesListQuery, request.query, 'query');
    const listing = await files.list(keyOf(request), id, query.path, query.recursive);
    return {
      path: listing.path,
      entries: listing.entries.map((e) => ({ ...e, modifiedAt: new Date(e.modifiedAt).toISOString() })),
      ...(query.recursive ? { truncated: listing.truncated } : {}),
    };
  });

  app.get(
    '/sessions/:id/files/content',
    { config: { scope: 'read', owner: true } },
    async (request, reply) => {
      const { id } = parseOrThrow(sessionParams, request.params, 'path');
      const query = parseOrThrow(fileContentQuery, request.query, 'query');
      const file = await files.locate(keyOf(request), id, query.path);
      // @fastify/send: Content-Type by extension, ETag, Last-Modified, conditional GETs and Range,
      // the file streamed from disk.
      const result = await send(request.raw, encodeURIComponent(path.basename(file.absolutePath)), {
        root: path.dirname(file.absolutePath),
        dotfiles: 'allow',
        index: false,
        cacheControl: false,
        acceptRanges: true,
      });
      if (result.type === 'error') {
        if (result.statusCode === 416) {
          result.stream.destroy();
          const range = result.headers['Content-Range'] ?? '';
          throw rangeNotSatisfiable(Number(/\/(\d+)$/.exec(range)?.[1] ?? 0));
        }
        result.stream.destroy();
        if (result.statusCode === 412) throw preconditionFailed(query.path);
        throw workspaceFileNotFound(query.path);
      }
      if (result.type !== 'file') throw workspaceFileNotFound(query.path);
      // send names its headers in title case, and leaves an unknown extension without a type.
      const headers = Object.fromEntries(
        Object.entries(result.headers).map(([name, value]) => [name.toLowerCase(), value]),
      );
      headers['content-type'] ??= 'application/octet-stream';
      return reply.status(result.statusCode).headers(headers).send(result.stream);
    },
  );

  app.get('/sessions/:id/archive', { config: { scope: 'read', owner: true } }, async (request, reply) => {
    const { id } = parseOrThrow(sessionParams, request.params, 'path');
    const query = parseOrThrow(archiveQuery, request.query, 'query');
    const archive = await files.archive(keyOf(request), id, query.path);
    const name = archive.path === '.' ? id : `${id}-${path.basename(archive.path)}`;
    return reply
      .type('application/gzip')
      .header('content-disposition', `attachment; filename="${name.replace(/[^\w.-]/g, '_')}.tar.gz"`)
      .send(archive.stream);
  });

  // Uploads take the raw body, whatever its type, as a stream (never buffered whole).
  void app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    raw.put(
      '/sessions/:id/files/content',
      { config: { scope: 'write', owner: true } },
      async (request, reply) => {
        const { id } = parseOrThrow(sessionParams, request.params, 'path');
        const query = parseOrThrow(fileContentQuery, request.query, 'query');
        const body = (request.body as AsyncIterable<Uint8Array> | undefined) ?? request.raw;
        const length = request.headers['content-length'];
        const written = await files.write(
          keyOf(request),
          id,
          query.path,
          body,
          length ? Number(length) : null,
        );
        return reply
          .status(written.created ? 201 : 200)
          .send({ path: written.path, size: written.size, sha256: written.sha256 });
      },
    );
  });

  app.delete(
    '/sessions/:id/files/content',
    { config: { scope: 'write', owner: true } },
    async (request, reply) => {
      const { id } = parseOrThrow(sessionParams, request.params, 'path');
      const query = parseOrThrow(fileContentQuery, request.query, 'query');
      await files.remove(keyOf(request), id, query.path);
      return reply.status(204).send();
    },
  );
}
